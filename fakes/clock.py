"""A clock moved by hand, for a fake and the client under test to share.

Token lifetimes, quotas and retry windows are measured in wall time; a test moves this clock
instead of sleeping, and both sides of the conversation see the same moment.
"""

from __future__ import annotations


class FakeClock:
    """Seconds since the epoch, moved by hand; share one between the fake and the client."""

    def __init__(self, start: float = 1_777_904_340.0) -> None:  # 2026-05-04 14:19 UTC
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
