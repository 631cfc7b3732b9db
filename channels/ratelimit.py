"""Token buckets: in this process, or shared by every process through Redis.

``try_acquire`` returns 0 when the tokens were taken, otherwise the seconds until they would be
available (and takes nothing). Redis computes with its own clock (``TIME``), so processes on
different machines agree on the bucket.

``acquire`` has two lanes over one budget: bulk sends (campaigns) queue for their slot, while a
``priority`` send (a stamp notice, a redemption, from any process) takes the next free slot
ahead of them; both count against the same rolling second, so together they never exceed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections import deque
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

    async def reserve(self, key: str, rate: Rate, cost: int = 1) -> float: ...

    async def depart(self, key: str, capacity: int, *, waiter: str | None = None) -> float:
        """Record a departure if fewer than ``capacity`` left in the last second; else return
        the seconds until one would be allowed (and record nothing).

        ``waiter``: the caller is in the priority lane, under this token, unique per send.
        Priority callers waiting (seen in the last two seconds; a waiter asks again within one)
        hold back the others: those depart only while departures plus waiters stay under
        ``capacity``, so a free slot goes to a waiter first. A waiter that departs, or stops
        asking (cancelled), no longer counts.
        """
        ...


async def acquire(
    limiter: RateLimiter, key: str, rate: Rate, cost: int = 1, *, priority: bool = False
) -> float:
    """Reserve the next slot in the bucket and sleep until it; returns the seconds waited.

    A reservation (GCRA) rather than try-and-sleep: the schedule is kept by the bucket, so a
    task that wakes a little late does not cost the others throughput, and hundreds of waiting
    tasks ask the bucket once each instead of polling it. Tasks that all woke late after the
    event loop was busy would then leave together, so a local gate spreads them out again.

    Bulk sends (``priority`` false: campaigns) reserve at most :data:`LOOKAHEAD` seconds of
    the schedule ahead per process, the others queueing here, in order, before they reserve;
    a ``priority`` send (a service message) reserves at once, so it gets the next slot after
    those few, ahead of every queued bulk send in any process, and the schedule stays one
    evenly spaced sequence for both. At the gate a waiting priority send goes first as well.
    """
    started = time.monotonic()
    gate = _gate(limiter, key, rate)
    async with contextlib.nullcontext() if priority else gate.lookahead:
        delay = await limiter.reserve(key, rate, cost)
        if delay > 0:
            await asyncio.sleep(delay)
    await gate.pass_through(cost, priority=priority)
    return time.monotonic() - started


# How far ahead bulk sends reserve the schedule: enough that a task waking a little late costs
# no throughput, short enough that a service message reserving behind them waits little.
LOOKAHEAD = 0.1


class _DepartureGate:
    """At most ``per_second`` (rounded down) departures per rolling second, counted by the
    limiter, so with Redis it holds across processes; in this process waiters queue on a lock
    (one per lane) so only the first one of each lane asks. A priority waiter is known to the
    limiter while it waits, which keeps the next free slot for it, in any process."""

    def __init__(self, limiter: RateLimiter, key: str, rate: Rate) -> None:
        self._limiter = limiter
        self._key = f"{key}:departures"
        self._capacity = max(1, int(rate.per_second))
        self._lock = asyncio.Lock()
        self._priority_lock = asyncio.Lock()
        # Bulk reservations this process holds at once (see ``acquire``); FIFO, as sends should
        # leave in the order they asked.
        self.lookahead = asyncio.Semaphore(max(1, math.ceil(rate.per_second * LOOKAHEAD)))

    async def pass_through(self, cost: int, *, priority: bool = False) -> None:
        async with self._priority_lock if priority else self._lock:
            for _ in range(cost):
                waiter = secrets.token_hex(8) if priority else None
                # Polls a counter that may live in another process (Redis): no event to await.
                while True:
                    wait = await self._limiter.depart(self._key, self._capacity, waiter=waiter)
                    if wait <= 0:
                        break
                    await asyncio.sleep(wait)


# Gates exist for the few shared keys ``acquire`` is used with (Telegram's global bucket).
# By event loop too: its locks and semaphore belong to one (tests run many loops in a process).
_gates: dict[tuple[int, str, float, int], _DepartureGate] = {}


def _gate(limiter: RateLimiter, key: str, rate: Rate) -> _DepartureGate:
    index = (id(limiter), key, rate.per_second, id(asyncio.get_running_loop()))
    if index not in _gates:
        _gates[index] = _DepartureGate(limiter, key, rate)
    return _gates[index]


class MemoryRateLimiter:
    """Buckets in a dict; full buckets are dropped now and then so memory stays bounded."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 10_000
    ) -> None:
        # key -> (tokens, last call, seconds idle after which it is surely full again). The idle
        # time is the bucket's own: one limiter holds buckets of different rates (a flood limit
        # beside ten-minute confirmation limits), and a sweep judged by the caller's rate would
        # drop a slow bucket while it still holds back its key.
        self._buckets: dict[str, tuple[float, float, float]] = {}
        # Theoretical arrival time per key, for reservations.
        self._schedule: dict[str, float] = {}
        self._departures: dict[str, deque[float]] = {}
        # Priority waiters per key: token -> when it last asked.
        self._waiters: dict[str, dict[str, float]] = {}
        self._clock = clock
        self._sweep_every = sweep_every
        self._calls = 0

    async def try_acquire(self, key: str, rate: Rate, cost: int = 1) -> float:
        now = self._clock()
        tokens, stamp, _ = self._buckets.get(key, (float(rate.burst), now, 0.0))
        tokens = min(float(rate.burst), tokens + (now - stamp) * rate.per_second)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / rate.per_second
        self._buckets[key] = (tokens, now, rate.burst / rate.per_second)
        self._calls += 1
        if self._calls % self._sweep_every == 0:
            self._sweep(now)
        return wait

    async def reserve(self, key: str, rate: Rate, cost: int = 1) -> float:
        now = self._clock()
        arrival = max(self._schedule.get(key, now), now) + cost / rate.per_second
        self._schedule[key] = arrival
        return max(0.0, arrival - rate.burst / rate.per_second - now)

    async def depart(self, key: str, capacity: int, *, waiter: str | None = None) -> float:
        now = self._clock()
        window = self._departures.setdefault(key, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        waiting = self._waiters.setdefault(key, {})
        for token in [t for t, asked in waiting.items() if now - asked >= 2.0]:
            del waiting[token]
        if waiter is not None:
            waiting.pop(waiter, None)
        ahead = len(waiting) if waiter is None else 0
        if len(window) + ahead < capacity:
            window.append(now)
            return 0.0
        if waiter is not None:
            waiting[waiter] = now
        return _until_room(list(window), len(window) + ahead - capacity, now)

    def _sweep(self, now: float) -> None:
        idle = [
            k for k, (_, stamp, full_after) in self._buckets.items() if now - stamp > full_after
        ]
        for key in idle:
            del self._buckets[key]
        for key in [k for k, arrival in self._schedule.items() if arrival < now]:
            del self._schedule[key]

    def __len__(self) -> int:
        return len(self._buckets)


def _until_room(window: list[float], index: int, now: float) -> float:
    """Seconds until the departure at ``index`` (oldest first) leaves the rolling second; at
    least a millisecond, and a short poll when the waiters alone fill the capacity."""
    if index >= len(window):
        return 0.01
    return max(0.001, window[index] + 1.0 - now)


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


_RESERVE_SCRIPT = """
local per_second = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local arrival = tonumber(redis.call('GET', KEYS[1])) or now
if arrival < now then arrival = now end
arrival = arrival + cost / per_second
redis.call('SET', KEYS[1], tostring(arrival), 'PX', math.ceil((arrival - now) * 1000) + 1000)
local delay = arrival - burst / per_second - now
if delay < 0 then delay = 0 end
return tostring(delay)
"""


# KEYS: departures, priority waiters; ARGV: capacity, a unique member, the waiter's token ('' in
# the bulk lane).
_DEPART_SCRIPT = """
local capacity = tonumber(ARGV[1])
local waiter = ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 2)
local ahead = 0
if waiter == '' then
  ahead = redis.call('ZCARD', KEYS[2])
else
  redis.call('ZREM', KEYS[2], waiter)
end
local count = redis.call('ZCARD', KEYS[1])
if count + ahead < capacity then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return '0'
end
if waiter ~= '' then
  redis.call('ZADD', KEYS[2], now, waiter)
  redis.call('PEXPIRE', KEYS[2], 3000)
end
local index = count + ahead - capacity
if index >= count then
  return '0.01'
end
local nth = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
return tostring(math.max(0.001, tonumber(nth[2]) + 1 - now))
"""


class RedisRateLimiter:
    """One Lua script per call: the read-refill-take is atomic across every client."""

    def __init__(self, redis: Redis, *, prefix: str = "stampbot:rate:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_BUCKET_SCRIPT)
        self._reserve = redis.register_script(_RESERVE_SCRIPT)
        self._depart = redis.register_script(_DEPART_SCRIPT)

    async def try_acquire(self, key: str, rate: Rate, cost: int = 1) -> float:
        # Lua numbers come back as integers, so the wait travels as a string.
        raw = await self._script(
            keys=[self._prefix + key], args=[rate.per_second, rate.burst, cost]
        )
        return float(raw)

    async def reserve(self, key: str, rate: Rate, cost: int = 1) -> float:
        raw = await self._reserve(
            keys=[self._prefix + "gcra:" + key], args=[rate.per_second, rate.burst, cost]
        )
        return float(raw)

    async def depart(self, key: str, capacity: int, *, waiter: str | None = None) -> float:
        # A unique member, so two departures in the same microsecond are both counted.
        keys = [self._prefix + key, self._prefix + key + ":priority"]
        raw = await self._depart(keys=keys, args=[capacity, secrets.token_hex(8), waiter or ""])
        return float(raw)


def within_rolling_second(limit: float) -> Rate:
    """A bucket that never lets more than ``limit`` through in any rolling second.

    Telegram counts sends in a sliding one-second window, and a bucket admits at most
    ``burst + per_second`` in one; ``acquire``'s departure gate then holds each process to the
    rate rounded down. 2% stays spare for the jitter between leaving and arriving: at 1,000/s
    and 2% a strict server answered no 429s once its own collector pauses were taken out.
    """
    return Rate(per_second=limit * 0.98, burst=1)
