"""What goes wrong on purpose: injected faults and Telegram's flood limits.

Product code must survive a slow, failing or throttling Telegram; tests plan those answers
here. A fault is taken by the next call of its method before the method runs; the rate limit
is checked by the send methods once a request is otherwise valid, where Telegram checks it.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Final

from .errors import BAD_GATEWAY_HTML, too_many_requests
from .state import TelegramState

SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


@dataclass(frozen=True)
class Fault:
    status: int = 0
    description: str | None = None
    retry_after: int | None = None
    raw_body: str | None = None
    delay: float = 0.0
    # The call takes effect (after ``delay``), then the connection is cut with no answer: what
    # a client that timed out sees, not knowing whether its message went.
    hang_up: bool = False
    # The call waits until this is set (or the server stops), then takes effect normally.
    release: asyncio.Event | None = None

    @property
    def kind(self) -> str:
        """How a count of faults names this one: "429", "500", "hang_up", "hold", "delay"."""
        if self.hang_up:
            return "hang_up"
        if self.release is not None:
            return "hold"
        return str(self.status) if self.status else "delay"


@dataclass
class RandomFaults:
    """Each call of ``methods`` meets one of ``faults`` with probability ``rate``."""

    rate: float
    faults: tuple[Fault, ...]
    methods: frozenset[str]
    rng: random.Random
    taken: Counter[str] = field(default_factory=Counter)

    def draw(self, method: str) -> Fault | None:
        if method not in self.methods or self.rng.random() >= self.rate:
            return None
        fault = self.rng.choice(self.faults)
        self.taken[fault.kind] += 1
        return fault


@dataclass
class RateLimit:
    """Sends allowed in any rolling second, overall and (optionally) to one chat."""

    per_second: int
    per_chat_per_second: int | None
    retry_after: int | None
    methods: frozenset[str]
    _sends: deque[float] = field(default_factory=deque)
    _chat_sends: defaultdict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def refusal(self, method: str, chat_id: int) -> int | None:
        """Count a send and return None, or return the retry_after of a refused one."""
        if method not in self.methods:
            return None
        now = time.monotonic()
        windows = [(self._sends, self.per_second)]
        if self.per_chat_per_second is not None:
            windows.append((self._chat_sends[chat_id], self.per_chat_per_second))
        for window, allowed in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= allowed:
                return self.retry_after or max(1, math.ceil(1.0 - (now - window[0])))
        for window, _ in windows:
            window.append(now)
        return None


class FaultInjection(TelegramState):
    """The test's plan of failures, and the flood limit the send methods consult."""

    random_faults: RandomFaults | None = None

    def inject_fault(self, method: str, fault: Fault, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" for any) with ``fault``."""
        self._faults[method.lower()].extend([fault] * times)

    def fail_with_retry_after(self, method: str, retry_after: int, *, times: int = 1) -> None:
        self.inject_fault(method, Fault(status=429, retry_after=retry_after), times=times)

    def fail_with_server_error(
        self, method: str, *, times: int = 1, description: str = "Internal Server Error"
    ) -> None:
        self.inject_fault(method, Fault(status=500, description=description), times=times)

    def fail_with_bad_gateway(self, method: str, *, times: int = 1) -> None:
        self.inject_fault(method, Fault(status=502, raw_body=BAD_GATEWAY_HTML), times=times)

    def fail_with_error(
        self, method: str, status: int, description: str, *, times: int = 1
    ) -> None:
        self.inject_fault(method, Fault(status=status, description=description), times=times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next calls before handling them: past the client's timeout the client gives
        up, yet the call still takes effect, as a slow Telegram does."""
        self.inject_fault(method, Fault(delay=seconds), times=times)

    def hold_next(self, method: str, *, times: int = 1) -> asyncio.Event:
        """Hold the next calls until the returned event is set, then handle them: slow for
        exactly as long as a test needs (until calls of several clients wait at once, say),
        where a fixed ``delay_next`` must guess at the slowest machine and always waits it."""
        release = asyncio.Event()
        self.inject_fault(method, Fault(release=release), times=times)
        return release

    def hang_up_next(self, method: str, *, times: int = 1, after: float = 0.0) -> None:
        """Carry out the next calls, then cut the connection without answering (after
        ``after`` seconds): the client sees a timeout although the message went."""
        self.inject_fault(method, Fault(delay=after, hang_up=True), times=times)

    def fail_at_random(
        self,
        rate: float,
        faults: tuple[Fault, ...],
        *,
        methods: frozenset[str] = SEND_METHODS,
        seed: int | None = None,
    ) -> RandomFaults:
        """From now on each call of ``methods`` meets one of ``faults`` (chosen at random) with
        probability ``rate``, besides the planned ones; the plan counts what it injected."""
        self.random_faults = RandomFaults(rate, faults, methods, random.Random(seed))  # noqa: S311
        return self.random_faults

    def clear_faults(self) -> None:
        self._faults.clear()
        self.random_faults = None

    def enable_rate_limit(
        self,
        *,
        per_second: int = 30,
        per_chat_per_second: int | None = None,
        retry_after: int | None = None,
        methods: frozenset[str] = SEND_METHODS,
    ) -> None:
        """Answer 429 past ``per_second`` sends in any rolling second (and past
        ``per_chat_per_second`` to one chat). ``retry_after`` defaults to the time until the
        window has room again, rounded up."""
        self.rate_limit = RateLimit(per_second, per_chat_per_second, retry_after, methods)

    def disable_rate_limit(self) -> None:
        self.rate_limit = None

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None if self.random_faults is None else self.random_faults.draw(method)

    def _check_rate_limit(self, method: str, chat_id: int) -> None:
        wait = None if self.rate_limit is None else self.rate_limit.refusal(method, chat_id)
        if wait is not None:
            self.rate_limited_count += 1
            raise too_many_requests(wait)
        if method in SEND_METHODS:
            self.send_times.append(time.monotonic())

    def busiest_second(self, since: float = float("-inf")) -> int:
        """The most sends accepted in any rolling second (arrivals at or after ``since``, by
        ``time.monotonic``): what Telegram's per-bot limit is judged by, limit on or off."""
        times = [moment for moment in self.send_times if moment >= since]
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best
