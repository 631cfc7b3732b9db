"""Each webhook event handled once, however often the platform delivers it.

Viber (and WhatsApp) resend a callback until they get a 200, for an hour or more, so a slow
answer or a lost response brings the same event back, possibly to another replica. The first
replica to claim an event's key (Redis ``SET NX`` with an expiry) handles it; the others answer
200 and do nothing. A handler that fails after claiming gives the key back (:meth:`forget`),
so the platform's next attempt is handled.

The embedded default runs one process without Redis: :class:`MemoryReplayGuard` keeps the
claims in that process, with the same expiry.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

__all__ = ["MemoryReplayGuard", "Replay", "ReplayGuard"]


class Replay(Protocol):
    """What a webhook asks of a guard: claim an event's key once, or give it back."""

    async def first(self, key: str) -> bool: ...

    async def forget(self, key: str) -> None: ...


class ReplayGuard:
    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_seconds

    async def first(self, key: str) -> bool:
        """True for the first claim of ``key`` within the TTL, False for every repeat."""
        claimed = await self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl)
        return bool(claimed)

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class MemoryReplayGuard:
    """The claims of one process, oldest dropped first past ``limit`` (a flood of fresh keys
    cannot grow it without bound)."""

    def __init__(
        self,
        ttl_seconds: int,
        *,
        limit: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        self._ttl = ttl_seconds
        self._limit = limit
        self._clock = clock
        self._claims: OrderedDict[str, float] = OrderedDict()

    async def first(self, key: str) -> bool:
        now = self._clock()
        while self._claims and next(iter(self._claims.values())) <= now:
            self._claims.popitem(last=False)
        if key in self._claims:
            return False
        self._claims[key] = now + self._ttl
        while len(self._claims) > self._limit:
            self._claims.popitem(last=False)
        return True

    async def forget(self, key: str) -> None:
        self._claims.pop(key, None)
