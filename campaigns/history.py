"""What a customer was recently sent on one card: the long texts their card web page repeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from channels.email_render import telegram_html_to_email
from loyalty.clock import ensure_utc
from models import Campaign, Delivery
from models.enums import Channel, DeliveryStatus

RECENT_DAYS = 90
RECENT_LIMIT = 10


@dataclass(frozen=True, slots=True)
class SentMessage:
    campaign_id: int
    sent_at: datetime
    message_text: str  # Telegram's HTML subset, as the merchant wrote it
    photo_file_id: str | None = None
    # The latest delivery that brought it: a click on the card page is counted on it.
    delivery_id: int | None = None


async def recent_messages(
    customer_id: int,
    card_id: int,
    *,
    now: datetime | None = None,
    days: int = RECENT_DAYS,
    limit: int = RECENT_LIMIT,
) -> list[SentMessage]:
    """Campaigns of ``card_id`` that reached the customer on some channel, newest first.

    A campaign that reached them on several channels counts once, at its latest delivery.
    """
    since = ensure_utc(now) - timedelta(days=days)
    # One row per channel at most per campaign, so this many rows hold ``limit`` campaigns.
    rows = (
        await Delivery.filter(
            customer_id=customer_id,
            status=DeliveryStatus.SENT,
            sent_at__gte=since,
            campaign__card_id=card_id,
        )
        .order_by("-sent_at", "-id")
        .limit(limit * len(Channel))
        .values("campaign_id", "sent_at", "id")
    )
    latest: dict[int, datetime] = {}
    delivered_by: dict[int, int] = {}
    for row in rows:
        latest.setdefault(row["campaign_id"], row["sent_at"])
        delivered_by.setdefault(row["campaign_id"], row["id"])
    newest = list(latest)[:limit]
    found = await Campaign.filter(id__in=newest).values_list("id", "message_text", "photo_file_id")
    texts = {cid: (str(text), photo) for cid, text, photo in found}
    return [
        SentMessage(
            cid, ensure_utc(latest[cid]), texts[cid][0], texts[cid][1] or None, delivered_by[cid]
        )
        for cid in newest
        if cid in texts and (texts[cid][0].strip() or texts[cid][1])
    ]


def message_html(message: SentMessage, *, click: str | None, right_to_left: bool) -> Markup:
    """The merchant's Telegram HTML made safe as the email renderer makes it: what the card
    page repeats is what the email showed, links routed through ``click``."""
    return telegram_html_to_email(message.message_text, click=click, right_to_left=right_to_left)
