"""What recipients do with a message: open it, click in it, unsubscribe from it."""

from __future__ import annotations

from datetime import datetime

from channels.email_render import link_targets
from loyalty.clock import ensure_utc
from models import Campaign, ChannelOptOut, Delivery, Merchant
from models.enums import Channel


async def record_open(delivery_id: int, *, now: datetime | None = None) -> bool:
    """The first open counts; later ones (and unknown ids) change nothing."""
    return bool(
        await Delivery.filter(id=delivery_id, opened_at__isnull=True).update(
            opened_at=ensure_utc(now)
        )
    )


def campaign_links(html: str) -> set[str]:
    """Where a click may lead: the links of the email as it was sent, after sanitizing."""
    return link_targets(html)


async def record_click(delivery_id: int, url: str, *, now: datetime | None = None) -> bool:
    """Count a click on ``url`` if that link is really in the campaign (no open redirects).

    A click implies the message was opened, even when images were blocked.
    """
    delivery = await Delivery.get_or_none(id=delivery_id)
    if delivery is None:
        return False
    campaign = await Campaign.get(id=delivery.campaign_id)
    if url not in campaign_links(campaign.message_text):
        return False
    moment = ensure_utc(now)
    await Delivery.filter(id=delivery_id, clicked_at__isnull=True).update(clicked_at=moment)
    await Delivery.filter(id=delivery_id, opened_at__isnull=True).update(opened_at=moment)
    return True


async def recipient_of(delivery_id: int) -> int | None:
    """The customer a delivery went to; None once it is gone (erased with its customer)."""
    found = await Delivery.filter(id=delivery_id).first().values("customer_id")
    return int(found["customer_id"]) if found else None


async def unsubscribe(delivery_id: int) -> str | None:
    """Opt the recipient out of the delivery's channel at the campaign's shop only (the page
    promises "no more emails from <shop>"); returns the shop's name, None if unknown.

    Idempotent, so the mailbox provider's one-click POST and a person's click both work.
    """
    delivery = await Delivery.get_or_none(id=delivery_id)
    if delivery is None:
        return None
    channel = Channel(delivery.channel)
    campaign = await Campaign.get(id=delivery.campaign_id)
    merchant = await Merchant.get(id=campaign.merchant_id)
    await ChannelOptOut.get_or_create(
        customer_id=delivery.customer_id, merchant_id=merchant.id, channel=channel
    )
    return merchant.name
