"""A loopback fake of the Telegram Bot API that a real ``aiogram.Bot`` talks to over HTTP.

Usage::

    async with FakeTelegramAPI() as fake, fake.make_bot() as bot:
        alice = fake.add_user(first_name="Alice")
        fake.queue_update(fake.message_update(alice, "/start promo"))
        updates = await bot.get_updates(timeout=1)

It answers the way ``api.telegram.org`` does — same JSON envelope, HTTP status, error wording
and validation order where it is known — so that code under test meets the errors it will meet
in production. One module a concern:

- ``state``: the bot, users, chats, messages and the update queue (all the fake remembers);
- ``server``: the aiohttp app, routing by method name, recording calls, posting to webhooks;
- ``calls``: a request's parameters, read as leniently as Telegram reads them;
- ``errors``: the error answers in Telegram's words; ``faults``: injected faults, flood limits;
- methods: ``updates`` (getUpdates, webhooks), ``sending``, ``editing``, ``callbacks``,
  ``profile`` (getMe, commands), ``files`` (uploads, file ids, getFile);
- ``users``: what users send the bot; ``keyboards``: reply markup validation;
- ``formatting``: parse modes and entities, after TDLib.
"""

from .api import FakeTelegramAPI
from .calls import RecordedCall, UploadedFile
from .errors import (
    BAD_GATEWAY_HTML,
    BOT_BLOCKED,
    MESSAGE_NOT_MODIFIED,
    TERMINATED_BY_OTHER_POLL,
    TERMINATED_BY_WEBHOOK,
    WEBHOOK_ACTIVE,
    WRONG_FILE_ID,
    ApiError,
)
from .faults import Fault
from .files import StoredFile
from .server import DEFAULT_TOKEN, USE_WEBHOOK_SECRET, WebhookDelivery
from .state import FakeUser, StoredMessage, visible

__all__ = [
    "BAD_GATEWAY_HTML",
    "BOT_BLOCKED",
    "DEFAULT_TOKEN",
    "MESSAGE_NOT_MODIFIED",
    "TERMINATED_BY_OTHER_POLL",
    "TERMINATED_BY_WEBHOOK",
    "USE_WEBHOOK_SECRET",
    "WEBHOOK_ACTIVE",
    "WRONG_FILE_ID",
    "ApiError",
    "FakeTelegramAPI",
    "FakeUser",
    "Fault",
    "RecordedCall",
    "StoredFile",
    "StoredMessage",
    "UploadedFile",
    "WebhookDelivery",
    "visible",
]
