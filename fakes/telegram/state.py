"""What the fake remembers: the bot, its users and chats, the messages, the update queue.

Every field the fake keeps lives in :class:`TelegramState`, declared once with its type; the
method mixins (``updates``, ``sending``, ``editing`` …) add behaviour only. Tests hold one
object and read or assign its fields directly (``fake.webhook``, ``fake.strict_chats``), so
the concerns are mixins over one state rather than separate objects behind delegates.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from .calls import Params, RecordedCall
from .errors import BOT_BLOCKED, ApiError, bad_request
from .files import FileStore

if TYPE_CHECKING:
    from .faults import Fault, RateLimit


# The bidi isolates (LRI, RLI, FSI … PDI) that keep names, dates and codes in their own
# direction; clients draw them as nothing.
_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")


def visible(text: str) -> str:
    """Text as a person sees it in a Telegram client: without the invisible bidi isolates."""
    return text.translate(_ISOLATES)


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

    @property
    def shown_text(self) -> str:
        """The text, or the caption of a photo or document ("" when there is neither)."""
        return self.text if self.text is not None else self.caption or ""

    def inline_buttons(self) -> list[dict[str, Any]]:
        """The buttons of the message's inline keyboard, row after row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.inline_buttons() if "callback_data" in b]

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


class MessageContent(TypedDict, total=False):
    """What a message carries besides who sent it where: the fields a send or edit sets."""

    text: str | None
    entities: list[dict[str, Any]]
    caption: str | None
    caption_entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    sent_reply_markup: dict[str, Any] | None
    photo: list[dict[str, Any]] | None
    document: dict[str, Any] | None
    reply_to: StoredMessage | None


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    drop_pending_updates: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


class TelegramState:
    """The memory of one fake Bot API server for one bot, and the lookups every method needs."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_first_name: str,
        strict_chats: bool,
        require_https_webhook: bool,
    ) -> None:
        self.token = token
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

        # People and chats.
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._blocked: dict[int, str] = {}
        self._user_ids = itertools.count(1001)
        # Messages, both ways, by (chat id, message id).
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(int)
        # Set (and replaced) whenever a message is stored: what ``wait_for_message`` awaits.
        self._message_stored = asyncio.Event()
        self._files = FileStore()
        # Updates waiting for getUpdates, and how they are delivered.
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] = []
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._closing = asyncio.Event()
        self.webhook = WebhookState()
        # Buttons pressed and not yet answered, and the answers.
        self._callback_ids = itertools.count(1)
        self._open_callbacks: dict[str, dict[str, Any]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[tuple[int, str]] = []
        # The bot's command lists, by (scope, language).
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        # Every request, and the faults and limits planned for the next ones.
        self._calls: list[RecordedCall] = []
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self.rate_limit: RateLimit | None = None
        self.rate_limited_count = 0
        # When each accepted send arrived (the fake's monotonic clock): the busiest second.
        self.send_times: list[float] = []

    # -- people and chats ----------------------------------------------------------------

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

    def _user(self, user: FakeUser | int) -> FakeUser:
        if isinstance(user, FakeUser):
            self._users.setdefault(user.id, user)
            self._chats.setdefault(user.id, user.private_chat())
            return user
        return self._users.get(user) or self.add_user(user, f"User {user}")

    def _user_dicts(self) -> Mapping[int, dict[str, Any]]:
        """Known users as the API embeds them (in text_mention entities), made on look-up:
        every sent message asks, and a bench's fake knows thousands of users."""
        return _UserDicts(self._users)

    def _resolve_chat(self, params: Params) -> dict[str, Any]:
        """The chat a request's ``chat_id`` names, or Telegram's refusal of it."""
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
            known = _synthetic_chat(chat_id)
        return self._check_reachable(known)

    def _check_reachable(self, chat: dict[str, Any]) -> dict[str, Any]:
        if chat["id"] in self._blocked:
            raise ApiError(403, self._blocked[chat["id"]])
        return chat

    # -- messages ------------------------------------------------------------------------

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        return self._messages[(chat_id, message_id)]

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

    def received_messages(self, chat_id: int) -> list[StoredMessage]:
        """Messages people sent the bot in this chat, oldest first, deleted ones too (their
        ``deleted`` says whether the bot deleted them)."""
        return [m for m in self._messages.values() if not m.from_bot and m.chat_id == chat_id]

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

    def _store_message(
        self,
        chat: dict[str, Any],
        *,
        from_bot: bool,
        sender: dict[str, Any],
        **content: Unpack[MessageContent],
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

    # -- updates -------------------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make an update available to getUpdates, waking a pending long poll."""
        self._updates.append(update)
        self._wake_pollers()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._updates)

    def _new_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), kind: payload}

    def _wake_pollers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()


def _synthetic_chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "first_name": f"User {chat_id}", "type": "private"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "title": f"Chat {chat_id}", "type": kind}


class _UserDicts(Mapping[int, dict[str, Any]]):
    def __init__(self, users: dict[int, FakeUser]) -> None:
        self._users = users

    def __getitem__(self, user_id: int) -> dict[str, Any]:
        return self._users[user_id].to_dict()

    def __iter__(self) -> Iterator[int]:
        return iter(self._users)

    def __len__(self) -> int:
        return len(self._users)
