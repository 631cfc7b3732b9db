"""WhatsApp's webhook (Cloud API): the subscription handshake, notifications in, ``Inbound``
and ``StatusUpdate`` to the conversation, answers out.

``GET`` is Meta's verification request: ``hub.mode=subscribe`` with ``hub.verify_token``
equal to ours (compared in constant time) is answered with ``hub.challenge`` as text/plain
200, anything else 403.

``POST`` is a notification. It is checked before it is parsed: ``X-Hub-Signature-256`` must be
``sha256=`` and the hex HMAC-SHA256 of the raw body keyed with the app secret (compared in
constant time, as bytes, so a non-ASCII header is a mismatch and not an error). A missing or
wrong signature is 403, a body over :data:`MAX_NOTIFICATION_BYTES` 413, one that is not a
JSON object, or whose ``entry`` / ``changes`` / messages lack the fields they always have,
400; nothing a sender puts in a request makes a 500 or changes state. Meta wants a 200 for
everything else and resends for days otherwise, so fields other than ``messages``, message
types we do not read (images, locations, reactions …) and whatever Meta adds are answered 200
and ignored.

Each message (by ``wamid``) and each status (by ``wamid`` and status: one message has sent,
delivered and read) is claimed once in a :class:`~web.replay.ReplayGuard`, so a resent
notification is answered 200 and ignored; should the conversation fail, the claim is given
back and the error answered 500, so Meta's retry is handled.

Messages: ``text`` is ``TEXT`` (a first text equal to a join code too: the conversation
decides what it is); ``interactive`` ``button_reply`` and ``list_reply`` are ``ACTION`` with
the reply's ``id`` as the action id, the same id whichever form the screen took; a template's
quick-reply ``button`` is ``ACTION`` with its ``payload``. The answers go out as session
messages (``channels.whatsapp.replies``). Statuses ``sent``, ``delivered``, ``read`` and
``failed`` (with ``errors[0].code`` and ``title``) go to ``conversation.receipt``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from pydantic import SecretStr

from channels.base import Receipt
from conversation.screen import (
    Conversation,
    Inbound,
    InboundKind,
    Screen,
    StatusUpdate,
)
from web.replay import Replay

__all__ = [
    "MAX_NOTIFICATION_BYTES",
    "PLATFORM",
    "SIGNATURE_HEADER",
    "WHATSAPP_WEBHOOK_PATH",
    "Replies",
    "WhatsAppWebhook",
    "setup_whatsapp_routes",
]

logger = logging.getLogger(__name__)

PLATFORM = "whatsapp"
WHATSAPP_WEBHOOK_PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
# A notification carries a few messages of at most 4,096 characters each (Meta batches up
# to 1,000 statuses in theory; 1 MiB is aiohttp's own ceiling and ample).
MAX_NOTIFICATION_BYTES = 1024 * 1024
CHALLENGE_LIMIT = 256
_RECEIPTS = {
    "delivered": Receipt.DELIVERED,
    "read": Receipt.READ,
    "failed": Receipt.FAILED,
}


class Replies(Protocol):
    """The WhatsApp side of the answers (``channels.whatsapp.replies.WhatsAppReplies``)."""

    async def send(self, user_id: str, screens: Sequence[Screen]) -> bool: ...


class _Malformed(Exception):
    pass


@dataclass
class WhatsAppWebhook:
    """One Meta app's webhook for one business number. ``account`` names it in every
    ``Inbound`` (``""`` for the deployment's own number)."""

    app_secret: SecretStr
    verify_token: SecretStr
    conversation: Conversation
    replies: Replies
    replay: Replay
    account: str = ""

    async def verify(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        token = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge", "")
        expected = self.verify_token.get_secret_value().encode()
        if (
            query.get("hub.mode") != "subscribe"
            or not challenge
            or len(challenge) > CHALLENGE_LIMIT
            or not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected)
        ):
            logger.warning("WhatsApp verification with a wrong token from %s", request.remote)
            return web.Response(status=403, text="Forbidden")
        return web.Response(status=200, text=challenge, content_type="text/plain")

    def _signed(self, body: bytes, header: str | None) -> bool:
        if not header:
            return False
        key = self.app_secret.get_secret_value().encode()
        expected = b"sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(header.encode("utf-8", "surrogateescape"), expected)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > MAX_NOTIFICATION_BYTES:
            return web.Response(status=413, text="Payload Too Large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Payload Too Large")
        if len(body) > MAX_NOTIFICATION_BYTES:
            return web.Response(status=413, text="Payload Too Large")
        if not self._signed(body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning(
                "WhatsApp notification with a missing or wrong signature from %s",
                request.remote,
            )
            return web.Response(status=403, text="Forbidden")
        try:
            notification = json.loads(body)
            if not isinstance(notification, dict):
                raise _Malformed("not an object")
            events = _events(notification, self.account)
        except (_Malformed, ValueError, UnicodeDecodeError, RecursionError) as exc:
            logger.warning("rejected a malformed WhatsApp notification: %s", type(exc).__name__)
            return web.Response(status=400, text="Bad Request")
        for event in events:
            if isinstance(event, Inbound):
                await self._once(f"message:{event.message_id}", self._answer(event))
            else:
                key = f"status:{event.external_id}:{event.kind}"
                await self._once(key, self._receipt(event))
        return web.Response(status=200)

    def _answer(self, inbound: Inbound) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            screens = await self.conversation.handle(inbound)
            if screens:
                await self.replies.send(inbound.user_id, screens)

        return work

    def _receipt(self, update: StatusUpdate) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            await self.conversation.receipt(update)

        return work

    async def _once(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work()`` unless this event was handled already; give the claim back if it
        fails, so Meta's retry is not taken for a repeat."""
        if not await self.replay.first(key):
            return
        try:
            await work()
        except BaseException:
            await self.replay.forget(key)
            raise


def setup_whatsapp_routes(
    app: web.Application, webhook: WhatsAppWebhook, *, path: str = WHATSAPP_WEBHOOK_PATH
) -> None:
    """Mount ``webhook`` at ``path``: GET for Meta's verification, POST for notifications."""
    app.router.add_get(path, webhook.verify)
    app.router.add_post(path, webhook.handle)


def _events(notification: dict[str, Any], account: str) -> list[Inbound | StatusUpdate]:
    """Every message and status of a notification, in order; unknown parts left out."""
    entries = notification.get("entry")
    if not isinstance(entries, list):
        raise _Malformed("entry is not a list")
    events: list[Inbound | StatusUpdate] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise _Malformed("changes is not a list")
        for change in changes:
            if not isinstance(change, dict):
                raise _Malformed("change is not an object")
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            names = _names(value.get("contacts"))
            for message in _list(value, "messages"):
                inbound = _inbound(message, names, account)
                if inbound is not None:
                    events.append(inbound)
            for status in _list(value, "statuses"):
                update = _status(status)
                if update is not None:
                    events.append(update)
    return events


def _list(value: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = value.get(name)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _Malformed(f"{name} is not a list of objects")
    return items


def _names(contacts: object) -> dict[str, str]:
    names: dict[str, str] = {}
    if isinstance(contacts, list):
        for contact in contacts:
            if not isinstance(contact, dict):
                continue
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            wa_id = contact.get("wa_id")
            if isinstance(wa_id, str) and isinstance(name, str) and name:
                names[wa_id] = name.replace("\x00", "")[:256]
    return names


def _inbound(message: dict[str, Any], names: dict[str, str], account: str) -> Inbound | None:
    user_id = _text(message, "from")
    if not user_id.isdigit() or len(user_id) > 20:
        raise _Malformed("from is not a number")
    message_id = _text(message, "id")
    if len(message_id) > 256:
        raise _Malformed("id is too long")
    kind = message.get("type")
    base = {"platform": PLATFORM, "user_id": user_id, "message_id": message_id}
    name = names.get(user_id)
    if kind == "text":
        text = _text(_object(message, "text"), "body", empty=True)
        return Inbound(**base, kind=InboundKind.TEXT, account=account, text=text, name=name)
    if kind == "interactive":
        interactive = _object(message, "interactive")
        reply_kind = interactive.get("type")
        if reply_kind not in ("button_reply", "list_reply"):
            return None
        action_id = _text(_object(interactive, str(reply_kind)), "id")
        return Inbound(
            **base, kind=InboundKind.ACTION, account=account, action_id=action_id, name=name
        )
    if kind == "button":  # a template's quick-reply button
        payload = _text(_object(message, "button"), "payload")
        return Inbound(
            **base, kind=InboundKind.ACTION, account=account, action_id=payload, name=name
        )
    return None


def _status(status: dict[str, Any]) -> StatusUpdate | None:
    kind = _RECEIPTS.get(str(status.get("status")))
    if kind is None:
        return None  # "sent" (the send call said so), "deleted", "warning", what comes next
    code: int | None = None
    title = ""
    errors = status.get("errors")
    if kind == Receipt.FAILED and isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict):
            raw = first.get("code")
            code = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            title = str(first.get("title") or first.get("message") or "")[:200]
    recipient = status.get("recipient_id")
    return StatusUpdate(
        platform=PLATFORM,
        external_id=_text(status, "id"),
        kind=kind,
        at=_when(status.get("timestamp")),
        user_id=recipient if isinstance(recipient, str) else "",
        error_code=code,
        error_title=title,
    )


def _object(value: dict[str, Any], name: str) -> dict[str, Any]:
    found = value.get(name)
    if not isinstance(found, dict):
        raise _Malformed(f"{name} is not an object")
    return found


def _text(value: dict[str, Any], name: str, *, empty: bool = False) -> str:
    found = value.get(name)
    if not isinstance(found, str) or (not found and not empty):
        raise _Malformed(f"{name} is not a text")
    # PostgreSQL cannot store U+0000 in a text column; an id with one is no id of Meta's.
    if "\x00" in found and not empty:
        raise _Malformed(f"{name} holds U+0000")
    return found.replace("\x00", "")


def _when(stamp: object) -> datetime:
    if isinstance(stamp, str) and stamp.isdigit():
        try:
            return datetime.fromtimestamp(int(stamp), UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)
