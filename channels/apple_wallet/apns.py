"""Tells devices that a Wallet pass changed: one empty push through APNs per push token.

Wallet's update flow (Apple's "Updating a Pass"): a device registered a push token with our
PassKit web service; when the pass changes we send that token a notification whose
``apns-topic`` is the pass type identifier and whose payload is the empty JSON dictionary
``{}``. The device then asks the web service which passes changed and downloads them; what the
lock screen shows comes from the pass's ``changeMessage``, never from the push. Wallet pushes
carry no alert, so they go as ``apns-push-type: background`` with ``apns-priority: 5`` (what
APNs asks of pushes without an alert); both are constructor arguments should Apple ask for
other values. A duplicate push is harmless (the device only asks what changed), so every
doubtful case is a retry.

Authentication is token based: an ES256 JWT (header ``kid`` = key id, claims ``iss`` = team id
and ``iat``) signed with the team's .p8 key and sent as ``authorization: bearer <jwt>``. APNs
refuses a token older than an hour (ExpiredProviderToken) and one replaced more often than
every 20 minutes (TooManyProviderTokenUpdates), so one token serves every request and is
replaced after 50 minutes.

Why ``h2`` directly and not aioapns 4.0: aioapns hard-codes host and port as class attributes of
its protocol classes (no base URL or port, so a loopback server is reachable only by patching
them), renews its JWT from ``time.time()`` every 30 minutes per connection (no clock to inject,
and a new token per extra connection), waits for an answer with no time limit and parses each
DATA frame as a whole JSON document. One multiplexed HTTP/2 connection over TLS with ALPN
``h2`` is little code on top of ``h2`` and leaves us in charge of timeouts and reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, NamedTuple

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error
from hpack import Encoder, NeverIndexedHeaderTuple
from pydantic import SecretStr

from channels.base import DeliveryResult, Reason

__all__ = [
    "PRODUCTION_HOST",
    "TOKEN_REFRESH_AFTER",
    "ApnsClient",
    "ApnsConfigError",
    "ApnsConnectionError",
    "ApnsCredentials",
    "ApnsOutcome",
    "ApnsResult",
    "Http2Connection",
    "Http2Response",
    "ProviderToken",
    "load_apns_credentials",
]

logger = logging.getLogger(__name__)


class _NoHeaderBlocks(logging.Filter):
    """hpack logs each whole header block it writes or reads at DEBUG, and a request's block
    holds the provider token: in clear since we write no Huffman coding, and Huffman coding
    is only an encoding, not a protection. Its per-header lines stay (they redact the
    never-indexed ``authorization``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (isinstance(message, str) and message.startswith(_HEADER_BLOCK_LINES))


_HEADER_BLOCK_LINES: Final = ("Encoded header block", "Decoding ")
logging.getLogger("hpack.hpack").addFilter(_NoHeaderBlocks())

PRODUCTION_HOST: Final = "api.push.apple.com"
# APNs refuses tokens older than 60 minutes and replacements sooner than 20 minutes.
TOKEN_REFRESH_AFTER: Final = 50 * 60
TOKEN_MIN_AGE: Final = 20 * 60
WALLET_PAYLOAD: Final = b"{}"
# Requests APNs did not process (GOAWAY) go again on a new connection this many times.
_UNPROCESSED_RESENDS: Final = 2
# Device tokens are hex; Apple warns their length may change, so only bound it loosely. Checked
# before the token goes into the request path.
_PUSH_TOKEN = re.compile(r"[0-9A-Fa-f]{16,400}")

_UNREGISTERED_REASONS: Final = frozenset({"Unregistered", "ExpiredToken", "BadDeviceToken"})
# Ours to fix, not the device's: every other push would be refused the same way.
_CONFIG_REASONS: Final = frozenset(
    {
        "InvalidProviderToken", "MissingProviderToken", "Forbidden", "BadCertificate",
        "BadCertificateEnvironment", "UnrelatedKeyIdInToken", "BadEnvironmentKeyIdInToken",
        "MissingTopic", "BadTopic", "TopicDisallowed",
    }
)  # fmt: skip
_RETRY_REASONS: Final = frozenset(
    {
        "ExpiredProviderToken", "TooManyProviderTokenUpdates", "TooManyRequests", "IdleTimeout",
        "InternalServerError", "ServiceUnavailable", "Shutdown",
    }
)  # fmt: skip


class ApnsConfigError(Exception):
    """The APNs settings are present but unusable (unreadable or non-P-256 key, both key forms)."""


class ApnsConnectionError(Exception):
    """No HTTP/2 answer: connection refused or lost, TLS or ALPN failure, GOAWAY.

    ``unprocessed``: APNs certainly did not act on the request (it never left, or GOAWAY named
    a last stream before it), so it can be sent again at once on a new connection.
    """

    def __init__(self, message: str, *, unprocessed: bool = False) -> None:
        super().__init__(message)
        self.unprocessed = unprocessed


# --- credentials and the provider token ----------------------------------------------------


def _signing_key(pem: SecretStr) -> ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(pem.get_secret_value().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ApnsConfigError("the APNs key is not a readable PEM private key (.p8)") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ApnsConfigError("the APNs key must be an EC P-256 key (Apple's .p8 file)")
    return key


@dataclass(frozen=True, slots=True)
class ApnsCredentials:
    """The team's APNs auth key: its id, the team id and the .p8 file's PEM text."""

    key_id: str
    team_id: str
    private_key: SecretStr = field(repr=False)

    def __post_init__(self) -> None:
        if not self.key_id or not self.team_id:
            raise ApnsConfigError("the APNs key id and team id must not be empty")
        _signing_key(self.private_key)


def load_apns_credentials(
    *,
    key_id: str | None,
    team_id: str | None,
    key_pem: SecretStr | None = None,
    key_path: Path | None = None,
) -> ApnsCredentials | None:
    """Credentials from the ``apns_*`` settings, or ``None`` (one log line) when APNs is off.

    Nothing set means off. Some set but not all is logged as a warning naming what is missing,
    and APNs stays off. A key that is set but unusable raises :class:`ApnsConfigError`.
    """
    have_key = key_pem is not None or key_path is not None
    if not (key_id or team_id or have_key):
        logger.info(
            "APNs off: STAMPBOT_APNS_KEY_ID, _TEAM_ID and _KEY or _KEY_PATH are not set, so "
            "Apple Wallet passes are not told about changes"
        )
        return None
    missing = [
        name
        for name, present in (
            ("STAMPBOT_APNS_KEY_ID", bool(key_id)),
            ("STAMPBOT_APNS_TEAM_ID", bool(team_id)),
            ("STAMPBOT_APNS_KEY or STAMPBOT_APNS_KEY_PATH", have_key),
        )
        if not present
    ]
    if missing:
        logger.warning("APNs off: %s not set", ", ".join(missing))
        return None
    if key_pem is not None and key_path is not None:
        raise ApnsConfigError("set STAMPBOT_APNS_KEY or STAMPBOT_APNS_KEY_PATH, not both")
    pem = key_pem if key_pem is not None else _read_key(key_path)
    return ApnsCredentials(key_id=key_id or "", team_id=team_id or "", private_key=pem)


def _read_key(path: Path | None) -> SecretStr:
    if path is None:
        raise ApnsConfigError("no APNs key given")
    try:
        return SecretStr(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ApnsConfigError(f"cannot read the APNs key file {path}: {exc}") from exc


class ProviderToken:
    """The ``authorization`` header, one JWT shared by every request until it ages out."""

    def __init__(
        self,
        credentials: ApnsCredentials,
        *,
        clock: Callable[[], float] = time.time,
        refresh_after: float = TOKEN_REFRESH_AFTER,
    ) -> None:
        if not TOKEN_MIN_AGE <= refresh_after < 60 * 60:
            raise ValueError("APNs needs a new token within the hour and not before 20 minutes")
        self._credentials = credentials
        self._key = _signing_key(credentials.private_key)
        self._clock = clock
        self._refresh_after = refresh_after
        self._header: str | None = None
        self._issued_at = 0

    def header(self) -> str:
        now = self._clock()
        if self._header is None or now - self._issued_at >= self._refresh_after:
            self._issued_at = int(now)
            token = jwt.encode(
                {"iss": self._credentials.team_id, "iat": self._issued_at},
                self._key,
                algorithm="ES256",
                headers={"kid": self._credentials.key_id},
            )
            self._header = f"bearer {token}"
        return self._header

    def discard(self, header: str) -> None:
        """APNs called ``header`` expired (clock skew): the next request signs a new one."""
        if header == self._header:
            self._header = None


# --- one HTTP/2 connection ---------------------------------------------------------------


class Http2Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class _PlainEncoder(Encoder):
    """HPACK without Huffman coding: a few bytes longer on the wire, much cheaper to write
    (Huffman-coding each literal was the client's largest cost) and to read."""

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(headers, huffman=False)


class _CountingH2Connection(H2Connection):
    """``h2`` counts the open streams before each new one by walking every stream it holds
    (and drops the closed ones as it goes): with APNs' 1,000 streams that walk was most of a
    push's CPU. The owner knows the count (``open_streams``); the walk still runs once every
    ``_RECOUNT`` streams so closed ones do not pile up."""

    _RECOUNT: Final = 256

    def __init__(self, config: H2Configuration, open_streams: Callable[[], int]) -> None:
        super().__init__(config)
        self._count_open = open_streams
        self._counted = 0

    @property
    def open_outbound_streams(self) -> int:
        self._counted += 1
        if self._counted % self._RECOUNT == 0:
            return super().open_outbound_streams
        return self._count_open()


@dataclass(slots=True)
class _Stream:
    answer: asyncio.Future[Http2Response]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class Http2Connection:
    """A client HTTP/2 connection over TLS: concurrent requests as multiplexed streams.

    Never more streams open than the server's SETTINGS_MAX_CONCURRENT_STREAMS (or
    ``max_streams`` if lower), also after the server lowered it; requests beyond wait their
    turn in order. Requests made in one turn of the event loop leave in one write. After GOAWAY
    or a lost connection it refuses new requests (``usable`` is false) and the requests it
    could not finish raise :class:`ApnsConnectionError`; the owner opens a new connection.

    Headers are sent as given, without ``h2``'s normalising and checking (the caller writes
    lower-case names; the fake APNs checks what arrives), except that ``authorization`` is
    still never indexed: kept out of the HPACK tables, and logged redacted by ``hpack``.
    ``:path`` (a device token) goes never-indexed too, as should any other value that changes
    with every request (``apns-id``): indexing them would only push the lasting headers
    (topic, push type...) out of the table.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        authority: str,
        *,
        max_streams: int | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.authority = authority
        self._max_streams = max_streams
        self._h2 = _CountingH2Connection(
            H2Configuration(
                client_side=True,
                header_encoding="utf-8",
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
            ),
            open_streams=lambda: len(self._streams),
        )
        self._h2.encoder = _PlainEncoder()
        self._streams: dict[int, _Stream] = {}
        # Requests waiting for a stream slot, in order; and for flow-control window.
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._window_waiters: list[asyncio.Future[None]] = []
        self._flush_soon: asyncio.Handle | None = None
        self._closed = False
        self._goaway = False  # either side said GOAWAY: no new streams
        self._remote_goaway = False
        self._reader_task: asyncio.Task[None] | None = None
        self._write_error: ApnsConnectionError | None = None

    @classmethod
    async def open(
        cls, host: str, port: int, ssl_context: ssl.SSLContext, *, max_streams: int | None = None
    ) -> Http2Connection:
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl_context, server_hostname=host
            )
        except (OSError, ssl.SSLError) as exc:
            raise ApnsConnectionError(f"cannot connect to {host}:{port}: {exc}") from exc
        ssl_object = writer.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
            raise ApnsConnectionError(f"{host}:{port} did not agree to HTTP/2 (ALPN h2)")
        authority = host if port == 443 else f"{host}:{port}"
        connection = cls(reader, writer, authority, max_streams=max_streams)
        connection._h2.initiate_connection()
        connection._flush()
        connection._reader_task = asyncio.create_task(connection._read_loop())
        return connection

    @property
    def usable(self) -> bool:
        return not (self._closed or self._goaway)

    @property
    def stream_limit(self) -> int:
        """How many streams may be open at once now."""
        limit = self._h2.remote_settings.max_concurrent_streams
        return limit if self._max_streams is None else min(limit, self._max_streams)

    async def request(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        answer_within: float | None = None,
    ) -> Http2Response:
        """The answer, waiting first for a stream slot as long as it takes. ``answer_within``
        seconds (else TimeoutError) count from when the request goes out, so a long queue
        behind the stream limit is not mistaken for a server that does not answer."""
        if self._slot_waiters or not self._slot_free():
            await self._wait_for_slot()
        if not self.usable:
            raise ApnsConnectionError("the connection to APNs is closed", unprocessed=True)
        stream_id = self._h2.get_next_available_stream_id()
        stream = _Stream(asyncio.get_running_loop().create_future())
        request_headers: list[tuple[str, str] | NeverIndexedHeaderTuple] = [
            (":method", method),
            (":scheme", "https"),
            NeverIndexedHeaderTuple(":path", path),
            (":authority", self.authority),
            *(
                NeverIndexedHeaderTuple(name, value) if name == "authorization" else (name, value)
                for name, value in headers
            ),
        ]
        try:
            async with asyncio.timeout(answer_within):
                self._h2.send_headers(stream_id, request_headers, end_stream=not body)
                # Open now, for h2 and in the count (registered after h2 counted the others).
                self._streams[stream_id] = stream
                if body:
                    while self._window_short(stream_id, len(body)):
                        await self._wait_for_window()
                    if stream_id not in self._streams:
                        # Answered, reset or failed while waiting: an early answer leaves the
                        # stream half open for h2, so close it.
                        self._cancel_stream(stream_id)
                        return await stream.answer
                    self._h2.send_data(stream_id, body, end_stream=True)
                self._flush_later()
                return await stream.answer
        except H2Error as exc:
            raise ApnsConnectionError(f"HTTP/2 error: {exc!r}") from exc
        finally:
            if self._streams.pop(stream_id, None) is not None:
                # Given up (timeout, cancellation) before the answer: tell the server to stop.
                self._cancel_stream(stream_id)
                self._wake_slots(1)

    async def close(self) -> None:
        # After APNs' GOAWAY its TLS side may be closed already: nothing more to tell it.
        if not (self._closed or self._remote_goaway):
            self._goaway = True
            with contextlib.suppress(H2Error):
                self._h2.close_connection()
                self._flush()
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    # --- waiting for room --------------------------------------------------------------------

    def _slot_free(self) -> bool:
        # Every stream in self._streams is open for h2 too; those that left it are closed.
        return not self.usable or len(self._streams) < self.stream_limit

    async def _wait_for_slot(self) -> None:
        loop = asyncio.get_running_loop()
        first = True
        while first or not self._slot_free():
            first = False
            waiter = loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_slots(1)  # woken for a slot it will not take: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        self._slot_waiters.remove(waiter)  # no longer ahead of anyone
                raise

    def _wake_slots(self, count: int) -> None:
        while count > 0 and self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                count -= 1

    def _wake_all(self) -> None:
        """The limit, a window or the connection changed: everyone looks again."""
        self._wake_slots(len(self._slot_waiters))
        waiters, self._window_waiters = self._window_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _window_short(self, stream_id: int, size: int) -> bool:
        if not self.usable or stream_id not in self._streams:
            return False
        return self._h2.local_flow_control_window(stream_id) < size

    async def _wait_for_window(self) -> None:
        self._flush()  # the headers, so the server can answer and open the window
        waiter = asyncio.get_running_loop().create_future()
        self._window_waiters.append(waiter)
        await waiter

    def _cancel_stream(self, stream_id: int) -> None:
        if self.usable:
            with contextlib.suppress(H2Error):
                self._h2.reset_stream(stream_id, ErrorCodes.CANCEL)
            self._flush_later()

    # --- the wire ----------------------------------------------------------------------------

    def _flush_later(self) -> None:
        """One write for every request made in this turn of the event loop."""
        if self._flush_soon is None:
            self._flush_soon = asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_soon = None
        data = self._h2.data_to_send()
        if data and not self._closed:
            # No drain: the stream limit bounds what can be buffered (a few hundred bytes a
            # stream), and a lost connection is noticed by the read loop.
            self._writer.write(data)

    async def _read_loop(self) -> None:
        error = ApnsConnectionError("APNs closed the connection")
        try:
            while data := await self._reader.read(65536):
                freed = len(self._streams)
                everyone = False
                for event in self._h2.receive_data(data):
                    everyone = self._handle(event) or everyone
                self._flush()  # settings and ping acks, window updates
                if everyone:
                    self._wake_all()
                else:
                    self._wake_slots(freed - len(self._streams))
        except (OSError, ssl.SSLError, H2Error) as exc:
            error = ApnsConnectionError(f"lost the connection to APNs: {exc!r}")
        finally:
            self._closed = True
            for stream in self._streams.values():
                if not stream.answer.done():
                    stream.answer.set_exception(error)
            self._streams.clear()
            self._wake_all()
            self._writer.close()

    def _handle(self, event: Event) -> bool:
        """Apply one event; true when every waiting request should look again."""
        if isinstance(event, ResponseReceived):
            if stream := self._streams.get(event.stream_id):
                stream.headers = {str(k): str(v) for k, v in event.headers or ()}
        elif isinstance(event, DataReceived):
            if event.stream_id and event.flow_controlled_length:
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream := self._streams.get(event.stream_id):
                stream.body += event.data or b""
        elif isinstance(event, StreamEnded):
            if (stream := self._streams.pop(event.stream_id, None)) and not stream.answer.done():
                status = int(stream.headers.get(":status", "0"))
                stream.answer.set_result(Http2Response(status, stream.headers, bytes(stream.body)))
        elif isinstance(event, StreamReset):
            if (stream := self._streams.pop(event.stream_id, None)) and not stream.answer.done():
                stream.answer.set_exception(
                    ApnsConnectionError(f"APNs reset the stream ({event.error_code!r})")
                )
        elif isinstance(event, ConnectionTerminated):
            self._goaway = self._remote_goaway = True
            reason = _reason(event.additional_data or b"") or repr(event.error_code)
            logger.info("APNs sent GOAWAY: %s", reason)
            last = event.last_stream_id or 0
            for stream_id in [sid for sid in self._streams if sid > last]:
                stream = self._streams.pop(stream_id)
                if not stream.answer.done():
                    stream.answer.set_exception(
                        ApnsConnectionError(f"GOAWAY: {reason}", unprocessed=True)
                    )
            return True
        elif isinstance(event, WindowUpdated | RemoteSettingsChanged):
            return True
        return False


def _reason(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else ""


# --- results -------------------------------------------------------------------------------


class ApnsOutcome(StrEnum):
    DELIVERED = "delivered"
    # The token is dead (410 Unregistered/ExpiredToken, 400 BadDeviceToken): the pass is gone
    # from that device; stop pushing to it.
    UNREGISTERED = "unregistered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ApnsResult:
    outcome: ApnsOutcome
    # HTTP status of APNs' answer; None when there was none (connection error, timeout).
    status: int | None = None
    # APNs' reason word (e.g. "BadDeviceToken") or what went wrong with the connection.
    reason: str = ""
    apns_id: str | None = None
    # From a 410: when APNs last knew the token to be valid.
    unregistered_at: datetime | None = None
    # APNs refused our credentials or topic: every push fails until the settings are fixed.
    config_error: bool = False

    def as_delivery_result(self) -> DeliveryResult:
        """The channel protocol's view of this push."""
        if self.outcome is ApnsOutcome.DELIVERED:
            return DeliveryResult.delivered(self.apns_id)
        if self.outcome is ApnsOutcome.UNREGISTERED:
            return DeliveryResult.failed(Reason.PASS_REMOVED, unreachable=True, detail=self.reason)
        if self.outcome is ApnsOutcome.RETRY:
            if self.status == 429:
                reason = Reason.RATE_LIMITED
            elif self.status is None:
                reason = Reason.NETWORK_ERROR
            else:
                reason = Reason.SERVER_ERROR
            return DeliveryResult.retry(reason, detail=self.reason)
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=self.reason)


def _classify(response: Http2Response) -> ApnsResult:
    apns_id = response.headers.get("apns-id")
    if response.status == 200:
        return ApnsResult(ApnsOutcome.DELIVERED, 200, apns_id=apns_id)
    reason = _reason(response.body) or f"HTTP {response.status}"
    result = ApnsResult(ApnsOutcome.FAILED, response.status, reason, apns_id)
    if response.status == 410 or reason in _UNREGISTERED_REASONS:
        return _unregistered(result, response.body)
    if response.status == 429 or response.status >= 500 or reason in _RETRY_REASONS:
        return ApnsResult(ApnsOutcome.RETRY, response.status, reason, apns_id)
    if response.status == 403 or reason in _CONFIG_REASONS:
        return ApnsResult(ApnsOutcome.FAILED, response.status, reason, apns_id, config_error=True)
    return result


def _unregistered(result: ApnsResult, body: bytes) -> ApnsResult:
    at = None
    with contextlib.suppress(ValueError, TypeError, OverflowError, AttributeError):
        millis = json.loads(body).get("timestamp")
        if isinstance(millis, int | float):
            at = datetime.fromtimestamp(millis / 1000, UTC)
    return ApnsResult(
        ApnsOutcome.UNREGISTERED, result.status, result.reason, result.apns_id, unregistered_at=at
    )


# --- the client ------------------------------------------------------------------------------


class ApnsClient:
    """Sends Wallet's "this pass changed" push to device push tokens over one HTTP/2 connection.

    ``push`` never raises for APNs' or the network's sake: it answers an :class:`ApnsResult`.
    Concurrent pushes share the connection; it is opened on first use and again after APNs
    closed it.
    """

    def __init__(
        self,
        credentials: ApnsCredentials,
        *,
        topic: str,
        host: str = PRODUCTION_HOST,
        port: int = 443,
        ca_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        request_timeout: float = 10.0,
        token_refresh_after: float = TOKEN_REFRESH_AFTER,
        push_type: str = "background",
        priority: int = 5,
        max_streams: int | None = None,
    ) -> None:
        """``max_streams``: open no more streams than this even if APNs allows more (it is
        always held to APNs' SETTINGS_MAX_CONCURRENT_STREAMS)."""
        if not topic:
            raise ApnsConfigError("the APNs topic (the pass type identifier) must not be empty")
        self.topic = topic
        self.host = host
        self.port = port
        self._token = ProviderToken(credentials, clock=clock, refresh_after=token_refresh_after)
        self._ssl = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._ssl.set_alpn_protocols(["h2"])
        self._timeout = request_timeout
        self._push_type = push_type
        self._priority = str(priority)
        self._max_streams = max_streams
        self._connection: Http2Connection | None = None
        self._connect_lock = asyncio.Lock()
        self._config_errors_logged: set[str] = set()

    async def __aenter__(self) -> ApnsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def push(self, push_token: str) -> ApnsResult:
        """Tell the device behind ``push_token`` that its passes of ``topic`` changed."""
        if not _PUSH_TOKEN.fullmatch(push_token):
            # What APNs would answer; checked here because the token goes into the path.
            logger.warning("APNs: malformed push token %r", push_token[:16])
            return ApnsResult(ApnsOutcome.UNREGISTERED, None, "BadDeviceToken")
        apns_id = str(uuid.uuid4())
        authorization = self._token.header()
        headers: list[tuple[str, str]] = [
            ("authorization", authorization),
            NeverIndexedHeaderTuple("apns-id", apns_id),  # type: ignore[list-item]
            ("apns-topic", self.topic),
            ("apns-push-type", self._push_type),
            ("apns-priority", self._priority),
            ("content-type", "application/json"),
        ]
        try:
            response = await self._send(f"/3/device/{push_token}", headers)
        except TimeoutError:
            return ApnsResult(ApnsOutcome.RETRY, None, "timeout", apns_id)
        except ApnsConnectionError as exc:
            logger.warning("APNs push not sent: %s", exc)
            return ApnsResult(ApnsOutcome.RETRY, None, str(exc)[:200], apns_id)
        result = _classify(response)
        if result.reason == "ExpiredProviderToken":
            self._token.discard(authorization)
        if result.config_error and result.reason not in self._config_errors_logged:
            self._config_errors_logged.add(result.reason)
            logger.error(
                "APNs refused our credentials or topic (%s %s): check the STAMPBOT_APNS_* "
                "settings and the pass type identifier %s",
                result.status,
                result.reason,
                self.topic,
            )
        elif result.outcome is not ApnsOutcome.DELIVERED:
            logger.info("APNs push %s: %s %s", result.outcome, result.status, result.reason)
        return result

    async def close(self) -> None:
        async with self._connect_lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None

    async def _send(self, path: str, headers: list[tuple[str, str]]) -> Http2Response:
        """The answer; TimeoutError when connecting or the answer (once sent) took longer than
        the request timeout. Waiting for a stream slot is not timed: the requests ahead are."""
        for attempt in range(_UNPROCESSED_RESENDS + 1):
            connection = self._connection
            if connection is None or not connection.usable:
                async with asyncio.timeout(self._timeout):
                    connection = await self._usable_connection()
            try:
                return await connection.request(
                    "POST", path, headers, WALLET_PAYLOAD, answer_within=self._timeout
                )
            except ApnsConnectionError as exc:
                if not exc.unprocessed or attempt == _UNPROCESSED_RESENDS:
                    raise
        raise AssertionError("unreachable")

    async def _usable_connection(self) -> Http2Connection:
        if self._connection is not None and self._connection.usable:
            return self._connection
        async with self._connect_lock:
            if self._connection is not None and not self._connection.usable:
                await self._connection.close()
                self._connection = None
            if self._connection is None:
                self._connection = await Http2Connection.open(
                    self.host, self.port, self._ssl, max_streams=self._max_streams
                )
            return self._connection
