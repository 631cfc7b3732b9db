"""A loopback fake of the WhatsApp Cloud API, and of Meta calling the business's webhook.

Usage::

    async with FakeWhatsApp(clock=clock) as wa:        # wa.access_token, wa.app_secret
        alice = wa.add_user("972501234567", "Alice")     # never wrote: outside the window
        wa.add_template("loyalty_news", "en_US", parameters=1)
        ...point WhatsAppApi at wa.base_url, wa.phone_number_id...
        await wa.user_says(alice, "hi", url=webhook)     # signed, opens her 24-hour window
        wa.texts(alice)                                  # what she got, in order

``POST /{version}/{phone_number_id}/messages`` answers as the Graph API does: 200 with
``contacts`` and ``messages[0].id`` (a ``wamid.``), or an HTTP error with Meta's ``error``
object (``message`` "(#code) title", ``type``, ``code``, ``error_data.details``,
``fbtrace_id``). It refuses: a missing or wrong bearer token (401, 190); a body that is not
JSON or lacks ``messaging_product: whatsapp`` (400, 100); a text over 4,096 characters (400,
100 Invalid parameter); an interactive message over its limits, more than 3 reply buttons, a
title over 20 characters, a list over 10 rows, a row title over 24, a description over 72, a
body over 1,024 (400, 131009 Parameter value is not valid); a number it does not know (400,
131026 Message undeliverable); a session message to someone whose last message is more than
24 hours old by the fake clock, or who never wrote (400, 131047 Re-engagement message); a
template it does not hold in that language (404, 132001 Template name does not exist in the
translation), or with the wrong number of body parameters (400, 132000); and beyond
``requests_per_second`` (429, 130429 Rate limit hit). The real API reports 131047 and 131026
mostly later, in a ``failed`` status webhook; answering at once keeps the tests direct, and
:meth:`post_status` sends the webhook form.

Webhooks are built as Meta sends them (``object: whatsapp_business_account``,
``entry[].changes[].value`` with ``messaging_product``, ``metadata``, ``contacts`` and
``messages`` or ``statuses``, ``field: messages``), serialised compactly with non-ASCII
escaped (Meta signs the escaped form) and signed ``X-Hub-Signature-256: sha256=<hex>``, the
HMAC-SHA256 of those bytes keyed with the app secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from aiohttp import web

from .hosted import HostedFake
from .loopback import LoopbackSite

__all__ = [
    "WINDOW_SECONDS",
    "CallbackResult",
    "FakeWhatsApp",
    "Received",
    "WhatsAppUser",
    "sign",
]

TEXT_LIMIT: Final = 4096
BODY_LIMIT: Final = 1024
BUTTONS: Final = 3
BUTTON_TITLE: Final = 20
BUTTON_ID: Final = 256
LIST_ROWS: Final = 10
LIST_SECTIONS: Final = 10
ROW_TITLE: Final = 24
ROW_DESCRIPTION: Final = 72
ROW_ID: Final = 200
LIST_BUTTON: Final = 20
SECTION_TITLE: Final = 24
WINDOW_SECONDS: Final = 24 * 3600
# Conversational components (``/conversational_automation``), per business number.
COMMANDS: Final = 30
COMMAND_NAME: Final = 32
COMMAND_DESCRIPTION: Final = 256
PROMPTS: Final = 4
PROMPT: Final = 80
SESSION_TYPES: Final = frozenset({"text", "image", "interactive"})
TITLES: Final = {
    0: "AuthException",
    100: "Invalid parameter",
    131009: "Parameter value is not valid",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    190: "Invalid OAuth access token - Cannot parse access token",
}


def sign(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` of a webhook body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class _Refusal(Exception):
    def __init__(self, http_status: int, code: int, details: str = "") -> None:
        super().__init__(code)
        self.http_status = http_status
        self.code = code
        self.details = details


@dataclass
class WhatsAppUser:
    number: str
    name: str
    # When they last wrote to the business (fake clock), None: never.
    last_inbound: float | None = None


@dataclass(frozen=True)
class Received:
    """One message a person got, as the API took it (without ``to``)."""

    wamid: str
    message: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.message.get("type", ""))

    @property
    def text(self) -> str:
        """What the person reads as the message's text: a body, a caption, a template's
        name and parameters."""
        kind = self.type
        obj = self.message.get(kind)
        if not isinstance(obj, dict):
            return ""
        if kind == "text":
            return str(obj.get("body", ""))
        if kind == "image":
            return str(obj.get("caption", ""))
        if kind == "interactive":
            body = obj.get("body")
            return str(body.get("text", "")) if isinstance(body, dict) else ""
        if kind == "template":
            params = [
                str(p.get("text", ""))
                for c in obj.get("components") or ()
                for p in c.get("parameters") or ()
            ]
            return " ".join([f"[{obj.get('name')}]", *params])
        return ""

    @property
    def interactive(self) -> dict[str, Any] | None:
        obj = self.message.get("interactive")
        return obj if isinstance(obj, dict) else None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(id, title) of the reply buttons or list rows, in order."""
        obj = self.interactive
        if obj is None:
            return []
        action = obj.get("action") or {}
        if obj.get("type") == "button":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", ())]
        if obj.get("type") == "list":
            return [(r["id"], r["title"]) for s in action.get("sections", ()) for r in s["rows"]]
        return []


