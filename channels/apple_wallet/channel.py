"""The Apple Wallet channel: a campaign line on the pass, then a push to every device holding it.

A campaign message to a membership's pass (addressed by its serial number) replaces the pass's
``campaign`` field with the push text. That field's ``changeMessage`` is ``"%@"``, so after the
device fetched the new pass the lock screen shows exactly the push text. The push itself is
empty (Wallet asks the PassKit web service what changed), one per registered device.

Outcomes: at least one device took the push → delivered. No device registered, or APNs called
every token dead (410; the token is forgotten) → failed, pass removed, unreachable. A device
APNs could not reach now → retry (a repeated push is harmless: the device only asks what
changed).
"""

from __future__ import annotations

import asyncio
import logging

from channels.apple_wallet.apns import ApnsClient, ApnsOutcome, ApnsResult
from channels.base import DeliveryResult, OutboundMessage, Reason
from wallets.apple_registry import forget_push_token, pass_changed_by_serial

__all__ = ["AppleWalletChannel", "push_to_devices"]

logger = logging.getLogger(__name__)


async def push_to_devices(apns: ApnsClient, push_tokens: list[str]) -> DeliveryResult:
    """Push every token; forget the ones APNs calls dead. The combined delivery result."""
    if not push_tokens:
        return DeliveryResult.failed(
            Reason.PASS_REMOVED, unreachable=True, detail="no device has the pass installed"
        )
    results: list[ApnsResult] = await asyncio.gather(*(apns.push(t) for t in push_tokens))
    gone = 0
    for token, result in zip(push_tokens, results, strict=True):
        if result.outcome is ApnsOutcome.UNREGISTERED:
            gone += await forget_push_token(token)
    delivered = [r for r in results if r.outcome is ApnsOutcome.DELIVERED]
    if delivered:
        return delivered[0].as_delivery_result()
    retry = [r for r in results if r.outcome is ApnsOutcome.RETRY]
    if retry:
        return retry[0].as_delivery_result()
    if all(r.outcome is ApnsOutcome.UNREGISTERED for r in results):
        logger.info("Apple Wallet pass gone from every device (%d registrations dropped)", gone)
        return results[0].as_delivery_result()
    return next(r for r in results if r.outcome is ApnsOutcome.FAILED).as_delivery_result()


class AppleWalletChannel:
    name = "apple_wallet"

    def __init__(self, apns: ApnsClient) -> None:
        self._apns = apns

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        serial = message.address.strip()
        if not serial:
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no pass serial number")
        text = " ".join(message.push_text.split()) or message.merchant_name
        try:
            tokens = await pass_changed_by_serial(serial, campaign_message=text)
        except ValueError as error:  # longer than the pass field holds
            return DeliveryResult.failed(Reason.BAD_REQUEST, detail=str(error))
        return await push_to_devices(self._apns, tokens)
