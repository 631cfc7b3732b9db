"""The Apple Wallet channel: a campaign line on the pass, then a push to every device holding it.

A campaign message to a membership's pass (addressed by its serial number) replaces the pass's
``campaign`` field with the push text. That field's ``changeMessage`` is ``"%@"``, so after the
device fetched the new pass the lock screen shows exactly the push text. The push itself is
empty (Wallet asks the PassKit web service what changed), one per registered device.

The pass and its devices live in the database, which an adapter never touches: the channel is
given a ``PassStore`` (the registry in ``wallets/`` implements it), the way a campaign manager
is given a store and its messengers see none. Putting the line on the pass is the delivery
itself (as patching the object is for Google), so it goes through the store before the push;
what the push found out is only reported: the tokens APNs called dead come back in
``DeliveryResult.forget`` and the caller forgets them.

Outcomes: at least one device took the push → delivered. No device registered, or APNs called
every token dead (410) → failed, pass removed, unreachable. A device APNs could not reach now →
retry (a repeated push is harmless: the device only asks what changed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Protocol

from channels.apple_wallet.apns import ApnsClient, ApnsOutcome, ApnsResult
from channels.base import DeliveryResult, OutboundMessage, Reason

__all__ = ["AppleWalletChannel", "PassStore", "push_to_devices"]

logger = logging.getLogger(__name__)


class PassStore(Protocol):
    """What the channel needs of the pass registry: the one write a campaign line is."""

    async def put_campaign_line(self, serial_number: str, text: str) -> list[str]:
        """Show ``text`` as the pass's campaign line and mark the pass changed; the push tokens
        of its devices ([] for an unknown, never downloaded or retiring pass). ValueError when
        ``text`` is longer than the pass holds."""
        ...


async def push_to_devices(apns: ApnsClient, push_tokens: list[str]) -> DeliveryResult:
    """Push every token; the combined delivery result, with the dead tokens in ``forget``."""
    if not push_tokens:
        return DeliveryResult.failed(
            Reason.PASS_REMOVED, unreachable=True, detail="no device has the pass installed"
        )
    results: list[ApnsResult] = await asyncio.gather(*(apns.push(t) for t in push_tokens))
    gone = tuple(
        token
        for token, result in zip(push_tokens, results, strict=True)
        if result.outcome is ApnsOutcome.UNREGISTERED
    )
    return dataclasses.replace(_combined(results, len(gone)), forget=gone)


def _combined(results: list[ApnsResult], gone: int) -> DeliveryResult:
    delivered = [r for r in results if r.outcome is ApnsOutcome.DELIVERED]
    if delivered:
        return delivered[0].as_delivery_result()
    retry = [r for r in results if r.outcome is ApnsOutcome.RETRY]
    if retry:
        return retry[0].as_delivery_result()
    if all(r.outcome is ApnsOutcome.UNREGISTERED for r in results):
        logger.info("Apple Wallet pass gone from every device (%d push tokens dead)", gone)
        return results[0].as_delivery_result()
    return next(r for r in results if r.outcome is ApnsOutcome.FAILED).as_delivery_result()


class AppleWalletChannel:
    name = "apple_wallet"

    def __init__(self, apns: ApnsClient, store: PassStore) -> None:
        self._apns = apns
        self._store = store

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        serial = message.address.strip()
        if not serial:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no pass serial number")
        text = " ".join(message.push_text.split()) or message.merchant_name
        try:
            tokens = await self._store.put_campaign_line(serial, text)
        except ValueError as error:  # longer than the pass field holds
            return DeliveryResult.failed(Reason.BAD_REQUEST, detail=str(error))
        return await push_to_devices(self._apns, tokens)
