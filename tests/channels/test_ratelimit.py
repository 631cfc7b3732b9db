from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from channels.ratelimit import (
    MemoryRateLimiter,
    Rate,
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
