"""A messenger's receipts for what the engine sent: delivered, read, or failed after all.

Viber (``delivered``, ``seen``, ``failed``) and WhatsApp (``delivered``, ``read``, ``failed``)
report on a message some time after the send call took it; the delivery row is found by the
id that call returned (``Delivery.external_id``: Viber's ``message_token``, WhatsApp's
``wamid``). One Viber broadcast answers one token for up to 300 people, so a token matching
several rows is narrowed by the person the receipt names (their identity on the platform).

What each receipt changes, and only once (a platform resends, and receipts can come out of
order): ``delivered`` sets ``delivered_at``; ``read`` sets ``opened_at`` (the statistics'
"opened", as an email's open pixel sets it) and ``delivered_at`` when it is not set yet;
``failed`` turns a sent row into a failed one with the platform's reason and, in a "first
reachable" campaign, hands the person to their next channel, as a failed send does. A receipt
for no row of ours (a welcome message, an answer in the chat) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from campaigns.outbox import Claimed, activate_fallbacks
from channels.base import Reason
from models import Campaign, Delivery, Identity
from models.enums import MESSENGERS, CampaignStatus, Channel, DeliveryPolicy, DeliveryStatus

__all__ = ["Receipt", "record_receipt"]

logger = logging.getLogger(__name__)


class Receipt(StrEnum):
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


async def _rows(channel: Channel, external_id: str, user_id: str) -> list[Delivery]:
    rows = await Delivery.filter(channel=channel, external_id=external_id).limit(1000)
    if len(rows) <= 1 or not user_id:
        return rows
    platform = MESSENGERS[channel]
    people = set(
        await Identity.filter(
            platform=platform,
            external_id=user_id,
            customer_id__in=list({row.customer_id for row in rows}),
        ).values_list("customer_id", flat=True)
    )
    return [row for row in rows if row.customer_id in people]


async def record_receipt(
    channel: Channel,
    external_id: str,
    receipt: Receipt,
    *,
    at: datetime,
    user_id: str = "",
    error_code: int | None = None,
    detail: str = "",
) -> int:
    """Apply one receipt; how many delivery rows it changed (0 for a repeat or not ours).

    ``error_code``: the platform's, on a failed receipt (WhatsApp's; Viber's say only why in
    words, ``detail``)."""
    if channel not in MESSENGERS or not external_id:
        return 0
    changed = 0
    for row in await _rows(channel, external_id, user_id):
        if receipt == Receipt.DELIVERED:
            changed += await Delivery.filter(id=row.id, delivered_at__isnull=True).update(
                delivered_at=at
            )
        elif receipt == Receipt.READ:
            await Delivery.filter(id=row.id, delivered_at__isnull=True).update(delivered_at=at)
            changed += await Delivery.filter(id=row.id, opened_at__isnull=True).update(
                opened_at=at
            )
        elif await Delivery.filter(id=row.id, status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.FAILED, reason=failure_reason(channel, error_code).value
        ):
            changed += 1
            logger.info("delivery %s failed after sending (%s): %s", row.id, channel, detail[:200])
            await _fall_back(row, at)
    return changed


def failure_reason(channel: Channel, error_code: int | None) -> Reason:
    """Why a message the platform took did not arrive: the person could not get it."""
    return Reason.UNREACHABLE


async def _fall_back(row: Delivery, now: datetime) -> None:
    """The person's next channel, when the campaign is "first reachable".

    The receipt often comes after the campaign's last send, when nothing was left to send and
    it was marked done: it is sending again then, until the fallback row is sent. A paused
    campaign gets the row for when it resumes; a cancelled one nothing."""
    if row.campaign_id is None or row.enrollment_id is not None:
        return
    campaign = await Campaign.get_or_none(
        id=row.campaign_id, delivery_policy=DeliveryPolicy.FIRST_REACHABLE
    )
    if campaign is None or campaign.status not in _FALLBACK_STATES:
        return
    waiting = Delivery.filter(
        campaign_id=campaign.id, customer_id=row.customer_id, status=DeliveryStatus.STANDBY
    )
    if not await waiting.exists():
        return
    await activate_fallbacks(
        [Claimed(row.id, campaign.id, row.customer_id, str(row.channel), row.attempts)], now=now
    )
    if campaign.status == CampaignStatus.DONE:
        await Campaign.filter(id=campaign.id, status=CampaignStatus.DONE).update(
            status=CampaignStatus.SENDING, finished_at=None
        )


_FALLBACK_STATES = (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.DONE)
