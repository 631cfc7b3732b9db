"""Google's two limits held by all workers together, through one Redis: 20 requests per second
per issuer, and 3 notifying messages per pass in 24 hours.

Each "worker" is a channel instance of its own, with its own HTTP session, limiter object and
quota object; only Redis is shared. The fake Google refuses above 20/s (429) and on the fourth
notification (403 quotaExceeded), so zero refusals is what the workers achieved together."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from redis.asyncio import Redis

from channels.base import Outcome, Reason
from channels.google_wallet import (
    GoogleWalletChannel,
    GoogleWalletSettings,
    RedisNotifyQuota,
    notified,
)
from channels.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from fakes.google_wallet import FakeClock, FakeGoogleWallet
from tests.channels.google_wallet.conftest import SECRET
from tests.channels.google_wallet.test_channel import outbound
from tests.conftest import REDIS_URL

DAY = 24 * 3600


def put_objects(google: FakeGoogleWallet, channel: GoogleWalletChannel, count: int) -> list[str]:
    """Objects Google already holds (saved earlier), without spending the test's requests."""
    class_id = f"{google.issuer_id}.card-1"
    google.classes[class_id] = {"id": class_id, "issuerName": "Kafe", "reviewStatus": "APPROVED"}
    ids = [channel.object_id(n) for n in range(1, count + 1)]
    for object_id in ids:
        google.objects[object_id] = {"id": object_id, "classId": class_id, "state": "ACTIVE"}
    return ids


async def _worker(
    settings: GoogleWalletSettings, clock: FakeClock, redis: Redis, stack: AsyncExitStack
) -> GoogleWalletChannel:
    limiter: RateLimiter = RedisRateLimiter(redis, prefix="test:gw-rate:")
    quota = RedisNotifyQuota(redis, clock=clock, prefix="test:gw-notify:")
    channel = GoogleWalletChannel.from_settings(
        settings, secret=SECRET, clock=clock, limiter=limiter, quota=quota
    )
    return await stack.enter_async_context(channel)


async def test_two_workers_share_the_rate_and_the_notification_count(
    google: FakeGoogleWallet, settings: GoogleWalletSettings, clock: FakeClock
) -> None:
    async with AsyncExitStack() as stack:
        redis = [Redis.from_url(REDIS_URL) for _ in range(2)]
        for client in redis:
            stack.push_async_callback(client.aclose)
        await redis[0].flushdb()
        first, second = [await _worker(settings, clock, r, stack) for r in redis]
        objects = put_objects(google, first, 25)
        # Four messages for each pass, the two workers taking turns, all at once.
        jobs = [
            ((first, second)[(n + k) % 2], object_id, 100 * n + k)
            for n, object_id in enumerate(objects)
            for k in range(4)
        ]
        started = time.monotonic()

        results = await asyncio.gather(
            *(worker.send(outbound(object_id, delivery)) for worker, object_id, delivery in jobs)
        )
        elapsed = time.monotonic() - started

    assert (google.rate_refusals, google.quota_refusals) == (0, 0)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert sum(notified(r) for r in results) == 3 * 25
    assert [r.reason for r in results].count(Reason.QUOTA_SILENT) == 25
    for object_id in objects:
        types = sorted(m["messageType"] for m in google.messages(object_id))
        assert types == ["TEXT", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY"]
    # 100 requests, never more than 20 in a second: at least ~4 s (at 85% of it, ~5 s).
    assert elapsed >= (100 - 20) / 20


async def test_without_the_shared_limiter_two_workers_exceed_googles_rate(
    google: FakeGoogleWallet, settings: GoogleWalletSettings, clock: FakeClock
) -> None:
    """The control: each worker keeps 20/s on its own, together they send 40/s."""
    async with AsyncExitStack() as stack:
        pair = []
        for _ in range(2):
            channel = GoogleWalletChannel.from_settings(
                settings, secret=SECRET, clock=clock, limiter=MemoryRateLimiter()
            )
            pair.append(await stack.enter_async_context(channel))
        objects = put_objects(google, pair[0], 60)

        results = await asyncio.gather(
            *(pair[n % 2].send(outbound(o, n)) for n, o in enumerate(objects))
        )

    refused = [r for r in results if r.outcome is Outcome.RETRY]
    assert google.rate_refusals > 0
    assert len(refused) == google.rate_refusals
    assert {r.reason for r in refused} == {Reason.RATE_LIMITED}
    assert "RESOURCE_EXHAUSTED" in str(
        next(q.response for q in google.api_requests() if q.status == 429)
    )


async def test_the_redis_count_is_three_per_pass_per_rolling_day(redis_client: Redis) -> None:
    clock = FakeClock()
    worker_a = RedisNotifyQuota(redis_client, clock=clock, prefix="test:gw-notify:")
    worker_b = RedisNotifyQuota(redis_client, clock=clock, prefix="test:gw-notify:")

    claims = [await worker_a.claim("p1"), await worker_b.claim("p1")]
    clock.advance(3600)
    claims.append(await worker_a.claim("p1"))

    assert None not in claims
    assert await worker_b.claim("p1") is None
    assert await worker_a.claim("p2") is not None  # another pass has its own three
    assert await worker_b.count("p1") == 3

    # A message that did not go out gives its notification back, to either worker.
    last = claims[-1]
    assert last is not None
    await worker_a.release("p1", last)
    assert await worker_b.claim("p1") is not None
    assert await worker_a.claim("p1") is None

    clock.advance(DAY - 3600 - 1)  # a second short of a day after the first two
    assert await worker_a.claim("p1") is None
    clock.advance(1)
    assert await worker_a.claim("p1") is not None  # the first two no longer count
    assert await worker_b.claim("p1") is not None
    assert await worker_b.claim("p1") is None


async def test_googles_refusal_spends_the_shared_count(redis_client: Redis) -> None:
    clock = FakeClock()
    quota = RedisNotifyQuota(redis_client, clock=clock, prefix="test:gw-notify:")
    assert await quota.claim("p1") is not None

    await quota.exhaust("p1")

    assert await quota.count("p1") == 3
    assert await quota.claim("p1") is None
    clock.advance(DAY)
    assert await quota.claim("p1") is not None


async def test_the_runtime_shares_both_limits_when_redis_is_configured(
    key_file: Path, redis_client: Redis
) -> None:
    from bot.config import GoogleWalletSettings as Configured
    from bot.factory import build_google_wallet

    limiter = RedisRateLimiter(redis_client)
    configured = Configured(
        issuer_id="3388000000022123456", key_file=key_file, requests_per_second=10
    )

    shared = build_google_wallet(
        configured, object_id_key=SECRET, origins=(), limiter=limiter, redis=redis_client
    )
    alone = build_google_wallet(configured, object_id_key=SECRET, origins=())

    assert shared is not None
    assert alone is not None
    assert shared.limiter is limiter
    assert isinstance(shared.quota, RedisNotifyQuota)
    assert shared.rate.per_second == pytest.approx(8.5)  # 85% of the configured rate
    assert isinstance(alone.limiter, MemoryRateLimiter)
    assert not isinstance(alone.quota, RedisNotifyQuota)
    await shared.close()
    await alone.close()
