"""Helpers for tests of shops' own Telegram bots: fresh tokens, and an owner connecting one."""

from __future__ import annotations

import itertools
import secrets

from fakes.telegram import FakeTelegramAPI, StoredMessage
from tests.chat import Chat, shop_menu

_bot_ids = itertools.count(7_100_000_001)


def new_token() -> str:
    """A well-formed token of a bot nobody has used yet (the fake serves it on first use)."""
    return f"{next(_bot_ids)}:{secrets.token_urlsafe(27)[:35]}"


def bot_id(token: str) -> int:
    return int(token.split(":", 1)[0])


async def own_bot_screen(owner: Chat) -> StoredMessage:
    """/admin → More… → Cards and shop settings → 🤖 Your own Telegram bot."""
    cards = (await owner.press_label(await shop_menu(owner), "Cards"))[-1]
    fresh = await owner.press_label(cards, "Your own Telegram bot")
    return fresh[-1] if fresh else owner.current(cards)  # drawn over the settings screen


async def connect_own_bot(owner: Chat, token: str) -> list[StoredMessage]:
    """The owner connects a bot: the screen, "Connect", the token typed; the bot's answers."""
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Connect your own Telegram bot")
    return await owner.send(token)


def shop_bot_chat(
    telegram: FakeTelegramAPI, token: str, user_id: int, name: str = "Olena"
) -> Chat:
    """A customer's private chat with a shop's own bot, driven through that bot's webhook
    (the URL and secret its setWebhook gave the fake)."""
    shop = telegram.bot(token)
    assert shop.webhook.url, "connect the bot first"
    chat = Chat(shop, shop.add_user(user_id, name), shop.webhook.url)
    chat.new_messages()
    return chat


async def own_viber_screen(owner: Chat) -> StoredMessage:
    """/admin → More… → Cards and shop settings → 💬 Your own Viber bot."""
    cards = (await owner.press_label(await shop_menu(owner), "Cards"))[-1]
    fresh = await owner.press_label(cards, "Your own Viber bot")
    return fresh[-1] if fresh else owner.current(cards)


async def connect_own_viber(owner: Chat, token: str) -> list[StoredMessage]:
    """The owner connects a Viber bot: the screen, "Connect", the token typed; the answers."""
    screen = await own_viber_screen(owner)
    await owner.press_label(screen, "Connect your own Viber bot")
    return await owner.send(token)
