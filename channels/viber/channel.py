"""Campaign delivery through Viber's REST bot API.

``send`` delivers one message with ``send_message``: its HTML adapted to Viber's marks, the
picture (``links["photo"]``, a public URL: Viber fetches pictures itself) first, the text in
parts of at most 7,000 characters, the buttons as a keyboard on the last part. The delivery's
``external_id`` is the ``message_token`` of that last part, the one Viber's ``delivered`` and
``seen`` receipts for the whole message are matched by. Parts already sent are remembered per
delivery id in this process, so a retry after a failure on part 3 starts at part 3 (a crash
in between sends the earlier parts again, within the engine's duplicate bound).

``send_many`` is the broadcast path: messages of identical content go out with
``broadcast_message``, at most 300 receivers a call, each receiver's result read from the
answer's ``failed_list``. It is used when ``broadcast`` is on (Viber opens broadcasting only
on application); otherwise, and for a message alone, it sends one by one.

Every call (a part, a broadcast batch) first takes a slot of the account's bucket in the
shared limiter, so all workers together stay under ``rate``. Viber documents 500 broadcast
requests per 10 seconds; its 12 "tooManyRequests" also answers the 101st message to one
person within an hour without a reply from them, which no bucket of ours sees coming, so a
12 is retried after ``rate_limited_after`` seconds and the engine's attempt limit ends it.

Viber's statuses as outcomes: 0 delivered; 5 (no such Viber user) and 6 (not subscribed: left
the chat or never joined it) failed for good and unreachable; 7/8/9 (our account blocked, gone,
suspended) failed ``ACCOUNT_BLOCKED``; 11 (a device too old for bots) failed unreachable for
now, not for good; 12 retry; 2 and 10 (token, webhook: configuration) retry so an operator can
fix it before the attempts run out, logged as errors; anything else failed ``BAD_REQUEST``.
No answer at all (network, timeout, 5xx) is a retry.

A message with ``account_id`` is for a person who came through a shop's own Viber bot
(``accounts``, ``bot.shop_vibers``): it goes through that bot, in its own bucket
(``viber:<account id>``), one by one (broadcasting is opened per bot, on application). Once the
bot is disconnected nobody can write to that person on Viber: the id is that bot's, not the
shared bot's, so the row fails unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from channels.base import Action, DeliveryResult, OutboundMessage, Outcome, Reason
from channels.messenger_text import plain
from channels.own_accounts import send_through_account
from channels.ratelimit import Rate, RateLimiter, acquire

from .api import Status, ViberApi, ViberReply, ViberUnavailable
from .render import Key, Sender, message_payloads

__all__ = ["BROADCAST_LIMIT", "DEFAULT_RATE", "ViberChannel", "result_for_status"]

logger = logging.getLogger(__name__)

BROADCAST_LIMIT = 300
# 500 requests in 10 s is Viber's documented broadcast limit; 2% spare for the jitter between
# leaving here and arriving there.
DEFAULT_RATE = Rate(per_second=49.0, burst=1)
SENT_PARTS_LIMIT = 10_000

_GONE = {Status.RECEIVER_NOT_REGISTERED: Reason.CHAT_NOT_FOUND}
_ACCOUNT = {
    Status.PUBLIC_ACCOUNT_BLOCKED,
    Status.PUBLIC_ACCOUNT_NOT_FOUND,
    Status.PUBLIC_ACCOUNT_SUSPENDED,
}
_CONFIGURATION = {Status.INVALID_AUTH_TOKEN, Status.WEBHOOK_NOT_SET}


class AccountClient(Protocol):
    """A shop bot's client and the sender its messages carry."""

    @property
    def api(self) -> ViberApi: ...

    @property
    def sender(self) -> Sender: ...


class ViberAccounts(Protocol):
    """Shops' own Viber bots by account (``bot.shop_vibers.ShopVibers``)."""

    async def client_of_account(self, account_id: int | None) -> AccountClient | None: ...


