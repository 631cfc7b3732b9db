"""A loopback fake of Google's OAuth token endpoint and the Wallet Objects REST API (v1).

Usage::

    async with FakeGoogleWallet(clock=clock) as google:
        key_file = google.new_service_account(tmp_path)   # JSON key file, like the console's
        ...point the client at google.api_url and google.token_url...

It answers the way Google does, as far as Google documents it: the token endpoint takes a
service account's RS256 JWT assertion (grant type ``jwt-bearer``), checks its signature against
the registered public key, its audience, scope and lifetime, and refuses in OAuth's JSON
(``{"error": "invalid_grant", "error_description": ...}``). The walletobjects endpoints want a
live bearer token (401 otherwise), answer errors in Google's JSON error shape, refuse a second
insert of an id with 409, a get or patch of an unknown id with 404, and the fourth
``TEXT_AND_NOTIFY`` message to one object within 24 hours with 403 ``quotaExceeded`` (the
wording of a real refusal). Time comes from the injectable ``clock``, so tests move it.

It also holds the issuer to Google's documented rate ("Calls to the Google Wallet API are rate
limited to 20 requests per second"): a walletobjects request beyond ``requests_per_second`` in
any rolling second is answered 429 ``RESOURCE_EXHAUSTED`` / ``rateLimitExceeded``, the shape of
Google's quota errors. That window runs on ``rate_clock`` (monotonic wall time by default: a
hand-moved clock does not move between two requests). ``rate_refusals`` and
``quota_refusals`` count both kinds of refusal.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .clock import FakeClock
from .loopback import LoopbackSite

__all__ = [
    "GOOGLE_TOKEN_URI",
    "NOTIFY_LIMIT",
    "WALLET_SCOPE",
    "FakeClock",
    "FakeGoogleWallet",
    "RecordedRequest",
    "ServiceAccountKey",
    "generate_rsa_pem",
]

WALLET_SCOPE: Final = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI: Final = "https://oauth2.googleapis.com/token"
# Audiences Google's token endpoint accepts for a service-account assertion.
_GOOGLE_AUDIENCES: Final = frozenset(
    {GOOGLE_TOKEN_URI, "https://www.googleapis.com/oauth2/v4/token",
     "https://accounts.google.com/o/oauth2/token"}
)  # fmt: skip
TOKEN_LIFETIME: Final = 3600
# An assertion may live at most an hour; Google allows a little clock skew.
MAX_ASSERTION_LIFETIME: Final = 3600
CLOCK_SKEW: Final = 300
NOTIFY_LIMIT: Final = 3
NOTIFY_WINDOW: Final = 24 * 3600
REQUESTS_PER_SECOND: Final = 20.0
MESSAGE_TYPES: Final = frozenset(
    {"MESSAGE_TYPE_UNSPECIFIED", "TEXT", "text", "EXPIRATION_NOTIFICATION",
     "expirationNotification", "TEXT_AND_NOTIFY"}
)  # fmt: skip
REVIEW_STATUSES: Final = frozenset(
    {"REVIEW_STATUS_UNSPECIFIED", "UNDER_REVIEW", "underReview", "APPROVED", "approved",
     "REJECTED", "rejected", "DRAFT", "draft"}
)  # fmt: skip
STATES: Final = frozenset(
    {"STATE_UNSPECIFIED", "ACTIVE", "active", "COMPLETED", "completed", "EXPIRED", "expired",
     "INACTIVE", "inactive"}
)  # fmt: skip
_RESOURCE_ID = re.compile(r"(\d+)\.[A-Za-z0-9._-]+")
_INVALID_CREDENTIALS: Final = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
_STATUS_NAMES: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_REASONS: Final = {
    400: "invalid",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "duplicate",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
_FAULT_MESSAGES: Final = {
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


class ApiError(Exception):
    """A walletobjects error answer, in Google's JSON error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        domain: str = "global",
        status: str | None = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "unknown")
        self.domain = domain
        # None leaves ``status`` out, as in the quota refusal Google was seen to send.
        self.status = _STATUS_NAMES.get(code, "UNKNOWN") if status == "" else status
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
        }
        if self.status is not None:
            error["status"] = self.status
        return {"error": error}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class ServiceAccountKey:
    """A generated service account: the key file's contents and the public half."""

    info: dict[str, str]
    public_key_pem: bytes

    @property
    def email(self) -> str:
        return self.info["client_email"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: Any
    status: int = 0
    response: Any = None
    authorization: str | None = None


@dataclass
class _Grant:
    email: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _Fault:
    status: int
    path_contains: str
    remaining: int
    retry_after: int | None = None


@dataclass
class _Account:
    email: str
    public_key: Any
    issuer_ids: set[str] = field(default_factory=set)


def generate_rsa_pem() -> str:
    """A fresh RSA private key as PKCS#8 PEM, the form of a service account's ``private_key``
    (for tests that need a key Google does not know)."""
    return _pkcs8_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _pkcs8_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class FakeGoogleWallet:
    def __init__(
        self,
        *,
        issuer_id: str = "3388000000022123456",
        clock: Callable[[], float] | None = None,
        requests_per_second: float | None = REQUESTS_PER_SECOND,
        rate_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``requests_per_second``: None accepts any rate."""
        self.issuer_id = issuer_id
        self.clock: Callable[[], float] = clock or FakeClock()
        self.requests_per_second = requests_per_second
        self.rate_clock = rate_clock
        # Times of the walletobjects requests accepted in the last second, per issuer.
        self._arrivals: dict[str, deque[float]] = defaultdict(deque)
        self.rate_refusals = 0
        self.quota_refusals = 0
        self.requests: list[RecordedRequest] = []
        self.classes: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        # object id -> times of the TEXT_AND_NOTIFY messages Google accepted
        self.notifications: dict[str, list[float]] = defaultdict(list)
        self._accounts: dict[str, _Account] = {}
        self._grants: dict[str, _Grant] = {}
        self._faults: list[_Fault] = []
        self._site = LoopbackSite("FakeGoogleWallet")
        self._serials = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeGoogleWallet:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_route("*", "/walletobjects/v1/{kind}", self._collection)
        app.router.add_route("*", "/walletobjects/v1/{kind}/{resource_id}", self._resource)
        app.router.add_route(
            "*", "/walletobjects/v1/{kind}/{resource_id}/{action}", self._resource_action
        )
        await self._site.start(app, shutdown=1.0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._site.stop()

    @property
    def base_url(self) -> str:
        return self._site.base_url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/walletobjects/v1"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    # -- setup and inspection ----------------------------------------------------------------

    def new_service_account(
        self,
        folder: Path | None = None,
        *,
        email: str = "wallet@stampbot-test.iam.gserviceaccount.com",
    ) -> ServiceAccountKey:
        """A fresh RSA service account allowed to write this issuer's passes.

        With ``folder`` its JSON key file is also written there as ``<email>.json``.
        """
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = _pkcs8_pem(key)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        info = {
            "type": "service_account",
            "project_id": "stampbot-test",
            "private_key_id": secrets.token_hex(20),
            "private_key": private_pem,
            "client_email": email,
            "client_id": str(100_000_000_000_000_000_000 + next(self._serials)),
            "token_uri": GOOGLE_TOKEN_URI,
        }
        self._accounts[email] = _Account(email, key.public_key(), issuer_ids={self.issuer_id})
        if folder is not None:
            (folder / f"{email}.json").write_text(json.dumps(info))
        return ServiceAccountKey(info, public_pem)

    def token_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/token"]

    def api_requests(self, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path != "/token" and (method is None or r.method == method)
        ]

    def revoke_tokens(self) -> None:
        """Every access token handed out so far stops working (answers 401)."""
        self._grants.clear()

    def fail(
        self,
        status: int,
        *,
        path_contains: str = "/walletobjects/",
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` matching requests are answered with ``status`` (429, 500, 503)."""
        self._faults.append(_Fault(status, path_contains, times, retry_after))

    def messages(self, object_id: str) -> list[dict[str, Any]]:
        return list(self.objects.get(object_id, {}).get("messages", []))

    # -- OAuth 2.0 token endpoint ------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        record = RecordedRequest("POST", "/token", {k: str(v) for k, v in form.items()})
        self.requests.append(record)
        try:
            answer = self._grant(form)
        except OAuthError as error:
            record.status = error.status
            record.response = {"error": error.error, "error_description": error.description}
            return web.json_response(record.response, status=error.status)
        record.status, record.response = 200, answer
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    def _grant(self, form: dict[str, Any]) -> dict[str, Any]:
        grant_type = str(form.get("grant_type", ""))
        if not grant_type:
            raise OAuthError("invalid_request", "Missing required parameter: grant_type")
        if grant_type != JWT_BEARER:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = str(form.get("assertion", ""))
        if not assertion:
            raise OAuthError("invalid_request", "Missing required parameter: assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "Invalid JWT: malformed assertion") from exc
        if header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        account = self._accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        try:
            jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                # Times are checked below against this fake's clock, not the wall clock.
                options={"verify_exp": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "Invalid JWT Signature.") from exc
        audience = claims.get("aud")
        if audience not in _GOOGLE_AUDIENCES | {self.token_url}:
            raise OAuthError(
                "invalid_grant",
                f"Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URI}",
            )
        now = self.clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(iat, int | float)
            or not isinstance(exp, int | float)
            or exp - iat > MAX_ASSERTION_LIFETIME
            or iat > now + CLOCK_SKEW
            or exp < now - CLOCK_SKEW
        ):
            raise OAuthError(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = f"ya29.fake-{secrets.token_urlsafe(24)}"
        self._grants[token] = _Grant(account.email, scopes, now + TOKEN_LIFETIME)
        return {"access_token": token, "expires_in": TOKEN_LIFETIME - 1, "token_type": "Bearer"}

    # -- walletobjects -----------------------------------------------------------------------

    async def _collection(self, request: web.Request) -> web.Response:
        return await self._serve(request, request.match_info["kind"], None, None)

    async def _resource(self, request: web.Request) -> web.Response:
        info = request.match_info
        return await self._serve(request, info["kind"], unquote(info["resource_id"]), None)

    async def _resource_action(self, request: web.Request) -> web.Response:
        info = request.match_info
        resource_id = unquote(info["resource_id"])
        return await self._serve(request, info["kind"], resource_id, info["action"])

    async def _serve(
        self, request: web.Request, kind: str, resource_id: str | None, action: str | None
    ) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = RecordedRequest(
            request.method, request.path, body, authorization=request.headers.get("Authorization")
        )
        self.requests.append(record)
        headers: dict[str, str] = {}
        try:
            grant = self._authorize(request.headers.get("Authorization"))
            self._limit_rate(self._issuer_of(grant, resource_id, body))
            self._inject_fault(request.path)
            if isinstance(body, str):
                raise ApiError(400, "Invalid JSON payload received.")
            status, answer = self._dispatch(request.method, kind, resource_id, action, body, grant)
        except ApiError as error:
            status, answer, headers = error.code, error.payload(), error.headers
        record.status, record.response = status, answer
        return web.json_response(answer, status=status, headers=headers)

    def _authorize(self, header: str | None) -> _Grant:
        scheme, _, token = (header or "").partition(" ")
        grant = self._grants.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires_at <= self.clock():
            raise ApiError(
                401,
                _INVALID_CREDENTIALS,
                headers={
                    "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                    'error="invalid_token"'
                },
            )
        if WALLET_SCOPE not in grant.scopes:
            raise ApiError(
                403,
                "Request had insufficient authentication scopes.",
                reason="insufficientPermissions",
            )
        return grant

    def _issuer_of(self, grant: _Grant, resource_id: str | None, body: Any) -> str:
        """The issuer a request is counted against: its resource's, else the account's."""
        named = resource_id or (body.get("id") if isinstance(body, dict) else None)
        match = _RESOURCE_ID.fullmatch(str(named or ""))
        if match is not None:
            return match.group(1)
        return min(self._accounts[grant.email].issuer_ids, default=self.issuer_id)

    def _limit_rate(self, issuer_id: str) -> None:
        if self.requests_per_second is None:
            return
        now = self.rate_clock()
        window = self._arrivals[issuer_id]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.requests_per_second:
            self.rate_refusals += 1
            # Google's quota errors: 429, RESOURCE_EXHAUSTED, reason rateLimitExceeded.
            raise ApiError(
                429,
                "Quota exceeded for quota metric 'Requests' and limit 'Requests per second' of "
                f"service 'walletobjects.googleapis.com' for issuer '{issuer_id}'.",
                reason="rateLimitExceeded",
            )
        window.append(now)

    def _inject_fault(self, path: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.path_contains in path:
                fault.remaining -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                message = _FAULT_MESSAGES.get(fault.status, "Backend Error")
                raise ApiError(fault.status, message, headers=headers)

    def _dispatch(
        self,
        method: str,
        kind: str,
        resource_id: str | None,
        action: str | None,
        body: Any,
        grant: _Grant,
    ) -> tuple[int, dict[str, Any]]:
        if kind == "loyaltyClass":
            store, label = self.classes, "Wallet Object Class"
        elif kind == "loyaltyObject":
            store, label = self.objects, "Wallet Object"
        else:
            raise ApiError(404, f"Method not found: {kind}")
        if resource_id is None:
            if method != "POST":
                raise ApiError(405, "Method Not Allowed")
            return 200, self._insert(kind, store, label, body, grant)
        self._check_id(resource_id, grant)
        if action is None and method == "GET":
            return 200, copy.deepcopy(self._existing(store, label, resource_id))
        if action is None and method in ("PATCH", "PUT"):
            return 200, self._patch(kind, store, label, resource_id, body, replace=method == "PUT")
        if action == "addMessage" and method == "POST":
            return 200, self._add_message(kind, store, label, resource_id, body)
        raise ApiError(404, f"Method not found: {method} {kind}/{action or ''}")

    def _check_id(self, resource_id: str, grant: _Grant) -> None:
        match = _RESOURCE_ID.fullmatch(resource_id)
        if match is None:
            raise ApiError(
                400,
                f"Request contains an invalid argument. Invalid resource ID: {resource_id}",
            )
        if match.group(1) not in self._accounts[grant.email].issuer_ids:
            raise ApiError(403, "Permission Denied")

    @staticmethod
    def _existing(
        store: dict[str, dict[str, Any]], label: str, resource_id: str
    ) -> dict[str, Any]:
        found = store.get(resource_id)
        if found is None:
            raise ApiError(404, f"{label} {resource_id} not found.")
        return found

    def _validate(self, kind: str, resource: dict[str, Any]) -> None:
        def missing(name: str) -> ApiError:
            return ApiError(400, f"Request contains an invalid argument. Missing {name}.")

        _check_localized_strings(resource, "resource")
        if kind == "loyaltyClass":
            for name in ("issuerName", "reviewStatus"):
                if not resource.get(name):
                    raise missing(name)
            if resource["reviewStatus"] not in REVIEW_STATUSES:
                raise _bad_enum("review_status", resource["reviewStatus"])
            logo = resource.get("programLogo") or {}
            if not (logo.get("sourceUri") or {}).get("uri"):
                raise missing("programLogo.sourceUri.uri")
            color = resource.get("hexBackgroundColor")
            if color is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3}", color):
                raise ApiError(400, f"Invalid hex color: {color}")
            _check_merchant_locations(resource.get("merchantLocations"))
        else:
            if not resource.get("classId"):
                raise missing("classId")
            if resource["classId"] not in self.classes:
                raise ApiError(404, f"Wallet Object Class {resource['classId']} not found.")
            if not resource.get("state"):
                raise missing("state")
            if resource["state"] not in STATES:
                raise _bad_enum("state", resource["state"])
            barcode = resource.get("barcode")
            if barcode is not None and not barcode.get("type"):
                raise missing("barcode.type")

    def _insert(
        self,
        kind: str,
        store: dict[str, dict[str, Any]],
        label: str,
        body: Any,
        grant: _Grant,
    ) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("id"):
            raise ApiError(400, "Request contains an invalid argument. Missing id.")
        resource_id = str(body["id"])
        self._check_id(resource_id, grant)
        if resource_id in store:
            raise ApiError(409, f"{label} {resource_id} already exists.")
        resource = copy.deepcopy(body)
        self._validate(kind, resource)
        resource["kind"] = f"walletobjects#{kind}"
        if kind == "loyaltyObject":
            resource.setdefault("hasUsers", False)
        resource["version"] = "1"
        store[resource_id] = resource
        return copy.deepcopy(resource)

    def _patch(
        self,
        kind: str,
        store: dict[str, dict[str, Any]],
        label: str,
        resource_id: str,
        body: Any,
        *,
        replace: bool,
    ) -> dict[str, Any]:
        current = self._existing(store, label, resource_id)
        if not isinstance(body, dict):
            raise ApiError(400, "Request contains an invalid argument.")
        if body.get("id", resource_id) != resource_id:
            raise ApiError(
                400, f"Request contains an invalid argument. Invalid resource ID: {body['id']}"
            )
        if replace:
            updated = copy.deepcopy(body)
            for kept in ("id", "kind", "messages", "hasUsers"):
                if kept in current:
                    updated.setdefault(kept, current[kept])
        else:
            updated = _merge(copy.deepcopy(current), body)
        self._validate(kind, updated)
        updated["version"] = str(int(current.get("version", "1")) + 1)
        store[resource_id] = updated
        return copy.deepcopy(updated)

    def _add_message(
        self,
        kind: str,
        store: dict[str, dict[str, Any]],
        label: str,
        resource_id: str,
        body: Any,
    ) -> dict[str, Any]:
        resource = self._existing(store, label, resource_id)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            raise ApiError(400, "Request contains an invalid argument. Missing message.")
        message_type = message.get("messageType", "MESSAGE_TYPE_UNSPECIFIED")
        if message_type not in MESSAGE_TYPES:
            raise _bad_enum("message.message_type", message_type)
        if message_type == "TEXT_AND_NOTIFY":
            now = self.clock()
            recent = [t for t in self.notifications[resource_id] if t > now - NOTIFY_WINDOW]
            self.notifications[resource_id] = recent
            if len(recent) >= NOTIFY_LIMIT:
                self.quota_refusals += 1
                # Worded as a real refusal reported by an issuer (edutap-eu/edutap.wallet_google
                # issue 3): no "status" member, reason quotaExceeded in domain walletobjects.
                raise ApiError(
                    403,
                    f"Quota exceeded for issuer {self.issuer_id} when adding TEXT_AND_NOTIFY "
                    f"message to object {resource_id}.",
                    reason="quotaExceeded",
                    domain="walletobjects",
                    status=None,
                )
            recent.append(now)
        stored = copy.deepcopy(message)
        stored["kind"] = "walletobjects#walletObjectMessage"
        resource.setdefault("messages", []).append(stored)
        return {"resource": copy.deepcopy(resource)}


def _check_merchant_locations(places: Any) -> None:
    """MerchantLocation: at most ten, each with a latitude in [-90, 90] and a longitude in
    [-180, 180] ("Values outside these bounds will be rejected")."""
    if places is None:
        return
    if not isinstance(places, list):
        raise ApiError(
            400, "Invalid JSON payload received. Expected a list at 'merchant_locations'."
        )
    if len(places) > 10:
        raise ApiError(400, "Request contains an invalid argument. At most 10 merchantLocations.")
    for index, place in enumerate(places):
        where = f"merchant_locations[{index}]"
        if not isinstance(place, dict):
            raise ApiError(400, f"Invalid JSON payload received. Expected an object at '{where}'.")
        for name in place:
            if name not in ("latitude", "longitude"):
                raise _unknown(name, where)
        latitude, longitude = place.get("latitude"), place.get("longitude")
        if not isinstance(latitude, int | float) or not -90 <= latitude <= 90:
            raise ApiError(400, f"Request contains an invalid argument. Invalid {where}.latitude.")
        if not isinstance(longitude, int | float) or not -180 <= longitude <= 180:
            raise ApiError(
                400, f"Request contains an invalid argument. Invalid {where}.longitude."
            )


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: nested messages merge field by field, lists and scalars replace."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            current[key] = _merge(current[key], value)
        else:
            current[key] = copy.deepcopy(value)
    return current


# Fields of type LocalizedString: every ``localized…`` one, and image descriptions.
_LOCALIZED_FIELD = re.compile(r"localized[A-Z]\w*|contentDescription")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_LOCALIZED_KEYS: Final = frozenset({"kind", "defaultValue", "translatedValues"})
_TRANSLATED_KEYS: Final = frozenset({"kind", "language", "value"})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _check_localized_strings(node: Any, path: str) -> None:
    """Refuse a malformed LocalizedString anywhere in a resource, as the API's parser does.

    Unknown members are a JSON-payload error; a missing default, a TranslatedString without
    a BCP 47 language or with a non-string value, and two translations for one language are
    invalid arguments.
    """
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_localized_strings(item, f"{path}[{index}]")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}.{_snake(key)}"
        if _LOCALIZED_FIELD.fullmatch(key):
            _check_localized(value, where)
        else:
            _check_localized_strings(value, where)


def _unknown(name: str, where: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field.",
    )


def _check_localized(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid JSON payload received. Expected an object at '{where}'.")
    for name in value:
        if name not in _LOCALIZED_KEYS:
            raise _unknown(name, where)
    if "defaultValue" not in value:
        raise ApiError(
            400, f"Request contains an invalid argument. Missing {where}.default_value."
        )
    translations = value.get("translatedValues", [])
    if not isinstance(translations, list):
        raise ApiError(
            400, f"Invalid JSON payload received. Expected a list at '{where}.translated_values'."
        )
    seen: set[str] = set()
    for index, translated in enumerate([value["defaultValue"], *translations]):
        at = f"{where}.default_value" if index == 0 else f"{where}.translated_values[{index - 1}]"
        if not isinstance(translated, dict):
            raise ApiError(400, f"Invalid JSON payload received. Expected an object at '{at}'.")
        for name in translated:
            if name not in _TRANSLATED_KEYS:
                raise _unknown(name, at)
        language, text = translated.get("language"), translated.get("value")
        if not isinstance(language, str) or not _LANGUAGE_TAG.fullmatch(language):
            raise ApiError(
                400, f"Request contains an invalid argument. Invalid language at {at}.language."
            )
        if not isinstance(text, str):
            raise ApiError(400, f"Invalid value at '{at}.value' (TYPE_STRING), {json.dumps(text)}")
        if index > 0 and language.lower() in seen:
            raise ApiError(
                400,
                f"Request contains an invalid argument. Duplicate language {language} at {at}.",
            )
        seen.add(language.lower())


def _bad_enum(path: str, value: object) -> ApiError:
    return ApiError(
        400,
        f"Invalid value at '{path}' (TYPE_ENUM), {json.dumps(value)}",
    )
