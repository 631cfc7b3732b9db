"""A small aiohttp client of the WhatsApp Cloud API's one call we need.

Every message is ``POST https://graph.facebook.com/{version}/{phone_number_id}/messages`` with
``Authorization: Bearer <token>`` and a JSON body; the Graph API answers 200 with
``messages[0].id`` (the ``wamid`` that status webhooks name) or a 4xx/5xx with an ``error``
object (``code``, ``message`` whose title is in parentheses, ``error_data.details``). A
refusal with an error object is an answer, not an exception; only what is not an answer
raises :class:`WhatsAppUnavailable`: no connection, a timeout, or a body that is not the
Graph API's JSON (a 5xx page of a proxy), which a caller may retry. The token is a
``SecretStr`` and appears in no log line or ``repr``.

Why not pywa: it brings its own web-framework integration (its own webhook routing and
handlers) and its own types for messages and updates, which duplicate ours
(``conversation.screen``, ``channels.base``, ``web.whatsapp``); the five payloads below are
all we send, so they are written on aiohttp like the Viber client. Each message builder
checks Meta's limits (raising ValueError), so a payload WhatsApp would refuse is a bug here,
not a refusal there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import SecretStr

__all__ = [
    "GRAPH_API_URL",
    "GRAPH_API_VERSION",
    "GraphError",
    "ListRow",
    "ListSection",
    "WhatsAppApi",
    "WhatsAppReply",
    "WhatsAppUnavailable",
    "button_message",
    "cta_url_message",
    "image_message",
    "list_message",
    "template_message",
    "text_message",
]

logger = logging.getLogger(__name__)

GRAPH_API_URL = "https://graph.facebook.com/"
GRAPH_API_VERSION = "v21.0"

# Meta's limits on what we send (the Cloud API message pages).
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
CAPTION_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
LIST_ROWS_LIMIT = 10
LIST_SECTIONS_LIMIT = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20
SECTION_TITLE_LIMIT = 24
CTA_TEXT_LIMIT = 20


class WhatsAppUnavailable(Exception):
    """No answer from the Graph API (network, timeout, not its JSON): may be retried."""

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class GraphError:
    """The Graph API's ``error`` object: ``code`` is what to act on (Meta: not the title)."""

    code: int
    title: str
    message: str = ""
    details: str = ""
    subcode: int | None = None

    def describe(self) -> str:
        text = f"{self.code} {self.title or self.message}".strip()
        if self.details:
            text += f": {self.details}"
        return text


@dataclass(frozen=True, slots=True)
class WhatsAppReply:
    http_status: int
    message_id: str | None = None
    error: GraphError | None = None
    body: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.message_id)


