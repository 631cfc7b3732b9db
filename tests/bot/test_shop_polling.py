"""Shops' own bots in ``stampbot run`` without a public URL: polled, not called by a webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import BotRuntime
from bot.shop_polling import ShopBotPolling
from fakes.telegram import FakeTelegramAPI, StoredMessage
from models import Identity, Membership, MessengerAccount
from models.enums import StaffRole
from tests import factories
from tests.chat import text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import connect_own_bot, new_token, own_bot_screen


@pytest.fixture
async def polling(runtime: BotRuntime) -> AsyncIterator[ShopBotPolling]:
    """The runtime as ``run`` has it while polling: shop bots are polled, not webhooked."""
    assert runtime.shop_bots is not None
    shops = ShopBotPolling(
        runtime.dispatcher,
        runtime.shop_bots.bot_for,
        allowed_updates=runtime.dispatcher.resolve_used_update_types(),
        poll_seconds=1,
    )
    runtime.shop_bots.polling = shops
    try:
        yield shops
    finally:
        runtime.shop_bots.polling = None
        await shops.close()


async def _answers(
    telegram: FakeTelegramAPI, token: str, user_id: int, count: int = 1
) -> list[StoredMessage]:
    """The shop bot's messages to this person, once it has sent ``count`` (polling is a
    loop of its own)."""
    shop_bot = telegram.bot(token)
    for _ in range(100):
        sent = [m for m in shop_bot.sent_messages(user_id) if m.from_bot]
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.05)
    raise AssertionError("the shop bot answered nothing")


async def test_a_bot_connected_while_polling_is_polled_and_answers_its_customers(
    new_chat: Any, telegram: FakeTelegramAPI, polling: ShopBotPolling
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    shop_bot = telegram.bot(token, username="kafe_lviv_bot")

    answer = await connect_own_bot(owner, token)

    assert "Connected: @kafe_lviv_bot." in text_of(answer[-1])
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    assert shop_bot.webhook.url == ""  # nothing could call it: it is polled
    assert shop_bot.calls("setWebhook") == []
    assert polling.polling() == {account.id}
    person = shop_bot.add_user(880_801, "Olena")
    shop_bot.send_text(person, f"/start j-{shop.card.join_token}")

    # The card, then the [🪪 My card] keyboard.
    sent = await _answers(telegram, token, person.id, 2)

    assert "Welcome to Kafe Lviv!" in text_of(sent[0])
    assert await Membership.filter(card_id=shop.card.id).count() == 1
    identity = await Identity.get(external_id=str(person.id))
    assert identity.account_id == account.id  # its notices go through the shop's bot

    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")

    assert polling.polling() == set()
    before = len(shop_bot.sent_messages(person.id))
    shop_bot.send_text(person, "/card")
    await asyncio.sleep(0.3)
    assert [m for m in shop_bot.sent_messages(person.id)[before:] if m.from_bot] == []


async def test_polling_starts_for_the_bots_connected_before_and_drops_their_webhook(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    """A bot connected while the deployment had a public URL keeps a webhook Telegram would
    refuse getUpdates for: polling takes it off first."""
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    await connect_own_bot(owner, token)  # no polling: by webhook, as with a public URL
    shop_bot = telegram.bot(token)
    assert shop_bot.webhook.url
    assert runtime.shop_bots is not None
    shops = ShopBotPolling(runtime.dispatcher, runtime.shop_bots.bot_for, poll_seconds=1)
    try:
        assert await shops.start_connected() == 1
        person = shop_bot.add_user(880_802, "Taras")
        shop_bot.send_text(person, "/start")

        sent = await _answers(telegram, token, person.id)
    finally:
        await shops.close()

    assert shop_bot.webhook.url == ""
    assert "I keep your stamp cards" in text_of(sent[0])
