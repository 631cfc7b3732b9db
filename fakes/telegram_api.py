"""A loopback fake of the Telegram Bot API that a real ``aiogram.Bot`` talks to over HTTP.

Usage::

    async with FakeTelegramAPI() as fake, fake.make_bot() as bot:
        alice = fake.add_user(first_name="Alice")
        fake.queue_update(fake.message_update(alice, "/start promo"))
        updates = await bot.get_updates(timeout=1)

It answers the way ``api.telegram.org`` does — same JSON envelope, HTTP status, error wording
and validation order where it is known — so that code under test meets the errors it will meet
in production. Wording comes from TDLib/telegram-bot-api sources and real-world reports; the
formatting parsers live in :mod:`fakes.telegram_markup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
import math
import mimetypes
import secrets
import string
import struct
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, MultipartReader, web

from .telegram_markup import (
    Entity,
    EntityParseError,
    find_bot_commands,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    sort_entities,
    trim_text,
    utf16_len,
)

if TYPE_CHECKING:
    from aiogram import Bot

__all__ = [
    "DEFAULT_TOKEN",
    "USE_WEBHOOK_SECRET",
    "ApiError",
    "FakeTelegramAPI",
    "FakeUser",
    "Fault",
    "RecordedCall",
    "StoredFile",
    "StoredMessage",
    "UploadedFile",
    "WebhookDelivery",
]

DEFAULT_TOKEN: Final = "123456:TEST-TOKEN"

MESSAGE_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BOT_BLOCKED: Final = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_OTHER_POLL: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TERMINATED_BY_WEBHOOK: Final = "Conflict: terminated by setWebhook request"
WRONG_FILE_ID: Final = "Bad Request: wrong file identifier/HTTP URL specified"
# What Telegram's nginx front answers when the backend is down: HTML, not the JSON envelope.
BAD_GATEWAY_HTML: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_DATA_LIMIT: Final = 64
UPLOAD_LIMIT: Final = 50 * 1024 * 1024
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
CHAT_ACTIONS: Final = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# The update types Telegram leaves out unless they are asked for by name.
OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Parameters that carry JSON-serialized objects in form-encoded requests.
JSON_FIELDS: Final = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope",
        "link_preview_options", "reply_parameters", "media", "message_ids",
    }
)  # fmt: skip
INLINE_BUTTON_ACTIONS: Final = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND_CHARS: Final = frozenset(string.ascii_lowercase + string.digits + "_")
COMMAND_SCOPES: Final = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip


_PARSERS: Final = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


class ApiError(Exception):
    """An error answer: the HTTP status equals ``error_code``, as on the real server."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": False, "error_code": self.code}
        data["description"] = self.description
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedCall:
    """One HTTP request to a method, with nested JSON already decoded."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    timestamp: float
    http_method: str = "POST"
    status: int = 0
    response: dict[str, Any] | None = None
    via_webhook_response: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot}
        data["first_name"] = self.first_name
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document", as TDLib names the type in its errors
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    source_url: str | None = None


@dataclass
class StoredMessage:
    """The server's current view of a message; edits update it and keep older versions."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender: dict[str, Any]
    chat: dict[str, Any]
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # only inline keyboards are kept by Telegram
    sent_reply_markup: dict[str, Any] | None = None  # whatever the bot sent, for inspection
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_media(self) -> bool:
        return self.photo is not None or self.document is not None

    def callback_data(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def to_dict(self, *, nested: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if nested and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_dict(nested=False)
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo
        if self.document is not None:
            data["document"] = self.document
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    drop_pending_updates: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookDelivery:
    status: int
    body: str
    # A method the webhook answered with, which Telegram executes like a normal request.
    executed: RecordedCall | None = None


@dataclass(frozen=True)
class Fault:
    status: int = 0
    description: str | None = None
    retry_after: int | None = None
    raw_body: str | None = None
    delay: float = 0.0


@dataclass
class RateLimit:
    per_second: int
    per_chat_per_second: int | None
    retry_after: int | None
    methods: frozenset[str]


class _Configured(enum.Enum):
    SECRET = "the webhook's configured secret token"


USE_WEBHOOK_SECRET: Final = _Configured.SECRET

MethodHandler = Callable[["_Params", dict[str, UploadedFile]], Awaitable[Any]]
CustomHandler = Callable[[dict[str, Any], dict[str, UploadedFile]], Any]


@dataclass
class _Described:
    """A successful result that Telegram accompanies with a description."""

    result: Any
    description: str


class _Params:
    """Typed access to request parameters, lenient the way the Bot API server is."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int = 0) -> int:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)


class FakeTelegramAPI:
    """An aiohttp server on 127.0.0.1 that impersonates api.telegram.org for one bot."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "stampbot_test_bot",
        bot_first_name: str = "Stampbot Test",
        strict_chats: bool = False,
        require_https_webhook: bool = False,
        port: int = 0,
    ) -> None:
        self.token = token
        self._listen_port = port
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.bot_sender = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        # Unknown chat ids answer "chat not found" only when strict, so tests that don't care
        # about chat registration can send anywhere.
        self.strict_chats = strict_chats
        # Telegram only calls HTTPS webhooks; tests usually serve plain HTTP on loopback.
        self.require_https_webhook = require_https_webhook
        self.webhook = WebhookState()
        self.rate_limit: RateLimit | None = None
        self.rate_limited_count = 0
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[dict[str, Any]] = []

        self._runner: web.AppRunner | None = None
        self._port = 0
        self._client: ClientSession | None = None
        self._closing = asyncio.Event()
        self._calls: list[RecordedCall] = []
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._blocked: dict[int, str] = {}
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._user_ids = itertools.count(1001)
        self._open_callbacks: dict[str, dict[str, Any]] = {}
        self._allowed_updates: list[str] = []
        self._wakeup = asyncio.Event()
        # Set (and replaced) whenever a message is stored: what ``wait_for_message`` awaits.
        self._message_stored = asyncio.Event()
        self._poll_generation = 0
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._send_times: deque[float] = deque()
        self._chat_send_times: defaultdict[int, deque[float]] = defaultdict(deque)
        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("editMessageText", self._edit_message_text),
            ("editMessageCaption", self._edit_message_caption),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("sendChatAction", self._send_chat_action),
            ("getFile", self._get_file),
        ):
            self._methods[name.lower()] = (name, handler)

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._closing = asyncio.Event()
        # Room above the 50 MB upload limit so that the limit is answered in Telegram's words
        # rather than by aiohttp's plain-text 413.
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._listen_port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing.set()
        self._wake_pollers()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeTelegramAPI is not started")
        return f"http://127.0.0.1:{self._port}"

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """A real aiogram Bot wired to this server; use ``async with`` to close its session."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token=self.token, session=session, **bot_kwargs)

    # ----------------------------------------------------------------------------------------
    # Users, chats and the messages they send

    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        user = FakeUser(
            id=user_id if user_id is not None else next(self._user_ids),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._users[user.id] = user
        self._chats[user.id] = user.private_chat()
        return user

    def add_chat(self, chat: dict[str, Any]) -> None:
        """Register a group/supergroup/channel chat object (needs at least id and type)."""
        self._chats[int(chat["id"])] = dict(chat)

    def block_chat(self, chat_id: int, description: str = BOT_BLOCKED) -> None:
        """Make every call aimed at the chat fail with 403, as after the user blocks the bot."""
        self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.pop(chat_id, None)

    def message_update(
        self,
        user: FakeUser | int,
        text: str,
        *,
        entities: list[dict[str, Any]] | None = None,
        reply_to: StoredMessage | None = None,
    ) -> dict[str, Any]:
        """Build the Update for a private text message from ``user``, with bot_command entities."""
        sender = self._user(user)
        if entities is None:
            entities = [e.to_dict() for e in find_bot_commands(text)]
        message = self._store_message(
            sender.private_chat(), from_bot=False, sender=sender.to_dict(), text=text
        )
        message.entities = entities
        message.reply_to = reply_to
        return {"update_id": next(self._update_ids), "message": message.to_dict()}

    def photo_update(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        caption: str = "",
        caption_entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Build the Update for a private photo message from ``user``; the photo is stored as
        Telegram would store an upload, so the bot can send it on by file_id."""
        sender = self._user(user)
        photo = self._photo_sizes(UploadedFile("photo", "photo.jpg", "image/jpeg", data))
        message = self._store_message(
            sender.private_chat(),
            from_bot=False,
            sender=sender.to_dict(),
            photo=photo,
            caption=caption or None,
            caption_entities=caption_entities or [],
        )
        return {"update_id": next(self._update_ids), "message": message.to_dict()}

    def callback_update(
        self, user: FakeUser | int, message: Any, data: str, *, check_button: bool = True
    ) -> dict[str, Any]:
        """Build the Update for ``user`` pressing an inline button on a stored message.

        ``message`` may be a StoredMessage, an aiogram Message, a message dict or a
        ``(chat_id, message_id)`` pair. Real clients can only send data that is on the keyboard,
        so other data is refused unless ``check_button`` is False.
        """
        sender = self._user(user)
        stored = self.message(*self._message_ref(message))
        if check_button and data not in stored.callback_data():
            raise ValueError(
                f"no button with callback_data={data!r} on message {stored.message_id}"
            )
        query_id = str(4_300_000_000_000_000_000 + next(self._callback_ids))
        query = {
            "id": query_id,
            "from": sender.to_dict(),
            "message": stored.to_dict(),
            "chat_instance": str(-8_000_000_000_000_000_000 + abs(stored.chat_id)),
            "data": data,
        }
        self._open_callbacks[query_id] = query
        return {"update_id": next(self._update_ids), "callback_query": query}

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make an update available to getUpdates, waking a pending long poll."""
        self._updates.append(update)
        self._wake_pollers()
        return update

    def send_text(self, user: FakeUser | int, text: str) -> dict[str, Any]:
        return self.queue_update(self.message_update(user, text))

    def press_button(self, user: FakeUser | int, message: Any, data: str) -> dict[str, Any]:
        return self.queue_update(self.callback_update(user, message, data))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._updates)

    async def post_update(
        self,
        update: dict[str, Any],
        *,
        url: str | None = None,
        secret_token: str | _Configured | None = USE_WEBHOOK_SECRET,
        request_timeout: float = 10.0,
    ) -> WebhookDelivery:
        """POST an update to the webhook as Telegram does, and run any method it answers with.

        By default the registered URL and secret token are used; pass ``secret_token=None`` to
        omit the ``X-Telegram-Bot-Api-Secret-Token`` header or a string to send a wrong one.
        """
        target = url or self.webhook.url
        if not target:
            raise RuntimeError("no webhook URL: call setWebhook first or pass url=")
        secret = self.webhook.secret_token if secret_token is USE_WEBHOOK_SECRET else secret_token
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        if self._client is None:
            self._client = ClientSession()
        async with self._client.post(
            target,
            data=json.dumps(update),
            headers=headers,
            timeout=ClientTimeout(total=request_timeout),
        ) as resp:
            status, body = resp.status, ""
            if resp.content_type == "multipart/form-data":
                params, files = await _read_multipart(MultipartReader(resp.headers, resp.content))
            else:
                body = await resp.text()
                params, files = _parse_body(resp.content_type, body), {}
        delivery = WebhookDelivery(status=status, body=body)
        if not 200 <= status < 300:
            self.webhook.last_error_date = int(time.time())
            self.webhook.last_error_message = f"Wrong response from the webhook: {status}"
            return delivery
        method = params.pop("method", None)
        if isinstance(method, str):
            call = self._record(method, _decode_json_fields(params), files, "POST")
            call.via_webhook_response = True
            await self._dispatch(call, params, files)
            delivery.executed = call
        return delivery

    # ----------------------------------------------------------------------------------------
    # Fault injection and rate limiting

    def inject_fault(self, method: str, fault: Fault, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" for any) with ``fault``."""
        self._faults[method.lower()].extend([fault] * times)

    def fail_with_retry_after(self, method: str, retry_after: int, *, times: int = 1) -> None:
        self.inject_fault(method, Fault(status=429, retry_after=retry_after), times=times)

    def fail_with_server_error(
        self, method: str, *, times: int = 1, description: str = "Internal Server Error"
    ) -> None:
        self.inject_fault(method, Fault(status=500, description=description), times=times)

    def fail_with_bad_gateway(self, method: str, *, times: int = 1) -> None:
        self.inject_fault(method, Fault(status=502, raw_body=BAD_GATEWAY_HTML), times=times)

    def fail_with_error(
        self, method: str, status: int, description: str, *, times: int = 1
    ) -> None:
        self.inject_fault(method, Fault(status=status, description=description), times=times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next calls before handling them: past the client's timeout the client gives
        up, yet the call still takes effect, as a slow Telegram does."""
        self.inject_fault(method, Fault(delay=seconds), times=times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def enable_rate_limit(
        self,
        *,
        per_second: int = 30,
        per_chat_per_second: int | None = None,
        retry_after: int | None = None,
        methods: frozenset[str] = SEND_METHODS,
    ) -> None:
        """Answer 429 past ``per_second`` sends in any rolling second (and past
        ``per_chat_per_second`` to one chat). ``retry_after`` defaults to the time until the
        window has room again, rounded up."""
        self.rate_limit = RateLimit(per_second, per_chat_per_second, retry_after, methods)
        self._send_times.clear()
        self._chat_send_times.clear()

    def disable_rate_limit(self) -> None:
        self.rate_limit = None

    def register_method(self, name: str, handler: CustomHandler) -> None:
        """Serve a method the fake lacks; the handler gets decoded params and files and may
        return a result (or awaitable) or raise ApiError."""

        async def run(params: _Params, files: dict[str, UploadedFile]) -> Any:
            result = handler(params.raw, files)
            return await result if isinstance(result, Awaitable) else result

        self._methods[name.lower()] = (name, run)

    # ----------------------------------------------------------------------------------------
    # Inspection

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def last_call(self, method: str) -> RecordedCall:
        found = self.calls(method)
        if not found:
            raise LookupError(f"{method} was never called")
        return found[-1]

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """Messages the bot sent, oldest first, in their current (edited) state."""
        return [
            m
            for m in self._messages.values()
            if m.from_bot
            and (chat_id is None or m.chat_id == chat_id)
            and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> StoredMessage | None:
        sent = self.sent_messages(chat_id)
        return sent[-1] if sent else None

    async def wait_for_message(
        self, chat_id: int, wanted: Callable[[StoredMessage], bool]
    ) -> StoredMessage:
        """The first message the bot sent to ``chat_id`` that ``wanted`` accepts, waiting for it
        when something in the background (a worker, a timer) is still to send it. Callers
        bound the wait with ``asyncio.timeout``."""
        while True:
            stored = self._message_stored
            for message in self.sent_messages(chat_id):
                if wanted(message):
                    return message
            await stored.wait()

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        return self._messages[(chat_id, message_id)]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[Any]:
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    # ----------------------------------------------------------------------------------------
    # HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        try:
            params, files = await self._read_request(request)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.code)
        call = self._record(request.match_info["method"], params, files, request.method)
        if request.match_info["token"] != self.token:
            return self._answer(call, ApiError(401, "Unauthorized"))
        fault = self._take_fault(call.method) if call.method.lower() in self._methods else None
        if fault is not None and fault.delay:
            await self._sleep(fault.delay)  # then handled normally: slow, not failed
        elif fault is not None:
            return self._fault_response(call, fault)
        if any(len(f.data) > UPLOAD_LIMIT for f in files.values()):
            return self._answer(call, ApiError(413, "Request Entity Too Large"))
        await self._dispatch(call, params, files)
        return self._answer(call)

    def _fault_response(self, call: RecordedCall, fault: Fault) -> web.Response:
        if fault.raw_body is not None:
            call.status = fault.status
            return web.Response(status=fault.status, text=fault.raw_body, content_type="text/html")
        if fault.status == 429:
            return self._answer(call, too_many_requests(fault.retry_after or 1))
        return self._answer(call, ApiError(fault.status, fault.description or ""))

    async def _dispatch(
        self, call: RecordedCall, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> None:
        """Run a method and record its outcome on ``call``."""
        spec = self._methods.get(call.method.lower())
        try:
            if spec is None:
                raise ApiError(404, "Not Found")
            result = await spec[1](_Params(params), files)
        except ApiError as error:
            call.status, call.response = error.code, error.payload()
            return
        payload: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, _Described):
            payload = {"ok": True, "result": result.result, "description": result.description}
        call.status, call.response = 200, payload

    @staticmethod
    def _answer(call: RecordedCall, error: ApiError | None = None) -> web.Response:
        if error is not None:
            call.status, call.response = error.code, error.payload()
        return web.json_response(call.response, status=call.status)

    async def _read_request(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
                params.update(body)
            else:
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    elif isinstance(value, bytes | bytearray):
                        params[key] = bytes(value).decode("utf-8", "replace")
                    else:
                        params[key] = value
        return _decode_json_fields(params), files

    def _record(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile], http: str
    ) -> RecordedCall:
        spec = self._methods.get(method.lower())
        call = RecordedCall(spec[0] if spec else method, params, files, time.time(), http)
        self._calls.append(call)
        return call

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._file_paths.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up when the server stops so shutdown never hangs on a test delay."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _wake_pollers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    # ----------------------------------------------------------------------------------------
    # Shared validation

    def _user(self, user: FakeUser | int) -> FakeUser:
        if isinstance(user, FakeUser):
            self._users.setdefault(user.id, user)
            self._chats.setdefault(user.id, user.private_chat())
            return user
        return self._users.get(user) or self.add_user(user, f"User {user}")

    @staticmethod
    def _message_ref(message: Any) -> tuple[int, int]:
        if isinstance(message, tuple):
            return int(message[0]), int(message[1])
        if isinstance(message, dict):
            return int(message["chat"]["id"]), int(message["message_id"])
        if isinstance(message, StoredMessage):
            return message.chat_id, message.message_id
        return int(message.chat.id), int(message.message_id)  # an aiogram Message

    def _resolve_chat(self, params: _Params) -> dict[str, Any]:
        raw = params.text("chat_id")
        if raw is None or raw.strip() == "":
            raise bad_request("chat_id is empty")
        raw = raw.strip()
        if raw.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return self._check_reachable(chat)
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        if chat_id == self.bot_id:
            raise ApiError(403, "Forbidden: bot can't send messages to bots")
        known = self._chats.get(chat_id)
        if known is None:
            if self.strict_chats or chat_id == 0:
                raise bad_request("chat not found")
            known = self._synthetic_chat(chat_id)
        return self._check_reachable(known)

    def _check_reachable(self, chat: dict[str, Any]) -> dict[str, Any]:
        if chat["id"] in self._blocked:
            raise ApiError(403, self._blocked[chat["id"]])
        return chat

    @staticmethod
    def _synthetic_chat(chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": f"Chat {chat_id}", "type": kind}

    def _format(
        self, text: str, parse_mode: str | None, raw_entities: Any, *, field_name: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """Turn text plus parse_mode/entities into Telegram's plain text and entity list."""
        mode = (parse_mode or "").strip().lower()
        if text and mode and mode != "none":
            parser = _PARSERS.get(mode)
            if parser is None:
                raise bad_request("unsupported parse_mode")
            try:
                plain, entities = parser(text)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        else:
            plain, entities = text, self._input_entities(raw_entities, field_name)
        plain, entities = trim_text(plain, entities)
        users = {uid: u.to_dict() for uid, u in self._users.items()}
        return plain, [e.to_dict(users) for e in entities]

    @staticmethod
    def _input_entities(raw: Any, field_name: str) -> list[Entity]:
        if raw is None or raw == "":
            return []
        if not isinstance(raw, list):
            raise bad_request(f"can't parse {field_name} JSON object")
        entities = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise bad_request(f"can't parse {field_name} JSON object")
            user = item.get("user")
            entities.append(
                Entity(
                    item["type"],
                    int(item.get("offset", 0)),
                    int(item.get("length", 0)),
                    url=item.get("url"),
                    language=item.get("language"),
                    custom_emoji_id=item.get("custom_emoji_id"),
                    user_id=int(user["id"]) if isinstance(user, dict) else None,
                    unix_time=item.get("unix_time"),
                    date_time_format=item.get("date_time_format"),
                )
            )
        return sort_entities([e for e in entities if e.length > 0])

    def _reply_markup(self, params: _Params) -> dict[str, Any] | None:
        markup = params.raw.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
                raise bad_request("can't parse reply keyboard markup JSON object")
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in rows:
            if not isinstance(row, list):
                raise bad_request("InlineKeyboardMarkup inline_keyboard row must be an Array")
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request("InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str):
                    raise bad_request(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not any(key in button for key in INLINE_BUTTON_ACTIONS):
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
        """Telegram keeps (and echoes back) only non-empty inline keyboards on a message."""
        if markup and markup.get("inline_keyboard"):
            return {"inline_keyboard": markup["inline_keyboard"]}
        return None

    def _reply_target(self, chat_id: int, params: _Params) -> StoredMessage | None:
        reply = params.raw.get("reply_parameters")
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = int(reply.get("message_id", 0))
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if not message_id:
            return None
        target = self._messages.get((chat_id, message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _check_rate_limit(self, method: str, chat_id: int) -> None:
        limit = self.rate_limit
        if limit is None or method not in limit.methods:
            return
        now = time.monotonic()
        windows = [(self._send_times, limit.per_second)]
        if limit.per_chat_per_second is not None:
            windows.append((self._chat_send_times[chat_id], limit.per_chat_per_second))
        for window, allowed in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= allowed:
                wait = limit.retry_after or max(1, math.ceil(1.0 - (now - window[0])))
                self.rate_limited_count += 1
                raise too_many_requests(wait)
        for window, _ in windows:
            window.append(now)

    def _store_message(
        self, chat: dict[str, Any], *, from_bot: bool, sender: dict[str, Any], **content: Any
    ) -> StoredMessage:
        chat_id = int(chat["id"])
        self._next_message_id[chat_id] += 1
        message = StoredMessage(
            chat_id=chat_id,
            message_id=self._next_message_id[chat_id],
            date=int(time.time()),
            from_bot=from_bot,
            sender=sender,
            chat=chat,
            **content,
        )
        self._messages[(chat_id, message.message_id)] = message
        self._message_stored.set()
        self._message_stored = asyncio.Event()
        return message

    # ----------------------------------------------------------------------------------------
    # Methods: bot and updates

    async def _get_me(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        if self.webhook.url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit", 100), 1), 100)
        timeout = max(params.integer("timeout"), 0)
        allowed = params.raw.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer poll ends the one still waiting, exactly like two bot instances polling.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            wakeup = self._wakeup
            updates = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self._closing.is_set():
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(409, TERMINATED_BY_OTHER_POLL)
            if self.webhook.url:
                raise ApiError(409, TERMINATED_BY_WEBHOOK)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        def wanted(update: dict[str, Any]) -> bool:
            kinds = update.keys() - {"update_id"}
            if self._allowed_updates:
                return bool(kinds & set(self._allowed_updates))
            return not kinds & OPT_IN_UPDATES

        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates[:limit]

    async def _set_webhook(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        url = (params.text("url") or "").strip()
        if not url:
            return await self._delete_webhook(params, files)
        scheme, _, rest = url.partition("://")
        allowed_schemes = ("https",) if self.require_https_webhook else ("http", "https")
        if scheme.lower() not in allowed_schemes or not rest.split("/", 1)[0]:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None:
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in secret):
                raise bad_request("secret token contains unallowed characters")
        allowed = params.raw.get("allowed_updates")
        state = WebhookState(
            url=url,
            secret_token=secret or None,
            allowed_updates=[str(k) for k in allowed] if isinstance(allowed, list) else None,
            max_connections=min(max(params.integer("max_connections", 40), 1), 100),
        )
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        if state.allowed_updates is not None:
            self._allowed_updates = state.allowed_updates
        unchanged = (self.webhook.url, self.webhook.secret_token) == (url, state.secret_token)
        self.webhook = state
        self._wake_pollers()
        return _Described(True, "Webhook is already set" if unchanged else "Webhook was set")

    async def _delete_webhook(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        had_webhook = bool(self.webhook.url)
        self.webhook = WebhookState()
        outcome = "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        return _Described(True, outcome)

    async def _get_webhook_info(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info

    # ----------------------------------------------------------------------------------------
    # Methods: sending

    async def _send_message(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        text = params.text("text") or ""
        plain, entities = self._format(
            text, params.text("parse_mode"), params.raw.get("entities"), field_name="entities"
        )
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > TEXT_LIMIT:
            raise bad_request("message is too long")
        markup = self._reply_markup(params)
        chat = self._resolve_chat(params)
        reply_to = self._reply_target(chat["id"], params)
        self._check_rate_limit("sendMessage", chat["id"])
        message = self._store_message(
            chat,
            from_bot=True,
            sender=self.bot_sender,
            text=plain,
            entities=entities,
            reply_markup=self._inline_only(markup),
            sent_reply_markup=markup,
            reply_to=reply_to,
        )
        return message.to_dict()

    def _caption(self, params: _Params) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.text("caption")
        if not caption:
            return None, []
        plain, entities = self._format(
            caption,
            params.text("parse_mode"),
            params.raw.get("caption_entities"),
            field_name="caption_entities",
        )
        if utf16_len(plain) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return plain or None, entities

    def _input_file(
        self, params: _Params, files: dict[str, UploadedFile], name: str
    ) -> UploadedFile | str | None:
        """An upload (direct field or attach://), or a file_id/URL string."""
        if name in files:
            return files[name]
        value = params.text(name)
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"there is no {name} in the request")
            return upload
        return value

    def _existing_file(self, reference: str, kind: str) -> StoredFile:
        if reference.lower().startswith(("http://", "https://")):
            # No network here: accept the URL as Telegram would after fetching it.
            data = _TINY_PNG if kind == "photo" else b""
            stored = self._new_file(kind, data, file_name=reference.rsplit("/", 1)[-1] or None)
            stored.source_url = reference
            return stored
        stored_file = self._files.get(reference)
        if stored_file is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored_file.kind != kind:
            raise bad_request(
                f"can't use file of type {stored_file.kind.title()} as {kind.title()}"
            )
        return stored_file

    def _new_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = len(self._files)
        prefix = "AgACAgIAAxkBAA" if kind == "photo" else "BQACAgIAAxkBAA"
        extension = ".jpg" if kind == "photo" else mimetypes.guess_extension(mime_type or "") or ""
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type if kind == "document" else "image/jpeg",
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _photo_sizes(self, upload: UploadedFile | str) -> list[dict[str, Any]]:
        if isinstance(upload, str):
            stored = self._existing_file(upload, "photo")
            if stored.file_id in self._photo_sets:
                return self._photo_sets[stored.file_id]
            data = stored.data
        else:
            data = upload.data
        if not data:
            raise bad_request("file must be non-empty")
        dimensions = image_size(data)
        if dimensions is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = dimensions
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[dict[str, Any]] = []
        longest = max(width, height)
        boxes = [box for box in (90, 320, 800, 1280) if longest > box] + [min(longest, 2560)]
        for box in boxes:
            scale = box / longest
            stored = self._new_file("photo", data)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    # Thumbnails are not really rescaled: every size serves the uploaded bytes.
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    async def _send_photo(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        caption, caption_entities = self._caption(params)
        markup = self._reply_markup(params)
        chat = self._resolve_chat(params)
        upload = self._input_file(params, files, "photo")
        if upload is None:
            raise bad_request("there is no photo in the request")
        photo = self._photo_sizes(upload)
        reply_to = self._reply_target(chat["id"], params)
        self._check_rate_limit("sendPhoto", chat["id"])
        message = self._store_message(
            chat,
            from_bot=True,
            sender=self.bot_sender,
            photo=photo,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=self._inline_only(markup),
            sent_reply_markup=markup,
            reply_to=reply_to,
        )
        return message.to_dict()

    async def _send_document(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        caption, caption_entities = self._caption(params)
        markup = self._reply_markup(params)
        chat = self._resolve_chat(params)
        upload = self._input_file(params, files, "document")
        if upload is None:
            raise bad_request("there is no document in the request")
        if isinstance(upload, str):
            stored = self._existing_file(upload, "document")
        else:
            if not upload.data:
                raise bad_request("file must be non-empty")
            name = upload.filename or "document"
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            stored = self._new_file("document", upload.data, file_name=name, mime_type=mime)
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        reply_to = self._reply_target(chat["id"], params)
        self._check_rate_limit("sendDocument", chat["id"])
        message = self._store_message(
            chat,
            from_bot=True,
            sender=self.bot_sender,
            document=document,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=self._inline_only(markup),
            sent_reply_markup=markup,
            reply_to=reply_to,
        )
        return message.to_dict()

    async def _send_chat_action(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        chat = self._resolve_chat(params)
        action = (params.text("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    # ----------------------------------------------------------------------------------------
    # Methods: editing and deleting

    def _edit_target(self, params: _Params) -> StoredMessage:
        if params.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the fake sends no inline messages
        chat = self._resolve_chat(params)
        message_id = params.integer("message_id")
        if message_id <= 0:
            raise bad_request("message identifier is not specified")
        message = self._messages.get((chat["id"], message_id))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: StoredMessage, **changes: Any) -> dict[str, Any]:
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        message.history.append(message.to_dict())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return message.to_dict()

    async def _edit_message_text(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        plain, entities = self._format(
            params.text("text") or "",
            params.text("parse_mode"),
            params.raw.get("entities"),
            field_name="entities",
        )
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > TEXT_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = self._inline_only(self._reply_markup(params))
        message = self._edit_target(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(message, text=plain, entities=entities, reply_markup=markup)

    async def _edit_message_caption(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        caption = params.text("caption") or ""
        plain, entities = self._format(
            caption,
            params.text("parse_mode"),
            params.raw.get("caption_entities"),
            field_name="caption_entities",
        )
        if utf16_len(plain) > CAPTION_LIMIT:
            raise bad_request("MEDIA_CAPTION_TOO_LONG")
        markup = self._inline_only(self._reply_markup(params))
        message = self._edit_target(params)
        if not message.has_media:
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            message, caption=plain or None, caption_entities=entities, reply_markup=markup
        )

    async def _edit_message_reply_markup(
        self, params: _Params, files: dict[str, UploadedFile]
    ) -> Any:
        markup = self._inline_only(self._reply_markup(params))
        message = self._edit_target(params)
        return self._apply_edit(message, reply_markup=markup)

    async def _delete_message(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        chat = self._resolve_chat(params)
        message = self._messages.get((chat["id"], params.integer("message_id")))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    # ----------------------------------------------------------------------------------------
    # Methods: callbacks, commands, files

    async def _answer_callback_query(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        query = self._open_callbacks.pop(params.text("callback_query_id") or "", None)
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text") or ""
        if len(text) > 200:
            self._open_callbacks[query["id"]] = query
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers.append(
            {
                "callback_query_id": query["id"],
                "text": text or None,
                "show_alert": params.flag("show_alert"),
                "url": params.text("url"),
                "cache_time": params.integer("cache_time"),
            }
        )
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _command_key(self, params: _Params) -> tuple[str, str]:
        scope = params.raw.get("scope")
        if scope is not None and (
            not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES
        ):
            raise bad_request("can't parse BotCommandScope JSON object")
        language = params.text("language_code") or ""
        if language and not (len(language) == 2 and language.isascii() and language.islower()):
            raise bad_request("invalid language code specified")
        return self._scope_key(scope), language

    async def _set_my_commands(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        commands = params.raw.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        cleaned: list[dict[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("command must be non-empty")
            command = str(item.get("command", "")).strip().removeprefix("/")
            description = str(item.get("description", "")).strip()
            if not command:
                raise bad_request("command must be non-empty")
            if len(command) > 32:
                raise bad_request("command length must not exceed 32")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description length must not exceed 256")
            if not all(ch in _COMMAND_CHARS for ch in command):
                raise bad_request("BOT_COMMAND_INVALID")
            cleaned.append({"command": command, "description": description})
        if len(cleaned) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        key = self._command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        return self._commands.get(self._command_key(params), [])

    async def _delete_my_commands(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    async def _get_file(self, params: _Params, files: dict[str, UploadedFile]) -> Any:
        file_id = (params.text("file_id") or "").strip()
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            # Undecodable JSON stays raw; the method then answers with Telegram's error.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _parse_body(content_type: str, body: str) -> dict[str, Any]:
    """Parameters of a JSON or urlencoded body (a webhook's answer); {} if there are none."""
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body))
    try:
        answer = json.loads(body) if body.strip() else None
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


async def _read_multipart(
    reader: MultipartReader,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name, data = part.name or "", await part.read(decode=True)
        if part.filename:
            files[name] = UploadedFile(name, part.filename, part.headers.get("Content-Type"), data)
        else:
            params[name] = data.decode("utf-8", "replace")
    return params, files


# A 1x1 PNG stands in for photos sent by URL, which the fake cannot download.
_TINY_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF, BMP or WebP image; None if it is not one.

    Telegram rejects sendPhoto uploads it cannot decode (IMAGE_PROCESS_FAILED); sniffing the
    header is enough to tell images from other bytes without an imaging library.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return (width, height) if width and height else None
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return (width, height) if width and height else None
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return (abs(width), abs(height)) if width and height else None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            return width, 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return (width, height) if width and height else None
        pos += 2 + length
    return None
