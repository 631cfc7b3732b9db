"""The rows behind a campaign's progress message: who follows it, what it last showed, and
which process looks at it this round.

Where the message is, its language, its digest and when it was last looked at live on the
campaign row, so any bot process (and one restarted) carries on. Each round claims the
campaigns due for a look with a conditional update, so replicas never edit one message twice
over. Drawing and editing the message is the bot's part (``handlers.campaign_progress``).

A campaign is followed while it has a chat and a time it was last looked at. When following
ends, only that time is cleared: the chat and its language stay, because the results digests
of the next day and week (``campaigns.digest``) go to the same chat.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.functions import Count

from campaigns.errors import CampaignNotFound
from models import Campaign, Delivery
from models.enums import CampaignStatus, DeliveryStatus

FINISHED = (CampaignStatus.DONE, CampaignStatus.CANCELLED, CampaignStatus.FAILED)
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.STANDBY)
_PROGRESS_FIELDS = (
    "progress_chat_id",
    "progress_language",
    "progress_message_id",
    "progress_digest",
    "progress_checked_at",
)


@dataclass(frozen=True, slots=True)
class Followed:
    """A followed campaign as one look needs it: what to show and where it is shown."""

    campaign_id: int
    merchant_id: int
    name: str
    message_text: str
    created_at: datetime
    timezone: str
    status: CampaignStatus
    channels: tuple[str, ...]
    started_at: datetime | None
    scheduled_at: datetime | None
    chat_id: int
    language: str | None
    message_id: int | None
    digest: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def begun(self, moment: datetime) -> bool:
        """Sending, or scheduled for a time that has come (the worker is about to start)."""
        return self.started_at is not None or (
            self.status == CampaignStatus.SCHEDULED
            and self.scheduled_at is not None
            and self.scheduled_at <= moment
        )


@dataclass(frozen=True, slots=True)
class Round:
    """One round's share: how many campaigns are followed, and those this process claimed."""

    followed: int
    claimed: tuple[Followed, ...]


def _followed(campaign: Campaign, timezone: str) -> Followed | None:
    if campaign.progress_chat_id is None:
        return None
    return Followed(
        campaign_id=campaign.id,
        merchant_id=campaign.merchant_id,
        name=campaign.name,
        message_text=campaign.message_text,
        created_at=campaign.created_at,
        timezone=timezone,
        status=CampaignStatus(campaign.status),
        channels=tuple(campaign.channels),
        started_at=campaign.started_at,
        scheduled_at=campaign.scheduled_at,
        chat_id=campaign.progress_chat_id,
        language=campaign.progress_language,
        message_id=campaign.progress_message_id,
        digest=campaign.progress_digest,
    )


async def start_following(
    campaign_id: int, *, merchant_id: int, chat_id: int, language: str, now: datetime
) -> Followed:
    """Follow the campaign in ``chat_id`` from now on, with a new message (the old is left)."""
    campaign = await Campaign.get_or_none(id=campaign_id, merchant_id=merchant_id).select_related(
        "merchant"
    )
    if campaign is None:
        raise CampaignNotFound()
    campaign.progress_chat_id = chat_id
    campaign.progress_language = language
    campaign.progress_message_id = None
    campaign.progress_digest = None
    campaign.progress_checked_at = now
    await campaign.save(update_fields=[*_PROGRESS_FIELDS, "updated_at"])
    followed = _followed(campaign, campaign.merchant.timezone)
    assert followed is not None
    return followed


async def claim_due(now: datetime, *, every: timedelta) -> Round:
    """The followed campaigns not looked at for ``every``, each claimed for this process by a
    conditional update on the time it was last looked at (another process's claim wins)."""
    due = now - every
    followed = await Campaign.filter(
        progress_chat_id__isnull=False, progress_checked_at__isnull=False
    ).select_related("merchant")
    claimed = []
    for campaign in followed:
        checked = campaign.progress_checked_at
        if checked is None or checked > due:
            continue
        claim = Campaign.filter(id=campaign.id, progress_checked_at=checked)
        if not await claim.update(progress_checked_at=now):
            continue  # another process looks at it this round
        if (view := _followed(campaign, campaign.merchant.timezone)) is not None:
            claimed.append(view)
    return Round(followed=len(followed), claimed=tuple(claimed))


async def delivery_counts(campaign_id: int) -> dict[str, dict[str, int]]:
    """channel → status → rows, counted by the database."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id)
        .annotate(n=Count("id"))
        .group_by("channel", "status")
        .values("channel", "status", "n")
    )
    counts: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[str(row["channel"])][str(row["status"])] = int(row["n"])
    return dict(counts)


async def shown(followed: Followed, *, message_id: int, digest: str) -> None:
    """The message now shows this; a finished campaign's summary ends the following."""
    await Campaign.filter(id=followed.campaign_id).update(
        progress_message_id=message_id, progress_digest=digest
    )
    if followed.finished:
        await stop_following(followed.campaign_id)


async def stop_following(campaign_id: int) -> None:
    """No more looks; the chat stays for the results digests."""
    await Campaign.filter(id=campaign_id).update(progress_checked_at=None)
