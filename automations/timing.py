"""Local time rules of an automation: quiet hours and "wait until 10:00 (on Tuesday)".

Everything is computed in the shop's zone and handed back in UTC. Local times are built with
``datetime.combine(..., tzinfo=zone)`` and converted once, so a DST change moves the UTC
instant and never the local hour a customer sees: "until 10:00" is 10:00 on both sides of the
change. A local time that does not exist (the skipped hour of spring) resolves to the same
wall-clock reading after the change, as ``zoneinfo`` does with ``fold=0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from automations.chain import Wait, Weekday, clock_time


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local minutes of the day; the window may wrap midnight (21:00–09:00)."""

    start: int
    end: int

    def covers(self, minute: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """When a send due at ``moment`` may go: None if now, else the window's end (UTC)."""
        local = moment.astimezone(zone)
        if not self.covers(local.hour * 60 + local.minute):
            return None
        end = time(self.end // 60, self.end % 60)
        day = local.date()
        if local.time() >= end:
            day += timedelta(days=1)
        return _utc(day, end, zone)


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_local(moment: datetime, at: time, zone: ZoneInfo, weekday: Weekday | None) -> datetime:
    """The first local ``at`` (on ``weekday``, if given) strictly after ``moment``, in UTC."""
    local = moment.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if weekday is not None and day.weekday() != weekday.number:
            continue
        candidate = _utc(day, at, zone)
        if candidate > moment:
            return candidate
    raise AssertionError("a weekday comes round within 8 days")


def wait_until(wait: Wait, moment: datetime, zone: ZoneInfo) -> datetime:
    """When a wait step that starts at ``moment`` ends."""
    if wait.until is None:
        return moment + wait.duration
    return next_local(moment, clock_time(wait.until), zone, wait.weekday)
