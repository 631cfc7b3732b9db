from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from channels.ratelimit import (
    MemoryRateLimiter,
    Rate,
    RateLimiter,
    RedisRateLimiter,
    acquire,
    within_rolling_second,
)


async def test_departures_are_counted_across_limiter_instances(redis_client: Redis) -> None:
    """Two worker processes (two limiters on one Redis) share the rolling-second count."""
    first, second = RedisRateLimiter(redis_client), RedisRateLimiter(redis_client)

    admitted = [await (first if n % 2 else second).depart("test:departures", 5) for n in range(8)]

    assert admitted[:5] == [0.0] * 5
    assert all(0 < wait <= 1.0 for wait in admitted[5:])


async def test_memory_departures_refill_after_a_second() -> None:
    now = [100.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])

    assert [await limiter.depart("k", 2) for _ in range(3)][:2] == [0.0, 0.0]
    assert await limiter.depart("k", 2) == 1.0
    now[0] += 1.0
    assert await limiter.depart("k", 2) == 0.0


async def test_reservations_pace_concurrent_tasks_and_never_exceed_the_rolling_limit(
    redis_client: Redis,
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    limit = 20
    rate = within_rolling_second(limit)
    departures: list[float] = []

    async def send() -> None:
        await acquire(limiter, "global", rate)
        departures.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(send() for _ in range(30)))

    assert time.monotonic() - started >= 29 / rate.per_second - 0.1
    busiest = max(
        sum(1 for other in departures if 0 <= other - moment < 1.0) for moment in departures
    )
    # The gate counts by Redis' clock and admits 19; seen from here a second may hold one more.
    assert busiest <= limit


def test_within_rolling_second_keeps_a_margin() -> None:
    assert within_rolling_second(30) == Rate(per_second=30 * 0.98, burst=1)


class FakeClock:
    """The seconds ``MemoryRateLimiter`` sees, moved by the test instead of by waiting."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class UnpacedLimiter(MemoryRateLimiter):
    """Every reservation is due at once, as when tasks that slept through a busy event loop
    all wake together: only the departure gate is left to spread them out."""

    async def reserve(self, key: str, rate: Rate, cost: int = 1) -> float:
        return 0.0


async def test_memory_bucket_gives_its_burst_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    rate = Rate(per_second=2, burst=3)

    first = [await limiter.try_acquire("chat:1", rate) for _ in range(4)]
    other_key = await limiter.try_acquire("chat:2", rate)
    clock.now += 0.25
    quarter = await limiter.try_acquire("chat:1", rate)
    clock.now += 0.25
    refilled = await limiter.try_acquire("chat:1", rate)
    empty_again = await limiter.try_acquire("chat:1", rate)
    costly = await limiter.try_acquire("chat:1", rate, cost=2)

    assert first == [0.0, 0.0, 0.0, 0.5]
    assert other_key == 0.0
    assert quarter == pytest.approx(0.25)
    assert refilled == 0.0
    assert empty_again == pytest.approx(0.5)
    assert costly == pytest.approx(1.0)


async def test_memory_bucket_refills_only_up_to_its_burst() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    rate = Rate(per_second=2, burst=3)
    assert await limiter.try_acquire("k", rate, cost=3) == 0.0

    clock.now += 100
    waits = [await limiter.try_acquire("k", rate) for _ in range(4)]

    assert waits == [0.0, 0.0, 0.0, 0.5]


async def test_memory_reservations_are_paced_after_the_burst_per_key() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    paced, bursty = Rate(per_second=10, burst=1), Rate(per_second=10, burst=3)

    steps = [await limiter.reserve("a", paced) for _ in range(3)]
    other_key = await limiter.reserve("b", paced)
    burst = [await limiter.reserve("c", bursty) for _ in range(4)]
    clock.now += 10
    after_idle = [await limiter.reserve("a", paced) for _ in range(2)]
    clock.now += 0.05
    half_step = await limiter.reserve("a", paced)

    assert steps == pytest.approx([0.0, 0.1, 0.2])
    assert other_key == 0.0
    assert burst == pytest.approx([0.0, 0.0, 0.0, 0.1])
    assert after_idle == pytest.approx([0.0, 0.1])
    assert half_step == pytest.approx(0.15)


async def test_memory_departures_keep_a_rolling_second_per_key() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)

    full = [await limiter.depart("k", 2) for _ in range(3)]
    other_key = await limiter.depart("other", 2)
    clock.now += 0.4
    later = await limiter.depart("k", 2)
    clock.now += 0.6
    freed = await limiter.depart("k", 2)
    second = await limiter.depart("k", 2)
    refused = await limiter.depart("k", 2)

    assert full == [0.0, 0.0, 1.0]
    assert other_key == 0.0
    assert later == pytest.approx(0.6)
    assert (freed, second) == (0.0, 0.0)
    assert refused == pytest.approx(1.0)


async def test_memory_departure_wait_counts_from_the_oldest_in_the_window() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    assert await limiter.depart("k", 2) == 0.0
    clock.now += 0.3
    assert await limiter.depart("k", 2) == 0.0
    clock.now += 0.2

    assert await limiter.depart("k", 2) == pytest.approx(0.5)


async def test_the_sweep_forgets_only_idle_full_buckets_and_past_schedules() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, sweep_every=2)
    rate = Rate(per_second=1, burst=2)
    await limiter.try_acquire("idle", rate)
    await limiter.try_acquire("drained", rate, cost=2)
    assert len(limiter) == 2
    assert await limiter.reserve("paced", Rate(per_second=1, burst=1)) == 0.0
    assert await limiter.reserve("paced", Rate(per_second=1, burst=1)) == pytest.approx(1.0)

    clock.now += 1.5
    assert await limiter.try_acquire("fresh", rate) == 0.0
    assert len(limiter) == 3
    assert await limiter.try_acquire("fresh", rate) == 0.0
    after_first_sweep = len(limiter)
    clock.now += 1.0
    assert await limiter.try_acquire("late", rate) == 0.0
    assert len(limiter) == 4
    assert await limiter.try_acquire("late", rate) == 0.0

    # At +1.5 s nothing was idle for burst/rate = 2 s; at +2.5 s "idle" and "drained" were.
    assert after_first_sweep == 3
    assert len(limiter) == 2
    assert await limiter.try_acquire("fresh", rate, cost=2) == pytest.approx(1.0)
    assert await limiter.reserve("paced", Rate(per_second=1, burst=1)) == pytest.approx(0.0)


async def test_a_sweep_by_a_fast_rate_keeps_a_slow_bucket_that_still_holds_back() -> None:
    """One limiter, two rates: a flood limit's calls sweep, a 10-minute limit must survive it."""
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, sweep_every=2)
    slow, fast = Rate(per_second=1 / 600, burst=1), Rate(per_second=10, burst=1)
    assert await limiter.try_acquire("mail:p0@example.com", slow) == 0.0

    clock.now += 60.0  # long idle for the fast rate (0.1 s), a tenth of the slow one's 600 s
    await limiter.try_acquire("flood", fast)

    assert await limiter.try_acquire("mail:p0@example.com", slow) == pytest.approx(540.0)


