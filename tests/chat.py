"""Fixtures: a real aiogram bot behind our webhook, talking to the fake Bot API over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.app import BotRuntime, bot_runtime, readiness_checks
from bot.config import Settings
from bot.delivery import photo_store
from bot.messengers import messenger_webhooks
from campaigns.metrics import refresh as refresh_metrics
from conversation.links import MessengerLinks
from fakes.telegram import (
    FakeTelegramAPI,
    FakeUser,
    RecordedCall,
    StoredMessage,
    UploadedFile,
    visible,
)
from tests.conftest import REDIS_URL, Backend
from web.app import WEBHOOK_PATH, build_web_app, web_runner

WEBHOOK_SECRET = "test-webhook-secret-0123456789"
_user_ids = itertools.count(700_001)
# The session's bot runtime, while it runs (see ``notices_sent``).
_runtimes: list[BotRuntime] = []


async def notices_sent() -> None:
    """Wait until the customer notices the bot put on its queue while answering are sent.

    Handlers answer staff first and tell the customer after (``handlers.notice_queue``); every
    update a test feeds through a :class:`Chat` waits here, so what the customer was told is
    there to read as soon as the update is answered, with no sleeps."""
    for runtime in _runtimes:
        await runtime.notices.drain()


@pytest.fixture(scope="session")
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(bot_username="stampbot_test_bot") as fake:
        yield fake


@pytest.fixture(scope="session")
def bot_settings(telegram: FakeTelegramAPI, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        telegram={
            "token": telegram.token,
            "api_url": telegram.base_url,
            "username": "stampbot_test_bot",
        },
        redis={"url": REDIS_URL},
        var_dir=tmp_path_factory.mktemp("var"),
        # Room for a whole campaign wizard clicked through at test speed.
        flood={"per_second": 5.0, "burst": 60},
        campaigns={"progress_interval_seconds": 0.2},
    )


@pytest.fixture(scope="session")
async def runtime(database: Backend, bot_settings: Settings) -> AsyncIterator[BotRuntime]:
    async with bot_runtime(bot_settings) as built:
        _runtimes.append(built)
        yield built
        _runtimes.remove(built)


@pytest.fixture(scope="session")
async def webhook_url(runtime: BotRuntime) -> AsyncIterator[str]:
    messengers = messenger_webhooks(runtime)
    app = build_web_app(
        runtime.dispatcher,
        runtime.bot,
        webhook_secret=WEBHOOK_SECRET,
        signer=runtime.signer,
        i18n=runtime.i18n,
        wallet_passes=runtime.wallets.passes,
        photos=photo_store(runtime.settings, runtime.bot),
        google_save=runtime.wallets.google_save_url,
        checks=readiness_checks(runtime),
        refresh_metrics=refresh_metrics,
        shop_bots=runtime.shop_bots,
        shop_vibers=messengers.shop_vibers,
        shop_whatsapps=messengers.shop_whatsapps,
        notices=runtime.notices,
    )
    runner = web_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    runtime.signer.base_url = f"http://127.0.0.1:{port}"
    await runtime.bot.set_webhook(url, secret_token=WEBHOOK_SECRET)
    yield url
    await runtime.bot.delete_webhook()
    await runner.cleanup()


@dataclass
class Chat:
    """One person's private chat with the bot, driven through the webhook."""

    telegram: FakeTelegramAPI
    user: FakeUser
    url: str
    seen: int = 0
    replies: list[StoredMessage] = field(default_factory=list)
    # What the person did, counted as the chat review counts it: each message typed and each
    # button tapped is one; a scan with the camera (and tapping its link chip) is one; the
    # START button of a chat that has never talked to the bot is one more.
    actions: int = 0
    started: bool = False

    async def _post(self, update: dict[str, Any]) -> list[StoredMessage]:
        delivery = await self.telegram.post_update(update, url=self.url)
        assert delivery.status == 200, delivery.body
        await notices_sent()
        return self.new_messages()

    def new_messages(self) -> list[StoredMessage]:
        sent = [m for m in self.telegram.sent_messages(self.user.id) if m.from_bot]
        fresh, self.seen = sent[self.seen :], len(sent)
        self.replies += fresh
        return fresh

    async def send(self, text: str) -> list[StoredMessage]:
        self.actions += 1
        self.started = True
        return await self._post(self.telegram.message_update(self.user, text))

    async def scan(self, payload: str) -> list[StoredMessage]:
        """The phone camera reads a ``t.me/<bot>?start=<payload>`` QR and Telegram opens the
        chat: one action, plus START the first time this person meets the bot."""
        if not self.started:
            self.actions += 1
        return await self.send(f"/start {payload}")

    async def press(self, message: StoredMessage, data: str) -> list[StoredMessage]:
        self.actions += 1
        return await self._post(self.telegram.callback_update(self.user, message, data))

    async def press_label(self, message: StoredMessage, label: str) -> list[StoredMessage]:
        return await self.press(message, button(message, label))

    def last_answer(self) -> dict[str, Any]:
        """The params of the newest answerCallbackQuery (the toast the user saw)."""
        return self.telegram.calls("answerCallbackQuery")[-1].params

    def current(self, message: StoredMessage) -> StoredMessage:
        return self.telegram.message(self.user.id, message.message_id)


