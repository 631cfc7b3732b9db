"""Campaign delivery through the WhatsApp Cloud API.

WhatsApp lets a business send free-form ("session") messages only within 24 hours of the
person's last message to it, the customer-service window; outside it only an approved
template opens a conversation. So ``send`` looks at ``OutboundMessage.window_open``:

- True: the message itself: its HTML adapted to WhatsApp's marks, the picture
  (``links["photo"]``, a public URL: WhatsApp fetches it) first, the text in parts of at most
  4,096 characters, the buttons (reply buttons, a list or a URL button, see
  :mod:`channels.whatsapp.render`) on the last.
- False: the template named by ``template`` in ``template_language`` (else the message's
  language) with ``template_parameters`` as its body's parameters; with no template nothing is
  sent and the delivery is skipped ``OUTSIDE_WINDOW`` without calling WhatsApp.
- None (the engine does not know): the message itself; should WhatsApp answer 131047 (outside
  the window) before any part went, the template is sent instead when there is one.

The delivery's ``external_id`` is the ``wamid`` of the last message sent, the one whose
status webhooks (sent, delivered, read, failed) stand for the whole. Parts already sent are
remembered per delivery id in this process, so a retry after a failure on part 3 starts at
part 3, as on Viber.

Every call first takes a slot of the phone number's bucket in the shared limiter: Meta's
default throughput is 80 messages a second per business number (:data:`DEFAULT_RATE` keeps 5%
spare: at 2%, sends that left on time still arrived bunched across a second's edge under load,
3 refused of 900 in one bench run). The refusals as outcomes are
:mod:`channels.whatsapp.errors`; the per-user marketing limit (131049) is retried after 1 h,
6 h and 24 h by the number of times this process met it for the delivery.

A message with ``account_id`` is for a person who wrote to a shop's own number
(``accounts``, ``bot.shop_whatsapps``): it goes through that number in its own bucket
(``whatsapp:<account id>``); once it is disconnected the row fails unreachable (the person
agreed to hear from the shop's number, not from ours). A deployment without a shared number
has a channel with no ``api``: it sends for shops' own numbers only, and fails a shared
number's row as not configured, as the worker does for a channel it lacks.

A template is approved per business account: the campaign's template may be unknown on a
shop's own number (132001). Such a row outside the window is skipped ``OUTSIDE_WINDOW``,
as with no template at all, rather than failed: the number needs the template, not the
person another channel.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any, Protocol

from channels.base import Action, DeliveryResult, OutboundMessage, Outcome, Reason
from channels.messenger_text import plain
from channels.own_accounts import send_through_account
from channels.ratelimit import Rate, RateLimiter, acquire

from .api import WhatsAppApi, WhatsAppReply, WhatsAppUnavailable, template_message
from .errors import ECOSYSTEM_LIMIT, RE_ENGAGEMENT, TEMPLATE_UNKNOWN, result_for_error
from .render import DEFAULT_LIST_LABEL, Key, message_payloads

__all__ = ["DEFAULT_RATE", "WhatsAppChannel", "address_digits"]

logger = logging.getLogger(__name__)

DEFAULT_RATE = Rate(per_second=76.0, burst=1)
MEMORY_LIMIT = 10_000


def address_digits(address: str) -> str:
    """A phone number as WhatsApp names people: E.164 digits, no "+", no spaces."""
    digits = "".join(ch for ch in address if ch.isdigit())
    return digits if 7 <= len(digits) <= 15 else ""


def _keys(buttons: tuple[tuple[Action, ...], ...]) -> list[list[Key]]:
    return [[Key(b.label, action_id=b.id, url=b.url) for b in row] for row in buttons]


def _unavailable(error: WhatsAppUnavailable) -> DeliveryResult:
    reason = Reason.SERVER_ERROR if error.http_status else Reason.NETWORK_ERROR
    return DeliveryResult.retry(reason, detail=error.reason)


class WhatsAppAccounts(Protocol):
    """Shops' own numbers by account (``bot.shop_whatsapps.ShopWhatsApps``)."""

    async def client_of_account(self, account_id: int | None) -> WhatsAppApi | None: ...


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(
        self,
        api: WhatsAppApi | None,
        limiter: RateLimiter,
        *,
        account: str = "default",
        rate: Rate = DEFAULT_RATE,
        rate_limited_after: float = 60.0,
        list_label: str = DEFAULT_LIST_LABEL,
        sent_parts: MutableMapping[int, list[str]] | None = None,
        accounts: WhatsAppAccounts | None = None,
    ) -> None:
        self.api = api
        self.accounts = accounts
        self.limiter = limiter
        self.rate = rate
        self.rate_limited_after = rate_limited_after
        self.list_label = list_label
        # The bucket of this business phone number, shared by every process using the limiter.
        self.rate_key = f"whatsapp:{account}"
        self.sent_parts: MutableMapping[int, list[str]] = {} if sent_parts is None else sent_parts
        # How often each delivery met the per-user marketing limit (131049), for its backoff.
        self.ecosystem_hits: dict[int, int] = {}
        # A shop's own number (``for_account``): its templates are its own.
        self.own_number = False

    def payloads(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """The session messages ``message`` is sent as, in order."""
        return message_payloads(
            plain(message.html),
            image_url=message.links.get("photo", ""),
            keys=_keys(message.buttons),
            list_label=self.list_label,
        )

    def for_account(self, api: WhatsAppApi, account_id: int) -> WhatsAppChannel:
        """This channel's settings and resumable parts, through a shop's own number."""
        channel = WhatsAppChannel(
            api,
            self.limiter,
            account=str(account_id),
            rate=self.rate,
            rate_limited_after=self.rate_limited_after,
            list_label=self.list_label,
            sent_parts=self.sent_parts,
        )
        channel.ecosystem_hits = self.ecosystem_hits
        channel.own_number = True
        return channel

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if message.account_id is not None:
            return await send_through_account(
                message,
                message.account_id,
                self.accounts,
                self.for_account,
                "the shop's number is off",
            )
        if self.api is None:
            return DeliveryResult.failed(Reason.UNREACHABLE, detail="channel not configured")
        to = address_digits(message.address)
        if not to:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no WhatsApp number")
        if message.window_open is False:
            if not message.template:
                return DeliveryResult.skipped(
                    Reason.OUTSIDE_WINDOW, detail="outside the 24-hour window, no template"
                )
            return await self._template(to, message)
        payloads = self.payloads(message)
        if not payloads:
            return DeliveryResult.failed(Reason.BAD_REQUEST, detail="message has no text")
        done = list(self.sent_parts.get(message.delivery_id, ()))
        for index in range(len(done), len(payloads)):
            reply = await self._call(to, payloads[index])
            if isinstance(reply, DeliveryResult):
                result = reply
            elif reply.ok and reply.message_id:
                done.append(reply.message_id)
                self._remember(message.delivery_id, done, keep=index + 1 < len(payloads))
                continue
            else:
                if (
                    reply.error is not None
                    and reply.error.code == RE_ENGAGEMENT
                    and not done
                    and message.template
                ):
                    return await self._template(to, message)
                result = self._refused(message.delivery_id, reply)
            self._remember(message.delivery_id, done, keep=result.outcome == Outcome.RETRY)
            if len(payloads) > 1:
                result = replace(
                    result, detail=f"part {index + 1}/{len(payloads)}: {result.detail}"[:200]
                )
            return result
        self.ecosystem_hits.pop(message.delivery_id, None)
        return DeliveryResult.delivered(external_id=done[-1])

    async def _template(self, to: str, message: OutboundMessage) -> DeliveryResult:
        language = message.template_language or message.language
        payload = template_message(message.template, language, message.template_parameters)
        reply = await self._call(to, payload)
        if isinstance(reply, DeliveryResult):
            return reply
        if reply.ok and reply.message_id:
            self.ecosystem_hits.pop(message.delivery_id, None)
            return DeliveryResult.delivered(external_id=reply.message_id)
        if self.own_number and reply.error is not None and reply.error.code == TEMPLATE_UNKNOWN:
            return DeliveryResult.skipped(
                Reason.OUTSIDE_WINDOW,
                detail=f"template {message.template} ({language}) is not on the shop's number",
            )
        return self._refused(message.delivery_id, reply)

    async def _call(self, to: str, payload: dict[str, Any]) -> WhatsAppReply | DeliveryResult:
        api = self.api
        if api is None:
            return DeliveryResult.failed(Reason.UNREACHABLE, detail="channel not configured")
        await acquire(self.limiter, self.rate_key, self.rate)
        try:
            return await api.send(to, payload)
        except WhatsAppUnavailable as error:
            return _unavailable(error)

    def _refused(self, delivery_id: int, reply: WhatsAppReply) -> DeliveryResult:
        if reply.error is None:  # 200 without a message id: not a message WhatsApp took
            return DeliveryResult.retry(Reason.SERVER_ERROR, detail="ok without a message id")
        attempt = 1
        if reply.error.code == ECOSYSTEM_LIMIT:
            attempt = self.ecosystem_hits.get(delivery_id, 0) + 1
            self.ecosystem_hits[delivery_id] = attempt
            while len(self.ecosystem_hits) > MEMORY_LIMIT:
                del self.ecosystem_hits[next(iter(self.ecosystem_hits))]
        return result_for_error(
            reply.error,
            reply.http_status,
            attempt=attempt,
            rate_limited_after=self.rate_limited_after,
        )

    def _remember(self, delivery_id: int, done: list[str], *, keep: bool) -> None:
        self.sent_parts.pop(delivery_id, None)
        if keep and done:
            self.sent_parts[delivery_id] = list(done)
            while len(self.sent_parts) > MEMORY_LIMIT:
                del self.sent_parts[next(iter(self.sent_parts))]
