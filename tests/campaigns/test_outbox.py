"""The delivery queue's own rules: disjoint claims under concurrency, shops served in turn,
backoff, bookkeeping."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

import campaigns.outbox
from campaigns.outbox import BACKOFF_CAP, activate_fallbacks, backoff, claim
from channels.base import DeliveryResult, Reason
from loyalty.clock import utcnow
from loyalty.merchants import NewMerchant
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


async def _campaign_rows(shop: NewMerchant, count: int, first_id: int) -> list[int]:
    """A Telegram campaign of ``count`` people, started now; its delivery ids."""
    await audience(shop, count, first_id=first_id)
    campaign = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram")).start_due(utcnow())
    rows = Delivery.filter(campaign_id=campaign.id).order_by("id")
    return [int(str(i)) for i in await rows.values_list("id", flat=True)]


@pytest.mark.usefixtures("db")
async def test_a_small_campaign_started_behind_a_big_one_gets_its_turn_in_the_first_batch() -> (
    None
):
    """Shop A's campaign is sending (all its rows due before shop B's existed); shop B's
    three rows do not wait behind A's twenty: the next batch of six alternates the shops."""
    big = await _campaign_rows(await factories.merchant("Big roastery"), 20, first_id=5_000)
    small = await _campaign_rows(await factories.merchant("Corner bakery"), 3, first_id=6_000)

    batch = await claim("w", limit=6, lease=LEASE, now=utcnow() + timedelta(seconds=1))

    assert [row.id for row in batch] == [big[0], small[0], big[1], small[1], big[2], small[2]]
    rest = await claim("w", limit=100, lease=LEASE, now=utcnow() + timedelta(seconds=1))
    assert [row.id for row in rest] == big[3:]


@pytest.mark.usefixtures("db")
async def test_shops_take_turns_and_a_shop_with_two_campaigns_gets_one_share() -> None:
    """Fair across shops, not campaigns: shop A's two campaigns share A's turn; what a shop
    with few rows leaves goes to the others."""
    roastery = await factories.merchant("Big roastery")
    first = await _campaign_rows(roastery, 10, first_id=5_000)
    second = await _campaign_rows(roastery, 10, first_id=5_100)
    bakery = await _campaign_rows(await factories.merchant("Corner bakery"), 1, first_id=6_000)
    later = utcnow() + timedelta(seconds=1)

    batch = {row.id for row in await claim("w", limit=4, lease=LEASE, now=later)}
    after = {row.id for row in await claim("w", limit=5, lease=LEASE, now=later)}

    # Turn 1: each shop's first row (the roastery's from its older campaign); then the
    # roastery alternates its campaigns.
    assert batch == {first[0], bakery[0], second[0], first[1]}
    # The bakery has nothing left: the whole next batch is the roastery's, still alternating.
    assert after == {first[2], second[1], first[3], second[2], first[4]}


@pytest.mark.usefixtures("db")
async def test_rows_not_yet_due_and_rows_of_a_paused_campaign_are_not_claimed() -> None:
    roastery = await factories.merchant("Big roastery")
    paused = await _campaign_rows(roastery, 2, first_id=5_000)
    await Campaign.filter(id=(await Delivery.get(id=paused[0])).campaign_id).update(
        status=CampaignStatus.PAUSED
    )
    due = await _campaign_rows(await factories.merchant("Corner bakery"), 3, first_id=6_000)
    later = utcnow() + timedelta(hours=1)
    await Delivery.filter(id=due[2]).update(next_attempt_at=later)

    batch = await claim("w", limit=10, lease=LEASE, now=utcnow() + timedelta(seconds=1))

    assert [row.id for row in batch] == due[:2]


@pytest.mark.postgres_only
async def test_overlapping_claims_across_shops_stay_disjoint_and_fair(db: Backend) -> None:
    """Two workers claim at once, each holding its locks: both get a full batch and no row
    twice. The first one's batch has both shops; the second skips the rows the first locked
    while ranking (each campaign's oldest four), so it takes the big shop's next ones."""
    if not db.is_postgres:
        pytest.skip("row locks held across connections exist on PostgreSQL only")
    big = set(await _campaign_rows(await factories.merchant("Big roastery"), 10, first_id=5_000))
    small = set(await _campaign_rows(await factories.merchant("Corner bakery"), 4, first_id=6_000))
    both_claimed = asyncio.Barrier(2)
    now = utcnow() + timedelta(seconds=1)

    async def claim_and_hold(worker_id: str) -> set[int]:
        async with in_transaction():
            rows = await claim(worker_id, limit=4, lease=LEASE, now=now)
            await both_claimed.wait()
        return {row.id for row in rows}

    first, second = await asyncio.wait_for(
        asyncio.gather(claim_and_hold("w1"), claim_and_hold("w2")), timeout=5
    )

    assert (len(first), len(second)) == (4, 4)
    assert not first & second
    assert sorted([len(first & small), len(second & small)]) == [0, 2]
    assert first | second <= big | small


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
