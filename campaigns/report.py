"""A campaign's statistics per local day, for a chart in the chat and a CSV for a spreadsheet.

Each event counts on the merchant's local day it happened: a message on the day it was sent, an
open or click on the day of the open or click, a visit or redemption on the day of the visit.
Visits and redemptions follow the attribution rule of ``campaigns.stats`` (the same SQL), so the
days add up to the totals the statistics show.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.sql import Params, connection, is_postgres
from campaigns.stats import DEFAULT_WINDOW, CampaignStats, ChannelStats, attribution
from loyalty.clock import ensure_utc
from models import Campaign, Delivery
from models.enums import DeliveryStatus
from render.chart_data import ChartDay, ChartLabels

# --- the daily series -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    sent: Mapping[str, int]
    """Messages sent that day per channel, every channel of the campaign present (0 if none)."""
    failed: int
    opened: int
    clicked: int
    visits: int
    redeemed: int

    @property
    def sent_total(self) -> int:
        return sum(self.sent.values())


async def daily_series(
    campaign: Campaign,
    *,
    timezone: str,
    window: timedelta = DEFAULT_WINDOW,
    now: datetime | None = None,
) -> list[DayRow]:
    """One row per local day from the first message to the end of the attribution window.

    The series stops at today (``now`` in ``timezone``) while the window is still open, and is
    empty while nothing has been attempted. A failed row keeps no time of failure; it counts on
    the day of its last scheduled attempt.
    """
    zone = _zone(timezone)
    rows = await Delivery.filter(
        campaign_id=campaign.id, status__in=(DeliveryStatus.SENT, DeliveryStatus.FAILED)
    ).values("channel", "status", "sent_at", "next_attempt_at", "opened_at", "clicked_at")
    sent_times = [r["sent_at"] for r in rows if r["status"] == DeliveryStatus.SENT]
    failed_times = [r["next_attempt_at"] for r in rows if r["status"] == DeliveryStatus.FAILED]
    attempted = [t for t in (*sent_times, *failed_times) if t is not None]
    if not attempted:
        return []

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    first = local(min(attempted))
    # The window is half-open: a visit at exactly since + window no longer counts.
    window_closes = max(sent_times) + window - timedelta(microseconds=1) if sent_times else None
    last = local(ensure_utc(now))
    if window_closes is not None:
        last = min(last, local(window_closes))
    last = max(last, first)

    sent: Counter[tuple[date, str]] = Counter()
    failed: Counter[date] = Counter()
    opened: Counter[date] = Counter()
    clicked: Counter[date] = Counter()
    for row in rows:
        if row["status"] == DeliveryStatus.SENT and row["sent_at"] is not None:
            sent[local(row["sent_at"]), str(row["channel"])] += 1
        elif row["status"] == DeliveryStatus.FAILED and row["next_attempt_at"] is not None:
            failed[local(row["next_attempt_at"])] += 1
        if row["opened_at"] is not None:
            opened[local(row["opened_at"])] += 1
        if row["clicked_at"] is not None:
            clicked[local(row["clicked_at"])] += 1
    visits, redeemed = await _attributed_days(campaign, window, local)

    channels = list(dict.fromkeys([*map(str, campaign.channels), *(c for _, c in sent)]))
    return [
        DayRow(
            day=day,
            sent={channel: sent[day, channel] for channel in channels},
            failed=failed[day],
            opened=opened[day],
            clicked=clicked[day],
            visits=visits[day],
            redeemed=redeemed[day],
        )
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]


_VISIT, _REDEMPTION = 0, 1
_LocalDay = Callable[[datetime], date]


async def _attributed_days(
    campaign: Campaign, window: timedelta, local: _LocalDay
) -> tuple[Counter[date], Counter[date]]:
    conn = connection()
    p = Params(is_postgres(conn))
    rule = attribution(campaign, window, p)
    sql = rule.with_people(
        f"SELECT {_VISIT} AS kind, {rule.timestamp('e.created_at')} AS at {rule.stamps} "
        f"UNION ALL SELECT {_REDEMPTION}, {rule.timestamp('v.redeemed_at')} {rule.redemptions}"
    )
    visits: Counter[date] = Counter()
    redeemed: Counter[date] = Counter()
    for row in await conn.execute_query_dict(sql, p.values):
        day = local(_moment(row["at"]))
        (visits if int(row["kind"]) == _VISIT else redeemed)[day] += 1
    return visits, redeemed


def _moment(value: datetime | str) -> datetime:
    # PostgreSQL hands back an aware datetime; SQLite the UTC text Attribution.timestamp() made.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


# --- the chart --------------------------------------------------------------------------------


def chart_png(rows: Sequence[DayRow], *, title: str, labels: ChartLabels) -> bytes:
    """The days as a chart: bars of messages sent, a line of attributed visits."""
    from render.chart import render_chart  # here: Pillow only where a chart is drawn

    days = [ChartDay(row.day, row.sent_total, row.visits) for row in rows]
    return render_chart(days, title=title, labels=labels)


# --- the spreadsheet --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsvLabels:
    """Column headers, translated by the caller; ``names`` turns channel and reason codes into
    words (a code without a name is written as it is)."""

    day: str = "Date"
    sent: str = "Sent"
    failed: str = "Failed"
    opened: str = "Opened"
    clicked: str = "Clicked"
    visits: str = "Visits (attributed)"
    redeemed: str = "Vouchers redeemed (attributed)"
    total: str = "Total"
    channel: str = "Channel"
    targeted: str = "Targeted"
    pending: str = "Pending"
    skipped: str = "Skipped"
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, code: str) -> str:
        return self.names.get(code, code)


def csv_export(
    rows: Sequence[DayRow],
    stats: CampaignStats,
    *,
    labels: CsvLabels | None = None,
    delimiter: str = ",",
) -> bytes:
    """Two tables on one sheet, a blank line apart: the days (with a total row), then channels.

    UTF-8 with a byte-order mark, which is how Excel knows the file is UTF-8. Excel in a locale
    whose decimal mark is a comma expects ``;`` between cells; the caller, who knows the
    merchant's language, passes it.
    """
    labels = labels or CsvLabels()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    channels = list(dict.fromkeys([*stats.channels, *(c for row in rows for c in row.sent)]))
    writer.writerow(
        _safe(
            [
                labels.day,
                *(f"{labels.sent}: {labels.name(c)}" for c in channels),
                labels.sent,
                labels.failed,
                labels.opened,
                labels.clicked,
                labels.visits,
                labels.redeemed,
            ]
        )
    )

    def day_cells(row: DayRow) -> list[int]:
        return [
            *(row.sent.get(c, 0) for c in channels),
            row.sent_total,
            row.failed,
            row.opened,
            row.clicked,
            row.visits,
            row.redeemed,
        ]

    for row in rows:
        writer.writerow([row.day.isoformat(), *day_cells(row)])
    sums = [sum(column) for column in zip(*(day_cells(row) for row in rows), strict=True)]
    writer.writerow([*_safe([labels.total]), *(sums or [0] * (len(channels) + 6))])
    writer.writerow([])

    failed_reasons = _reasons(channel.failed for channel in stats.channels.values())
    skipped_reasons = _reasons(channel.skipped for channel in stats.channels.values())
    writer.writerow(
        _safe(
            [
                labels.channel,
                labels.targeted,
                labels.sent,
                labels.pending,
                labels.failed,
                *(f"{labels.failed}: {labels.name(r)}" for r in failed_reasons),
                labels.skipped,
                *(f"{labels.skipped}: {labels.name(r)}" for r in skipped_reasons),
                labels.opened,
                labels.clicked,
            ]
        )
    )

    def channel_cells(channel: ChannelStats) -> list[int]:
        return [
            channel.targeted,
            channel.sent,
            channel.pending,
            channel.failed.total(),
            *(channel.failed[r] for r in failed_reasons),
            channel.skipped.total(),
            *(channel.skipped[r] for r in skipped_reasons),
            channel.opened,
            channel.clicked,
        ]

    per_channel = [channel_cells(channel) for channel in stats.channels.values()]
    for code, cells in zip(stats.channels, per_channel, strict=True):
        writer.writerow([*_safe([labels.name(code)]), *cells])
    if len(per_channel) > 1:
        writer.writerow(
            [*_safe([labels.total]), *(sum(c) for c in zip(*per_channel, strict=True))]
        )
    return out.getvalue().encode("utf-8-sig")


def _reasons(counters: Iterable[Counter[str]]) -> list[str]:
    return sorted({reason for counter in counters for reason in counter})


def _safe(cells: Iterable[str]) -> list[str]:
    # A text cell starting with = + - @ is a formula to a spreadsheet; a quote keeps it text.
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell for cell in cells]


__all__ = [
    "ChartLabels",
    "CsvLabels",
    "DayRow",
    "chart_png",
    "csv_export",
    "daily_series",
]