def result_for_status(
    status: int, status_message: str, *, rate_limited_after: float
) -> DeliveryResult:
    """What a non-zero Viber status means for one delivery."""
    detail = f"{status} {status_message}".strip()
    if status == Status.RECEIVER_NOT_REGISTERED:
        return DeliveryResult.failed(_GONE[Status(status)], unreachable=True, detail=detail)
    if status == Status.RECEIVER_NOT_SUBSCRIBED:
        return DeliveryResult.failed(Reason.UNREACHABLE, unreachable=True, detail=detail)
    if status in _ACCOUNT:
        return DeliveryResult.failed(Reason.ACCOUNT_BLOCKED, detail=detail)
    if status == Status.RECEIVER_NO_SUITABLE_DEVICE:
        return DeliveryResult.failed(Reason.UNREACHABLE, detail=detail)
    if status == Status.TOO_MANY_REQUESTS:
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=rate_limited_after, detail=detail)
    if status in _CONFIGURATION:
        logger.error("Viber refused our configuration: %s", detail)
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
    return DeliveryResult.failed(Reason.BAD_REQUEST, detail=detail)


def _unavailable(error: ViberUnavailable) -> DeliveryResult:
    reason = Reason.SERVER_ERROR if error.http_status else Reason.NETWORK_ERROR
    return DeliveryResult.retry(reason, detail=error.reason)


@dataclass(frozen=True, slots=True)
class _Content:
    """What makes two campaign messages the same message (so one broadcast carries both)."""

    text: str
    image_url: str
    buttons: tuple[tuple[Action, ...], ...]


def _content(message: OutboundMessage) -> _Content:
    return _Content(plain(message.html), message.links.get("photo", ""), message.buttons)


def _keys(buttons: tuple[tuple[Action, ...], ...]) -> list[list[Key]]:
    return [[Key(b.label, action_id=b.id, url=b.url) for b in row] for row in buttons]


