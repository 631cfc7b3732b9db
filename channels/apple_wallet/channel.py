"""The Apple Wallet channel: a push to every device holding the pass, and nothing else.

A campaign message to a membership's pass (addressed by its serial number) is the pass itself:
its ``campaign`` field holds the push text, and that field's ``changeMessage`` is ``"%@"``, so
once the device fetched the changed pass the lock screen shows exactly the push text. The push
is empty (Wallet asks the PassKit web service what changed), one per registered device.

So the medium is the pass, and preparing the medium is composing, not sending: the composer
(``campaigns.composer``) puts the line on the pass before the row reaches this channel, as it
renders an email before the mailer sees it. That also keeps the order a device needs (the pass
changed before the push, or the device could fetch the old one). What is left here only reads
and pushes: the channel is given a read-only ``PassStore`` (the registry in ``wallets/``
implements it) for the push tokens of the pass's devices, and ``send()`` writes nothing. What
the push found out is only reported: the tokens APNs called dead come back in
``DeliveryResult.forget`` and the caller forgets them.

Outcomes: a device APNs could not take the push for now (429, 5xx, no answer) → retry, even if
another device took it: a repeated push is harmless (the device only asks what changed), a
device never told keeps showing the old pass. Otherwise at least one device took the push →
delivered. No device registered, or APNs called every token dead (410, BadDeviceToken) →
failed, pass removed, unreachable.
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
    """What the channel needs of the pass registry: one read, so a send cannot change a pass."""

    async def push_tokens(self, serial_number: str) -> list[str]:
        """The push tokens of the devices holding the pass ([] for an unknown, never
        downloaded or retiring pass: nobody to push)."""
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
    retry = [r for r in results if r.outcome is ApnsOutcome.RETRY]
    if retry:
        return retry[0].as_delivery_result()
    delivered = [r for r in results if r.outcome is ApnsOutcome.DELIVERED]
    if delivered:
        return delivered[0].as_delivery_result()
    if all(r.outcome is ApnsOutcome.UNREGISTERED for r in results):
        logger.info("Apple Wallet pass gone from every device (%d push tokens dead)", gone)
        return results[0].as_delivery_result()
    return next(r for r in results if r.outcome is ApnsOutcome.FAILED).as_delivery_result()


class AppleWalletChannel:
    name = "apple_wallet"

    def __init__(self, apns: ApnsClient, store: PassStore) -> None:
        """``store`` is only read: the composer put the campaign line on the pass already."""
        self._apns = apns
        self._store = store

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        serial = message.address.strip()
        if not serial:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no pass serial number")
        return await push_to_devices(self._apns, await self._store.push_tokens(serial))
