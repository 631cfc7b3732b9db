"""The email channel: campaign mail and address verification over SMTP, or into a folder.

With SMTP settings every message goes to that server over a small pool of kept-open
connections (aiosmtplib): a connection carries message after message, and is replaced when the
server closed it, when it sat idle too long, or after a number of messages.
Without them — the embedded default — each message is written as an ``.eml`` file into the
mailbox folder (``var/mail/``) and counts as delivered, so a demo or a development setup sends
nothing anywhere. It is one or the other, never both.

SMTP replies map onto delivery outcomes: 4xx and network trouble are retried, a 5xx about the
recipient fails the delivery (marking the address unreachable when the server says it does not
exist), and problems with our own account or sender address are retried, since they concern
every message and are fixed on our side.

A 421 is the server closing the connection (RFC 5321, 3.8: busy, shutting down, too many
connections). It says nothing about the message, so the pool backs off — every connection of
the pool, since the server is telling us to slow down — reconnects and sends the same message
again, a few times, before handing it back to the delivery engine as a retry. Other 4xx replies
go back to the engine at once, whose retry schedule waits far longer than a connection should.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

import aiosmtplib
from pydantic import SecretStr

from channels.base import DeliveryResult, OutboundMessage, Outcome, Reason
from channels.dkim import DkimSigner
from channels.email_render import WEB_SCHEMES, EmailRenderer, header_text, safe_url

logger = logging.getLogger(__name__)

DEFAULT_FROM_ADDRESS = "stampbot@localhost"
DEFAULT_FROM_NAME = "stampbot"
# 7bit: bodies are quoted-printable or base64, so no server needs 8BITMIME. refold_source none:
# a header stored raw (List-Unsubscribe) stays one line; folding would turn the URL into
# RFC 2047 encoded words that no mail client reads as a link.
POLICY = SMTP.clone(cte_type="7bit", refold_source="none")
# Enhanced status codes saying the address itself is bad (RFC 3463): bad mailbox, bad domain,
# bad syntax, domain accepts no mail, mailbox disabled.
_ADDRESS_GONE = re.compile(r"^\s*5\.(?:1\.(?:[0-3]|10)|2\.1)\b")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}")
_IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


@dataclass(frozen=True, slots=True)
class InlineImage:
    cid: str  # without the angle brackets, as the HTML's "cid:" URLs name it
    data: bytes
    subtype: str
    filename: str


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """An SMTP relay. ``starttls`` upgrades a plain connection (port 587); ``use_tls`` speaks
    TLS from the start (port 465)."""

    host: str
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    use_tls: bool = False
    from_address: str = DEFAULT_FROM_ADDRESS
    from_name: str = DEFAULT_FROM_NAME
    timeout: float = 30.0
    # Connections kept open to the relay, each carrying one message at a time.
    pool_size: int = 8
    # A connection idle this long is closed rather than reused (relays hang up on idle
    # clients after a while; RFC 5321 asks them to wait at least 5 minutes, not all do).
    idle_seconds: float = 30.0
    # Messages one connection carries before it is closed and replaced (relays cap it).
    messages_per_connection: int = 100
    # After a 421: reconnect and resend this many times, waiting ``reconnect_backoff``
    # seconds first and twice as long each time the server closes again.
    reconnect_attempts: int = 3
    reconnect_backoff: float = 1.0

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        if not self.host:
            raise ValueError("an SMTP host is required (leave the settings out for the mailbox)")
        if self.password is not None and self.username is None:
            raise ValueError("an SMTP password needs a username")
        if self.pool_size < 1 or self.messages_per_connection < 1:
            raise ValueError("an SMTP pool needs at least one connection and one message each")


class InvalidAddressError(ValueError):
    pass


def _recipient(address: str) -> str:
    """The address as the envelope and ``To`` carry it: ASCII, the domain in IDNA form."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddressError("not an email address")
    if not local.isascii():
        raise InvalidAddressError("internationalized mailbox names are not supported")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidAddressError("not an email address") from exc
    if not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(ascii_domain):
        raise InvalidAddressError("not an email address")
    return Address(username=local, domain=ascii_domain).addr_spec


def _result_for_reply(code: int, text: str, *, recipient: bool) -> DeliveryResult:
    detail = f"{code} {text}".strip()
    if 400 <= code < 500:
        reason = Reason.MAILBOX_UNAVAILABLE if code in (450, 452) else Reason.SERVER_ERROR
        return DeliveryResult.retry(reason, detail=detail)
    if 500 <= code < 600:
        gone = (recipient and code in (550, 551, 553)) or bool(_ADDRESS_GONE.match(text))
        return DeliveryResult.failed(Reason.ADDRESS_REJECTED, unreachable=gone, detail=detail)
    return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)


