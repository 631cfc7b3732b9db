"""A loopback fake of APNs: HTTP/2 over TLS, token auth, Apple's status codes and reasons.

Usage::

    key = generate_p8_key()
    async with FakeAPNs(topic="pass.com.example.card") as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        token = fake.add_device()
        ...  # point a client at 127.0.0.1:fake.port, trusting fake.ca_file
        assert fake.pushes[0].payload == {}

hypercorn serves a small ASGI app with a certificate signed by a CA made at start (``ca_file``);
ALPN offers ``h2`` first. Requests are checked the way APNs documents ("Handling notification
responses from APNs"): ``POST /3/device/<token>`` (405 MethodNotAllowed, 404 BadPath, 400
MissingDeviceToken), ``authorization: bearer <ES256 JWT>`` verified against the registered key
(403 MissingProviderToken / InvalidProviderToken / ExpiredProviderToken past an hour, 429
TooManyProviderTokenUpdates when a connection changes token within 20 minutes), ``apns-topic``
(400 MissingTopic / BadTopic / TopicDisallowed), the optional ``apns-*`` headers (BadMessageId,
BadPriority, InvalidPushType, BadExpirationDate, BadCollapseId, DuplicateHeaders), the payload
(400 PayloadEmpty, 413 PayloadTooLarge past 4096 bytes) and the device (400 BadDeviceToken,
DeviceTokenNotForTopic). Apple documents no reason for a payload that is not a JSON object;
the fake answers 400 BadPayload. Every answer carries ``apns-id`` (the request's, or a new
upper-case UUID as APNs makes), errors a JSON body ``{"reason": ...}``, 410 also ``timestamp``.
An HTTP/1.1 request is answered 505: APNs speaks HTTP/2 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import random
import re
import socket
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework

    from channels.apple_wallet.apns import ApnsClient

__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_TEAM_ID",
    "MAX_PAYLOAD",
    "ApnsPush",
    "ApnsRequest",
    "FakeAPNs",
    "RandomFailures",
    "generate_p8_key",
]

DEFAULT_KEY_ID: Final = "ABC123DEFG"
DEFAULT_TEAM_ID: Final = "DEF123GHIJ"
MAX_PAYLOAD: Final = 4096
TOKEN_MAX_AGE: Final = 60 * 60
TOKEN_MIN_REFRESH: Final = 20 * 60
PUSH_TYPES: Final = frozenset(
    {
        "alert", "background", "location", "voip", "complication", "fileprovider", "mdm",
        "liveactivity", "pushtotalk", "controls", "widgets",
    }
)  # fmt: skip
_PATH = re.compile(r"/3/device/(?P<token>[^/]*)")
_TOPIC = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]*")
_HEX_TOKEN = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SINGLE_HEADERS: Final = (
    "authorization", "apns-topic", "apns-id", "apns-priority", "apns-push-type",
    "apns-expiration", "apns-collapse-id",
)  # fmt: skip

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def generate_p8_key() -> str:
    """A fresh EC P-256 private key as PKCS#8 PEM, the form of Apple's AuthKey_<id>.p8 file."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True, slots=True)
class ApnsRequest:
    """Every request the fake answered, accepted or not."""

    method: str
    path: str
    http_version: str
    status: int
    reason: str
    apns_id: str
    # (host, port) of the client: equal for requests on one connection.
    connection: tuple[str, int]


@dataclass(frozen=True, slots=True)
class ApnsPush:
    """An accepted push, as APNs would pass it on to the device."""

    token: str
    topic: str
    headers: dict[str, str]
    body: bytes
    payload: Any
    apns_id: str
    http_version: str
    connection: tuple[str, int]
    jwt_header: dict[str, Any]
    jwt_claims: dict[str, Any]


@dataclass(slots=True)
class _Answer:
    status: int
    reason: str
    timestamp_ms: int | None = None
    times: int | None = None  # None: until cleared


@dataclass(slots=True)
class _Key:
    team_id: str
    public_key: ec.EllipticCurvePublicKey


