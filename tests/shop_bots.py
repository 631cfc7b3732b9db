"""Helpers for tests of shops' own accounts (Telegram bots, Viber bots, WhatsApp numbers): fresh
tokens, an owner opening the screen and connecting one, the typed secret deleted."""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator

from bot.shop_vibers import ShopVibers
from bot.shop_whatsapps import ShopWhatsApps
from fakes.telegram import FakeTelegramAPI, StoredMessage
from tests.chat import Chat, shop_menu, text_of

_bot_ids = itertools.count(7_100_000_001)


def new_token() -> str:
    """A well-formed token of a bot nobody has used yet (the fake serves it on first use)."""
    return f"{next(_bot_ids)}:{secrets.token_urlsafe(27)[:35]}"


@contextlib.asynccontextmanager
async def pointed_at(
    accounts: ShopVibers | ShopWhatsApps | None, api_url: str
) -> AsyncIterator[None]:
    """The session's shops' Viber bots or numbers calling this test's fake API; the clients
    made for it closed after, and the session's address back."""
    assert accounts is not None
    before = accounts.api_url
    accounts.api_url = api_url
    yield
    await accounts.close()
    accounts.api_url = before


def bot_id(token: str) -> int:
    return int(token.split(":", 1)[0])


async def own_account_screen(owner: Chat, label: str) -> StoredMessage:
    """/admin → More… → Cards and shop settings → the own account's button (``label``)."""
    cards = (await owner.press_label(await shop_menu(owner), "Cards"))[-1]
    fresh = await owner.press_label(cards, label)
    return fresh[-1] if fresh else owner.current(cards)  # drawn over the settings screen


def typed_deleted(owner: Chat, text: str) -> bool:
    """The one message the owner typed with ``text`` (a secret) is deleted."""
    typed = [m for m in owner.telegram.received_messages(owner.user.id) if m.text == text]
    assert len(typed) == 1
    return typed[0].deleted


async def own_bot_screen(owner: Chat) -> StoredMessage:
    """/admin → More… → Cards and shop settings → 🤖 Your own Telegram bot."""
    return await own_account_screen(owner, "Your own Telegram bot")


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
    return await own_account_screen(owner, "Your own Viber bot")


async def connect_own_viber(owner: Chat, token: str) -> list[StoredMessage]:
    """The owner connects a Viber bot: the screen, "Connect", the token typed; the answers."""
    screen = await own_viber_screen(owner)
    await owner.press_label(screen, "Connect your own Viber bot")
    return await owner.send(token)


async def own_whatsapp_screen(owner: Chat) -> StoredMessage:
    """/admin → More… → Cards and shop settings → 📞 Your own WhatsApp number."""
    return await own_account_screen(owner, "Your own WhatsApp number")


async def connect_own_whatsapp(
    owner: Chat, number_id: str, token: str, secret: str
) -> list[StoredMessage]:
    """The owner connects a number: "Connect", then its three answers (the app secret only
    when the token was taken); the answers to the last one sent."""
    await owner.press_label(await own_whatsapp_screen(owner), "Connect your own WhatsApp number")
    await owner.send(number_id)
    asked = await owner.send(token)
    if "Step 3 of 3" not in text_of(asked[-1]):
        return asked
    return await owner.send(secret)
