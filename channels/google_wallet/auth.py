"""Service-account credentials and the OAuth access tokens they buy.

Google's two-legged flow for a service account: sign a short JWT (RS256, ``iss`` = the account's
email, ``scope``, ``aud`` = the token endpoint, one hour at most) and trade it at the token
endpoint (grant type ``jwt-bearer``) for a bearer token that lives about an hour. The token is
kept and reused until shortly before it expires; concurrent senders wait for one refresh rather
than each fetching their own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "GOOGLE_TOKEN_URI",
    "JWT_BEARER",
    "WALLET_SCOPE",
    "AccessTokens",
    "ServiceAccount",
    "ServiceAccountError",
    "TokenError",
]

WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
ASSERTION_LIFETIME = 3600
# A token is replaced this long before Google says it expires, so a request never leaves with
# a token that dies on the way.
REFRESH_MARGIN = 300.0


class ServiceAccountError(ValueError):
    """The key file is missing, unreadable or not a service-account key."""


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    client_email: str
    token_uri: str
    private_key_id: str | None
    # Never printed: repr=False keeps it out of logs and tracebacks of the dataclass.
    private_key: RSAPrivateKey = field(repr=False)

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> ServiceAccount:
        email, pem = info.get("client_email"), info.get("private_key")
        if not isinstance(email, str) or not email or not isinstance(pem, str) or not pem:
            raise ServiceAccountError(
                "not a service-account key: client_email or private_key missing"
            )
        # Here, not at the top: cryptography's bindings cost ~8 MB of idle memory, and a
        # process without Google Wallet configured never reads a key.
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ServiceAccountError("the service-account private_key is not a PEM key") from None
        if not isinstance(key, RSAPrivateKey):
            raise ServiceAccountError("the service-account private_key is not an RSA key")
        token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
        key_id = info.get("private_key_id")
        return cls(
            client_email=email,
            token_uri=str(token_uri),
            private_key_id=str(key_id) if key_id else None,
            private_key=key,
        )

    @classmethod
    def from_file(cls, path: Path) -> ServiceAccount:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ServiceAccountError(
                f"cannot read the service-account key {path}: {exc.strerror}"
            ) from None
        except ValueError:
            raise ServiceAccountError(f"the service-account key {path} is not JSON") from None
        if not isinstance(info, dict):
            raise ServiceAccountError(f"the service-account key {path} is not a JSON object")
        return cls.from_info(info)

    def sign(self, claims: Mapping[str, Any]) -> str:
        """An RS256 JWT over ``claims``, naming this key in ``kid`` as Google's libraries do."""
        import jwt  # here: it imports cryptography's bindings (idle memory, see from_info)

        headers = {"kid": self.private_key_id} if self.private_key_id else None
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers=headers)


class TokenError(Exception):
    """The token endpoint refused or failed. ``transient`` when trying later may help."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}".strip())
        self.status = status
        self.error = error
        self.description = description

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500


@dataclass(slots=True)
class _Token:
    value: str
    refresh_at: float


class AccessTokens:
    """Bearer tokens for one service account and scope, fetched once and reused."""

    def __init__(
        self,
        account: ServiceAccount,
        session: aiohttp.ClientSession,
        *,
        token_url: str | None = None,
        scope: str = WALLET_SCOPE,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.account = account
        self.session = session
        self.token_url = token_url or account.token_uri
        self.scope = scope
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        token = self._token
        if token is not None and self.clock() < token.refresh_at:
            return token.value
        async with self._lock:
            token = self._token
            if token is None or self.clock() >= token.refresh_at:
                token = self._token = await self._fetch()
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` (refused by the API) unless a newer token already replaced it."""
        if self._token is not None and self._token.value == value:
            self._token = None

    def assertion(self) -> str:
        now = int(self.clock())
        return self.account.sign(
            {
                "iss": self.account.client_email,
                "scope": self.scope,
                "aud": self.token_url,
                "iat": now,
                "exp": now + ASSERTION_LIFETIME,
            }
        )

    async def _fetch(self) -> _Token:
        started = self.clock()
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        async with self.session.post(self.token_url, data=form, timeout=self.timeout) as response:
            text = await response.text()
            status = response.status
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TokenError(status, "invalid_response", text[:200])
        if status != 200:
            raise TokenError(
                status, str(answer.get("error", "")), str(answer.get("error_description", ""))
            )
        value, expires_in = answer.get("access_token"), answer.get("expires_in", 3600)
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise TokenError(status, "invalid_response", "no access_token in the answer")
        # Counted from before the request: the token's life started while it travelled.
        return _Token(value, started + max(0.0, float(expires_in) - REFRESH_MARGIN))