class WhatsAppApi:
    """One business phone number's calls. ``base_url`` points tests at :mod:`fakes.whatsapp`."""

    def __init__(
        self,
        access_token: SecretStr,
        phone_number_id: str,
        *,
        base_url: str = GRAPH_API_URL,
        version: str = GRAPH_API_VERSION,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._token = access_token
        self.phone_number_id = phone_number_id
        self._number_url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}"
        self._url = f"{self._number_url}/messages"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"WhatsAppApi(url={self._url!r})"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def _call(
        self,
        what: str,
        url: str,
        *,
        payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One Graph API request (POST of ``payload`` as JSON, else GET with ``params``) and its
        answer as a JSON object with its HTTP status. No answer, or one that is not a JSON
        object, is ``WhatsAppUnavailable`` named by ``what``; Meta's refusals are answers."""
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        data = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        method = "POST" if payload is not None else "GET"
        try:
            async with self._http().request(
                method, url, data=data, params=params, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                http_status = response.status
        except TimeoutError as exc:
            raise WhatsAppUnavailable(f"{what}: timeout") from exc
        except aiohttp.ClientError as exc:
            raise WhatsAppUnavailable(f"{what}: {type(exc).__name__}") from exc
        try:
            answer = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WhatsAppUnavailable(
                f"{what}: HTTP {http_status}, not JSON", http_status=http_status
            ) from exc
        if not isinstance(answer, dict):
            raise WhatsAppUnavailable(
                f"{what}: HTTP {http_status}, not an object", http_status=http_status
            )
        return http_status, answer

    async def send(self, to: str, message: dict[str, Any]) -> WhatsAppReply:
        """POST one message (``type`` and its object) to ``to``; the answer, refusals too."""
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        kind = str(message.get("type", "?"))
        http_status, answer = await self._call(kind, self._url, payload={**payload, **message})
        reply = _reply(http_status, answer)
        if reply.error is None and not reply.message_id:
            raise WhatsAppUnavailable(
                f"{kind}: HTTP {http_status}, no message id", http_status=http_status
            )
        return reply

    async def phone_number(self) -> WhatsAppReply:
        """``GET /<phone number id>?fields=display_phone_number,verified_name``: who the
        number is, as the token may see it (a bad token: ``error.code`` 190). The answer's
        fields are in ``body``; ``message_id`` is the number's id."""
        params = {"fields": "display_phone_number,verified_name"}
        http_status, answer = await self._call("phone number", self._number_url, params=params)
        if "error" in answer:
            return _reply(http_status, answer)
        if http_status >= 400 or not isinstance(answer.get("id"), str):
            raise WhatsAppUnavailable(f"phone number: HTTP {http_status}", http_status=http_status)
        return WhatsAppReply(http_status, message_id=answer["id"], body=answer)

    async def set_commands(
        self, commands: Sequence[tuple[str, str]], prompts: Sequence[str] = ()
    ) -> WhatsAppReply:
        """``POST /<phone number id>/conversational_automation``: the number's commands
        (name, description) and ice-breaker prompts, what WhatsApp shows in its chat (a tapped
        command arrives as the text ``/name``). Meta's refusal (code 100 or 105 for a limit)
        is the answer's ``error``; ``body`` is ``{"success": true}`` when it took them."""
        payload = {
            "enable_welcome_message": False,
            "commands": [
                {"command_name": name, "command_description": text} for name, text in commands
            ],
            "prompts": list(prompts),
        }
        url = f"{self._number_url}/conversational_automation"
        http_status, answer = await self._call("commands", url, payload=payload)
        if "error" in answer:
            return _reply(http_status, answer)
        if http_status >= 400 or answer.get("success") is not True:
            raise WhatsAppUnavailable(f"commands: HTTP {http_status}", http_status=http_status)
        return WhatsAppReply(http_status, body=answer)

    # -- the message types we send -----------------------------------------------------------

    async def send_text(self, to: str, body: str, *, preview_url: bool = False) -> WhatsAppReply:
        return await self.send(to, text_message(body, preview_url=preview_url))

    async def send_image(self, to: str, link: str, *, caption: str = "") -> WhatsAppReply:
        return await self.send(to, image_message(link, caption=caption))

    async def send_template(
        self, to: str, name: str, language: str, parameters: Sequence[str] = ()
    ) -> WhatsAppReply:
        return await self.send(to, template_message(name, language, parameters))

    async def send_buttons(
        self, to: str, body: str, buttons: Sequence[tuple[str, str]]
    ) -> WhatsAppReply:
        return await self.send(to, button_message(body, buttons))

    async def send_list(
        self, to: str, body: str, button: str, sections: Sequence[ListSection]
    ) -> WhatsAppReply:
        return await self.send(to, list_message(body, button, sections))


# The message objects. Each checks Meta's limits and raises ValueError for what WhatsApp
# would refuse (a programming error: the renderer cuts to these limits first).


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"WhatsApp would refuse this message: {what}")


def text_message(body: str, *, preview_url: bool = False) -> dict[str, Any]:
    _check(0 < len(body) <= TEXT_LIMIT, f"text of {len(body)} characters")
    return {"type": "text", "text": {"preview_url": preview_url, "body": body}}


def image_message(link: str, *, caption: str = "") -> dict[str, Any]:
    _check(bool(link), "image without a link")
    _check(len(caption) <= CAPTION_LIMIT, f"caption of {len(caption)} characters")
    image: dict[str, str] = {"link": link}
    if caption:
        image["caption"] = caption
    return {"type": "image", "image": image}


def _interactive(kind: str, body: str, action: dict[str, Any]) -> dict[str, Any]:
    _check(0 < len(body) <= INTERACTIVE_BODY_LIMIT, f"body of {len(body)} characters")
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def button_message(body: str, buttons: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Reply buttons: (id, title) pairs, 1-3, titles unique and ≤ 20, ids ≤ 256."""
    _check(0 < len(buttons) <= MAX_REPLY_BUTTONS, f"{len(buttons)} reply buttons")
    titles = [title for _, title in buttons]
    _check(len(set(titles)) == len(titles), "two buttons with one title")
    for ident, title in buttons:
        _check(0 < len(ident) <= BUTTON_ID_LIMIT, f"button id of {len(ident)} characters")
        _check(0 < len(title) <= BUTTON_TITLE_LIMIT, f"button title {title!r}")
    replies = [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in buttons]
    return _interactive("button", body, {"buttons": replies})


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ListSection:
    rows: tuple[ListRow, ...]
    title: str = ""


def list_message(body: str, button: str, sections: Sequence[ListSection]) -> dict[str, Any]:
    """A list: its button label ≤ 20, 1-10 sections (titled when more than one, ≤ 24), 1-10
    rows in all, row ids unique and ≤ 200, titles ≤ 24, descriptions ≤ 72."""
    _check(0 < len(button) <= LIST_BUTTON_LIMIT, f"list button {button!r}")
    _check(0 < len(sections) <= LIST_SECTIONS_LIMIT, f"{len(sections)} sections")
    rows = [row for section in sections for row in section.rows]
    _check(0 < len(rows) <= LIST_ROWS_LIMIT, f"{len(rows)} rows")
    _check(len({row.id for row in rows}) == len(rows), "two rows with one id")
    out = []
    for section in sections:
        _check(len(section.title) <= SECTION_TITLE_LIMIT, f"section title {section.title!r}")
        _check(bool(section.title) or len(sections) == 1, "an untitled section of several")
        listed = []
        for row in section.rows:
            _check(0 < len(row.id) <= ROW_ID_LIMIT, f"row id of {len(row.id)} characters")
            _check(0 < len(row.title) <= ROW_TITLE_LIMIT, f"row title {row.title!r}")
            _check(len(row.description) <= ROW_DESCRIPTION_LIMIT, "row description")
            entry = {"id": row.id, "title": row.title}
            if row.description:
                entry["description"] = row.description
            listed.append(entry)
        item: dict[str, Any] = {"rows": listed}
        if section.title:
            item["title"] = section.title
        out.append(item)
    return _interactive("list", body, {"button": button, "sections": out})


def cta_url_message(body: str, display_text: str, url: str) -> dict[str, Any]:
    """One URL button (``cta_url``): its text ≤ 20."""
    _check(0 < len(display_text) <= CTA_TEXT_LIMIT, f"URL button text {display_text!r}")
    _check(bool(url), "URL button without a url")
    return _interactive(
        "cta_url",
        body,
        {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}},
    )


def template_message(name: str, language: str, parameters: Sequence[str] = ()) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    return {"type": "template", "template": template}


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _title(message: str) -> str:
    """The title Meta puts in ``message`` as ``(#131047) Re-engagement message``."""
    if message.startswith("(#") and ") " in message:
        return message.split(") ", 1)[1]
    return message


def _reply(http_status: int, answer: dict[str, Any]) -> WhatsAppReply:
    error = answer.get("error")
    if isinstance(error, dict):
        code = _int(error.get("code"))
        data = error.get("error_data")
        message = str(error.get("message", ""))
        return WhatsAppReply(
            http_status,
            error=GraphError(
                code=-1 if code is None else code,
                title=str(error.get("title") or _title(message)),
                message=message,
                details=str(data.get("details", "")) if isinstance(data, dict) else "",
                subcode=_int(error.get("error_subcode")),
            ),
            body=answer,
        )
    message_id = None
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        found = messages[0].get("id")
        if isinstance(found, str) and found:
            message_id = found
    if http_status >= 400 and message_id is None:
        # A 4xx/5xx without Meta's error object: a proxy or an outage, not a refusal.
        raise WhatsAppUnavailable(f"HTTP {http_status}, no error object", http_status=http_status)
    return WhatsAppReply(http_status, message_id=message_id, body=answer)
