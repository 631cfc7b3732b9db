"""A shop's own bot's webhook (/tg/<account id>): its customers are answered by that bot, and
every call that is not Telegram's with the account's secret is refused, never with a 5xx."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from fakes.telegram import FakeTelegramAPI
from loyalty.tokens import LinkKind, payload
from models import Identity, Membership, MessengerAccount
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import connect_own_bot, new_token, own_bot_screen, shop_bot_chat

pytestmark = pytest.mark.usefixtures("fresh_state")


async def _connected(new_chat: Any) -> tuple[factories.NewMerchant, Chat, str, MessengerAccount]:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    await connect_own_bot(owner, token)
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    return shop, owner, token, account


async def test_a_customer_who_starts_the_shops_bot_is_answered_by_it(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop, _owner, token, account = await _connected(new_chat)
    customer = shop_bot_chat(telegram, token, 880_001)

    answers = await customer.scan(payload(LinkKind.JOIN, shop.card.join_token))

    assert answers, "the shop's bot answered nothing"
    assert text_of(answers[0]).startswith("Welcome to Kafe Lviv!")
    assert all(m.sender["id"] == int(token.split(":")[0]) for m in answers)
    # The shared bot said nothing to this person.
    assert telegram.sent_messages(880_001) == []
    identity = await Identity.get(external_id="880001")
    assert identity.account_id == account.id
    assert await Membership.filter(customer_id=identity.customer_id).count() == 1
    # Buttons pressed in that chat are answered there too.
    card = await customer.send("/card")
    assert card
    assert telegram.sent_messages(880_001) == []


async def test_a_person_known_from_the_shared_bot_moves_to_the_shops_bot(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop, _owner, token, account = await _connected(new_chat)
    shared: Chat = new_chat(first_name="Dana")
    await shared.scan(payload(LinkKind.JOIN, shop.card.join_token))
    assert (await Identity.get(external_id=str(shared.user.id))).account_id is None

    mine = shop_bot_chat(telegram, token, shared.user.id, "Dana")
    await mine.send("/card")

    assert (await Identity.get(external_id=str(shared.user.id))).account_id == account.id


async def _post(url: str, secret: str | None, body: bytes = b'{"update_id": 1}') -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_calls_without_the_accounts_secret_are_refused(
    new_chat: Any, telegram: FakeTelegramAPI, webhook_url: str
) -> None:
    _shop, owner, token, _account = await _connected(new_chat)
    other_shop = await factories.merchant("Pekarnia")
    other_owner = await _staff(new_chat, other_shop, StaffRole.OWNER, "Oksana")
    other_token = new_token()
    await connect_own_bot(other_owner, other_token)
    url = telegram.bot(token).webhook.url
    secret = telegram.bot(token).webhook.secret_token
    other_secret = telegram.bot(other_token).webhook.secret_token
    base = url.rsplit("/tg/", 1)[0]
    assert secret is not None
    assert other_secret is not None

    assert await _post(url, None) == 401
    assert await _post(url, "") == 401
    assert await _post(url, "wrong-secret") == 401
    assert await _post(url, other_secret) == 401
    assert await _post(url, secret + "x") == 401
    assert await _post(url, "é" * 10) == 401  # not ASCII: still a plain refusal
    assert await _post(f"{base}/tg/999999", secret) == 404
    assert await _post(f"{base}/tg/abc", secret) == 404
    assert await _post(f"{base}/tg/{'9' * 40}", secret) == 404
    assert await _post(f"{base}/tg/{token}", secret) == 404  # never a token in the path
    assert await _post(url, secret, b"{not json") == 400
    assert await _post(url, secret) == 200

    # Disconnected: the old URL and secret lead nowhere.
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")
    assert await _post(url, secret) == 404
    update = telegram.bot(token).message_update(telegram.bot(token).add_user(880_010), "/start")
    delivery = await telegram.bot(token).post_update(update, url=url, secret_token=secret)
    assert delivery.status == 404
    assert telegram.bot(token).sent_messages(880_010) == []