async def test_the_sweep_keeps_a_part_empty_bucket_and_a_future_schedule() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, sweep_every=2)
    rate = Rate(per_second=1, burst=4)
    assert await limiter.try_acquire("busy", rate, cost=4) == 0.0
    paced = Rate(per_second=1, burst=1)
    for _ in range(4):
        await limiter.reserve("paced", paced)
    clock.now += 1.0

    await limiter.try_acquire("busy", rate)

    assert len(limiter) == 1
    assert await limiter.try_acquire("busy", rate, cost=1) == pytest.approx(1.0)
    assert await limiter.reserve("paced", paced) == pytest.approx(3.0)


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 1), (1, 0), (1, -1), (0, 0)])
def test_a_rate_must_be_positive_with_a_burst_of_at_least_one(
    per_second: float, burst: int
) -> None:
    with pytest.raises(ValueError, match=r"^a rate needs per_second > 0 and burst >= 1$"):
        Rate(per_second=per_second, burst=burst)


def test_the_smallest_valid_rate_is_accepted() -> None:
    assert Rate(per_second=0.001, burst=1).per_second == 0.001


async def _departures(limiter: RateLimiter, rate: Rate, sends: int) -> list[float]:
    """When each of ``sends`` tasks, all started at once, got through ``acquire``."""
    departures: list[float] = []

    async def send() -> None:
        await acquire(limiter, "global", rate)
        departures.append(time.monotonic())

    await asyncio.gather(*(send() for _ in range(sends)))
    return departures


async def test_the_gate_spreads_tasks_that_all_wake_at_once() -> None:
    departures = await _departures(UnpacedLimiter(), within_rolling_second(20), 30)

    busiest = max(
        sum(1 for other in departures if 0 <= other - moment < 1.0) for moment in departures
    )
    # The gate admits int(19.6) = 19 by its clock; seen from here a second may hold one more.
    assert busiest <= 20


