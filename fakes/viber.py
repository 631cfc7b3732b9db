"""A loopback fake of Viber's REST bot API, and of Viber calling the bot's webhook.

Usage::

    async with FakeViber() as viber:                            # viber.auth_token: the token
        alice = viber.add_user("Alice", language="uk")        # subscribed by default
        ...point ViberApi at viber.api_url...
        viber.received[alice]                                  # what she got, in order
        await viber.user_says(alice, "hi", url=webhook_url)    # a signed ``message`` callback

The API answers as Viber documents: HTTP 200 with ``status`` 0 and a ``message_token``, or a
failure status and ``status_message``: a missing or wrong ``X-Viber-Auth-Token`` is 2, a body
that is not JSON or breaks a documented limit 3 (text over 7,000 characters, a picture
description over 768, ``sender.name`` over 28, a request over 30 KB, a broadcast list over
300), a missing field 4, an unknown receiver 5, one who is not subscribed 6 (the welcome
message is the exception, and is not sent through the API anyway), and 12 beyond
``requests_per_second`` for the token (counted as Viber documents it, over 10 seconds: 500
calls in any 10 s for 50/s) or past the 100th message to one person within an hour
without a reply from them (Viber's documented wording: "Too many requests"). Which status
Viber gives a too-long text is not documented; 3 (badData) is this fake's choice.

Keyboards are checked the way Viber does it: on the client. A message whose keyboard breaks
the limits (Columns 1-6, Rows 1-2, Text ≤ 250, ActionBody required, at most 12 rows of 6
columns, 24 buttons) is answered 0 like any other, kept in :attr:`failed_on_client`, and a
``failed`` callback for its token is queued (:meth:`post_receipts` sends it).

Callbacks are built and signed as Viber does (compact JSON bytes; ``X-Viber-Content-Signature``
the hex HMAC-SHA256 of those bytes keyed with the token). ``set_webhook`` calls the URL with a
``webhook`` event first and answers 1 (invalidUrl) unless it gets 200. Real Viber accepts only
https URLs with a trusted certificate; this fake takes http on loopback. The answer to a
``conversation_started`` callback is kept as that person's welcome message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web

from .hosted import HostedFake
from .loopback import LoopbackSite

__all__ = [
    "BROADCAST_LIMIT",
    "MAX_REQUEST_BYTES",
    "PER_USER_HOURLY_LIMIT",
    "TEXT_LIMIT",
    "CallbackResult",
    "FakeViber",
    "Received",
    "ViberUser",
    "sign",
]

TEXT_LIMIT: Final = 7000
PICTURE_TEXT_LIMIT: Final = 768
SENDER_NAME_LIMIT: Final = 28
TRACKING_DATA_LIMIT: Final = 4096
MAX_REQUEST_BYTES: Final = 30 * 1024
BROADCAST_LIMIT: Final = 300
# Viber's request limit is documented per 10 seconds (500 calls), not per second.
RATE_WINDOW_SECONDS = 10.0
PER_USER_HOURLY_LIMIT: Final = 100
BUTTON_TEXT_LIMIT: Final = 250
KEYBOARD_ROWS: Final = 12
KEYBOARD_BUTTONS: Final = 24
MESSAGE_TYPES: Final = frozenset(
    {"text", "picture", "video", "file", "location", "contact", "sticker", "rich_media", "url"}
)
DEFAULT_EVENT_TYPES: Final = (
    "delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started",
)  # fmt: skip
STATUS_MESSAGES: Final = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "notSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
}


def sign(body: bytes, auth_token: str) -> str:
    """``X-Viber-Content-Signature`` of a callback body."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


