"""Our count of notifying messages: 3 per pass in any 24 hours."""

from __future__ import annotations

from channels.google_wallet import NotifyQuota
from fakes.google_wallet import FakeClock


def test_three_per_rolling_day_per_pass() -> None:
    clock = FakeClock()
    quota = NotifyQuota(clock=clock)
    for _ in range(3):
        assert quota.available("a")
        quota.record("a")
        clock.advance(3600)
    assert not quota.available("a")
    assert quota.available("b")  # another pass has its own three

    clock.advance(24 * 3600 - 3 * 3600 - 1)  # a second short of a day after the first
    assert not quota.available("a")
    clock.advance(1)  # a day after the first: that one no longer counts
    assert quota.available("a")
    quota.record("a")
    assert not quota.available("a")


def test_memory_stays_bounded() -> None:
    quota = NotifyQuota(clock=FakeClock(), max_passes=2)
    for name in ("a", "b", "c"):
        for _ in range(3):
            quota.record(name)
    # The least recently notified pass is forgotten; Google's refusal still protects it.
    assert quota.available("a")
    assert not quota.available("b")
    assert not quota.available("c")