async def test_the_gate_admits_one_per_second_below_one_per_second() -> None:
    limiter = UnpacedLimiter()
    rate = Rate(per_second=1, burst=5)
    started = time.monotonic()

    await asyncio.gather(acquire(limiter, "slow", rate), acquire(limiter, "slow", rate))

    assert time.monotonic() - started >= 0.95


async def test_acquire_paces_at_the_rate_and_reaches_it() -> None:
    rate = within_rolling_second(20)
    started = time.monotonic()
    departures = await _departures(MemoryRateLimiter(), rate, 30)
    elapsed = time.monotonic() - started

    step = 1 / rate.per_second
    assert 29 * step - 0.05 <= elapsed < 29 * step + 0.7
    departures.sort()
    # Smooth, not in clumps the gate lets through: ten departures span nine steps.
    assert departures[9] - departures[0] >= 9 * step - 0.2


async def test_redis_bucket_gives_its_burst_and_the_exact_wait(redis_client: Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    rate = Rate(per_second=2, burst=3)
    started = time.monotonic()

    waits = [await limiter.try_acquire("chat", rate) for _ in range(4)]
    costly = await limiter.try_acquire("chat", rate, cost=2)

    # The calls take time, and the bucket refills meanwhile: at most that much less to wait.
    spent = time.monotonic() - started + 0.005
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.5 - spent <= waits[3] <= 0.5
    assert 1.0 - spent <= costly <= 1.0


async def test_redis_bucket_refills_only_up_to_its_burst(redis_client: Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    rate = Rate(per_second=5, burst=3)
    assert await limiter.try_acquire("chat", rate) == 0.0

    await asyncio.sleep(0.5)
    waits = [await limiter.try_acquire("chat", rate) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0


async def test_redis_reservations_are_paced_after_the_burst(redis_client: Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    rate = Rate(per_second=10, burst=3)
    started = time.monotonic()

    delays = [await limiter.reserve("global", rate) for _ in range(6)]

    spent = time.monotonic() - started + 0.005
    assert delays[:3] == [0.0, 0.0, 0.0]
    for delay, due in zip(delays[3:], (0.1, 0.2, 0.3), strict=True):
        assert due - spent <= delay <= due + 0.005


async def test_redis_reservations_credit_no_idle_time(redis_client: Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    rate = Rate(per_second=10, burst=1)
    assert await limiter.reserve("global", rate) == 0.0

    await asyncio.sleep(0.5)
    started = time.monotonic()
    delays = [await limiter.reserve("global", rate) for _ in range(2)]

    spent = time.monotonic() - started + 0.005
    assert delays[0] == 0.0
    assert 0.1 - spent <= delays[1] <= 0.105


async def test_redis_departures_hold_for_one_second_exactly(redis_client: Redis) -> None:
    limiter = RedisRateLimiter(redis_client, prefix="test:rate:")
    before = time.monotonic()
    assert await limiter.depart("k", 2) == 0.0
    first_at = time.monotonic()

    rest = [await limiter.depart("k", 2) for _ in range(2)]
    after_rest = time.monotonic()
    await asyncio.sleep(0.6)
    asked = time.monotonic()
    later = await limiter.depart("k", 2)
    answered = time.monotonic()
    await asyncio.sleep(max(0.0, before + 1.02 - time.monotonic()))
    freed = await limiter.depart("k", 2)

    # The first departure happened between ``before`` and ``first_at`` by Redis' clock.
    assert rest[0] == 0.0
    assert 1.0 - (after_rest - before) - 0.005 <= rest[1] <= 1.0
    assert 1.0 - (answered - before) - 0.005 <= later <= 1.0 - (asked - first_at) + 0.005
    assert later > 0
    assert freed == 0.0


async def test_each_key_and_each_limiter_has_its_own_departure_gate() -> None:
    one, other = UnpacedLimiter(), UnpacedLimiter()
    rate = Rate(per_second=1, burst=5)
    started = time.monotonic()

    await asyncio.gather(
        acquire(one, "chat:a", rate), acquire(one, "chat:b", rate), acquire(other, "chat:a", rate)
    )

    assert time.monotonic() - started < 0.5


async def test_a_send_of_cost_two_reserves_and_departs_twice() -> None:
    paced = MemoryRateLimiter()
    started = time.monotonic()
    await asyncio.gather(*(acquire(paced, "bulk", Rate(10, 1), cost=2) for _ in range(2)))
    reserved = time.monotonic() - started

    gated = UnpacedLimiter()
    started = time.monotonic()
    waited = [await acquire(gated, "bulk", Rate(2, 5), cost=2) for _ in range(2)]
    departed = time.monotonic() - started

    # Two tokens each at 10/s: the second send leaves 0.4 s after its bucket's allowance.
    assert reserved >= 0.28
    # Two departures each through a gate of two per second: the second waits a second.
    assert departed >= 0.9
    assert waited[0] < 0.5 <= 0.9 <= waited[1] <= departed


async def test_the_sweep_waits_for_burst_over_rate_seconds_of_idleness() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, sweep_every=2)
    rate = Rate(per_second=4, burst=2)  # refills from empty in 0.5 s
    await limiter.try_acquire("early", rate, cost=2)
    await limiter.try_acquire("early", rate)

    clock.now += 0.4
    await limiter.try_acquire("a", rate)
    await limiter.try_acquire("a", rate)
    kept = len(limiter)
    clock.now += 0.2
    await limiter.try_acquire("b", rate)
    await limiter.try_acquire("b", rate)

    assert kept == 2
    assert len(limiter) == 2
    assert sorted(limiter._buckets) == ["a", "b"]


async def test_a_waiting_priority_sender_gets_the_next_free_slot_in_memory() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    assert [await limiter.depart("k", 2) for _ in range(2)] == [0.0, 0.0]

    notice_wait = await limiter.depart("k", 2, waiter="notice")
    clock.now += 1.0  # both slots free again; the notice has not asked yet
    bulk = await limiter.depart("k", 2)
    bulk_held_back = await limiter.depart("k", 2)  # the other slot is the notice's
    notice = await limiter.depart("k", 2, waiter="notice")
    bulk_again = await limiter.depart("k", 2)

    assert notice_wait == 1.0
    assert bulk == 0.0
    assert bulk_held_back > 0
    assert notice == 0.0
    assert bulk_again == pytest.approx(1.0)


async def test_a_priority_waiter_that_stops_asking_frees_its_place_after_two_seconds() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    await limiter.depart("k", 1)
    assert await limiter.depart("k", 1, waiter="gone") > 0

    clock.now += 1.5
    held = await limiter.depart("k", 1)
    clock.now += 0.5
    freed = await limiter.depart("k", 1)

    assert held > 0
    assert freed == 0.0


async def test_a_priority_waiter_in_one_process_holds_back_bulk_sends_of_another(
    redis_client: Redis,
) -> None:
    """The web process's notice and the worker's campaign share the Redis count: while the
    notice waits, the worker's sends leave it the next slot."""
    web, worker = RedisRateLimiter(redis_client), RedisRateLimiter(redis_client)
    assert await worker.depart("test:dep", 1) == 0.0

    waiting = await web.depart("test:dep", 1, waiter="notice")
    await asyncio.sleep(waiting + 0.02)  # the slot is free again, and the notice's
    bulk_blocked = await worker.depart("test:dep", 1)
    notice = await web.depart("test:dep", 1, waiter="notice")
    bulk = await worker.depart("test:dep", 1)

    assert 0 < waiting <= 1.0
    assert bulk_blocked > 0
    assert notice == 0.0
    assert 0.9 < bulk <= 1.0  # now behind the notice's departure


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
async def test_priority_sends_overtake_a_queued_campaign_within_the_same_rolling_limit(
    shared: bool, redis_client: Redis
) -> None:
    """Forty bulk sends queue at 20/s (two seconds of backlog); five priority sends made
    half a second in each leave within about one slot apiece, not behind the backlog, and
    the departures of both lanes together never exceed the limit in any second."""
    limiter: RateLimiter = (
        RedisRateLimiter(redis_client, prefix="test:rate:") if shared else MemoryRateLimiter()
    )
    limit = 20
    rate = within_rolling_second(limit)
    bulk: list[float] = []
    notices: list[float] = []
    waited: list[float] = []

    async def campaign_send() -> None:
        await acquire(limiter, "global", rate)
        bulk.append(time.monotonic())

    async def notice() -> None:
        waited.append(await acquire(limiter, "global", rate, priority=True))
        notices.append(time.monotonic())

    queued = [asyncio.create_task(campaign_send()) for _ in range(40)]
    await asyncio.sleep(0.5)
    await asyncio.gather(*(notice() for _ in range(5)))
    behind = time.monotonic()
    await asyncio.gather(*queued)

    everything = bulk + notices
    busiest = max(
        sum(1 for other in everything if 0 <= other - moment < 1.0) for moment in everything
    )
    assert busiest <= limit
    # Five notices through a full gate: about five slots of 1/19 s, far from the backlog.
    assert max(waited) < 0.5
    assert sum(1 for moment in bulk if moment > behind) >= 20
