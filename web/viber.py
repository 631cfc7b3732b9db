"""Viber's webhook: callbacks in, ``Inbound`` and ``StatusUpdate`` to the conversation, answers
out.

Every callback is checked before it is parsed: ``X-Viber-Content-Signature`` must be the hex
HMAC-SHA256 of the raw body keyed with the account's token (compared in constant time, as
bytes, so a non-ASCII header is a mismatch and not an error). A missing or wrong signature is
403, a body over :data:`MAX_CALLBACK_BYTES` 413, one that is not a JSON object, or a known
event without the fields it always has, 400; nothing a sender puts in a request makes a 500
or changes state. An event we do not use (``webhook``, ``subscribed``, ``client_status``,
whatever Viber adds) is answered 200, as Viber resends anything else for an hour.

Viber resends a callback until it gets a 200, so each event is claimed once in a
:class:`~web.replay.ReplayGuard` (by ``message_token``; receipts by token and user, as one
broadcast token covers many people) and a repeat is answered 200 and ignored. Should the
conversation fail, the claim is given back and the error answered 500, so Viber's retry is
handled.

Events: ``conversation_started`` is ``OPENED`` (its ``context``, from the join link
``viber://pa?chatURI=<uri>&context=<payload>``, as the payload); the first screen of the
answer is returned in the HTTP response body, Viber's "welcome message" and the only message
a person who has not subscribed may get (further screens are sent only when they already
are). ``message`` is ``ACTION`` when its text is a keyboard's ``ActionBody`` (``act:<id>``,
see :mod:`channels.viber.render`), else ``TEXT``; the answers go out with ``send_message``.
An ``open-url`` button also reports its URL as a ``url`` message: that is not the person
speaking, and is ignored. ``unsubscribed`` is ``UNSUBSCRIBED``; ``delivered``, ``seen`` and
``failed`` are receipts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
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
    "MAX_CALLBACK_BYTES",
    "PLATFORM",
    "SIGNATURE_HEADER",
    "VIBER_WEBHOOK_PATH",
    "Replies",
    "ViberWebhook",
    "setup_viber_routes",
]

logger = logging.getLogger(__name__)

PLATFORM = "viber"
VIBER_WEBHOOK_PATH = "/viber/webhook"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
# A message callback carries at most a 7,000-character text and a profile; 64 KiB is ample.
MAX_CALLBACK_BYTES = 64 * 1024
_RECEIPTS = {"delivered": Receipt.DELIVERED, "seen": Receipt.READ}


class Replies(Protocol):
    """The Viber side of the answers (``channels.viber.replies.ViberReplies``)."""

    def welcome(self, screen: Screen) -> dict[str, Any]:
        """``screen`` as the one welcome message, JSON for the HTTP response."""
        ...

    def action_id(self, text: str) -> str | None:
        """The action id a message text carries when it is a keyboard press."""
        ...

    async def send(self, user_id: str, screens: Sequence[Screen]) -> bool: ...


class _Malformed(Exception):
    pass


@dataclass
class ViberWebhook:
    """One Viber bot account's webhook. ``account`` names it in every ``Inbound`` (``""`` for
    the deployment's own bot)."""

    auth_token: SecretStr
    conversation: Conversation
    replies: Replies
    replay: Replay
    account: str = ""

    def _signed(self, body: bytes, header: str | None) -> bool:
        if not header:
            return False
        key = self.auth_token.get_secret_value().encode()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(header.encode("utf-8", "surrogateescape"), expected)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if len(body) > MAX_CALLBACK_BYTES:
            return web.Response(status=413, text="Payload Too Large")
        if not self._signed(body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning(
                "Viber callback with a missing or wrong signature from %s", request.remote
            )
            return web.Response(status=403, text="Forbidden")
        try:
            event = json.loads(body)
            if not isinstance(event, dict):
                raise _Malformed("not an object")
            return await self._dispatch(event)
        except (_Malformed, ValueError, UnicodeDecodeError, RecursionError) as exc:
            logger.warning("rejected a malformed Viber callback: %s", type(exc).__name__)
            return web.Response(status=400, text="Bad Request")

    async def _dispatch(self, event: dict[str, Any]) -> web.StreamResponse:
        kind = event.get("event")
        if kind == "conversation_started":
            return await self._opened(event)
        if kind == "message":
            return await self._message(event)
        if kind == "unsubscribed":
            return await self._unsubscribed(event)
        if kind in ("delivered", "seen", "failed"):
            return await self._receipt(str(kind), event)
        return web.Response(status=200)

    async def _once(self, key: str, work: Any) -> web.StreamResponse:
        """Run ``work()`` unless this event was handled already; give the claim back if it
        fails, so Viber's retry is not taken for a repeat."""
        if not await self.replay.first(key):
            return web.Response(status=200)
        try:
            response: web.StreamResponse = await work()
        except BaseException:
            await self.replay.forget(key)
            raise
        return response

    async def _opened(self, event: dict[str, Any]) -> web.StreamResponse:
        user = _object(event, "user")
        inbound = Inbound(
            platform=PLATFORM,
            user_id=_text(user, "id"),
            kind=InboundKind.OPENED,
            message_id=_token(event),
            account=self.account,
            payload=_optional_text(event, "context"),
            name=_optional_text(user, "name") or None,
            language_code=_optional_text(user, "language") or None,
        )
        subscribed = event.get("subscribed") is True

        async def work() -> web.StreamResponse:
            screens = await self.conversation.handle(inbound)
            if not screens:
                return web.Response(status=200)
            if subscribed:
                # They may get messages already: all screens through the API, in order.
                await self.replies.send(inbound.user_id, screens)
                return web.Response(status=200)
            return web.json_response(self.replies.welcome(screens[0]))

        return await self._once(f"open:{inbound.message_id}", work)

    async def _message(self, event: dict[str, Any]) -> web.StreamResponse:
        sender = _object(event, "sender")
        message = _object(event, "message")
        message_type = _text(message, "type")
        if message_type == "url":
            return web.Response(status=200)
        text = _optional_text(message, "text")
        pressed = self.replies.action_id(text)
        inbound = Inbound(
            platform=PLATFORM,
            user_id=_text(sender, "id"),
            kind=InboundKind.ACTION if pressed else InboundKind.TEXT,
            message_id=_token(event),
            account=self.account,
            text="" if pressed else text,
            action_id=pressed or "",
            name=_optional_text(sender, "name") or None,
            language_code=_optional_text(sender, "language") or None,
        )

        async def work() -> web.StreamResponse:
            await self.replies.send(inbound.user_id, await self.conversation.handle(inbound))
            return web.Response(status=200)

        return await self._once(f"message:{inbound.message_id}", work)

    async def _unsubscribed(self, event: dict[str, Any]) -> web.StreamResponse:
        user_id = _text(event, "user_id")
        token = _optional_token(event) or str(event.get("timestamp", ""))
        inbound = Inbound(
            platform=PLATFORM,
            user_id=user_id,
            kind=InboundKind.UNSUBSCRIBED,
            message_id=token,
            account=self.account,
        )

        async def work() -> web.StreamResponse:
            # Nothing can be sent to someone who just left; any answer is dropped.
            await self.conversation.handle(inbound)
            return web.Response(status=200)

        return await self._once(f"unsubscribed:{user_id}:{token}", work)

    async def _receipt(self, kind: str, event: dict[str, Any]) -> web.StreamResponse:
        token = _token(event)
        user_id = _text(event, "user_id")
        update = StatusUpdate(
            platform=PLATFORM,
            external_id=token,
            kind=_RECEIPTS.get(kind, Receipt.FAILED),
            at=_when(event),
            user_id=user_id,
            error_title=_optional_text(event, "desc")[:200] if kind == "failed" else "",
        )

        async def work() -> web.StreamResponse:
            await self.conversation.receipt(update)
            return web.Response(status=200)

        return await self._once(f"{kind}:{token}:{user_id}", work)


def setup_viber_routes(
    app: web.Application, webhook: ViberWebhook, *, path: str = VIBER_WEBHOOK_PATH
) -> None:
    """Mount ``webhook`` at ``path`` (POST; Viber calls nothing else)."""
    app.router.add_post(path, webhook.handle)


def _object(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise _Malformed(f"{name} is not an object")
    return value


def _text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value or "\x00" in value:
        raise _Malformed(f"{name} is not a text")
    return value


def _optional_text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Malformed(f"{name} is not a text")
    # PostgreSQL cannot store U+0000 in a text column; Viber never sends one.
    return value.replace("\x00", "")


def _optional_token(event: dict[str, Any]) -> str:
    value = event.get("message_token")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return ""
    token = str(value)
    return token if token.isdigit() and len(token) <= 24 else ""


def _token(event: dict[str, Any]) -> str:
    token = _optional_token(event)
    if not token:
        raise _Malformed("no message_token")
    return token


def _when(event: dict[str, Any]) -> datetime:
    stamp = event.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(stamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)