@dataclass(frozen=True)
class CallbackResult:
    status: int
    body: bytes
    content_type: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Fault:
    http_status: int = 0
    code: int = 0
    delay: float = 0.0


class FakeWhatsApp(HostedFake):
    def __init__(
        self,
        access_token: str | None = None,
        *,
        app_secret: str | None = None,
        phone_number_id: str = "106540352242922",
        display_phone_number: str = "15550783881",
        verified_name: str = "Stampbot Café",
        waba_id: str = "102290129340398",
        requests_per_second: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_token = access_token or "EAAG" + secrets.token_urlsafe(48)
        self.app_secret = app_secret or secrets.token_hex(16)
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self.verified_name = verified_name
        self.waba_id = waba_id
        self.requests_per_second = requests_per_second
        self.clock = clock
        self.users: dict[str, WhatsAppUser] = {}
        # (name, language code) → number of body parameters.
        self.templates: dict[tuple[str, str], int] = {}
        self.received: defaultdict[str, list[Received]] = defaultdict(list)
        # Every API call: the parsed body (None when it was not JSON).
        self.calls: list[Any] = []
        self.refusals: defaultdict[int, int] = defaultdict(int)
        self.webhook_url = ""
        self._faults: deque[Fault] = deque()
        self._ids = itertools.count(1)
        self._window: deque[float] = deque()
        self._site = LoopbackSite("FakeWhatsApp")
        self._http: aiohttp.ClientSession | None = None
        # Other business numbers on the same Graph API (a shop's own), by phone number id.
        self.numbers: dict[str, FakeWhatsApp] = {}
        self._host: FakeWhatsApp | None = None
        # The number's commands and prompts as last accepted (the POST's body), None: never set.
        self.automation: dict[str, Any] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeWhatsApp:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/{version}/{phone_number_id}/messages", self._handle)
        app.router.add_get("/{version}/{phone_number_id}", self._phone_number)
        app.router.add_post(
            "/{version}/{phone_number_id}/conversational_automation", self._automation
        )
        await self._site.start(app, shutdown=1.0)
        return self

    def _guests(self) -> Iterable[FakeWhatsApp]:
        return self.numbers.values()

    @property
    def base_url(self) -> str:
        if self._host is not None:
            return self._host.base_url
        return self._site.base_url

    def add_number(
        self, display_phone_number: str, verified_name: str = "Shop", *, clock: Any = None
    ) -> FakeWhatsApp:
        """Another business number on this same Graph API (a shop's own, in its own Meta app):
        its own phone number id, access token, app secret, users and received messages."""
        other = FakeWhatsApp(
            phone_number_id=str(106540352242922 + 1 + len(self.numbers)),
            display_phone_number=display_phone_number,
            verified_name=verified_name,
            clock=clock or self.clock,
        )
        other._host = self
        self.numbers[other.phone_number_id] = other
        return other

    async def _phone_number(self, request: web.Request) -> web.Response:
        """``GET /{version}/{phone_number_id}?fields=display_phone_number,verified_name``."""
        other = self.numbers.get(request.match_info["phone_number_id"])
        if other is not None:
            return await other._phone_number(request)
        self.calls.append({"GET": request.match_info["phone_number_id"]})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return self._error(_Refusal(401, 190))
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return self._error(_Refusal(400, 100, "Unsupported get request."))
        answer = {"id": self.phone_number_id}
        for name in request.query.get("fields", "").split(","):
            if name == "display_phone_number":
                answer[name] = self.display_phone_number
            elif name == "verified_name":
                answer[name] = self.verified_name
        return web.json_response(answer)

    async def _automation(self, request: web.Request) -> web.Response:
        """``POST /{version}/{phone_number_id}/conversational_automation``: commands and
        prompts, refused as Meta refuses them (400, code 100 or 105, the whole sentence in
        ``message``); ``{"success": true}`` and kept in :attr:`automation`. A ``fail_next``
        error code is answered here too (a network fault is the messages call's only)."""
        other = self.numbers.get(request.match_info["phone_number_id"])
        if other is not None:
            return await other._automation(request)
        body = await self._recorded(request)
        if self._faults and self._faults[0].code:
            return self._error(
                _Refusal(self._faults[0].http_status or 400, self._faults.popleft().code)
            )
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return self._error(_Refusal(401, 190))
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return self._error(_Refusal(400, 100, "Unsupported post request."))
        refused = _check_automation(body)
        if refused is not None:
            code, message = refused
            self.refusals[code] += 1
            error = {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "A" + secrets.token_urlsafe(16),
            }
            return web.json_response({"error": error}, status=400)
        self.automation = body
        return web.json_response({"success": True})

    def commands(self) -> list[tuple[str, str]]:
        """(name, description) of the number's commands as last set."""
        listed = (self.automation or {}).get("commands") or []
        return [(c["command_name"], c["command_description"]) for c in listed]

    # -- people and templates ----------------------------------------------------------------

    def add_user(
        self, number: str, name: str = "WhatsApp User", *, wrote_ago: float | None = None
    ) -> str:
        """A WhatsApp user (E.164 digits); ``wrote_ago`` seconds since their last message
        (None: they never wrote, so only a template reaches them)."""
        last = None if wrote_ago is None else self.clock() - wrote_ago
        self.users[number] = WhatsAppUser(number, name, last)
        return number

    def add_template(self, name: str, language: str, *, parameters: int = 0) -> None:
        self.templates[(name, language)] = parameters

    def texts(self, number: str) -> list[str]:
        return [r.text for r in self.received.get(number, [])]

    def messages(self, number: str) -> list[Received]:
        return list(self.received.get(number, []))

    def fail_next(
        self, *, http_status: int = 0, code: int = 0, delay: float = 0.0, times: int = 1
    ) -> None:
        """The next ``times`` calls answer ``http_status`` (alone: an HTML page, as a front
        proxy does) or Meta's error ``code`` (with ``http_status`` or 400), after ``delay``."""
        self._faults.extend([Fault(http_status, code, delay)] * times)

    async def _recorded(self, request: web.Request) -> Any:
        """The request's JSON body (None when it is not JSON), kept in :attr:`calls`."""
        try:
            body: Any = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            body = None
        self.calls.append(body)
        return body

    # -- the API -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        other = self.numbers.get(request.match_info["phone_number_id"])
        if other is not None:
            return await other._handle(request)
        body = await self._recorded(request)
        if self._faults:
            fault = self._faults.popleft()
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.code:
                return self._error(_Refusal(fault.http_status or 400, fault.code))
            if fault.http_status:
                return web.Response(
                    status=fault.http_status,
                    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="text/html",
                )
        try:
            auth = request.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
            if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
                raise _Refusal(401, 190)
            if request.match_info["phone_number_id"] != self.phone_number_id:
                raise _Refusal(400, 100, "Unsupported post request: unknown phone number id")
            if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
                raise _Refusal(400, 100, "The parameter messaging_product is required.")
            self._check_rate()
            answer = self._send(body)
        except _Refusal as refusal:
            return self._error(refusal)
        return web.json_response(answer)

    def _error(self, refusal: _Refusal) -> web.Response:
        self.refusals[refusal.code] += 1
        title = TITLES.get(refusal.code, "Error")
        error: dict[str, Any] = {
            "message": f"(#{refusal.code}) {title}",
            "type": "OAuthException",
            "code": refusal.code,
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if refusal.code != 190:
            error["error_data"] = {
                "messaging_product": "whatsapp",
                "details": refusal.details or title,
            }
        else:
            error["message"] = title
        return web.json_response({"error": error}, status=refusal.http_status)

    def _check_rate(self) -> None:
        if self.requests_per_second is None:
            return
        now = time.monotonic()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= self.requests_per_second:
            raise _Refusal(429, 130429, "Cloud API message throughput has been reached.")
        self._window.append(now)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        to = body.get("to")
        kind = body.get("type", "text")
        if not isinstance(to, str) or not to:
            raise _Refusal(400, 100, "The parameter to is required.")
        _check_message(kind, body)
        user = self.users.get(to.removeprefix("+"))
        if user is None:
            raise _Refusal(400, 131026, "Message Undeliverable.")
        if kind == "template":
            self._check_template(body["template"])
        elif kind in SESSION_TYPES and not self._window_open(user):
            raise _Refusal(
                400,
                131047,
                "Message failed to send because more than 24 hours have passed since the "
                "customer last replied to this number.",
            )
        wamid = self._wamid(user.number)
        message = {k: v for k, v in body.items() if k not in ("to", "messaging_product")}
        self.received[user.number].append(Received(wamid, message))
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": user.number}],
            "messages": [{"id": wamid}],
        }

    def _window_open(self, user: WhatsAppUser) -> bool:
        return user.last_inbound is not None and self.clock() - user.last_inbound < WINDOW_SECONDS

    def _check_template(self, template: dict[str, Any]) -> None:
        language = template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        key = (template.get("name"), code)
        if key not in self.templates:
            raise _Refusal(404, 132001, f"template name ({key[0]}) does not exist in {code}")
        count = sum(
            len(c.get("parameters") or ())
            for c in template.get("components") or ()
            if isinstance(c, dict) and c.get("type") == "body"
        )
        expected = self.templates[(str(key[0]), str(code))]
        if count != expected:
            raise _Refusal(
                400,
                132000,
                f"body: number of localizable_params ({count}) does not match "
                f"the expected number of params ({expected})",
            )

    def _wamid(self, number: str) -> str:
        tail = f"{next(self._ids):020X}"
        return "wamid.HBgM" + f"{number}FQIAERgS{tail}"

    # -- webhooks ----------------------------------------------------------------------------

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.display_phone_number,
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def _inbound(self, number: str, message: dict[str, Any]) -> dict[str, Any]:
        user = self.users[number]
        return self._envelope(
            {
                "contacts": [{"profile": {"name": user.name}, "wa_id": number}],
                "messages": [
                    {
                        "from": number,
                        "id": self._wamid(number),
                        "timestamp": str(int(self.clock())),
                        **message,
                    }
                ],
            }
        )

    def text_event(self, number: str, text: str) -> dict[str, Any]:
        return self._inbound(number, {"type": "text", "text": {"body": text}})

    def press_event(
        self, number: str, action_id: str, title: str, *, kind: str = "button_reply"
    ) -> dict[str, Any]:
        """A reply button (``button_reply``) or list row (``list_reply``) pressed, answering
        the last interactive message the person got."""
        reply: dict[str, str] = {"id": action_id, "title": title}
        if kind == "list_reply":
            reply["description"] = ""
        event: dict[str, Any] = {
            "type": "interactive",
            "interactive": {"type": kind, kind: reply},
        }
        last = [r for r in self.received.get(number, []) if r.interactive is not None]
        if last:
            event = {"context": {"from": self.display_phone_number, "id": last[-1].wamid}, **event}
        return self._inbound(number, event)

    def status_event(
        self,
        status: str,
        wamid: str,
        number: str,
        *,
        error_code: int | None = None,
        error_title: str = "",
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock())),
            "recipient_id": number,
        }
        if status in ("sent", "delivered"):
            entry["conversation"] = {
                "id": secrets.token_hex(16),
                "origin": {"type": "service"},
            }
            entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
        if status == "failed":
            code = error_code if error_code is not None else 131000
            title = error_title or TITLES.get(code, "Error")
            entry["errors"] = [
                {
                    "code": code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": title},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        return self._envelope({"statuses": [entry]})

    def webhook_bytes(self, payload: dict[str, Any]) -> bytes:
        # Compact, with non-ASCII as \\uXXXX: the form Meta signs.
        return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()

    async def post_webhook(
        self,
        payload: dict[str, Any] | bytes,
        *,
        url: str | None = None,
        signature: str | None = None,
    ) -> CallbackResult:
        """POST a webhook as Meta does; ``signature`` overrides the right one ("" omits it)."""
        body = payload if isinstance(payload, bytes) else self.webhook_bytes(payload)
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL: set webhook_url or pass url=")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
        }
        signed = sign(body, self.app_secret) if signature is None else signature
        if signed:
            headers["X-Hub-Signature-256"] = signed
        async with self._client().post(target, data=body, headers=headers) as response:
            return CallbackResult(response.status, await response.read(), response.content_type)

    async def verify(
        self, verify_token: str, *, challenge: str = "1158201444", url: str | None = None
    ) -> CallbackResult:
        """The subscription handshake: GET with ``hub.mode``, ``hub.verify_token`` and
        ``hub.challenge``; Meta expects the challenge back with 200."""
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        async with self._client().get(url or self.webhook_url, params=params) as response:
            return CallbackResult(response.status, await response.read(), response.content_type)

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def user_says(self, number: str, text: str, *, url: str | None = None) -> CallbackResult:
        """The person writes: their 24-hour window opens now (fake clock)."""
        self.users[number].last_inbound = self.clock()
        return await self.post_webhook(self.text_event(number, text), url=url)

    async def user_presses(
        self,
        number: str,
        action_id: str,
        title: str,
        *,
        kind: str = "button_reply",
        url: str | None = None,
    ) -> CallbackResult:
        self.users[number].last_inbound = self.clock()
        return await self.post_webhook(
            self.press_event(number, action_id, title, kind=kind), url=url
        )

    async def post_status(
        self,
        status: str,
        wamid: str,
        number: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
    ) -> CallbackResult:
        return await self.post_webhook(
            self.status_event(status, wamid, number, error_code=error_code), url=url
        )

    async def post_receipts(
        self, *, read: bool = False, url: str | None = None
    ) -> list[CallbackResult]:
        """``sent`` and ``delivered`` (and ``read``) for every message accepted so far."""
        results = []
        for number, got in self.received.items():
            for received in got:
                for status in ("sent", "delivered", *(("read",) if read else ())):
                    results.append(await self.post_status(status, received.wamid, number, url=url))
        return results


def _fail(details: str) -> _Refusal:
    return _Refusal(400, 131009, details)


def _check_message(kind: object, body: dict[str, Any]) -> None:
    if kind not in (*SESSION_TYPES, "template"):
        raise _Refusal(400, 100, f"Unsupported message type: {kind}")
    obj = body.get(str(kind))
    if not isinstance(obj, dict):
        raise _Refusal(400, 100, f"The parameter {kind} is required.")
    if kind == "text":
        text = obj.get("body")
        if not isinstance(text, str) or not text.strip():
            raise _Refusal(400, 100, "The parameter text['body'] is required.")
        if len(text) > TEXT_LIMIT:
            raise _Refusal(400, 100, "Param text['body'] must be at most 4096 characters long.")
    elif kind == "image":
        if not isinstance(obj.get("link"), str) or not obj["link"]:
            raise _Refusal(400, 100, "The parameter image['link'] is required.")
        if len(str(obj.get("caption", ""))) > BODY_LIMIT:
            raise _fail("image caption is too long")
    elif kind == "template":
        if not isinstance(obj.get("name"), str) or not isinstance(obj.get("language"), dict):
            raise _Refusal(400, 100, "The parameter template['name'] is required.")
    else:
        _check_interactive(obj)


def _check_interactive(obj: dict[str, Any]) -> None:
    body = obj.get("body")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        raise _Refusal(400, 100, "The parameter interactive['body']['text'] is required.")
    if len(text) > BODY_LIMIT:
        raise _fail("body['text'] must be at most 1024 characters")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise _Refusal(400, 100, "The parameter interactive['action'] is required.")
    kind = obj.get("type")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise _Refusal(400, 100, "The parameter interactive['action']['buttons'] is required.")
        if len(buttons) > BUTTONS:
            raise _fail("buttons: Too many elements, maximum 3")
        titles = []
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(reply, dict):
                raise _fail("button['reply'] is required")
            title, ident = reply.get("title"), reply.get("id")
            if not isinstance(title, str) or not title or len(title) > BUTTON_TITLE:
                raise _fail("Button title length invalid. Min length: 1, Max length: 20")
            if not isinstance(ident, str) or not ident or len(ident) > BUTTON_ID:
                raise _fail("Button id length invalid. Min length: 1, Max length: 256")
            titles.append(title)
        if len(set(titles)) != len(titles):
            raise _fail("Button title must be unique")
    elif kind == "list":
        label = action.get("button")
        if not isinstance(label, str) or not label or len(label) > LIST_BUTTON:
            raise _fail("Button text length invalid. Min length: 1, Max length: 20")
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections or len(sections) > LIST_SECTIONS:
            raise _fail("sections: between 1 and 10 sections")
        rows = 0
        ids: set[str] = set()
        for section in sections:
            if not isinstance(section, dict) or not isinstance(section.get("rows"), list):
                raise _fail("section['rows'] is required")
            title = section.get("title")
            if (title is None and len(sections) > 1) or (
                title is not None and (not isinstance(title, str) or len(title) > SECTION_TITLE)
            ):
                raise _fail("Section title length invalid. Max length: 24")
            for row in section["rows"]:
                rows += 1
                if not isinstance(row, dict):
                    raise _fail("row is not an object")
                ident, row_title = row.get("id"), row.get("title")
                if not isinstance(ident, str) or not ident or len(ident) > ROW_ID or ident in ids:
                    raise _fail("Row id invalid or not unique. Max length: 200")
                ids.add(ident)
                if not isinstance(row_title, str) or not row_title or len(row_title) > ROW_TITLE:
                    raise _fail("Row title length invalid. Min length: 1, Max length: 24")
                if len(str(row.get("description", ""))) > ROW_DESCRIPTION:
                    raise _fail("Row description length invalid. Max length: 72")
        if not 1 <= rows <= LIST_ROWS:
            raise _fail("Total row count exceed max allowed count: 10")
    elif kind == "cta_url":
        params = action.get("parameters")
        if action.get("name") != "cta_url" or not isinstance(params, dict):
            raise _Refusal(
                400, 100, "The parameter interactive['action']['parameters'] is required."
            )
        display = params.get("display_text")
        if not isinstance(display, str) or not display or len(display) > BUTTON_TITLE:
            raise _fail("display_text length invalid. Max length: 20")
        if not isinstance(params.get("url"), str) or not params["url"]:
            raise _Refusal(400, 100, "The parameter parameters['url'] is required.")
    else:
        raise _Refusal(400, 100, f"Unsupported interactive type: {kind}")


_COMMAND_NAME = re.compile(r"[a-z0-9_]+")


def _has_emoji(text: str) -> bool:
    """Pictographs, dingbats and their joiners: what WhatsApp calls emoji here."""
    return any(
        ord(ch) >= 0x1F000
        or 0x2600 <= ord(ch) <= 0x27BF
        or ch in "\u200d\ufe0f"
        or unicodedata.category(ch) == "So"
        for ch in text
    )


def _check_automation(body: Any) -> tuple[int, str] | None:
    """Meta's (code, message) for conversational components it would refuse, else None."""
    if not isinstance(body, dict):
        return 100, "(#100) The parameter commands is required."
    commands = body.get("commands", [])
    prompts = body.get("prompts", [])
    if not isinstance(commands, list):
        return 100, "(#100) Param commands must be an array."
    if not isinstance(prompts, list):
        return 100, "(#100) Param prompts must be an array."
    if len(commands) > COMMANDS:
        found = len(commands)
        return (
            105,
            f"(#105) The parameter commands must have at most {COMMANDS} elements, {found} found.",
        )
    if len(prompts) > PROMPTS:
        found = len(prompts)
        return (
            105,
            f"(#105) The parameter prompts must have at most {PROMPTS} elements, {found} found.",
        )
    for i, command in enumerate(commands):
        if not isinstance(command, dict):
            return 100, f"(#100) Param commands[{i}] must be an object."
        name, text = command.get("command_name"), command.get("command_description")
        param = f"commands[{i}]['command_name']"
        if not isinstance(name, str) or not name:
            return 100, f"(#100) The parameter {param} is required."
        if len(name) > COMMAND_NAME:
            return 100, f"(#100) Param {param} must be at most {COMMAND_NAME} characters long."
        if _has_emoji(name):
            return 100, f"(#100) Param {param} must not contain emojis."
        if not _COMMAND_NAME.fullmatch(name):
            return (
                100,
                f"(#100) Param {param} must contain only lowercase letters, digits and"
                " underscores.",
            )
        param = f"commands[{i}]['command_description']"
        if not isinstance(text, str) or not text:
            return 100, f"(#100) The parameter {param} is required."
        if len(text) > COMMAND_DESCRIPTION:
            return (
                100,
                f"(#100) Param {param} must be at most {COMMAND_DESCRIPTION} characters long.",
            )
        if _has_emoji(text):
            return 100, f"(#100) Param {param} must not contain emojis."
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, str) or not prompt:
            return 100, f"(#100) Param prompts[{i}] must be a non-empty string."
        if len(prompt) > PROMPT:
            return 100, f"(#100) Param prompts[{i}] must be at most {PROMPT} characters long."
        if _has_emoji(prompt):
            return 100, f"(#100) Param prompts[{i}] must not contain emojis."
    return None
