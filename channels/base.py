"""The one protocol every delivery channel speaks.

Adapters import neither ``models`` nor ``loyalty``: the engine turns delivery rows into
``OutboundMessage`` and stores the ``DeliveryResult``; whatever state an adapter must read or
change on the way (an Apple pass's campaign line) is a small protocol it is given. Channel
names are the string values of ``models.enums.Channel``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Receipt(StrEnum):
    """A messenger's word on a message it took: it arrived, it was read, or it did not arrive
    after all (Viber's ``delivered``/``seen``/``failed``, WhatsApp's ``delivered``/``read``/
    ``failed``; WhatsApp's ``sent`` tells nothing the send call did not)."""

    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    # Not sent, for a reason of the moment rather than the address (WhatsApp's window closed
    # and no template): the row is skipped, the person stays reachable, first reachable
    # tries their next channel.
    SKIPPED = "skipped"


class Reason(StrEnum):
    """Why a delivery failed, was retried or skipped; stored on the row and counted in stats."""

    BOT_BLOCKED = "bot_blocked"
    CHAT_NOT_FOUND = "chat_not_found"
    USER_DEACTIVATED = "user_deactivated"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    NETWORK_ERROR = "network_error"
    BAD_REQUEST = "bad_request"
    ADDRESS_REJECTED = "address_rejected"
    MAILBOX_UNAVAILABLE = "mailbox_unavailable"
    UNSUBSCRIBED = "unsubscribed"
    OPTED_OUT = "opted_out"
    NO_ADDRESS = "no_address"
    NOT_VERIFIED = "not_verified"
    UNREACHABLE = "unreachable"
    PASS_REMOVED = "pass_removed"
    QUOTA_SILENT = "quota_silent"
    CANCELLED = "cancelled"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    # The messenger account we send from is blocked, suspended or gone (Viber 7, 8, 9): no
    # message of it goes anywhere until the operator sorts it out with the platform.
    ACCOUNT_BLOCKED = "account_blocked"
    # WhatsApp: the person has not written within 24 hours and the message names no approved
    # template to open a conversation with, so it was not sent (WhatsApp 131047, or known
    # before calling). Not unreachable: their next message opens the window again.
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    reason: Reason | None = None
    # Seconds the platform asked us to wait (Telegram's retry_after), obeyed exactly.
    retry_after: float | None = None
    external_id: str | None = None
    # The person cannot be reached on this channel any more (blocked the bot, address gone).
    unreachable: bool = False
    detail: str = ""
    # Endpoints behind the address the platform called dead, for the caller to forget: with
    # any outcome, since one address may reach several (an Apple pass: its devices' push
    # tokens, some gone while another took the push).
    forget: tuple[str, ...] = ()

    @classmethod
    def delivered(cls, external_id: str | None = None) -> DeliveryResult:
        return cls(Outcome.DELIVERED, external_id=external_id)

    @classmethod
    def retry(
        cls, reason: Reason, *, after: float | None = None, detail: str = ""
    ) -> DeliveryResult:
        return cls(Outcome.RETRY, reason=reason, retry_after=after, detail=detail[:200])

    @classmethod
    def failed(
        cls, reason: Reason, *, unreachable: bool = False, detail: str = ""
    ) -> DeliveryResult:
        return cls(Outcome.FAILED, reason=reason, unreachable=unreachable, detail=detail[:200])

    @classmethod
    def skipped(cls, reason: Reason, *, detail: str = "") -> DeliveryResult:
        return cls(Outcome.SKIPPED, reason=reason, detail=detail[:200])


@dataclass(frozen=True, slots=True)
class VoucherLine:
    """An open voucher as a message shows it: staff scan ``qr_link`` or type ``code``."""

    title: str
    code: str
    expires_at: datetime | None = None
    qr_link: str | None = None


@dataclass(frozen=True, slots=True)
class CardStatus:
    """The member's card at sending time, so an email is a loyalty email and not only a text.

    Colours are ``#RRGGBB`` (anything else is replaced by the channel); the logo is PNG bytes.
    """

    card_name: str
    stamps_needed: int
    balance: int
    reward_text: str
    timezone: str = "UTC"
    background: str = ""
    foreground: str = ""
    accent: str = ""
    logo_png: bytes | None = None
    vouchers: tuple[VoucherLine, ...] = ()

    @property
    def stamps_to_reward(self) -> int:
        return max(self.stamps_needed - self.balance, 0)


# An action id comes back from every platform unchanged: Telegram's callback data allows 64
# bytes, Viber's ActionBody and WhatsApp's reply id allow more, so the smallest one rules.
ACTION_ID_BYTES = 64


@dataclass(frozen=True, slots=True)
class Action:
    """A button, already localized: ``id`` comes back when pressed (Telegram's callback data,
    Viber's ``ActionBody``, WhatsApp's reply id), ``url`` opens a page instead. One type for a
    campaign message's buttons and a conversation screen's, so each platform draws both alike.

    ``label`` is short; each platform cuts it to its own limit (WhatsApp's reply-button
    titles are 20 characters, list rows 24).
    """

    label: str
    id: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if bool(self.id) == bool(self.url):
            raise ValueError("an action has either an id or a url")
        if len(self.id.encode()) > ACTION_ID_BYTES:
            raise ValueError(f"action id over {ACTION_ID_BYTES} bytes: {self.id[:16]}…")


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One campaign message for one person on one channel, already localized."""

    delivery_id: int
    channel: str
    # Telegram chat id, email address, wallet pass serial … whatever the channel addresses.
    address: str
    language: str
    right_to_left: bool
    merchant_name: str
    subject: str
    # The wallet lock-screen line (≤ the campaign's limit, usually 20 characters).
    push_text: str
    # The long message in Telegram's HTML subset (<b>, <i>, <u>, <s>, <a href>, <code>, <pre>,
    # <blockquote>, <tg-spoiler>); channels sanitize and adapt it.
    html: str
    photo: bytes | None = None
    photo_file_id: str | None = None
    # Public links the channel may use: "web" (card page), "unsubscribe", "open" (pixel),
    # "click" (redirect base: append ?u=<url>; the web app redirects only to links that are in
    # the campaign), "voucher".
    links: dict[str, str] = field(default_factory=dict)
    # The member's card on the campaign's card, for channels that show it (email).
    card: CardStatus | None = None
    # Rows of buttons a messenger puts under the message (under its last part when split).
    buttons: tuple[tuple[Action, ...], ...] = ()
    # WhatsApp: outside the 24-hour customer-service window only an approved template may be
    # sent. ``template`` names it ("" for none) and ``template_language`` its language code
    # ("en_US"; "" for ``language``), ``template_parameters`` the texts of its body's {{1}},
    # {{2}} … in order. ``window_open`` says whether the person wrote to the account in the
    # last 24 hours: True sends the message itself, False the template, None (not known) the
    # message and lets WhatsApp say no (131047), then the template if there is one, else
    # ``OUTSIDE_WINDOW``. Other channels ignore these four.
    template: str = ""
    template_language: str = ""
    template_parameters: tuple[str, ...] = ()
    window_open: bool | None = None
    # Telegram: the shop's own bot the person came through (``bot.shop_bots``), which sends
    # it while connected; None: the shared bot. Other channels ignore it.
    account_id: int | None = None


class DeliveryChannel(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> DeliveryResult: ...


@runtime_checkable
class BatchChannel(DeliveryChannel, Protocol):
    """A channel that sends many messages in fewer calls (Viber's ``broadcast_message``: 300
    people a call). The worker hands it a batch's messages of that channel at once; the results
    come back in the same order, one for each message."""

    async def send_many(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]: ...