class _Refusal(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.message = message or STATUS_MESSAGES.get(status, "failure")


@dataclass
class ViberUser:
    id: str
    name: str
    language: str = "en"
    country: str = "UA"
    api_version: int = 10
    subscribed: bool = True
    # Messages sent to them since their last message to the bot (times, for the hourly cap).
    unanswered: deque[float] = field(default_factory=deque)

    def profile(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "avatar": f"https://media-direct.cdn.viber.com/download_photo?dlid={self.id[:8]}",
            "language": self.language,
            "country": self.country,
            "api_version": self.api_version,
        }


@dataclass(frozen=True)
class Received:
    """One message a person got: through send_message, a broadcast, or as the welcome."""

    token: str
    message: dict[str, Any]
    via: str  # "send_message" | "broadcast_message" | "welcome"

    @property
    def text(self) -> str:
        return str(self.message.get("text", ""))

    @property
    def keyboard(self) -> dict[str, Any] | None:
        board = self.message.get("keyboard")
        return board if isinstance(board, dict) else None


@dataclass(frozen=True)
class CallbackResult:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Fault:
    """The next call of a method meets this instead: an HTTP error, a Viber status, a delay."""

    http_status: int = 0
    viber_status: int = 0
    delay: float = 0.0


class FakeViber(HostedFake):
    def __init__(
        self,
        auth_token: str | None = None,
        *,
        name: str = "Stampbot Café",
        uri: str = "stampbotcafe",
        account_id: str = "pa:75346594275468546724",
        requests_per_second: float | None = None,
        per_user_hourly_limit: int = PER_USER_HOURLY_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Viber's form: three dash-separated groups of 16 hex digits; a fresh one by default.
        self.auth_token = auth_token or "-".join(secrets.token_hex(8) for _ in range(3))
        self.name = name
        self.uri = uri
        self.account_id = account_id
        self.requests_per_second = requests_per_second
        self.per_user_hourly_limit = per_user_hourly_limit
        self.clock = clock
        self.users: dict[str, ViberUser] = {}
        self.received: defaultdict[str, list[Received]] = defaultdict(list)
        # Every API call: (method, parsed body or None).
        self.calls: list[tuple[str, Any]] = []
        self.webhook_url = ""
        self.event_types: list[str] = list(DEFAULT_EVENT_TYPES)
        self.failed_on_client: list[Received] = []
        self.refusals: defaultdict[int, int] = defaultdict(int)
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._tokens = itertools.count(5741311803571721087)
        self._token_owner: dict[str, list[str]] = {}
        self._receipts: deque[dict[str, Any]] = deque()
        self._window: deque[float] = deque()
        self._site = LoopbackSite("FakeViber")
        self._http: aiohttp.ClientSession | None = None
        # Other bots on the same API (a shop's own), each a FakeViber of its own, by token.
        self.bots: dict[str, FakeViber] = {}
        self._host: FakeViber | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeViber:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/pa/{method}", self._handle)
        await self._site.start(app, shutdown=1.0)
        return self

    def _guests(self) -> Iterable[FakeViber]:
        return self.bots.values()

    @property
    def api_url(self) -> str:
        if self._host is not None:
            return self._host.api_url
        return self._site.base_url + "/pa/"

    def add_bot(
        self, name: str = "Shop Bot", *, uri: str = "", auth_token: str | None = None
    ) -> FakeViber:
        """Another bot account on this same API (as Viber serves every bot at one address):
        its own token, users, webhook and received messages; the calls made with its token
        are answered by it. Viber user ids are per bot, so its users are its own."""
        other = FakeViber(
            auth_token,
            name=name,
            uri=uri or f"shop{len(self.bots) + 1}",
            account_id=f"pa:{secrets.randbelow(10**20):020d}",
            per_user_hourly_limit=self.per_user_hourly_limit,
            clock=self.clock,
        )
        other._host = self
        self.bots[other.auth_token] = other
        return other

    # -- people ------------------------------------------------------------------------------

    def add_user(
        self, name: str = "Viber User", *, subscribed: bool = True, language: str = "en"
    ) -> str:
        """A Viber user of this bot; their id looks like Viber's (base64 of 16 bytes)."""
        user_id = base64.b64encode(secrets.token_bytes(16)).decode()
        self.users[user_id] = ViberUser(user_id, name, language=language, subscribed=subscribed)
        return user_id

    def subscribe(self, user_id: str) -> None:
        self.users[user_id].subscribed = True

    def unsubscribe(self, user_id: str) -> None:
        self.users[user_id].subscribed = False

    def texts(self, user_id: str) -> list[str]:
        return [r.text for r in self.received.get(user_id, [])]

    # -- faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        http_status: int = 0,
        viber_status: int = 0,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` ("*": any) answer ``http_status`` (a 5xx with
        an HTML page, as a front proxy does) or Viber ``viber_status``, after ``delay``."""
        self._faults[method].extend([Fault(http_status, viber_status, delay)] * times)

    # -- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        other = self.bots.get(request.headers.get("X-Viber-Auth-Token", ""))
        if other is not None:
            return await other._handle(request)
        handlers = {
            "send_message": self._send_message,
            "broadcast_message": self._broadcast_message,
            "set_webhook": self._set_webhook,
            "get_account_info": self._account_info,
        }
        if method not in handlers:
            return web.Response(status=404, text="Not Found")
        raw = await request.read()
        body: Any = None
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        self.calls.append((method, body))
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.http_status:
                return web.Response(
                    status=fault.http_status,
                    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="text/html",
                )
            if fault.viber_status:
                return self._answer(_Refusal(fault.viber_status))
        try:
            token = request.headers.get("X-Viber-Auth-Token")
            if token is None and isinstance(body, dict):
                token = body.get("auth_token")  # the old way, still accepted
            if not token:
                raise _Refusal(2, "missing_auth_token")
            if not hmac.compare_digest(token.encode(), self.auth_token.encode()):
                raise _Refusal(2)
            if not isinstance(body, dict):
                raise _Refusal(3)
            if len(raw) > MAX_REQUEST_BYTES:
                raise _Refusal(3)
            self._check_rate()
            answer = await handlers[method](body)
        except _Refusal as refusal:
            return self._answer(refusal)
        return web.json_response({"status": 0, "status_message": "ok", **answer})

    def _answer(self, refusal: _Refusal) -> web.Response:
        self.refusals[refusal.status] += 1
        body: dict[str, Any] = {"status": refusal.status, "status_message": refusal.message}
        if refusal.status == 12:
            body |= {"message_token": self._token(), "chat_hostname": "SN-CHAT-05_"}
        return web.json_response(body)

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method, "*"):
            if self._faults[key]:
                return self._faults[key].popleft()
        return None

    def _check_rate(self) -> None:
        if self.requests_per_second is None:
            return
        now = time.monotonic()
        while self._window and now - self._window[0] >= RATE_WINDOW_SECONDS:
            self._window.popleft()
        if len(self._window) >= self.requests_per_second * RATE_WINDOW_SECONDS:
            raise _Refusal(12)
        self._window.append(now)

    def _token(self) -> str:
        return str(next(self._tokens))

    def _check_message(self, body: dict[str, Any]) -> None:
        sender = body.get("sender")
        kind = body.get("type")
        if not isinstance(sender, dict) or not sender.get("name") or not kind:
            raise _Refusal(4)
        if not isinstance(sender["name"], str) or len(sender["name"]) > SENDER_NAME_LIMIT:
            raise _Refusal(3)
        if kind not in MESSAGE_TYPES:
            raise _Refusal(3)
        tracking = body.get("tracking_data")
        if tracking is not None and (
            not isinstance(tracking, str) or len(tracking) > TRACKING_DATA_LIMIT
        ):
            raise _Refusal(3)
        text = body.get("text")
        if kind == "text":
            if not isinstance(text, str) or not text:
                raise _Refusal(4)
            if len(text) > TEXT_LIMIT:
                raise _Refusal(3)
        if kind == "picture":
            if not isinstance(body.get("media"), str) or not body["media"]:
                raise _Refusal(4)
            if not isinstance(text, str):
                raise _Refusal(4)
            if len(text) > PICTURE_TEXT_LIMIT:
                raise _Refusal(3)
        if kind == "url" and not isinstance(body.get("media"), str):
            raise _Refusal(4)
        board = body.get("keyboard")
        if board is not None and not isinstance(board, dict):
            raise _Refusal(3)

    def _reachable(self, receiver: object) -> ViberUser:
        if not isinstance(receiver, str) or not receiver:
            raise _Refusal(4)
        user = self.users.get(receiver)
        if user is None:
            raise _Refusal(5)
        if not user.subscribed:
            raise _Refusal(6)
        now = self.clock()
        while user.unanswered and now - user.unanswered[0] >= 3600:
            user.unanswered.popleft()
        if len(user.unanswered) >= self.per_user_hourly_limit:
            raise _Refusal(12, "Too many requests")
        return user

    def _deliver(self, user: ViberUser, message: dict[str, Any], token: str, via: str) -> None:
        user.unanswered.append(self.clock())
        received = Received(token, message, via)
        self.received[user.id].append(received)
        self._token_owner.setdefault(token, []).append(user.id)
        problem = keyboard_problem(message.get("keyboard"))
        if problem is not None:
            self.failed_on_client.append(received)
            self._receipts.append(self.failed(token, user.id, problem))

    async def _send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        if "receiver" not in body:
            raise _Refusal(4)
        self._check_message(body)
        user = self._reachable(body["receiver"])
        token = self._token()
        message = {k: v for k, v in body.items() if k not in ("receiver", "auth_token")}
        self._deliver(user, message, token, "send_message")
        return {"message_token": int(token), "chat_hostname": "SN-CHAT-05_", "billing_status": 1}

    async def _broadcast_message(self, body: dict[str, Any]) -> dict[str, Any]:
        receivers = body.get("broadcast_list")
        if not isinstance(receivers, list) or not receivers:
            raise _Refusal(4)
        if len(receivers) > BROADCAST_LIMIT:
            raise _Refusal(3)
        self._check_message(body)
        token = self._token()
        message = {k: v for k, v in body.items() if k not in ("broadcast_list", "auth_token")}
        failed = []
        for receiver in receivers:
            try:
                user = self._reachable(receiver)
            except _Refusal as refusal:
                failed.append(
                    {
                        "receiver": receiver,
                        "status": refusal.status,
                        "status_message": refusal.message,
                    }
                )
                continue
            self._deliver(user, message, token, "broadcast_message")
        return {"message_token": int(token), "failed_list": failed}

    async def _set_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        url = body.get("url")
        if not isinstance(url, str):
            raise _Refusal(4)
        if not url:
            self.webhook_url = ""
            return {}
        events = body.get("event_types") or list(DEFAULT_EVENT_TYPES)
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise _Refusal(3)
        check = {
            "event": "webhook",
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "message_token": int(self._token()),
        }
        try:
            result = await self.post_callback(check, url=url)
        except (aiohttp.ClientError, TimeoutError):
            raise _Refusal(1) from None
        if result.status != 200:
            raise _Refusal(1)
        self.webhook_url = url
        self.event_types = [e for e in events if e in DEFAULT_EVENT_TYPES]
        return {"event_types": self.event_types}

    async def _account_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "name": self.name,
            "uri": self.uri,
            "icon": "https://example.com/icon.png",
            "background": "https://example.com/background.png",
            "category": "Shopping",
            "subcategory": "Cafe",
            "country": "UA",
            "webhook": self.webhook_url,
            "event_types": self.event_types,
            "subscribers_count": sum(u.subscribed for u in self.users.values()),
            "members": [],
        }

    # -- callbacks ---------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def conversation_started(self, user_id: str, *, context: str | None = None) -> dict[str, Any]:
        user = self.users[user_id]
        payload: dict[str, Any] = {
            "event": "conversation_started",
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "message_token": int(self._token()),
            "type": "open",
            "user": user.profile(),
            "subscribed": user.subscribed,
        }
        if context is not None:
            payload["context"] = context
        return payload

    def message(
        self, user_id: str, text: str, *, tracking_data: str | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "text", "text": text}
        if tracking_data is not None:
            message["tracking_data"] = tracking_data
        return {
            "event": "message",
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "message_token": int(self._token()),
            "sender": self.users[user_id].profile(),
            "message": message,
            "silent": False,
        }

    def subscribed(self, user_id: str) -> dict[str, Any]:
        return {
            "event": "subscribed",
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "user": self.users[user_id].profile(),
            "message_token": int(self._token()),
        }

    def unsubscribed(self, user_id: str) -> dict[str, Any]:
        return {
            "event": "unsubscribed",
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "user_id": user_id,
            "message_token": int(self._token()),
        }

    def receipt(self, event: str, token: str, user_id: str) -> dict[str, Any]:
        """A ``delivered`` or ``seen`` callback for a message this fake accepted."""
        return {
            "event": event,
            "timestamp": self._now_ms(),
            "chat_hostname": "SN-CHAT-05_",
            "message_token": int(token),
            "user_id": user_id,
        }

    def failed(self, token: str, user_id: str, desc: str) -> dict[str, Any]:
        return {**self.receipt("failed", token, user_id), "desc": desc}

    def callback_bytes(self, payload: dict[str, Any]) -> bytes:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    async def post_callback(
        self,
        payload: dict[str, Any] | bytes,
        *,
        url: str | None = None,
        signature: str | None = None,
    ) -> CallbackResult:
        """POST a callback as Viber does; ``signature`` overrides the right one (a forgery)."""
        body = payload if isinstance(payload, bytes) else self.callback_bytes(payload)
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL: set_webhook first or pass url=")
        headers = {
            "Content-Type": "application/json",
            "X-Viber-Content-Signature": (
                sign(body, self.auth_token) if signature is None else signature
            ),
            "User-Agent": "akka-http/10.1.10",
        }
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        async with self._http.post(target, data=body, headers=headers) as response:
            answer = await response.read()
            result = CallbackResult(response.status, answer, response.content_type)
        if isinstance(payload, dict) and payload.get("event") == "conversation_started":
            self._keep_welcome(payload, result)
        return result

    def _keep_welcome(self, payload: dict[str, Any], result: CallbackResult) -> None:
        if result.status != 200 or not result.body:
            return
        try:
            welcome = json.loads(result.body)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(welcome, dict) or "type" not in welcome:
            return
        try:
            self._check_message(welcome)
        except _Refusal:
            return  # Viber drops a welcome message it cannot show
        user = self.users[payload["user"]["id"]]
        self._deliver(user, welcome, self._token(), "welcome")

    async def user_opens(
        self, user_id: str, *, context: str | None = None, url: str | None = None
    ) -> CallbackResult:
        return await self.post_callback(
            self.conversation_started(user_id, context=context), url=url
        )

    async def user_says(
        self, user_id: str, text: str, *, url: str | None = None
    ) -> CallbackResult:
        """The person writes (or presses a reply button): their first message subscribes
        them, and any message resets the hourly count of messages sent to them."""
        user = self.users[user_id]
        user.subscribed = True
        user.unanswered.clear()
        return await self.post_callback(self.message(user_id, text), url=url)

    async def user_leaves(self, user_id: str, *, url: str | None = None) -> CallbackResult:
        self.users[user_id].subscribed = False
        return await self.post_callback(self.unsubscribed(user_id), url=url)

    async def post_receipts(
        self, *, seen: bool = False, url: str | None = None
    ) -> list[CallbackResult]:
        """``delivered`` (and ``seen``) for every message accepted and not failed on the
        client, then the queued ``failed`` callbacks."""
        results = []
        failed_tokens = {r.token for r in self.failed_on_client}
        for token, owners in list(self._token_owner.items()):
            if token in failed_tokens:
                continue
            for user_id in owners:
                results.append(
                    await self.post_callback(self.receipt("delivered", token, user_id), url=url)
                )
                if seen:
                    results.append(
                        await self.post_callback(self.receipt("seen", token, user_id), url=url)
                    )
        self._token_owner.clear()
        while self._receipts:
            results.append(await self.post_callback(self._receipts.popleft(), url=url))
        return results


def keyboard_problem(board: object) -> str | None:
    """Why Viber's client would refuse this keyboard, or None."""
    if board is None:
        return None
    if not isinstance(board, dict):
        return "keyboard is not an object"
    buttons = board.get("Buttons")
    if not isinstance(buttons, list) or not buttons:
        return "keyboard has no Buttons"
    if len(buttons) > KEYBOARD_BUTTONS:
        return f"more than {KEYBOARD_BUTTONS} buttons"
    rows, used, height = 0, 6, 0
    for button in buttons:
        if not isinstance(button, dict):
            return "button is not an object"
        columns, span = button.get("Columns", 6), button.get("Rows", 1)
        if not isinstance(columns, int) or not 1 <= columns <= 6:
            return "Columns must be 1-6"
        if not isinstance(span, int) or not 1 <= span <= 2:
            return "Rows must be 1-2"
        if not isinstance(button.get("ActionBody"), str) or not button["ActionBody"]:
            return "ActionBody is required"
        if button.get("ActionType", "reply") not in (
            "reply", "open-url", "location-picker", "share-phone", "none",
        ):  # fmt: skip
            return "unknown ActionType"
        text = button.get("Text", "")
        if not isinstance(text, str) or len(text) > BUTTON_TEXT_LIMIT:
            return f"Text over {BUTTON_TEXT_LIMIT} characters"
        # The client fills each row left to right and starts a new one when a button does
        # not fit; a row is as tall as its tallest button.
        if used + columns > 6:
            rows += height
            used, height = 0, 0
        used += columns
        height = max(height, span)
    rows += height
    if rows > KEYBOARD_ROWS:
        return f"more than {KEYBOARD_ROWS} rows"
    return None
