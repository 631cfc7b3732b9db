"""A small client for the Wallet Objects REST API v1 (loyalty classes and objects).

Only what stampbot uses: insert, get and patch of ``loyaltyClass`` and ``loyaltyObject``, and
``loyaltyObject/{id}/addMessage``. Errors arrive as :class:`GoogleApiError` carrying Google's
error JSON (``{"error": {"code", "message", "status", "errors": [{"reason", ...}]}}``). A 401
means the access token died early (revoked, clock skew): the token is dropped and the request
made once more with a fresh one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import aiohttp

from channels.google_wallet.auth import AccessTokens

__all__ = ["DEFAULT_API_URL", "GoogleApiError", "Upsert", "WalletObjectsApi"]

DEFAULT_API_URL = "https://walletobjects.googleapis.com/walletobjects/v1"


class Upsert(StrEnum):
    INSERTED = "inserted"
    PATCHED = "patched"


class GoogleApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str = "",
        google_status: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {reason or google_status}: {message}".strip())
        self.status = status
        self.message = message
        self.reason = reason
        self.google_status = google_status
        self.retry_after = retry_after

    @property
    def quota_exceeded(self) -> bool:
        """Google's refusal of a notifying message beyond the per-pass quota."""
        return self.status == 403 and self.reason == "quotaExceeded"

    @classmethod
    def from_response(cls, status: int, text: str, headers: Mapping[str, str]) -> GoogleApiError:
        retry_after = _seconds(headers.get("Retry-After"))
        try:
            error = json.loads(text).get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            # Google's front answers some failures (502, 504) with an HTML page.
            return cls(status, " ".join(text.split())[:200], retry_after=retry_after)
        details = error.get("errors")
        first = details[0] if isinstance(details, list) and details else {}
        reason = first.get("reason", "") if isinstance(first, dict) else ""
        return cls(
            status,
            str(error.get("message", "")),
            reason=str(reason),
            google_status=str(error.get("status", "")),
            retry_after=retry_after,
        )


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: rare from Google, and the engine's backoff is fine


class WalletObjectsApi:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: AccessTokens,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 30.0,
        throttle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``throttle`` is awaited before every request (the issuer's rate limit)."""
        self.session = session
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.throttle = throttle

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{path}"
        for attempt in (1, 2):
            token = await self.tokens.get()
            headers = {"Authorization": f"Bearer {token}"}
            if self.throttle is not None:
                await self.throttle()
            async with self.session.request(
                method, url, json=body, headers=headers, timeout=self.timeout
            ) as response:
                text = await response.text()
                if response.status == 401 and attempt == 1:
                    self.tokens.invalidate(token)
                    continue
                if response.status >= 400:
                    raise GoogleApiError.from_response(response.status, text, response.headers)
            try:
                answer = json.loads(text) if text else {}
            except ValueError:
                raise GoogleApiError(response.status, "answer is not JSON") from None
            return answer if isinstance(answer, dict) else {}
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # -- classes -----------------------------------------------------------------------------

    async def get_class(self, class_id: str) -> dict[str, Any]:
        return await self.request("GET", f"loyaltyClass/{_id(class_id)}")

    async def insert_class(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "loyaltyClass", body)

    async def patch_class(self, class_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("PATCH", f"loyaltyClass/{_id(class_id)}", body)

    async def upsert_class(self, body: Mapping[str, Any]) -> Upsert:
        return await self._upsert("loyaltyClass", body)

    # -- objects -----------------------------------------------------------------------------

    async def get_object(self, object_id: str) -> dict[str, Any]:
        return await self.request("GET", f"loyaltyObject/{_id(object_id)}")

    async def insert_object(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "loyaltyObject", body)

    async def patch_object(self, object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("PATCH", f"loyaltyObject/{_id(object_id)}", body)

    async def upsert_object(self, body: Mapping[str, Any]) -> Upsert:
        return await self._upsert("loyaltyObject", body)

    async def add_message(self, object_id: str, message: Mapping[str, Any]) -> dict[str, Any]:
        """``message`` is a Wallet ``Message``: header, body, id, messageType."""
        path = f"loyaltyObject/{_id(object_id)}/addMessage"
        return await self.request("POST", path, {"message": dict(message)})

    async def _upsert(self, collection: str, body: Mapping[str, Any]) -> Upsert:
        # Insert, and patch what already exists (409): repeatable from any state, so a lost
        # answer or a second worker doing the same never leaves a half-made pass.
        try:
            await self.request("POST", collection, body)
        except GoogleApiError as error:
            if error.status != 409:
                raise
        else:
            return Upsert.INSERTED
        await self.request("PATCH", f"{collection}/{_id(str(body['id']))}", body)
        return Upsert.PATCHED


def _id(resource_id: str) -> str:
    return quote(resource_id, safe="")
