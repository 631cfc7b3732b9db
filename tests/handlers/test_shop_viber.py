"""💬 A shop's own Viber bot: connected by its owner in the admin chat, its customers joined,
answered, told and sent campaigns through it, and disconnected without losing a member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.app import BotRuntime
from bot.config import ViberSettings
from bot.delivery import build_worker
from bot.shop_vibers import ShopVibers
from channels.viber.api import ViberApi
from fakes.telegram import FakeTelegramAPI
from fakes.viber import FakeViber
from loyalty.messenger_accounts import AccountTaken, CredentialBox
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, payload
from models import Delivery, Identity, Membership, MessengerAccount
from models.enums import AccountStatus, Channel, DeliveryStatus, Platform, StaffRole
from tests import factories
from tests.campaigns.helpers import started
from tests.chat import Chat, button, text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import connect_own_viber, own_viber_screen, pointed_at, typed_deleted

UNKNOWN_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


@pytest.fixture
async def vibers(runtime: BotRuntime, viber: FakeViber) -> AsyncIterator[FakeViber]:
    """The session's shops' Viber bots pointed at this test's fake Viber."""
    async with pointed_at(runtime.shop_vibers, viber.api_url):
        yield viber


async def _cafe_with_its_viber(
    new_chat: Any, vibers: FakeViber
) -> tuple[factories.NewMerchant, Chat, FakeViber, MessengerAccount]:
    cafe = await factories.merchant("Kafe Lviv", stamps_needed=5)
    owner = await _staff(new_chat, cafe, StaffRole.OWNER, "Marta")
    shop_viber = vibers.add_bot("Kafe Lviv", uri="kafelviv")
    answer = await connect_own_viber(owner, shop_viber.auth_token)
    assert [text_of(m) for m in answer] == [
        "Connected: kafelviv.\n"
        "Customers who open your Viber bot are answered there, with your shop's name."
    ]
    account = await MessengerAccount.get(merchant_id=cafe.merchant.id, platform=Platform.VIBER)
    return cafe, owner, shop_viber, account


async def _joined(cafe: factories.NewMerchant, shop_viber: FakeViber) -> str:
    person = shop_viber.add_user("Olena", subscribed=False)
    opened = await shop_viber.user_opens(
        person, context=payload(LinkKind.JOIN, cafe.card.join_token)
    )
    assert opened.status == 200
    shop_viber.subscribe(person)
    return person


async def test_the_owner_connects_the_shops_viber_bot(new_chat: Any, vibers: FakeViber) -> None:
    cafe, owner, shop_viber, account = await _cafe_with_its_viber(new_chat, vibers)

    assert typed_deleted(owner, shop_viber.auth_token)
    assert (account.external_id, account.username, account.status) == (
        shop_viber.account_id,
        "kafelviv",
        AccountStatus.ACTIVE,
    )
    assert shop_viber.auth_token not in account.credential_encrypted
    assert [method for method, _ in shop_viber.calls] == ["get_account_info", "set_webhook"]
    assert shop_viber.webhook_url.endswith(f"/viber/{account.id}")
    assert shop_viber.auth_token not in shop_viber.webhook_url
    # The shared bot was asked nothing.
    assert vibers.calls == []
    again = await own_viber_screen(owner)
    assert "Your shop's own Viber bot: kafelviv" in text_of(again)
    assert cafe.merchant.id == account.merchant_id


async def test_a_token_viber_refuses_stores_nothing(new_chat: Any, vibers: FakeViber) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")

    answer = await connect_own_viber(owner, UNKNOWN_TOKEN)

    assert "Viber does not know this token." in text_of(answer[-1])
    assert typed_deleted(owner, UNKNOWN_TOKEN)
    assert vibers.refusals[2] == 1  # Viber's "invalidAuthToken"
    assert await MessengerAccount.all().count() == 0
    malformed = await owner.send("my token is secret")
    assert "That is not a Viber token." in text_of(malformed[-1])
    assert await MessengerAccount.all().count() == 0


