"""A small aiohttp client of Viber's REST bot API (https://chatapi.viber.com/pa/).

Every call is a POST of JSON with the account's token in ``X-Viber-Auth-Token``; Viber answers
HTTP 200 with ``status`` 0 for success or a failure number (the table in :class:`Status`), so
a refusal is an answer, not an exception. Only what is not an answer raises
:class:`ViberUnavailable`: no connection, a timeout, a 5xx or a body that is not JSON, which
a caller may retry. The token is a ``SecretStr`` and appears in no log line or ``repr``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import aiohttp
from pydantic import SecretStr

__all__ = [
    "DEFAULT_EVENT_TYPES",
    "VIBER_API_URL",
    "FailedReceiver",
    "Status",
    "ViberApi",
    "ViberReply",
    "ViberUnavailable",
]

logger = logging.getLogger(__name__)

VIBER_API_URL = "https://chatapi.viber.com/pa/"
# What set_webhook subscribes to; conversation_started is how a join link's context arrives.
# ``message`` cannot be filtered out (Viber always sends it), listing it changes nothing.
DEFAULT_EVENT_TYPES = (
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
)


class Status(IntEnum):
    """Viber's ``status`` numbers (the REST bot API's error-code table)."""

    OK = 0
    INVALID_URL = 1
    INVALID_AUTH_TOKEN = 2
    BAD_DATA = 3
    MISSING_DATA = 4
    RECEIVER_NOT_REGISTERED = 5
    RECEIVER_NOT_SUBSCRIBED = 6
    PUBLIC_ACCOUNT_BLOCKED = 7
    PUBLIC_ACCOUNT_NOT_FOUND = 8
    PUBLIC_ACCOUNT_SUSPENDED = 9
    WEBHOOK_NOT_SET = 10
    RECEIVER_NO_SUITABLE_DEVICE = 11
    TOO_MANY_REQUESTS = 12
    API_VERSION_NOT_SUPPORTED = 13
    INCOMPATIBLE_WITH_VERSION = 14
    PUBLIC_ACCOUNT_NOT_AUTHORIZED = 15
    INCHAT_REPLY_MESSAGE_NOT_ALLOWED = 16
    PUBLIC_ACCOUNT_IS_NOT_INLINE = 17
    NO_PUBLIC_CHAT = 18
    CANNOT_SEND_BROADCAST = 19
    BROADCAST_NOT_ALLOWED = 20


class ViberUnavailable(Exception):
    """No answer from Viber (network, timeout, 5xx, not JSON): the call may be retried."""

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class FailedReceiver:
    """One entry of a broadcast's ``failed_list``."""

    receiver: str
    status: int
    status_message: str


@dataclass(frozen=True, slots=True)
class ViberReply:
    status: int
    status_message: str
    # Viber sends it as a JSON number of up to 19 digits; kept as its decimal text.
    message_token: str | None = None
    failed_list: tuple[FailedReceiver, ...] = ()
    body: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


class ViberApi:
    """One bot account's calls. ``base_url`` points tests at :mod:`fakes.viber`."""

    def __init__(
        self,
        auth_token: SecretStr,
        *,
        base_url: str = VIBER_API_URL,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._token = auth_token
        self._base = base_url.rstrip("/") + "/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"ViberApi(base_url={self._base!r})"

    @property
    def base_url(self) -> str:
        return self._base

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def call(self, method: str, payload: dict[str, Any]) -> ViberReply:
        """POST ``payload`` to ``method``; Viber's answer, refusals included."""
        headers = {
            "X-Viber-Auth-Token": self._token.get_secret_value(),
            "Content-Type": "application/json",
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with self._http().post(
                self._base + method, data=body, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                http_status = response.status
        except TimeoutError as exc:
            raise ViberUnavailable(f"{method}: timeout") from exc
        except aiohttp.ClientError as exc:
            raise ViberUnavailable(f"{method}: {type(exc).__name__}") from exc
        if http_status >= 500:
            raise ViberUnavailable(f"{method}: HTTP {http_status}", http_status=http_status)
        try:
            answer = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ViberUnavailable(
                f"{method}: HTTP {http_status}, not JSON", http_status=http_status
            ) from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), int):
            raise ViberUnavailable(
                f"{method}: HTTP {http_status}, no status", http_status=http_status
            )
        return _reply(answer)

    async def set_webhook(
        self,
        url: str,
        *,
        event_types: Sequence[str] = DEFAULT_EVENT_TYPES,
        send_name: bool = True,
        send_photo: bool = False,
    ) -> ViberReply:
        """Point the account's one webhook at ``url`` (``""`` removes it). Viber calls the URL
        with a ``webhook`` event first and refuses (status 1) when it does not answer 200."""
        payload: dict[str, Any] = {"url": url}
        if url:
            payload |= {
                "event_types": list(event_types),
                "send_name": send_name,
                "send_photo": send_photo,
            }
        return await self.call("set_webhook", payload)

    async def send_message(self, receiver: str, message: dict[str, Any]) -> ViberReply:
        return await self.call("send_message", {"receiver": receiver, **message})

    async def broadcast_message(
        self, receivers: Sequence[str], message: dict[str, Any]
    ) -> ViberReply:
        return await self.call("broadcast_message", {"broadcast_list": list(receivers), **message})

    async def get_account_info(self) -> ViberReply:
        return await self.call("get_account_info", {})


def _token(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value):
        return str(value)
    return None


def _reply(answer: dict[str, Any]) -> ViberReply:
    failed = []
    for entry in answer.get("failed_list") or ():
        if isinstance(entry, dict) and isinstance(entry.get("receiver"), str):
            status = entry.get("status")
            failed.append(
                FailedReceiver(
                    receiver=entry["receiver"],
                    status=status if isinstance(status, int) else -1,
                    status_message=str(entry.get("status_message", "")),
                )
            )
    return ViberReply(
        status=answer["status"],
        status_message=str(answer.get("status_message", "")),
        message_token=_token(answer.get("message_token")),
        failed_list=tuple(failed),
        body=answer,
    )
