"""Customer notices sent after the staff member's answer, from a bounded in-process queue.

A notice waits for the bot's Telegram slot (one limit for everything the bot sends, campaigns
included, notices ahead of them). Waited inside the webhook request, that slot held the
cashier's own answer: at a busy counter every press queued behind every other shop's notices,
and with more notices due than the limit lets out, that queue, and the answer, grew without end.
So the staff member's answer is given in the request and the customer's notice is put here; it
still waits for the same slot, so it counts against the same limit with the same priority.

Bounded: when ``capacity`` notices are pending, putting one more waits (back-pressure on the
requests, which slows what is stamped to what can be told) instead of holding memory without
limit. Notices for one key (a customer) go in the order they were put: a stamp and its undo
are never told the other way round. A notice that fails is logged with its traceback, never
lost silently. At shutdown :meth:`close` waits a few seconds for what is pending and logs how
many were left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVarTuple

from prometheus_client import Gauge

logger = logging.getLogger(__name__)

# The notice's arguments: positional only, so a handler room keeps to named parameters.
Args = TypeVarTuple("Args")

# Half a minute of the bot's 30 messages a second: a burst far past the limit is absorbed and
# told, late; past it, a request waits for room.
CAPACITY = 1000
# How long a stopping process waits for the notices still pending (an orchestrator's grace
# period is usually 30 s, of which the web server's own shutdown takes its part).
CLOSE_TIMEOUT = 5.0

PENDING = Gauge("stampbot_notices_pending", "Customer notices queued and not yet sent.")
PEAK = Gauge(
    "stampbot_notices_pending_peak", "The most customer notices pending at once, since start."
)


class NoticeQueue:
    """Runs each notice as a task of its own, at most ``capacity`` at once (see above)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.peak = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # The newest task per key: the next one for that key starts when it is done.
        self._last: dict[Hashable, asyncio.Task[None]] = {}
        # Puts waiting for room, first come first served.
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def put(
        self,
        key: Hashable,
        notice: Callable[[*Args], Awaitable[object]],
        /,
        *args: *Args,
    ) -> None:
        """Send ``notice(*args)`` soon, after the notices put before it for ``key``;
        waits while the queue is full. Once closed, the notice is sent now, in the caller's
        time: a request still finishing at shutdown loses nothing."""
        if self._closed:
            await notice(*args)
            return
        while len(self._tasks) >= self.capacity:
            room = asyncio.get_running_loop().create_future()
            self._waiting.append(room)
            try:
                await room
            finally:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(room)
        before = self._last.get(key)
        task = asyncio.create_task(self._run(before, notice, *args))
        self._tasks.add(task)
        self._last[key] = task
        PENDING.inc()
        if len(self._tasks) > self.peak:
            self.peak = len(self._tasks)
            PEAK.set(self.peak)
        task.add_done_callback(lambda done: self._done(key, done, notice))

    async def _run(
        self,
        before: asyncio.Task[None] | None,
        notice: Callable[[*Args], Awaitable[object]],
        /,
        *args: *Args,
    ) -> None:
        if before is not None:
            # Its failure is logged by its own callback; this one is sent all the same.
            with contextlib.suppress(Exception):
                await asyncio.shield(before)
        await notice(*args)

    def _done(
        self, key: Hashable, task: asyncio.Task[None], notice: Callable[..., object]
    ) -> None:
        self._tasks.discard(task)
        PENDING.dec()
        if self._last.get(key) is task:
            del self._last[key]
        if not task.cancelled() and (error := task.exception()) is not None:
            name = getattr(notice, "__qualname__", repr(notice))
            logger.error("customer notice %s failed", name, exc_info=error)
        while self._waiting:
            room = self._waiting.popleft()
            if not room.done():
                room.set_result(None)
                break

    async def drain(self, seconds: float | None = None) -> int:
        """Wait until nothing is pending (notices put meanwhile included), at most ``seconds``
        (None: as long as it takes); returns how many are still pending."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=left)
        return len(self._tasks)

    async def settle(self, seconds: float = CLOSE_TIMEOUT) -> int:
        """:meth:`drain` for a stop (the web app's cleanup): logs what was sent meanwhile and,
        as a warning, how many were left."""
        pending = len(self._tasks)
        left = await self.drain(seconds)
        if left:
            logger.warning("stopping with %d customer notices unsent after %.0f s", left, seconds)
        elif pending:
            logger.info("sent the %d customer notices pending at the stop", pending)
        return left

    async def close(self, seconds: float = CLOSE_TIMEOUT) -> int:
        """Take no more (a later put sends at once), wait up to ``seconds`` for what is
        pending, then cancel the rest; returns how many notices were not sent (logged)."""
        self._closed = True
        left = await self.settle(seconds)
        if left:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return left
