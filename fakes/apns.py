"""A loopback fake of APNs: HTTP/2 over TLS, token auth, Apple's status codes and reasons.

Usage::

    key = generate_p8_key()
    async with FakeAPNs(topic="pass.com.example.card") as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        token = fake.add_device()
        ...  # point a client at 127.0.0.1:fake.port, trusting fake.ca_file
        assert fake.pushes[0].payload == {}

An asyncio server speaks HTTP/2 with ``h2`` over TLS, with a certificate signed by a CA made at
start (``ca_file``); ALPN offers ``h2`` first. It advertises SETTINGS_MAX_CONCURRENT_STREAMS
(1000 by default, as APNs; :meth:`FakeAPNs.set_max_concurrent_streams` changes it on open
connections) and ``h2`` ends the connection of a client that opens more; ``concurrency``
records the limit in force and the streams open as each request began. Connections idle for
``idle_timeout`` and :meth:`FakeAPNs.goaway` end with GOAWAY naming the last stream answered.

Requests are checked the way APNs documents ("Handling notification responses from APNs"):
``POST /3/device/<token>`` (405 MethodNotAllowed, 404 BadPath, 400 MissingDeviceToken),
``authorization: bearer <ES256 JWT>`` verified against the registered key (403
MissingProviderToken / InvalidProviderToken / ExpiredProviderToken past an hour, 429
TooManyProviderTokenUpdates when a connection changes token within 20 minutes), ``apns-topic``
(400 MissingTopic / BadTopic / TopicDisallowed), the optional ``apns-*`` headers (BadMessageId,
BadPriority, InvalidPushType, BadExpirationDate, BadCollapseId, DuplicateHeaders), the payload
(400 PayloadEmpty, 413 PayloadTooLarge past 4096 bytes) and the device (400 BadDeviceToken,
DeviceTokenNotForTopic). Apple documents no reason for a payload that is not a JSON object; the
fake answers 400 BadPayload. Every answer carries ``apns-id`` (the request's, or a new
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
import ssl
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RequestReceived,
    StreamEnded,
    StreamReset,
)
from h2.exceptions import H2Error, ProtocolError
from h2.settings import SettingCodes, Settings
from hpack import Encoder, NeverIndexedHeaderTuple

if TYPE_CHECKING:
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

# What a request is beside its headers: method, path (no query) and HTTP version ("2", "1.1").
Scope = MutableMapping[str, Any]


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
        max_concurrent_streams: int = 1000,
    ) -> None:
        self.topics: set[str] = {topic}
        self.topic = topic
        self.clock = clock
        self.idle_timeout = idle_timeout
        # What the TLS handshake offers; ("http/1.1",) plays a server that never speaks HTTP/2.
        self.alpn_protocols = alpn_protocols
        # SETTINGS_MAX_CONCURRENT_STREAMS on every new connection (APNs': 1000);
        # :meth:`set_max_concurrent_streams` changes it on the open ones too.
        self.max_concurrent_streams = max_concurrent_streams
        # (stream limit in force, streams then open on that connection) as each request began:
        # a client that respects the limit never has the second above the first.
        self.concurrency: list[tuple[int, int]] = []
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
        # Provider tokens whose signature was checked once: (JWT header, claims) by token.
        self._verified: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Set by stop(): late answers (random faults) are given at once instead of waited for.
        self._stopping = asyncio.Event()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeAPNs:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._stopping.clear()
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-apns-")
        folder = Path(self._tmp.name)
        self.ca_file, certfile, keyfile = _write_certificates(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        context.set_alpn_protocols(list(self.alpn_protocols))
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Connection(self), "127.0.0.1", 0, ssl=context, backlog=128
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._stopping.set()
        for event in self._holds.values():
            event.set()
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.close()
            await self._server.wait_closed()
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
        self._verified.clear()
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

    def set_max_concurrent_streams(self, limit: int) -> None:
        """Send SETTINGS_MAX_CONCURRENT_STREAMS = ``limit`` on every open connection (and use
        it for new ones), as APNs may at any time."""
        self.max_concurrent_streams = limit
        for connection in list(self._connections):
            connection.set_max_concurrent_streams(limit)

    def stream_limits(self) -> list[int]:
        """The SETTINGS_MAX_CONCURRENT_STREAMS in force (acknowledged by the client) on each
        open HTTP/2 connection."""
        return [c.h2.local_settings.max_concurrent_streams for c in self._connections if c.h2]

    def goaway(self, reason: str = "Shutdown") -> None:
        """Close every connection with GOAWAY (``{"reason": reason}``) naming the last stream
        answered: requests still unanswered (held) were not processed, so a client may send
        them again on a new connection."""
        for connection in list(self._connections):
            connection.goaway(reason)

    # --- the server --------------------------------------------------------------------------

    def _handle(
        self,
        connection: _Connection,
        stream_id: int,
        scope: Scope,
        header_list: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        """One request, its body complete: answer it now, or once its token is released."""
        headers = dict(header_list)
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        peer = connection.peer
        try:
            push = self._check(scope, header_list, headers, body, apns_id, peer)
        except _Refused as refused:
            self._refuse(connection, stream_id, scope, refused, apns_id)
            return
        if (event := self._holds.get(push.token)) is None:
            self._answer(connection, stream_id, scope, push)
            return
        task = asyncio.create_task(self._answer_when(event, connection, stream_id, scope, push))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_when(
        self,
        event: asyncio.Event,
        connection: _Connection,
        stream_id: int,
        scope: Scope,
        push: ApnsPush,
    ) -> None:
        await event.wait()
        if connection.waiting(stream_id):  # not reset, connection not gone
            self._answer(connection, stream_id, scope, push)
            connection.flush()

    def _answer(
        self, connection: _Connection, stream_id: int, scope: Scope, push: ApnsPush
    ) -> None:
        try:
            self._refuse_if_programmed(push.token)
            drawn = None if self.random_failures is None else self.random_failures.draw()
            if isinstance(drawn, tuple):
                raise _Refused(*drawn)
        except _Refused as refused:
            self._refuse(connection, stream_id, scope, refused, push.apns_id)
            return
        self.pushes.append(push)
        self._record(scope, 200, "", push.apns_id, connection.peer)
        if isinstance(drawn, float):
            # The push went; the answer comes too late, if at all (at once when stopping).
            task = asyncio.create_task(self._answer_late(drawn, connection, stream_id, push))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        connection.respond(stream_id, 200, push.apns_id, b"")

    async def _answer_late(
        self, delay: float, connection: _Connection, stream_id: int, push: ApnsPush
    ) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if connection.waiting(stream_id):  # the client may have reset it meanwhile
            connection.respond(stream_id, 200, push.apns_id, b"")
            connection.flush()

    def _refuse(
        self,
        connection: _Connection,
        stream_id: int,
        scope: Scope,
        refused: _Refused,
        apns_id: str,
    ) -> None:
        self._record(scope, refused.status, refused.reason, apns_id, connection.peer)
        answer: dict[str, Any] = {"reason": refused.reason}
        if refused.timestamp_ms is not None:
            answer["timestamp"] = refused.timestamp_ms
        connection.respond(stream_id, refused.status, apns_id, json.dumps(answer).encode())

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
        # One token serves many requests: its signature is checked once, its age every time.
        if (verified := self._verified.get(token)) is None:
            verified = self._verified[token] = self._verify(token)
        header, claims = verified
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

    def _verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _Refused(403, "InvalidProviderToken") from None
        key = self._keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != "ES256":
            raise _Refused(403, "InvalidProviderToken")
        try:
            # Times are checked by the caller against the fake's clock, not PyJWT's wall clock.
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


class _PlainEncoder(Encoder):
    """HPACK without Huffman coding: cheaper to write and to read, a few bytes longer."""

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(headers, huffman=False)


class _CountingH2Connection(H2Connection):
    """``h2`` counts the open streams before each new one by walking all it holds: with a
    client sending hundreds of requests in one read that walk was the fake's largest cost. The
    connection knows the count; the walk (which also drops closed streams) runs every 256."""

    def __init__(self, config: H2Configuration, open_streams: Callable[[], int]) -> None:
        super().__init__(config)
        self._count_open = open_streams
        self._counted = 0

    @property
    def open_inbound_streams(self) -> int:
        self._counted += 1
        if self._counted % 256 == 0:
            return super().open_inbound_streams
        return self._count_open()


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/2 with ``h2`` (or HTTP/1.1, only to answer 505).

    Everything one read brings is answered before the one write of the answers, so a client
    sending many streams at once gets its answers in few TLS records."""

    def __init__(self, fake: FakeAPNs) -> None:
        self._fake = fake
        self._transport: asyncio.Transport | None = None
        self.h2: H2Connection | None = None
        self.peer = ("", 0)
        self.closed = False
        # Streams whose request began and is not answered yet: (headers, body so far).
        self._streams: dict[int, tuple[list[tuple[str, str]], bytearray]] = {}
        self._unanswered: set[int] = set()
        self._last_answered = 0
        self._http1 = bytearray()
        self._active = 0.0
        self._idle: asyncio.TimerHandle | None = None

    # --- asyncio's side ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        self._fake._connections.add(self)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2":
            self.h2 = _CountingH2Connection(
                H2Configuration(client_side=False, header_encoding="utf-8"),
                open_streams=lambda: len(self._unanswered),
            )
            self.h2.encoder = _PlainEncoder()
            self.h2.local_settings = Settings(
                client=False,
                initial_values={
                    SettingCodes.MAX_CONCURRENT_STREAMS: self._fake.max_concurrent_streams
                },
            )
            self.h2.initiate_connection()
            self.flush()
        self._touch()

    def data_received(self, data: bytes) -> None:
        self._touch()
        if self.h2 is None:
            self._http1_received(data)
            return
        try:
            events = self.h2.receive_data(data)
        except ProtocolError:  # h2 queued the GOAWAY that says why
            self.flush()
            self.close()
            return
        for event in events:
            self._event(event)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fake._connections.discard(self)
        if self._idle is not None:
            self._idle.cancel()

    # --- HTTP/2 ----------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        assert self.h2 is not None
        if isinstance(event, RequestReceived):
            header_list = [(str(k), str(v)) for k, v in event.headers or ()]
            self._streams[event.stream_id] = (header_list, bytearray())
            self._unanswered.add(event.stream_id)
            self._fake.concurrency.append(
                (self.h2.local_settings.max_concurrent_streams, len(self._unanswered))
            )
        elif isinstance(event, DataReceived):
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if (stream := self._streams.get(event.stream_id)) is not None:
                stream[1].extend(event.data or b"")
        elif isinstance(event, StreamEnded):
            if (stream := self._streams.pop(event.stream_id, None)) is not None:
                header_list, body = stream
                pseudo = {k: v for k, v in header_list if k.startswith(":")}
                scope = {
                    "method": pseudo.get(":method", ""),
                    "path": pseudo.get(":path", "").partition("?")[0],
                    "http_version": "2",
                }
                plain = [(k, v) for k, v in header_list if not k.startswith(":")]
                self._fake._handle(self, event.stream_id, scope, plain, bytes(body))
        elif isinstance(event, StreamReset):
            self._streams.pop(event.stream_id, None)
            self._unanswered.discard(event.stream_id)
        elif isinstance(event, ConnectionTerminated):
            self.close()

    def waiting(self, stream_id: int) -> bool:
        return not self.closed and stream_id in self._unanswered

    def respond(self, stream_id: int, status: int, apns_id: str, body: bytes) -> None:
        if self.h2 is None:
            self._respond_http1(status, apns_id, body)
            return
        if not self.waiting(stream_id):
            return
        self._unanswered.discard(stream_id)
        self._last_answered = max(self._last_answered, stream_id)
        # apns-id is new on every answer: kept out of the HPACK table, which it would churn.
        headers: list[Any] = [
            (":status", str(status)),
            NeverIndexedHeaderTuple("apns-id", apns_id),
        ]
        if body:
            headers.append(("content-type", "application/json; charset=utf-8"))
        try:
            self.h2.send_headers(stream_id, headers, end_stream=not body)
            if body:
                self.h2.send_data(stream_id, body, end_stream=True)
        except H2Error:  # the client reset it meanwhile
            pass

    def flush(self) -> None:
        if self.h2 is None or self._transport is None or self.closed:
            return
        if data := self.h2.data_to_send():
            self._transport.write(data)

    def set_max_concurrent_streams(self, limit: int) -> None:
        if self.h2 is not None and not self.closed:
            self.h2.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: limit})
            self.flush()

    def goaway(self, reason: str) -> None:
        """GOAWAY naming the last stream answered: the unanswered ones were not processed."""
        if self.h2 is not None and not self.closed:
            self._unanswered.clear()
            self.h2.close_connection(
                ErrorCodes.NO_ERROR,
                json.dumps({"reason": reason}).encode(),
                last_stream_id=self._last_answered,
            )
            self.flush()
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._fake._connections.discard(self)
            if self._transport is not None:
                self._transport.close()

    def _touch(self) -> None:
        loop = asyncio.get_running_loop()
        self._active = loop.time()
        if self._idle is None:
            self._idle = loop.call_later(self._fake.idle_timeout, self._idle_check)

    def _idle_check(self) -> None:
        loop = asyncio.get_running_loop()
        idle_for = loop.time() - self._active
        if self._unanswered or idle_for < self._fake.idle_timeout:
            wait = self._fake.idle_timeout - (0 if self._unanswered else idle_for)
            self._idle = loop.call_later(wait, self._idle_check)
            return
        self._idle = None
        self.goaway("IdleTimeout")

    # --- HTTP/1.1: only to tell the client that APNs speaks HTTP/2 --------------------------

    def _http1_received(self, data: bytes) -> None:
        self._http1 += data
        head, found, rest = bytes(self._http1).partition(b"\r\n\r\n")
        if not found:
            return
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, _, rest_of_line = request_line.partition(" ")
        target, _, version = rest_of_line.partition(" ")
        header_list = [
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines)
        ]
        length = int(dict(header_list).get("content-length") or 0)
        if len(rest) < length:
            return
        scope = {
            "method": method,
            "path": target.partition("?")[0],
            "http_version": version.removeprefix("HTTP/"),
        }
        self._fake._handle(self, 0, scope, header_list, rest[:length])

    def _respond_http1(self, status: int, apns_id: str, body: bytes) -> None:
        if self._transport is None or self.closed:
            return
        self._transport.write(
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\napns-id: {apns_id}\r\n"
            f"content-type: application/json; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        self.close()


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