async def test_another_shops_viber_bot_is_refused(new_chat: Any, vibers: FakeViber) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    other = await factories.merchant("Bakery")
    shop_viber = vibers.add_bot("Kafe Lviv")
    await connect_own_viber(
        await _staff(new_chat, other, StaffRole.OWNER, "Ira"), shop_viber.auth_token
    )

    answer = await connect_own_viber(owner, shop_viber.auth_token)

    assert "already connected to another shop" in text_of(answer[-1])
    assert await MessengerAccount.filter(merchant_id=shop.merchant.id).count() == 0


async def test_only_the_owner_may_connect(
    new_chat: Any, telegram: FakeTelegramAPI, vibers: FakeViber
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    manager = await _staff(new_chat, shop, StaffRole.MANAGER, "Ivan")
    shop_viber = vibers.add_bot("Kafe Lviv")
    screen = await own_viber_screen(owner)
    connect = button(screen, "Connect your own Viber bot")

    menu = (await manager.send("/admin"))[-1]
    await manager._post(telegram.callback_update(manager.user, menu, connect, check_button=False))
    assert manager.last_answer().get("text") == "This button has expired."
    answer = await manager.send(shop_viber.auth_token)
    assert all("Connected" not in text_of(m) for m in answer)
    assert shop_viber.calls == []
    assert await MessengerAccount.all().count() == 0


async def test_a_customer_joins_through_the_shops_viber_bot_and_is_answered_there(
    new_chat: Any, vibers: FakeViber
) -> None:
    cafe, _owner, shop_viber, account = await _cafe_with_its_viber(new_chat, vibers)

    person = await _joined(cafe, shop_viber)

    identity = await Identity.get(platform=Platform.VIBER, external_id=person)
    assert identity.account_id == account.id
    assert await Membership.filter(card_id=cafe.card.id, customer_id=identity.customer_id).exists()
    [welcome] = shop_viber.received[person]
    assert welcome.via == "welcome"
    assert "Kafe Lviv" in welcome.text
    # A press is answered through the shop's bot, under the shop's name.
    said = await shop_viber.user_says(person, "act:card:list:0")
    assert said.status == 200
    answer = shop_viber.received[person][-1]
    assert answer.via == "send_message"
    assert answer.message["sender"]["name"] == "Kafe Lviv"
    assert vibers.received == {}


@pytest.mark.parametrize("forged_by", ["zero", "shared"])
async def test_a_callback_not_signed_with_the_shops_token_is_refused(
    new_chat: Any, vibers: FakeViber, forged_by: str
) -> None:
    cafe, _owner, shop_viber, _account = await _cafe_with_its_viber(new_chat, vibers)
    person = shop_viber.add_user("Eve")
    body = shop_viber.callback_bytes(
        shop_viber.conversation_started(
            person, context=payload(LinkKind.JOIN, cafe.card.join_token)
        )
    )

    if forged_by == "zero":
        result = await shop_viber.post_callback(body, signature="0" * 64)
    else:  # signed, but with the shared bot's token
        result = await vibers.post_callback(body, url=shop_viber.webhook_url)

    assert result.status == 403
    assert not await Identity.filter(platform=Platform.VIBER).exists()


async def test_notices_and_campaigns_reach_the_customer_through_the_shops_bot(
    new_chat: Any, vibers: FakeViber, viber_api: ViberApi, runtime: BotRuntime, redis_client: Redis
) -> None:
    cafe, _owner, shop_viber, account = await _cafe_with_its_viber(new_chat, vibers)
    person = await _joined(cafe, shop_viber)
    membership = await Membership.get(card_id=cafe.card.id)

    stamped = await add_stamps(membership.id, 2, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped)
    notice = shop_viber.received[person][-1]
    assert notice.text.splitlines()[0] == "+2 stamps at \u2068Kafe Lviv\u2069!"
    assert notice.message["sender"]["name"] == "Kafe Lviv"

    await started(cafe, Channel.VIBER, text="Pumpkin latte is back!")
    worker = build_worker(
        runtime.settings,
        runtime.bot,
        runtime.limiter,
        runtime.signer,
        viber=viber_api,
        viber_accounts=runtime.shop_vibers,
    )
    for _ in range(4):
        await worker.tick()

    assert any("Pumpkin latte is back!" in text for text in shop_viber.texts(person))
    assert vibers.received == {}  # nothing through the shared bot
    assert await Delivery.filter(channel=Channel.VIBER).values_list("status", flat=True) == [
        DeliveryStatus.SENT
    ]
    # Counted in the shop bot's own bucket, not the shared bot's.
    keys = {k.decode() if isinstance(k, bytes) else k for k in await redis_client.keys("*viber:*")}
    assert any(key.endswith(f"viber:{account.id}") for key in keys), keys
    assert not any(key.endswith("viber:default") for key in keys), keys


async def test_disconnecting_keeps_the_members_and_stops_writing_to_them_on_viber(
    new_chat: Any, vibers: FakeViber, runtime: BotRuntime
) -> None:
    cafe, owner, shop_viber, account = await _cafe_with_its_viber(new_chat, vibers)
    person = await _joined(cafe, shop_viber)
    received = len(shop_viber.received[person])

    screen = await own_viber_screen(owner)
    question = await owner.press_label(screen, "Disconnect the Viber bot")
    asked = question[-1] if question else owner.current(screen)
    assert "Viber lets only your bot write to them" in text_of(asked)
    await owner.press_label(asked, "Yes, disconnect it")

    assert owner.last_answer().get("text") == "Disconnected. Its customers keep their cards."
    await account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert shop_viber.webhook_url == ""
    assert shop_viber.calls[-1] == ("set_webhook", {"url": ""})
    identity = await Identity.get(platform=Platform.VIBER, external_id=person)
    assert identity.reachable is False
    membership = await Membership.get(card_id=cafe.card.id, customer_id=identity.customer_id)
    # Nothing more on Viber: the shared bot cannot write to an id of the shop's bot.
    stamped = await add_stamps(membership.id, 1, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped) is False
    assert len(shop_viber.received[person]) == received
    assert vibers.received == {}
    # Viber calling the old address is turned away.
    late = await shop_viber.post_callback(
        shop_viber.message(person, "hi"), url=f"{runtime.signer.base_url}/viber/{account.id}"
    )
    assert late.status == 404
    # Connected again, the same bot's people are reachable again.
    await connect_own_viber(owner, shop_viber.auth_token)
    await identity.refresh_from_db()
    assert identity.reachable is True


async def test_the_counter_qr_lists_the_shops_own_viber_bot_while_connected(
    new_chat: Any, vibers: FakeViber
) -> None:
    cafe, owner, _shop_viber, _account = await _cafe_with_its_viber(new_chat, vibers)
    join = f"viber://pa?chatURI=kafelviv&context=j-{cafe.card.join_token}"

    shown = await owner.send("🖨 Counter QR")

    assert any(f"On Viber: {join}" in text_of(m) for m in shown)
    screen = await own_viber_screen(owner)
    await owner.press_label(screen, "Disconnect the Viber bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")
    shown = await owner.send("🖨 Counter QR")
    # The session's deployment has no shared Viber bot: no Viber line at all now.
    assert not any("On Viber" in text_of(m) for m in shown)


async def test_a_webhook_viber_refuses_leaves_nothing_connected(
    new_chat: Any, vibers: FakeViber
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    shop_viber = vibers.add_bot("Kafe Lviv")
    shop_viber.fail_next("set_webhook", viber_status=1)  # invalidUrl

    answer = await connect_own_viber(owner, shop_viber.auth_token)

    assert "Viber did not answer just now." in text_of(answer[-1])
    assert await MessengerAccount.all().count() == 0


async def test_the_shared_viber_bot_cannot_become_a_shops_own(
    db: Any, vibers: FakeViber, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    shared = ViberSettings(auth_token=SecretStr(vibers.auth_token), api_url=vibers.api_url)
    accounts = ShopVibers(shared, CredentialBox(b"k" * 32), runtime.signer)

    with pytest.raises(AccountTaken):
        await accounts.connect(shop.merchant.id, SecretStr(vibers.auth_token))

    assert vibers.calls == []
    assert await MessengerAccount.all().count() == 0
