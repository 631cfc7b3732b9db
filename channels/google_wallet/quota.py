"""Our own count of notifying messages per pass, to stay inside Google's quota.

Google lets at most 3 messages per pass within 24 hours trigger a lock-screen notification
(``TEXT_AND_NOTIFY``); beyond that it refuses the message. Counting here lets the fourth go out
quietly (``TEXT``) without first being refused. The count lives in this process only, so with
several workers, or after a restart, it can be short: Google's refusal remains the backstop and
the channel then re-sends the message quietly.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["NOTIFY_LIMIT", "NOTIFY_WINDOW", "NotifyQuota"]

NOTIFY_LIMIT = 3
NOTIFY_WINDOW = 24 * 3600.0
# Passes remembered; the least recently notified are forgotten first (and then rely on Google).
MAX_PASSES = 100_000


class NotifyQuota:
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
        times = self._recent(object_id)
        times.append(self.clock())
        self._sent[object_id] = times
        self._sent.move_to_end(object_id)
        while len(self._sent) > self.max_passes:
            self._sent.popitem(last=False)
