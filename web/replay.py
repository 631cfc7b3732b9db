"""Each webhook event handled once, however often the platform delivers it.

Viber (and WhatsApp) resend a callback until they get a 200, for an hour or more, so a slow
answer or a lost response brings the same event back, possibly to another replica. The first
replica to claim an event's key (Redis ``SET NX`` with an expiry) handles it; the others answer
200 and do nothing. A handler that fails after claiming gives the key back (:meth:`forget`),
so the platform's next attempt is handled.
"""

from __future__ import annotations

from redis.asyncio import Redis


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
