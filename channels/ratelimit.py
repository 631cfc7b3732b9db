"""Token buckets: in this process, or shared by every process through Redis.

``try_acquire`` returns 0 when the tokens were taken, otherwise the seconds until they would be
available (and takes nothing). Redis computes with its own clock (``TIME``), so processes on
different machines agree on the bucket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")


class RateLimiter(Protocol):
    async def try_acquire(self, key: str, rate: Rate, cost: int = 1) -> float: ...


async def acquire(limiter: RateLimiter, key: str, rate: Rate, cost: int = 1) -> float:
    """Wait until the tokens are taken; returns the seconds waited."""
    waited = 0.0
    while (wait := await limiter.try_acquire(key, rate, cost)) > 0:
        await asyncio.sleep(wait)
        waited += wait
    return waited


class MemoryRateLimiter:
    """Buckets in a dict; full buckets are dropped now and then so memory stays bounded."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 10_000
    ) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._clock = clock
        self._sweep_every = sweep_every
        self._calls = 0

    async def try_acquire(self, key: str, rate: Rate, cost: int = 1) -> float:
        now = self._clock()
        tokens, stamp = self._buckets.get(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - stamp) * rate.per_second)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / rate.per_second
        self._buckets[key] = (tokens, now)
        self._calls += 1
        if self._calls % self._sweep_every == 0:
            self._sweep(now, rate)
        return wait

    def _sweep(self, now: float, rate: Rate) -> None:
        idle = rate.burst / rate.per_second
        for key in [k for k, (_, stamp) in self._buckets.items() if now - stamp > idle]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter:
    """One Lua script per call: the read-refill-take is atomic across every client."""

    def __init__(self, redis: Redis, *, prefix: str = "stampbot:rate:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_BUCKET_SCRIPT)

    async def try_acquire(self, key: str, rate: Rate, cost: int = 1) -> float:
        # Lua numbers come back as integers, so the wait travels as a string.
        raw = await self._script(
            keys=[self._prefix + key], args=[rate.per_second, rate.burst, cost]
        )
        return float(raw)
