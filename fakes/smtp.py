"""A loopback SMTP server (aiosmtpd, the real protocol) that keeps what it receives.

Usage::

    with FakeSMTP() as smtp:                    # listens on 127.0.0.1, a free port
        ...send to smtp.host, smtp.port...
        smtp.fail(421, command="MAIL")          # the next MAIL is answered 421, then it hangs up
        smtp.received[0].message["Subject"]

It runs in a thread of its own (aiosmtpd's ``Controller``), so a client in the test's event
loop talks to it over a real socket. Besides keeping every accepted message it counts
connections (made, open now, most open at once) and messages, answers chosen replies per
recipient (``rcpt_replies``, by local part) or per command (:meth:`fail`), and closes the
connection after every ``421``, as RFC 5321 (section 3.8) has a server do when it must stop
serving. ``idle_timeout`` is the server's own: an idle connection is closed after it, as real
relays do after some minutes.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from .loopback import HOST

__all__ = ["COMMANDS", "FakeSMTP", "Received", "SmtpHandler"]

# Where a scripted reply can be given: the greeting, or the reply to one of these commands.
COMMANDS = ("CONNECT", "EHLO", "MAIL", "RCPT", "DATA")
_DEFAULT_TEXT = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Local error in processing, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message too big",
    554: "5.7.1 Transaction failed",
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpHandler:
    """aiosmtpd's handler: collects envelopes and answers scripted replies.

    ``rcpt_replies`` answers a recipient by its local part, every time; ``data_replies`` are
    answered to DATA once each, in order; :meth:`FakeSMTP.fail` scripts any command."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    require_auth: bool = False
    received: list[Received] = field(default_factory=list)
    # False: count accepted messages without keeping them (a benchmark's thousands).
    keep: bool = True
    accepted: int = 0
    # command -> replies still to give, in order
    scripted: dict[str, deque[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def script(self, command: str, reply: str, times: int) -> None:
        with self._lock:
            self.scripted.setdefault(command, deque()).extend([reply] * times)

    def next_scripted(self, command: str) -> str | None:
        with self._lock:
            queue = self.scripted.get(command)
            return queue.popleft() if queue else None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        reply = self.next_scripted("EHLO")
        if reply:
            return [reply]
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        reply = self.next_scripted("MAIL")
        if reply:
            return reply
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.next_scripted("RCPT") or self.rcpt_replies.get(address.partition("@")[0])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.next_scripted("DATA")
        if reply:
            return reply
        if self.data_replies:
            return self.data_replies.pop(0)
        raw = envelope.original_content or envelope.content
        with self._lock:
            self.accepted += 1
            if self.keep:
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 Message accepted for delivery"


class _Session(SMTP):
    """One client connection: counted, and hung up on after a 421."""

    def __init__(self, fake: FakeSMTP, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fake = fake
        self._greeted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:  # not the STARTTLS upgrade of one
            self._fake._opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._fake._closed(self)
        super().connection_lost(error)

    async def push(self, status: Any) -> None:
        text = status.decode() if isinstance(status, bytes) else str(status)
        if not self._greeted:
            self._greeted = True
            text = self._fake.handler.next_scripted("CONNECT") or text
        await super().push(text)
        if text.startswith("421") and self.transport is not None:
            self.transport.close()


class _Controller(Controller):
    """Listens on a free port chosen by the kernel (port=0), learnt before the readiness probe;
    every connection is a :class:`_Session` of the fake."""

    def __init__(self, fake: FakeSMTP, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fake = fake

    def factory(self) -> SMTP:
        return _Session(self._fake, self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class FakeSMTP:
    def __init__(
        self,
        handler: SmtpHandler | None = None,
        *,
        port: int = 0,
        idle_timeout: float = 300.0,
        hostname: str = "mx.test",
        **smtp: Any,
    ) -> None:
        """``smtp``: more of aiosmtpd's ``SMTP`` options (``authenticator``,
        ``auth_require_tls`` …)."""
        self.handler = handler or SmtpHandler()
        self.host = HOST
        self._port = port
        self._options = {"timeout": idle_timeout, **smtp}
        self._server_hostname = hostname
        self._controller: _Controller | None = None
        self._sessions: set[_Session] = set()
        self._lock = threading.Lock()
        self.connections = 0  # connections accepted so far
        self.max_open = 0  # the most open at one time

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSMTP:
        controller = _Controller(
            self, self.handler, hostname=self.host, port=self._port,
            server_hostname=self._server_hostname, ready_timeout=10.0, **self._options,
        )  # fmt: skip
        controller.start()
        self._controller = controller
        with self._lock:
            # The controller's own readiness probe connected once: not a client.
            self._sessions.clear()
            self.connections = self.max_open = 0
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSMTP:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("FakeSMTP is not started")
        port: int = self._controller.port
        return port

    # -- scripting and inspection ------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def messages(self) -> int:
        """Messages accepted (250 after DATA) so far."""
        return self.handler.accepted

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._sessions)

    def fail(
        self, code: int, *, command: str = "DATA", times: int = 1, text: str | None = None
    ) -> None:
        """Answer the next ``times`` ``command``\\ s (or greetings: ``"CONNECT"``) with
        ``code``; a 421 also closes that connection."""
        if command not in COMMANDS:
            raise ValueError(f"not one of {', '.join(COMMANDS)}: {command}")
        reply = f"{code} {text or _DEFAULT_TEXT.get(code, 'Scripted reply')}"
        self.handler.script(command, reply, times)

    def disconnect_all(self) -> None:
        """Hang up on every open connection at once (a relay restarting)."""
        controller = self._controller
        if controller is None:
            return
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            transport = session.transport
            if transport is not None:
                controller.loop.call_soon_threadsafe(transport.close)

    def _opened(self, session: _Session) -> None:
        with self._lock:
            self.connections += 1
            self._sessions.add(session)
            self.max_open = max(self.max_open, len(self._sessions))

    def _closed(self, session: _Session) -> None:
        with self._lock:
            self._sessions.discard(session)
