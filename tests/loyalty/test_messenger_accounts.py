"""A shop's own messenger accounts as stored: sealed credentials, one per platform per shop."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr
from tortoise import Tortoise

from loyalty.messenger_accounts import (
    AccountTaken,
    CredentialBox,
    active_account,
    active_account_of,
    connect_account,
    credential_of,
    disconnect_account,
    secret_matches,
)
from models import Identity, Membership, MessengerAccount
from models.enums import AccountStatus, Platform
from tests import factories

pytestmark = pytest.mark.usefixtures("db")

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
BOX = CredentialBox(bytes(range(32)))


async def connect(
    merchant_id: int, token: str = TOKEN, bot_id: str = "7012345678"
) -> MessengerAccount:
    connected = await connect_account(
        merchant_id,
        Platform.TELEGRAM,
        SecretStr(token),
        external_id=bot_id,
        username="cafe_lviv_bot",
        box=BOX,
    )
    return connected.account


async def test_the_token_is_stored_sealed_and_comes_back_only_as_a_secret() -> None:
    shop = await factories.merchant()

    connected = await connect_account(
        shop.merchant.id,
        Platform.TELEGRAM,
        SecretStr(TOKEN),
        external_id="7012345678",
        username="cafe_lviv_bot",
        box=BOX,
    )

    rows = await Tortoise.get_connection("default").execute_query_dict(
        'SELECT * FROM "messenger_account"'
    )
    assert len(rows) == 1
    assert TOKEN not in repr(rows)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1" not in repr(rows)
    stored = await MessengerAccount.get(id=connected.account.id)
    assert (stored.platform, stored.external_id, stored.username, stored.status) == (
        Platform.TELEGRAM,
        "7012345678",
        "cafe_lviv_bot",
        AccountStatus.ACTIVE,
    )
    token = credential_of(stored, BOX)
    assert isinstance(token, SecretStr)
    assert TOKEN not in repr(token)
    assert token.get_secret_value() == TOKEN
    with pytest.raises(ValueError, match="another key"):
        credential_of(stored, CredentialBox(secrets.token_bytes(32)))


async def test_the_webhook_secret_is_long_random_and_kept_as_a_hash_only() -> None:
    shop = await factories.merchant()

    first = await connect_account(
        shop.merchant.id, Platform.TELEGRAM, SecretStr(TOKEN), external_id="7", username=None,
        box=BOX,
    )  # fmt: skip
    secret = first.webhook_secret.get_secret_value()

    assert len(secret) >= 22  # at least 128 bits of url-safe base64
    assert all(ch.isalnum() or ch in "-_" for ch in secret)  # what Telegram accepts
    stored = await MessengerAccount.get(id=first.account.id)
    assert secret not in stored.webhook_secret_hash
    assert secret_matches(stored, secret)
    assert not secret_matches(stored, secret[:-1])
    assert not secret_matches(stored, "")
    second = await connect_account(
        shop.merchant.id, Platform.TELEGRAM, SecretStr(TOKEN), external_id="7", username=None,
        box=BOX,
    )  # fmt: skip
    assert second.webhook_secret.get_secret_value() != secret
    assert not secret_matches(await MessengerAccount.get(id=first.account.id), secret)


async def test_connecting_again_reuses_the_shops_row_for_the_platform() -> None:
    shop = await factories.merchant()
    first = await connect(shop.merchant.id)
    await disconnect_account(shop.merchant.id, Platform.TELEGRAM)

    again = await connect(shop.merchant.id, token="7099999999:" + "B" * 35, bot_id="7099999999")

    assert again.id == first.id
    assert await MessengerAccount.all().count() == 1
    stored = await MessengerAccount.get(id=first.id)
    assert stored.status == AccountStatus.ACTIVE
    assert stored.disconnected_at is None
    assert credential_of(stored, BOX).get_secret_value() == "7099999999:" + "B" * 35


async def test_a_bot_connected_to_another_shop_is_refused_and_nothing_is_stored() -> None:
    cafe = await factories.merchant("Kafe Lviv")
    bakery = await factories.merchant("Pekarnia")
    await connect(cafe.merchant.id)

    with pytest.raises(AccountTaken):
        await connect(bakery.merchant.id)

    assert await MessengerAccount.filter(merchant_id=bakery.merchant.id).count() == 0
    # Once the café lets it go, the bakery may connect it.
    await disconnect_account(cafe.merchant.id, Platform.TELEGRAM)
    assert (await connect(bakery.merchant.id)).merchant_id == bakery.merchant.id


async def test_disconnecting_keeps_members_and_their_way_in() -> None:
    shop = await factories.merchant()
    account = await connect(shop.merchant.id)
    membership = await factories.member(shop, telegram_id=5005)
    await Identity.filter(external_id="5005").update(account_id=account.id)

    gone = await disconnect_account(shop.merchant.id, Platform.TELEGRAM)

    assert gone is not None
    assert gone.id == account.id
    assert await active_account(account.id) is None
    assert await active_account_of(shop.merchant.id, Platform.TELEGRAM) is None
    stored = await MessengerAccount.get(id=account.id)
    assert stored.status == AccountStatus.DISCONNECTED
    assert stored.disconnected_at is not None
    assert await Membership.filter(id=membership.id).exists()
    assert (await Identity.get(external_id="5005")).account_id == account.id
    # Nothing to disconnect a second time.
    assert await disconnect_account(shop.merchant.id, Platform.TELEGRAM) is None


async def test_an_account_removed_leaves_its_customers_on_the_shared_bot() -> None:
    shop = await factories.merchant()
    account = await connect(shop.merchant.id)
    await factories.member(shop, telegram_id=5006)
    await Identity.filter(external_id="5006").update(account_id=account.id)

    await MessengerAccount.filter(id=account.id).delete()

    assert (await Identity.get(external_id="5006")).account_id is None