# Wording tests read the text as a person reads it (``visible``: without the bidi isolates
# around names, dates and codes); bidi tests read ``raw_text_of`` to check the isolates.


def raw_text_of(message: StoredMessage) -> str:
    return message.shown_text


def text_of(message: StoredMessage) -> str:
    return visible(message.shown_text)


def buttons(message: StoredMessage) -> list[tuple[str, str]]:
    return [(visible(b["text"]), b.get("callback_data", "")) for b in message.inline_buttons()]


def button(message: StoredMessage, label: str) -> str:
    """The callback data of the button whose text contains ``label``."""
    matches = [data for text, data in buttons(message) if label in text]
    assert len(matches) == 1, f"{label!r} not exactly once in {buttons(message)}"
    return matches[0]


@pytest.fixture
async def fresh_state(db: Backend, redis_client: Redis) -> Backend:
    """Clean database and Redis (conversation state, flood buckets, file cache) per test."""
    return db


@pytest.fixture
def new_chat(telegram: FakeTelegramAPI, webhook_url: str, fresh_state: Backend) -> Any:
    def make(language: str | None = "en", first_name: str = "Olena") -> Chat:
        user = telegram.add_user(next(_user_ids), first_name, language_code=language)
        chat = Chat(telegram, user, webhook_url)
        chat.new_messages()
        return chat

    return make


@pytest.fixture
def other_messengers(runtime: BotRuntime) -> Iterator[MessengerLinks]:
    """For one test, the bot is on Viber and WhatsApp too (the suite's own runtime is on
    Telegram only): what the handlers get as ``messenger_links``, and shops' own bots
    connected meanwhile get ``/link`` in their menu."""
    data = runtime.dispatcher.workflow_data
    before = data["messenger_links"]
    assert runtime.shop_bots is not None
    runtime.shop_bots.linking = True
    links = MessengerLinks(
        telegram_username=before.telegram_username,
        viber_uri="stampbot",
        whatsapp_number="+380 44 123 4567",
    )
    data["messenger_links"] = links
    try:
        yield links
    finally:
        data["messenger_links"] = before
        runtime.shop_bots.linking = False


@pytest.fixture
def chat(new_chat: Any) -> Chat:
    made: Chat = new_chat("en")
    return made


def uploaded_photo(call: RecordedCall) -> bytes | None:
    """The bytes of the photo uploaded by a send call, or None when it reused a file_id."""
    reference = str(call.params.get("photo", ""))
    if not reference.startswith("attach://"):
        return None
    return call.files[reference.removeprefix("attach://")].data


def uploaded_file(call: RecordedCall, field: str) -> UploadedFile:
    """The file a send call uploaded in ``field`` (sendDocument's "document", …)."""
    reference = str(call.params.get(field, ""))
    assert reference.startswith("attach://"), f"{field} was not uploaded: {reference!r}"
    return call.files[reference.removeprefix("attach://")]


def png_bytes(width: int, height: int) -> bytes:
    """A real PNG of that size, as a phone would upload it."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def shop_menu(chat: Chat) -> StoredMessage:
    """``/admin``, then "More…" (the shop keyboard's last row, in the person's language): the
    folded inline shop menu."""
    home = (await chat.send("/admin"))[-1]
    rows = keyboard(home)
    return (await chat.send(rows[-1][-1] if rows else "More…"))[-1]


def keyboard(message: StoredMessage) -> list[list[str]]:
    """The rows of the chat (reply) keyboard a message set, as labels."""
    rows = (message.sent_reply_markup or {}).get("keyboard") or []
    return [[visible(b["text"]) for b in row] for row in rows]


def invite_payload(message: StoredMessage) -> str:
    """The ``/start`` payload behind a staff invite's 📤 Share button (the link its QR holds)."""
    from urllib.parse import parse_qs, urlsplit

    shares = [str(b["url"]) for b in message.inline_buttons() if "url" in b]
    assert len(shares) == 1, message.inline_buttons()
    shared = parse_qs(urlsplit(shares[0]).query)["url"][0]
    return str(parse_qs(urlsplit(shared).query)["start"][0])