def result_for_error(exc: Exception) -> DeliveryResult:
    """What an aiosmtplib (or socket) error means for the delivery."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        if not exc.recipients:
            return DeliveryResult.retry(Reason.SERVER_ERROR, detail="recipients refused")
        first = exc.recipients[0]
        return _result_for_reply(first.code, first.message, recipient=True)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _result_for_reply(exc.code, exc.message, recipient=True)
    if isinstance(
        exc,
        aiosmtplib.SMTPAuthenticationError
        | aiosmtplib.SMTPSenderRefused
        | aiosmtplib.SMTPHeloError
        | aiosmtplib.SMTPConnectResponseError,
    ):
        # Our account, our sender address or the relay itself: not this person's fault, and
        # fixed on our side, so the message waits instead of failing.
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=f"{exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _result_for_reply(exc.code, exc.message, recipient=False)
    if isinstance(
        exc,
        aiosmtplib.SMTPTimeoutError
        | aiosmtplib.SMTPConnectError
        | aiosmtplib.SMTPServerDisconnected
        | OSError
        | TimeoutError,
    ):
        return DeliveryResult.retry(Reason.NETWORK_ERROR, detail=str(exc) or type(exc).__name__)
    return DeliveryResult.retry(Reason.SERVER_ERROR, detail=str(exc) or type(exc).__name__)


# -- MIME, assembled from encoded parts ----------------------------------------------------
#
# The same structure EmailMessage.set_content / add_alternative / add_related build, without
# their header objects: multipart/alternative of the text and the HTML (the HTML inside a
# multipart/related with its inline images), bodies in 7bit when they are short-lined ASCII,
# else quoted-printable or base64, whichever is shorter (as the standard library chooses).

MAX_LINE = 78  # the policy's max_line_length
CRLF = "\r\n"
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_QUOTED = re.compile(r'[\\"]')


def _encoded(name: str, text: str) -> str:
    """A header's unstructured text: as it is when ASCII, else RFC 2047 encoded words, folded
    so that no encoded word is longer than 75 characters."""
    charset = "us-ascii" if text.isascii() else "utf-8"
    return Header(text, charset, header_name=name).encode()


def _mailbox(display: str, addr_spec: str) -> str:
    """``Display Name <addr>``: the name quoted when it holds specials, encoded when it is not
    ASCII."""
    if not display:
        return addr_spec
    if not display.isascii():
        return f"{Header(display, 'utf-8', header_name='From').encode()} <{addr_spec}>"
    if _SPECIALS.search(display):
        display = '"' + _QUOTED.sub(r"\\\g<0>", display) + '"'
    return f"{display} <{addr_spec}>"


def _boundary() -> str:
    # Bodies are 7bit lines, quoted-printable (every "=" escaped) or base64: none can hold a
    # line of fifteen "=" and twenty hex digits.
    return "=" * 15 + secrets.token_hex(10) + "=="


def _body(text: str) -> tuple[str, str]:
    """The transfer encoding and the encoded body of a text part."""
    data = text.encode("utf-8")
    lines = data.splitlines()
    if data.isascii() and all(len(line) <= MAX_LINE for line in lines):
        return "7bit", b"\n".join(lines).decode("ascii") + "\n"
    normal = b"\n".join(lines) + b"\n"
    quoted = binascii.b2a_qp(normal, istext=True)
    b64 = base64.encodebytes(normal)
    if len(quoted) > len(b64):
        return "base64", b64.decode("ascii")
    return "quoted-printable", quoted.decode("ascii")


def _text_part(text: str, subtype: str) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    encoding, body = _body(text)
    part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
    part.set_raw("Content-Transfer-Encoding", encoding)
    part.set_payload(body)
    return part


def _image_part(image: InlineImage) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    part.set_raw("Content-Type", f"image/{image.subtype}")
    part.set_raw("Content-Transfer-Encoding", "base64")
    part.set_raw("Content-Disposition", f'inline; filename="{image.filename}"')
    part.set_raw("Content-ID", f"<{image.cid}>")
    part.set_payload(base64.encodebytes(image.data).decode("ascii"))
    return part


def _multipart(mail: EmailMessage, subtype: str, parts: list[Message[str, str] | str]) -> None:
    mail.set_raw("Content-Type", f'multipart/{subtype}; boundary="{_boundary()}"')
    mail.set_payload(parts)


def _alternative(mail: EmailMessage, text: str, html: str, images: Sequence[InlineImage]) -> None:
    """Make ``mail`` the text and the HTML (with its inline images) as alternatives."""
    html_part = _text_part(html, "html")
    if images:
        related = EmailMessage(policy=POLICY)
        _multipart(related, "related", [html_part, *map(_image_part, images)])
        html_part = related
    mail.set_raw("MIME-Version", "1.0")
    _multipart(mail, "alternative", [_text_part(text, "plain"), html_part])


_BOUNDARY = re.compile(r'boundary="([^"]+)"')


def flatten(mail: Message[str, str]) -> bytes:
    """The message as it goes on the wire (CRLF line ends), for the messages built here.

    What ``as_bytes()`` gives for them, minus the generator's re-reading of every part's
    Content-Type: headers are written as stored (already encoded and folded), bodies as
    encoded, multiparts between their boundaries."""
    out: list[str] = []
    _write(mail, out)
    return "".join(out).encode("ascii")


def _write(part: Message[str, str], out: list[str]) -> None:
    for name, value in part.raw_items():
        out.append(f"{name}: {CRLF.join(str(value).splitlines())}{CRLF}")
    out.append(CRLF)
    payload = part.get_payload()
    if isinstance(payload, list):
        found = _BOUNDARY.search(_raw(part, "Content-Type"))
        assert found is not None, "a multipart built here names its boundary"
        boundary = found.group(1)
        for index, sub in enumerate(payload):
            out.append(f"{CRLF if index else ''}--{boundary}{CRLF}")
            assert isinstance(sub, Message)
            _write(sub, out)
        out.append(f"{CRLF}--{boundary}--{CRLF}")
    else:
        out.append(CRLF.join(str(payload).splitlines()) + CRLF)


def _raw(part: Message[str, str], name: str) -> str:
    for key, value in part.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _image_subtype(data: bytes) -> str | None:
    for magic, subtype in _IMAGE_TYPES:
        if data.startswith(magic):
            return subtype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class EmailChannel:
    """Builds and delivers mail. The sender, Reply-To and DKIM signature do not depend on the
    transport: the mailbox holds byte for byte what SMTP would have sent."""

    name = "email"

    def __init__(
        self,
        settings: EmailSettings | None,
        *,
        mailbox_dir: Path | None = None,
        renderer: EmailRenderer,
        from_address: str | None = None,
        from_name: str | None = None,
        reply_to: str | None = None,
        dkim: DkimSigner | None = None,
        open_tracking: bool = True,
    ) -> None:
        if settings is None and mailbox_dir is None:
            raise ValueError("without SMTP settings the channel needs a mailbox folder")
        self.settings = settings
        self.mailbox_dir = None if settings is not None else mailbox_dir
        self.renderer = renderer
        self.from_address = from_address or (
            settings.from_address if settings else DEFAULT_FROM_ADDRESS
        )
        self.from_name = header_text(
            from_name or (settings.from_name if settings else DEFAULT_FROM_NAME)
        )
        self.reply_to = _recipient(reply_to) if reply_to else None
        self.dkim = dkim
        self.open_tracking = open_tracking
        self.pool = SmtpPool(settings) if settings is not None else None
        self._domain = self.from_address.rpartition("@")[2] or "localhost"

    # -- messages ---------------------------------------------------------------------------

    def _sender(self, merchant_name: str | None) -> str:
        """The From header's value: the shop "via" us, encoded for the header."""
        shop = header_text(merchant_name or "")
        display = f"{shop} via {self.from_name}" if shop else self.from_name
        local, _, domain = self.from_address.rpartition("@")
        return _mailbox(display, Address(username=local, domain=domain).addr_spec)

    def _envelope(
        self, *, to: str, merchant_name: str | None, subject: str, message_id: str
    ) -> EmailMessage:
        # Headers are stored already encoded (set_raw): the policy's header objects parse
        # every value on the way in and refold it on the way out, which cost more than the
        # rest of the message together. The values are ours: ASCII addresses, RFC 2047
        # encoded words for anything else.
        mail = EmailMessage(policy=POLICY)
        mail.set_raw("From", self._sender(merchant_name))
        mail.set_raw("To", to)
        mail.set_raw("Subject", _encoded("Subject", header_text(subject)))
        mail.set_raw("Date", format_datetime(datetime.now(UTC)))
        mail.set_raw("Message-ID", message_id)
        if self.reply_to:
            mail.set_raw("Reply-To", self.reply_to)
        return mail

    def _list_unsubscribe(self, mail: EmailMessage, url: str | None) -> None:
        """RFC 2369 targets: the web link, and a mailto: when people can write to us. One-click
        (RFC 8058) only over HTTPS, as Gmail and Yahoo require."""
        targets = []
        if url:
            targets.append(f"<{url}>")
        if self.reply_to:
            targets.append(f"<mailto:{self.reply_to}?subject=unsubscribe>")
        if not targets:
            return
        mail.set_raw("List-Unsubscribe", ", ".join(targets))
        if url and urlsplit(url).scheme.lower() == "https":
            # Mail providers POST "List-Unsubscribe=One-Click" to the URL.
            mail.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The campaign message for one person, ready to send (raises InvalidAddressError)."""
        to = _recipient(message.address)
        message_id = make_msgid(idstring=f"d{message.delivery_id}", domain=self._domain)
        if not self.open_tracking:
            message = replace(
                message, links={k: v for k, v in message.links.items() if k != "open"}
            )
        images: list[InlineImage] = []

        def attach(data: bytes | None, name: str) -> str | None:
            subtype = _image_subtype(data) if data else None
            if data is None or subtype is None:
                return None
            cid = make_msgid(idstring=name, domain=self._domain)[1:-1]
            images.append(InlineImage(cid, data, subtype, f"{name}.{subtype}"))
            return cid

        rendered = self.renderer.campaign(message, attach=attach)
        mail = self._envelope(
            to=to,
            merchant_name=message.merchant_name,
            subject=rendered.subject or header_text(message.merchant_name),
            message_id=message_id,
        )
        self._list_unsubscribe(mail, safe_url(message.links.get("unsubscribe"), WEB_SCHEMES))
        _alternative(mail, rendered.text, rendered.html, images)
        return mail

    def build_verification(
        self, address: str, language: str, link: str, *, merchant_name: str | None = None
    ) -> EmailMessage:
        to = _recipient(address)
        subject, text, html = self.renderer.verification(language, merchant_name, link)
        mail = self._envelope(
            to=to,
            merchant_name=merchant_name,
            subject=subject,
            message_id=make_msgid(idstring="verify", domain=self._domain),
        )
        mail.set_raw("Auto-Submitted", "auto-generated")
        _alternative(mail, text, html, [])
        return mail

    # -- delivery ---------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        try:
            mail = self.build(message)
        except InvalidAddressError as exc:
            return DeliveryResult.failed(
                Reason.ADDRESS_REJECTED, unreachable=True, detail=str(exc)
            )
        return await self._deliver(mail, f"{message.delivery_id}.eml", f"#{message.delivery_id}")

    async def send_verification(
        self, address: str, language: str, link: str, *, merchant_name: str | None = None
    ) -> DeliveryResult:
        """The double opt-in mail: ``link`` proves the person reads this address."""
        try:
            mail = self.build_verification(address, language, link, merchant_name=merchant_name)
        except InvalidAddressError as exc:
            return DeliveryResult.failed(
                Reason.ADDRESS_REJECTED, unreachable=True, detail=str(exc)
            )
        name = f"verify-{time.time_ns()}-{secrets.token_hex(4)}.eml"
        return await self._deliver(mail, name, "verification")

    def signed(self, mail: EmailMessage) -> bytes:
        """The bytes that go out: DKIM-signed when a key is configured."""
        raw = flatten(mail)
        return self.dkim.sign(raw) if self.dkim else raw

    async def _deliver(self, mail: EmailMessage, filename: str, label: str) -> DeliveryResult:
        message_id = str(mail["Message-ID"])
        raw = self.signed(mail)
        if self.settings is None:
            assert self.mailbox_dir is not None
            path = await asyncio.to_thread(_write_eml, self.mailbox_dir, filename, raw)
            logger.info("email %s written to %s", label, path)
            return DeliveryResult.delivered(message_id)
        result = await self._smtp(raw, str(mail["To"]))
        if result.outcome is Outcome.DELIVERED:
            return DeliveryResult.delivered(message_id)
        logger.warning(
            "email %s via %s:%s: %s %s (%s)",
            label, self.settings.host, self.settings.port, result.outcome, result.reason,
            result.detail,
        )  # fmt: skip
        return result

    async def _smtp(self, raw: bytes, recipient: str) -> DeliveryResult:
        assert self.pool is not None
        return await self.pool.send(self.from_address, recipient, raw)

    async def close(self) -> None:
        """Say goodbye (QUIT) on every kept-open connection."""
        if self.pool is not None:
            await self.pool.close()


def reply_code(exc: Exception) -> int | None:
    """The SMTP reply code an aiosmtplib error carries, if any."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return exc.recipients[0].code if exc.recipients else None
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code
    return None


_SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)
_REFUSALS = (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused)
# The server hung up on a connection we reused: it had closed it while idle (its own timeout,
# a restart) before we noticed. Nothing of the message reached it; a new connection will do.
_STALE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)
# A pause after 421s grows to at most this.
MAX_BACKOFF = 60.0


@dataclass(slots=True)
class _Connection:
    client: aiosmtplib.SMTP
    messages: int = 0
    idle_since: float = 0.0


class SmtpPool:
    """Up to ``pool_size`` kept-open SMTP connections, each lent to one message at a time.

    The most recently used idle connection is lent first, so a quiet period lets the others
    reach ``idle_seconds`` and be closed rather than kept half-alive. After a 421 no new
    connection is made before the back-off ends, for every message of the pool.
    """

    def __init__(
        self, settings: EmailSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._resume_at = 0.0
        self._backoff = settings.reconnect_backoff
        self.connects = 0  # connections opened so far

    async def send(self, sender: str, recipient: str, raw: bytes) -> DeliveryResult:
        closings = 0
        fresh_after_stale = False
        async with self._slots:
            while True:
                connection: _Connection | None = None
                reused = False
                try:
                    connection, reused = await self._checkout()
                    await connection.client.sendmail(sender, [recipient], raw)
                except _SEND_ERRORS as exc:
                    code = reply_code(exc)
                    await self._after_error(connection, exc, code)
                    if code == 421:
                        closings += 1
                        pause = self._back_off()
                        if closings > self.settings.reconnect_attempts:
                            return DeliveryResult.retry(
                                Reason.SERVER_ERROR, after=pause, detail=_detail(exc)
                            )
                        logger.info("SMTP 421 (%s): reconnecting in %.1f s", _detail(exc), pause)
                        continue
                    if reused and isinstance(exc, _STALE) and not fresh_after_stale:
                        fresh_after_stale = True
                        continue
                    return result_for_error(exc)
                self._backoff = self.settings.reconnect_backoff
                await self._checkin(connection)
                return DeliveryResult.delivered()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(c.client) for c in idle))

    # -- connections -------------------------------------------------------------------------

    async def _checkout(self) -> tuple[_Connection, bool]:
        settings = self.settings
        while self._idle:
            connection = self._idle.pop()
            idle_for = self._clock() - connection.idle_since
            if connection.client.is_connected and idle_for < settings.idle_seconds:
                return connection, True
            await self._quit(connection.client)
        wait = self._resume_at - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        password = settings.password.get_secret_value() if settings.password else None
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=password if settings.username is not None else None,
            use_tls=settings.use_tls,
            start_tls=settings.starttls,
            timeout=settings.timeout,
        )
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        self.connects += 1
        return _Connection(client), False

    async def _checkin(self, connection: _Connection) -> None:
        connection.messages += 1
        if connection.messages >= self.settings.messages_per_connection:
            await self._quit(connection.client)
            return
        connection.idle_since = self._clock()
        self._idle.append(connection)

    async def _after_error(
        self, connection: _Connection | None, exc: Exception, code: int | None
    ) -> None:
        """Keep a connection the server only refused one message on (aiosmtplib has reset
        the transaction); close any other."""
        if connection is None:
            return
        refused = isinstance(
            exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused
        )
        if refused and code != 421 and connection.client.is_connected:
            await self._checkin(connection)
        else:
            connection.client.close()

    def _back_off(self) -> float:
        """Pause new connections; a 421 after the last pause ended doubles the next one."""
        now = self._clock()
        if now >= self._resume_at:
            pause = self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            self._resume_at = now + pause
        return max(self._resume_at - now, 0.0)

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        if client.is_connected:
            with contextlib.suppress(*_SEND_ERRORS):
                await client.quit(timeout=2.0)
        client.close()


def _detail(exc: Exception) -> str:
    code = reply_code(exc)
    message = exc.message if isinstance(exc, aiosmtplib.SMTPResponseException) else str(exc)
    return f"{code} {message}".strip() if code is not None else (message or type(exc).__name__)


def _write_eml(folder: Path, filename: str, raw: bytes) -> Path:
    """Written whole or not at all: a reader never sees half a message."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / filename
    partial = folder / f".{filename}.{secrets.token_hex(4)}.tmp"
    # Owner only (0600): a message holds an address and signed links (confirm, unsubscribe).
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(raw)
    os.replace(partial, path)
    return path
