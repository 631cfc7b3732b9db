"""The results digests: a day and a week after a campaign finished, one short message to the
chat that followed it ("Autumn menu: 3 got it, 1 came back, 0 vouchers used.").

Every worker process runs the job; each digest is claimed by one conditional UPDATE of
``Campaign.digests_sent`` (0 → 1 after a day, → 2 after a week), so whichever process wins
sends it and the others skip it. A process that finds the week already reached skips the day's
digest: the owner gets the latest news once, not two messages at the same moment. Drawing and
sending the message is the bot's part: the job hands a :class:`Digest` to a
:class:`DigestPoster`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from campaigns.stats import campaign_stats
from models import Campaign
from models.enums import CampaignStatus

logger = logging.getLogger(__name__)

# How long after the campaign finished each digest is due; digests_sent counts those sent.
STAGES = (timedelta(days=1), timedelta(days=7))
# A campaign finished longer ago than this gets no digest at all (a worker that was down for
# weeks, or campaigns that finished before digests existed, must not flood the owner).
LATEST = STAGES[-1] + timedelta(days=1)
DIGESTED = (CampaignStatus.DONE, CampaignStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest to post: where, in which language, and the figures it tells."""

    campaign_id: int
    merchant_id: int
    name: str
    message_text: str
    created_at: datetime
    timezone: str
    chat_id: int
    language: str | None
    stage: int  # 1: a day after, 2: a week after
    people: int  # got it on some channel
    visitors: int  # came back within the attribution window
    redeemed: int  # vouchers used within the window


class DigestPoster(Protocol):
    async def post(self, digest: Digest) -> bool:
        """Post it. False when it could not go now (a flood wait, a network error) and the
        next round should try again; True when it went or never can (the bot was blocked)."""
        ...


def stage_at(finished_at: datetime, now: datetime) -> int:
    """How many digests are due by ``now`` for a campaign finished at ``finished_at``."""
    return sum(now >= finished_at + after for after in STAGES)


async def _claim(campaign: Campaign, stage: int) -> bool:
    """Move ``digests_sent`` up to ``stage`` unless another process did: True for the winner."""
    moved = await Campaign.filter(id=campaign.id, digests_sent__lt=stage).update(
        digests_sent=stage
    )
    return bool(moved)


async def _unclaim(campaign: Campaign, stage: int, before: int) -> None:
    await Campaign.filter(id=campaign.id, digests_sent=stage).update(digests_sent=before)


async def send_due_digests(now: datetime, poster: DigestPoster) -> int:
    """Claim and post every digest due by ``now``; returns how many were handed over."""
    due = await Campaign.filter(
        status__in=DIGESTED,
        progress_chat_id__isnull=False,
        finished_at__lte=now - STAGES[0],
        finished_at__gt=now - LATEST,
        digests_sent__lt=len(STAGES),
    ).select_related("merchant")
    posted = 0
    for campaign in due:
        if campaign.finished_at is None or campaign.progress_chat_id is None:
            continue
        stage = stage_at(campaign.finished_at, now)
        before = campaign.digests_sent
        if stage <= before or not await _claim(campaign, stage):
            continue  # not due yet, or another process has it
        stats = await campaign_stats(campaign)
        if not stats.reached.people:
            continue  # nobody got it: nothing to tell, and nothing to tell again
        digest = Digest(
            campaign_id=campaign.id,
            merchant_id=campaign.merchant_id,
            name=campaign.name,
            message_text=campaign.message_text,
            created_at=campaign.created_at,
            timezone=campaign.merchant.timezone,
            chat_id=campaign.progress_chat_id,
            language=campaign.progress_language,
            stage=stage,
            people=stats.reached.people,
            visitors=stats.reached.visitors,
            redeemed=stats.reached.redeemed,
        )
        try:
            done = await poster.post(digest)
        except Exception:
            # A bug, not the weather: retrying every round would only repeat it.
            logger.exception("digest %d of campaign %s failed", stage, campaign.id)
            continue
        if done:
            posted += 1
        else:
            await _unclaim(campaign, stage, before)  # the next round tries again
    return posted


__all__ = ["STAGES", "Digest", "DigestPoster", "send_due_digests", "stage_at"]