class ViberChannel:
    name = "viber"

    def __init__(
        self,
        api: ViberApi | None,
        limiter: RateLimiter,
        *,
        sender: Sender,
        account: str = "default",
        rate: Rate = DEFAULT_RATE,
        broadcast: bool = False,
        rate_limited_after: float = 60.0,
        sent_parts: MutableMapping[int, list[str]] | None = None,
        accounts: ViberAccounts | None = None,
    ) -> None:
        self.api = api
        self.accounts = accounts
        self.limiter = limiter
        self.sender = sender
        self.rate = rate
        self.broadcast = broadcast
        self.rate_limited_after = rate_limited_after
        # The bucket of this bot account, shared by every process using the limiter.
        self.rate_key = f"viber:{account}"
        self.sent_parts: MutableMapping[int, list[str]] = {} if sent_parts is None else sent_parts

    def _payloads(self, content: _Content) -> list[dict[str, object]]:
        return message_payloads(
            content.text, self.sender, image_url=content.image_url, keys=_keys(content.buttons)
        )

    def for_account(self, client: AccountClient, account_id: int) -> ViberChannel:
        """This channel's settings and resumable parts, sending through a shop's own bot in
        that bot's own bucket."""
        return ViberChannel(
            client.api,
            self.limiter,
            sender=client.sender,
            account=str(account_id),
            rate=self.rate,
            rate_limited_after=self.rate_limited_after,
            sent_parts=self.sent_parts,
        )

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if message.account_id is not None:
            return await send_through_account(
                message,
                message.account_id,
                self.accounts,
                self.for_account,
                "the shop's Viber bot is off",
            )
        if self.api is None:
            return DeliveryResult.failed(Reason.UNREACHABLE, detail="channel not configured")
        receiver = message.address.strip()
        if not receiver:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no Viber user id")
        payloads = self._payloads(_content(message))
        if not payloads:
            return DeliveryResult.failed(Reason.BAD_REQUEST, detail="message has no text")
        done = list(self.sent_parts.get(message.delivery_id, ()))
        for index in range(len(done), len(payloads)):
            await acquire(self.limiter, self.rate_key, self.rate)
            try:
                reply = await self.api.send_message(receiver, payloads[index])
            except ViberUnavailable as error:
                result = _unavailable(error)
            else:
                if reply.ok and reply.message_token:
                    done.append(reply.message_token)
                    self._remember(message.delivery_id, done, keep=index + 1 < len(payloads))
                    continue
                result = self._refused(reply)
            self._remember(message.delivery_id, done, keep=result.outcome == Outcome.RETRY)
            if len(payloads) > 1:
                result = replace(
                    result, detail=f"part {index + 1}/{len(payloads)}: {result.detail}"[:200]
                )
            return result
        return DeliveryResult.delivered(external_id=done[-1])

    def _refused(self, reply: ViberReply) -> DeliveryResult:
        if reply.ok:  # status 0 without a token: not a message Viber took
            return DeliveryResult.retry(Reason.SERVER_ERROR, detail="ok without message_token")
        return result_for_status(
            reply.status, reply.status_message, rate_limited_after=self.rate_limited_after
        )

    def _remember(self, delivery_id: int, done: list[str], *, keep: bool) -> None:
        self.sent_parts.pop(delivery_id, None)
        if keep and done:
            self.sent_parts[delivery_id] = list(done)
            while len(self.sent_parts) > SENT_PARTS_LIMIT:
                del self.sent_parts[next(iter(self.sent_parts))]

    async def send_many(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]:
        """Each message's result, in order; identical ones broadcast when ``broadcast`` is on."""
        results: list[DeliveryResult | None] = [None] * len(messages)
        groups: dict[_Content, list[int]] = {}
        own: list[int] = []
        for index, message in enumerate(messages):
            if not message.address.strip():
                results[index] = DeliveryResult.failed(Reason.NO_ADDRESS, detail="no user id")
            elif message.account_id is not None:
                own.append(index)  # a shop's own bot: one by one
            else:
                groups.setdefault(_content(message), []).append(index)
        # Alone, or without broadcasting, each message is one send; they go together (the
        # shared bucket paces them), as the worker sends any other channel's batch.
        broadcast = self.broadcast and self.api is not None
        alone = own + [i for indexes in groups.values() if not broadcast or len(indexes) == 1
                       for i in indexes]  # fmt: skip
        for index, result in zip(
            alone, await asyncio.gather(*(self.send(messages[i]) for i in alone)), strict=True
        ):
            results[index] = result
        for content, indexes in groups.items():
            if not broadcast or len(indexes) == 1:
                continue
            for start in range(0, len(indexes), BROADCAST_LIMIT):
                batch = indexes[start : start + BROADCAST_LIMIT]
                receivers = [messages[i].address.strip() for i in batch]
                for index, result in zip(
                    batch, await self._broadcast(content, receivers), strict=True
                ):
                    results[index] = result
        return [r if r is not None else DeliveryResult.failed(Reason.BAD_REQUEST) for r in results]

    async def _broadcast(self, content: _Content, receivers: list[str]) -> list[DeliveryResult]:
        """One batch: every part to those the earlier parts reached."""
        payloads = self._payloads(content)
        if not payloads:
            return [DeliveryResult.failed(Reason.BAD_REQUEST, detail="no text")] * len(receivers)
        api = self.api
        if api is None:  # only the shared bot broadcasts
            return [DeliveryResult.failed(Reason.UNREACHABLE)] * len(receivers)
        outcome: dict[str, DeliveryResult] = {}
        token: dict[str, str] = {}
        for payload in payloads:
            pending = [r for r in receivers if r not in outcome]
            if not pending:
                break
            await acquire(self.limiter, self.rate_key, self.rate)
            try:
                reply = await api.broadcast_message(pending, payload)
            except ViberUnavailable as error:
                outcome |= dict.fromkeys(pending, _unavailable(error))
                break
            if not reply.ok or not reply.message_token:
                outcome |= dict.fromkeys(pending, self._refused(reply))
                break
            for failed in reply.failed_list:
                outcome.setdefault(
                    failed.receiver,
                    result_for_status(
                        failed.status,
                        failed.status_message,
                        rate_limited_after=self.rate_limited_after,
                    ),
                )
            for receiver in pending:
                if receiver not in outcome:
                    token[receiver] = reply.message_token
        return [
            outcome.get(r) or DeliveryResult.delivered(external_id=token[r]) for r in receivers
        ]
