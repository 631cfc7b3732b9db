"""The delivery queue's own rules: disjoint claims under concurrency, backoff, bookkeeping."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

import campaigns.outbox
from campaigns.outbox import BACKOFF_CAP, activate_fallbacks, backoff, claim
from channels.base import DeliveryResult, Reason
from loyalty.clock import utcnow
from models import Campaign, Delivery
from models.enums import CampaignStatus, Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from tests.conftest import Backend

LEASE = timedelta(seconds=60)


@pytest.mark.postgres_only
async def test_overlapping_claims_skip_each_others_rows_and_never_wait(db: Backend) -> None:
    """Three workers claim while each keeps its transaction, and so its row locks, open
    until all three have claimed: without SKIP LOCKED the second would wait for the first,
    which waits for it, and the claims would not finish."""
    if not db.is_postgres:
        pytest.skip("row locks held across connections exist on PostgreSQL only")
    shop = await factories.merchant()
    await audience(shop, 9)
    campaign = await started(shop, Channel.TELEGRAM)
    now = utcnow()
    await worker(ScriptedChannel("telegram")).start_due(now)
    pending = set(
        await Delivery.filter(campaign_id=campaign.id, status=DeliveryStatus.PENDING).values_list(
            "id", flat=True
        )
    )
    everyone_claimed = asyncio.Barrier(3)

    async def claim_and_hold(worker_id: str) -> set[int]:
        async with in_transaction():
            rows = await claim(worker_id, limit=3, lease=LEASE, now=now)
            await everyone_claimed.wait()
        return {row.id for row in rows}

    claimed = await asyncio.wait_for(
        asyncio.gather(*(claim_and_hold(f"w{n}") for n in range(3))), timeout=5
    )

    assert len(pending) == 9
    assert [len(ids) for ids in claimed] == [3, 3, 3]
    assert set.union(*claimed) == pending
    leased = await Delivery.filter(campaign_id=campaign.id).values_list("id", "leased_by")
    owner = {row_id: f"w{n}" for n, ids in enumerate(claimed) for row_id in ids}
    assert dict(leased) == owner


async def test_backoff_doubles_from_five_seconds_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    windows: list[tuple[float, float]] = []

    def upper_bound(low: float, high: float) -> float:
        windows.append((low, high))
        return high

    monkeypatch.setattr(campaigns.outbox.random, "uniform", upper_bound)

    ceilings = [backoff(attempts) for attempts in range(13)]

    assert ceilings == [5, 5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800, 1800]
    assert BACKOFF_CAP == 1800
    assert windows == [(ceiling / 2, ceiling) for ceiling in ceilings]


@pytest.mark.usefixtures("db")
async def test_a_tick_counts_what_it_retried_and_failed_and_a_done_campaign_is_dated() -> None:
    shop = await factories.merchant()
    await audience(shop, 3)
    telegram = ScriptedChannel("telegram")
    telegram.script["5000"].append(DeliveryResult.retry(Reason.RATE_LIMITED, after=7))
    telegram.script["5001"].append(DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True))
    campaign = await started(shop, Channel.TELEGRAM)
    now = utcnow()
    run = worker(telegram)

    first = await run.tick(now)
    second = await run.tick(now + timedelta(seconds=7))

    assert (first.claimed, first.sent, first.retried, first.failed) == (3, 1, 1, 1)
    assert (second.claimed, second.sent, second.retried, second.failed) == (1, 1, 0, 0)
    assert second.finished_campaigns == 1
    stored = await Campaign.get(id=campaign.id)
    assert (stored.status, stored.finished_at) == (
        CampaignStatus.DONE,
        now + timedelta(seconds=7),
    )


async def test_no_failed_rows_hand_over_nobody() -> None:
    assert await activate_fallbacks([], now=utcnow()) == 0
