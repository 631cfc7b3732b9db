"""Our own count of notifying messages per pass, to stay inside Google's quota.

Google lets at most 3 messages per pass within 24 hours trigger a lock-screen notification
(``TEXT_AND_NOTIFY``); beyond that it refuses the message (403 ``quotaExceeded``). Counting
here lets the fourth go out quietly (``TEXT``) without first being refused.

:class:`RedisNotifyQuota` keeps the count in Redis, so every worker of a deployment shares it
and it survives restarts; :class:`NotifyQuota` keeps it in this process (the embedded default,
one process). Either way Google's refusal remains the backstop (a count lost with Redis's
data), and the channel then re-sends the message quietly and marks the pass spent.

A notification is *claimed* before it is sent — the check and the count are one step, so two
workers cannot both take the last one — and released again when the message did not go out.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

__all__ = [
    "NOTIFY_LIMIT",
    "NOTIFY_WINDOW",
    "NotifyCounter",
    "NotifyQuota",
    "RedisNotifyQuota",
]

NOTIFY_LIMIT = 3
NOTIFY_WINDOW = 24 * 3600.0
# Passes remembered; the least recently notified are forgotten first (and then rely on Google).
MAX_PASSES = 100_000


class NotifyCounter(Protocol):
    async def claim(self, object_id: str) -> str | None:
        """Take one of the pass's notifications: a claim to release if the message is not
        sent, or None when the last 24 hours already hold ``limit`` of them."""
        ...

    async def release(self, object_id: str, claim: str) -> None:
        """Give back a claimed notification whose message did not go out."""
        ...

    async def exhaust(self, object_id: str) -> None:
        """Google refused a notification for this pass: count it as spent for 24 hours."""
        ...


class NotifyQuota:
    """The count in this process only."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        limit: int = NOTIFY_LIMIT,
        window: float = NOTIFY_WINDOW,
        max_passes: int = MAX_PASSES,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.max_passes = max_passes
        self._sent: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, object_id: str) -> list[float]:
        cutoff = self.clock() - self.window
        times = [t for t in self._sent.get(object_id, ()) if t > cutoff]
        if times:
            self._sent[object_id] = times
        else:
            self._sent.pop(object_id, None)
        return times

    def available(self, object_id: str) -> bool:
        """Whether one more notifying message fits in the last 24 hours of this pass."""
        return len(self._recent(object_id)) < self.limit

    def record(self, object_id: str) -> None:
        self._record(object_id, self.clock())

    def _record(self, object_id: str, when: float) -> None:
        times = self._recent(object_id)
        times.append(when)
        self._sent[object_id] = times
        self._sent.move_to_end(object_id)
        while len(self._sent) > self.max_passes:
            self._sent.popitem(last=False)

    async def claim(self, object_id: str) -> str | None:
        if not self.available(object_id):
            return None
        when = self.clock()
        self._record(object_id, when)
        return repr(when)

    async def release(self, object_id: str, claim: str) -> None:
        times = self._sent.get(object_id)
        if times is not None and float(claim) in times:
            times.remove(float(claim))

    async def exhaust(self, object_id: str) -> None:
        while self.available(object_id):
            self.record(object_id)


# KEYS[1]: the pass's sorted set of notification times. ARGV: now, window, limit, member.
_CLAIM = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 1
"""

# ARGV: now, window, limit, member prefix. Fills the set up to the limit.
_EXHAUST = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
for i = count + 1, tonumber(ARGV[3]) do
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 1
"""


class RedisNotifyQuota:
    """The count in Redis, one sorted set of notification times per pass, shared by every
    worker. Times come from ``clock`` (the workers' clocks: a few seconds of skew between
    machines do not matter against a 24-hour window, and tests move a fake one)."""

    def __init__(
        self,
        redis: Redis,
        *,
        clock: Callable[[], float] = time.time,
        limit: int = NOTIFY_LIMIT,
        window: float = NOTIFY_WINDOW,
        prefix: str = "stampbot:google_wallet:notify:",
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._redis = redis
        self._prefix = prefix
        self._claim = redis.register_script(_CLAIM)
        self._exhaust = redis.register_script(_EXHAUST)

    async def claim(self, object_id: str) -> str | None:
        member = f"{self.clock():.6f}:{secrets.token_hex(4)}"
        taken = await self._claim(
            keys=[self._prefix + object_id], args=[self._now(), self.window, self.limit, member]
        )
        return member if int(taken) else None

    async def release(self, object_id: str, claim: str) -> None:
        await self._redis.zrem(self._prefix + object_id, claim)

    async def exhaust(self, object_id: str) -> None:
        await self._exhaust(
            keys=[self._prefix + object_id],
            args=[self._now(), self.window, self.limit, f"refused:{secrets.token_hex(4)}"],
        )

    async def count(self, object_id: str) -> int:
        """Notifications counted for the pass in the last 24 hours."""
        cutoff = self.clock() - self.window
        return int(await self._redis.zcount(self._prefix + object_id, f"({cutoff}", "+inf"))

    def _now(self) -> str:
        # As a string: Lua reads it back exactly, where a float argument could be rounded.
        return repr(self.clock())