class _Refused(Exception):
    def __init__(self, status: int, reason: str, timestamp_ms: int | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.timestamp_ms = timestamp_ms


@dataclass(slots=True)
class _Device:
    topic: str
    unregistered_ms: int | None = None


@dataclass
class RandomFailures:
    """Each push meets a fault with probability ``rate``: one of ``answers`` (status, reason)
    instead of 200, or, when ``late_by`` is set, the push taken and its 200 held back that many
    seconds (past the client's timeout it never hears it). ``taken`` counts them by kind."""

    rate: float
    answers: tuple[tuple[int, str], ...]
    late_by: float | None
    rng: random.Random
    taken: Counter[str] = field(default_factory=Counter)

    def draw(self) -> tuple[int, str] | float | None:
        if self.rng.random() >= self.rate:
            return None
        choices: list[tuple[int, str] | float] = list(self.answers)
        if self.late_by is not None:
            choices.append(self.late_by)
        chosen = self.rng.choice(choices)
        self.taken["late" if isinstance(chosen, float) else str(chosen[0])] += 1
        return chosen


@dataclass(slots=True)
class _ConnectionToken:
    jwt: str
    iat: int


class FakeAPNs:
    def __init__(
        self,
        *,
        topic: str = "pass.com.example.stampbot",
        clock: Callable[[], float] = time.time,
        idle_timeout: float = 5.0,
        alpn_protocols: tuple[str, ...] = ("h2", "http/1.1"),
    ) -> None:
        self.topics: set[str] = {topic}
        self.topic = topic
        self.clock = clock
        self.idle_timeout = idle_timeout
        # What the TLS handshake offers; ("http/1.1",) plays a server that never speaks HTTP/2.
        self.alpn_protocols = alpn_protocols
        self.pushes: list[ApnsPush] = []
        self.requests: list[ApnsRequest] = []
        self.port = 0
        self.ca_file = Path()
        self._keys: dict[str, _Key] = {}
        self._devices: dict[str, _Device] = {}
        self._answers: dict[str, deque[_Answer]] = defaultdict(deque)
        self._holds: dict[str, asyncio.Event] = {}
        self.random_failures: RandomFailures | None = None
        self._connection_tokens: dict[tuple[str, int], _ConnectionToken] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._shutdown: asyncio.Event | None = None
        self._server: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeAPNs:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-apns-")
        folder = Path(self._tmp.name)
        self.ca_file, certfile, keyfile = _write_certificates(folder)
        # Listening before hypercorn takes the socket: the port is known and connects queue.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{listener.detach()}"]
        config.certfile = str(certfile)
        config.keyfile = str(keyfile)
        config.alpn_protocols = list(self.alpn_protocols)
        config.keep_alive_timeout = self.idle_timeout
        # hypercorn's cap (1000) would drop the stream that crosses it unanswered; APNs keeps
        # connections for as long as they are used.
        config.keep_alive_max_requests = 2**31
        config.graceful_timeout = 1.0
        config.include_server_header = False
        config.accesslog = None
        self._shutdown = asyncio.Event()
        self._server = asyncio.create_task(
            serve(
                cast("ASGIFramework", self._app),
                config,
                shutdown_trigger=self._shutdown.wait,
                mode="asgi",
            )
        )

    async def stop(self) -> None:
        for event in self._holds.values():
            event.set()
        if self._shutdown is not None and self._server is not None:
            self._shutdown.set()
            await self._server
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- what tests set up -----------------------------------------------------------------

    def register_key(
        self,
        key_id: str = DEFAULT_KEY_ID,
        team_id: str = DEFAULT_TEAM_ID,
        key: str | ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        """Trust ``key`` (PEM of the .p8 or of its public key, or a key object; a new one if
        omitted) for tokens with ``kid`` = ``key_id``, ``iss`` = ``team_id``. Returns the
        private key PEM when the fake made it, else ``""``."""
        made = ""
        if key is None:
            key = made = generate_p8_key()
        public_key = _public_key(key)
        self._keys[key_id] = _Key(team_id, public_key)
        return made

    def make_client(
        self,
        key: str,
        *,
        key_id: str = DEFAULT_KEY_ID,
        team_id: str = DEFAULT_TEAM_ID,
        clock: Callable[[], float] | None = None,
    ) -> ApnsClient:
        """stampbot's real APNs client wired to this server for the fake's topic, signing with
        ``key`` (the PEM :meth:`register_key` returned); close it with ``async with``."""
        from pydantic import SecretStr

        from channels.apple_wallet.apns import ApnsClient, ApnsCredentials

        return ApnsClient(
            ApnsCredentials(key_id, team_id, SecretStr(key)),
            topic=self.topic,
            host="127.0.0.1",
            port=self.port,
            ca_file=self.ca_file,
            clock=clock or time.time,
        )

    def allow_topic(self, topic: str) -> None:
        self.topics.add(topic)

    def add_device(self, token: str | None = None, *, topic: str | None = None) -> str:
        """A device push token APNs knows, for ``topic`` (the fake's topic by default)."""
        token = token or uuid.uuid4().hex + uuid.uuid4().hex
        self._devices[token] = _Device(topic or self.topic)
        return token

    def unregister(self, token: str, at: dt.datetime | None = None) -> None:
        """The pass was removed from the device: 410 Unregistered with ``at`` (default now)."""
        moment = at.timestamp() if at else self.clock()
        self._devices.setdefault(token, _Device(self.topic)).unregistered_ms = int(moment * 1000)

    def fail(self, token: str, status: int, reason: str, *, times: int | None = None) -> None:
        """Answer pushes to ``token`` with ``status`` and ``reason`` (``times`` times, or until
        :meth:`clear_failures`), after every check a real request passes."""
        self._answers[token].append(_Answer(status, reason, times=times))

    def clear_failures(self, token: str | None = None) -> None:
        if token is None:
            self._answers.clear()
            self.random_failures = None
        else:
            self._answers.pop(token, None)

    def fail_at_random(
        self,
        rate: float,
        answers: tuple[tuple[int, str], ...] = ((429, "TooManyRequests"),),
        *,
        late_by: float | None = None,
        seed: int | None = None,
    ) -> RandomFailures:
        """From now on answer a share ``rate`` of the pushes (that pass every check) with one
        of ``answers``, or late by ``late_by`` seconds; :meth:`clear_failures` ends it."""
        self.random_failures = RandomFailures(rate, answers, late_by, random.Random(seed))  # noqa: S311
        return self.random_failures

    def hold(self, token: str) -> None:
        """Keep pushes to ``token`` unanswered until :meth:`release`."""
        self._holds[token] = asyncio.Event()

    def release(self, token: str) -> None:
        if event := self._holds.pop(token, None):
            event.set()

    def pushes_to(self, token: str) -> list[ApnsPush]:
        return [push for push in self.pushes if push.token == token]

    # --- the server --------------------------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        header_list = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = dict(header_list)
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        client = scope.get("client") or ("", 0)
        connection = (str(client[0]), int(client[1]))
        try:
            push = self._check(scope, header_list, headers, bytes(body), apns_id, connection)
            if (event := self._holds.get(push.token)) is not None:
                await event.wait()
            self._refuse_if_programmed(push.token)
            drawn = None if self.random_failures is None else self.random_failures.draw()
            if isinstance(drawn, tuple):
                raise _Refused(*drawn)
        except _Refused as refused:
            self._record(scope, refused.status, refused.reason, apns_id, connection)
            answer: dict[str, Any] = {"reason": refused.reason}
            if refused.timestamp_ms is not None:
                answer["timestamp"] = refused.timestamp_ms
            await _respond(send, refused.status, apns_id, json.dumps(answer).encode())
            return
        self.pushes.append(push)
        self._record(scope, 200, "", apns_id, connection)
        if isinstance(drawn, float) and self._shutdown is not None:
            # The push went; the answer comes too late, if at all (at once when stopping).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._shutdown.wait(), drawn)
        await _respond(send, 200, apns_id, b"")

    def _record(
        self, scope: Scope, status: int, reason: str, apns_id: str, connection: tuple[str, int]
    ) -> None:
        self.requests.append(
            ApnsRequest(
                scope["method"],
                scope["path"],
                str(scope.get("http_version", "")),
                status,
                reason,
                apns_id,
                connection,
            )
        )

    def _check(
        self,
        scope: Scope,
        header_list: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        apns_id: str,
        connection: tuple[str, int],
    ) -> ApnsPush:
        if scope.get("http_version") != "2":
            raise _Refused(505, "HTTP/2 required")
        if scope["method"] != "POST":
            raise _Refused(405, "MethodNotAllowed")
        match = _PATH.fullmatch(scope["path"])
        if match is None:
            raise _Refused(404, "BadPath")
        token = match["token"]
        if not token:
            raise _Refused(400, "MissingDeviceToken")
        names = [name for name, _ in header_list]
        if any(names.count(name) > 1 for name in _SINGLE_HEADERS):
            raise _Refused(400, "DuplicateHeaders")
        jwt_header, claims = self._check_provider_token(headers.get("authorization"), connection)
        topic = headers.get("apns-topic")
        if not topic:
            raise _Refused(400, "MissingTopic")
        if not _TOPIC.fullmatch(topic):
            raise _Refused(400, "BadTopic")
        if topic not in self.topics:
            raise _Refused(400, "TopicDisallowed")
        _check_options(headers)
        if not body:
            raise _Refused(400, "PayloadEmpty")
        if len(body) > MAX_PAYLOAD:
            raise _Refused(413, "PayloadTooLarge")
        try:
            payload = json.loads(body)
        except ValueError:
            raise _Refused(400, "BadPayload") from None
        if not isinstance(payload, dict):
            raise _Refused(400, "BadPayload")
        device = self._devices.get(token)
        if device is None or not _HEX_TOKEN.fullmatch(token):
            raise _Refused(400, "BadDeviceToken")
        if device.topic != topic:
            raise _Refused(400, "DeviceTokenNotForTopic")
        if device.unregistered_ms is not None:
            raise _Refused(410, "Unregistered", device.unregistered_ms)
        return ApnsPush(
            token=token,
            topic=topic,
            headers=headers,
            body=body,
            payload=payload,
            apns_id=apns_id,
            http_version=str(scope["http_version"]),
            connection=connection,
            jwt_header=jwt_header,
            jwt_claims=claims,
        )

    def _check_provider_token(
        self, authorization: str | None, connection: tuple[str, int]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if not authorization:
            raise _Refused(403, "MissingProviderToken")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _Refused(403, "InvalidProviderToken")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _Refused(403, "InvalidProviderToken") from None
        key = self._keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != "ES256":
            raise _Refused(403, "InvalidProviderToken")
        try:
            # Times are checked below against the fake's clock, not PyJWT's wall clock.
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=["ES256"],
                issuer=key.team_id,
                options={
                    "require": ["iss", "iat"],
                    "verify_iat": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise _Refused(403, "InvalidProviderToken") from None
        iat = claims["iat"]
        now = self.clock()
        if not isinstance(iat, int) or iat > now + 60:
            raise _Refused(403, "InvalidProviderToken")
        if now - iat > TOKEN_MAX_AGE:
            raise _Refused(403, "ExpiredProviderToken")
        previous = self._connection_tokens.get(connection)
        if (
            previous is not None
            and previous.jwt != token
            and iat - previous.iat < TOKEN_MIN_REFRESH
        ):
            raise _Refused(429, "TooManyProviderTokenUpdates")
        self._connection_tokens[connection] = _ConnectionToken(token, iat)
        return header, claims

    def _refuse_if_programmed(self, token: str) -> None:
        answers = self._answers.get(token)
        if not answers:
            return
        answer = answers[0]
        if answer.times is not None:
            answer.times -= 1
            if answer.times <= 0:
                answers.popleft()
        timestamp = int(self.clock() * 1000) if answer.status == 410 else None
        raise _Refused(answer.status, answer.reason, timestamp)


def _check_options(headers: dict[str, str]) -> None:
    if (apns_id := headers.get("apns-id")) is not None and not _UUID.fullmatch(apns_id):
        raise _Refused(400, "BadMessageId")
    if headers.get("apns-priority", "10") not in {"1", "5", "10"}:
        raise _Refused(400, "BadPriority")
    if (push_type := headers.get("apns-push-type")) is not None and push_type not in PUSH_TYPES:
        raise _Refused(400, "InvalidPushType")
    if not headers.get("apns-expiration", "0").isdigit():
        raise _Refused(400, "BadExpirationDate")
    if len(headers.get("apns-collapse-id", "").encode()) > 64:
        raise _Refused(400, "BadCollapseId")


async def _respond(send: Send, status: int, apns_id: str, body: bytes) -> None:
    headers = [(b"apns-id", apns_id.encode())]
    if body:
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _public_key(
    key: str | ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey,
) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key
    data = key.encode()
    loaded: Any
    if b"PRIVATE KEY" in data:
        loaded = serialization.load_pem_private_key(data, password=None).public_key()
    else:
        loaded = serialization.load_pem_public_key(data)
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise ValueError("APNs keys are EC P-256 keys")
    return loaded


def _write_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost; returns (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake APNs test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.push.apple.com")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    cert_file = folder / "server.pem"
    key_file = folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file
