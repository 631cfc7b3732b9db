"""A campaign's statistics per local day, as a PNG chart for the chat and a CSV for a spreadsheet.

Each event counts on the merchant's local day it happened: a message on the day it was sent, an
open or click on the day of the open or click, a visit or redemption on the day of the visit.
Visits and redemptions follow the attribution rule of ``campaigns.stats`` (the same SQL), so the
days add up to the totals the statistics show.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PIL import Image, ImageDraw

from campaigns.sql import Params, connection, is_postgres
from campaigns.stats import DEFAULT_WINDOW, CampaignStats, ChannelStats, attribution
from loyalty.clock import ensure_utc
from models import Campaign, Delivery
from models.enums import DeliveryStatus
from render import typeset

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


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The chart's words, translated by the caller."""

    deliveries: str
    visits: str
    no_data: str


# Telegram shows photos up to 1280 px on the long side; 16:9 fills a phone held sideways and
# leaves the text at about 10 pt when the chat shows it 400 points wide.
WIDTH, HEIGHT = 1280, 720
PLOT_BOX = (120, 180, WIDTH - 120, HEIGHT - 80)
"""Left, top, right, bottom of the plotting area; the days split its width evenly."""

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
# Okabe–Ito blue and vermillion: told apart with the common colour-vision deficiencies.
BAR_COLOUR = (0, 114, 178)
LINE_COLOUR = (213, 94, 0)

_BAR_SHARE = 0.6
_BAR_MAX = 120  # a week-long series still has bars, not blocks
_LINE_WIDTH = 6
_DOT_RADIUS = 8
_TICKS = 5

Anchor = Literal["lm", "rm", "mt", "mm", "lt"]  # a subset of typeset.Anchor


def chart_png(rows: Sequence[DayRow], *, title: str, labels: ChartLabels) -> bytes:
    """Bars of messages sent per day (left axis) and a line of attributed visits (right axis)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(image, title)
    if not rows or not any(row.sent_total or row.visits for row in rows):
        size, text = typeset.fit(_one_line(labels.no_data), "regular", 40, 24, WIDTH - 160)
        _put(image, (WIDTH / 2, HEIGHT / 2), text, "regular", size, MUTED, "mm")
        return _png(image)
    _legend(image, draw, labels)
    left, top, right, bottom = PLOT_BOX
    bar_top, bar_step = _scale(max(row.sent_total for row in rows))
    line_top, line_step = _scale(max(row.visits for row in rows))
    _axes(image, draw, bar_top, bar_step, line_top, line_step)
    column = (right - left) / len(rows)

    def y(value: int, top_value: int) -> float:
        return bottom - value / top_value * (bottom - top)

    half_bar = min(_BAR_MAX / 2, max(1.0, column * _BAR_SHARE / 2))
    for n, row in enumerate(rows):
        if row.sent_total:
            centre = left + (n + 0.5) * column
            # At least 2 px, so a day with one message among thousands still shows a bar.
            bar_y = min(y(row.sent_total, bar_top), bottom - 2)
            draw.rectangle(
                (round(centre - half_bar), round(bar_y), round(centre + half_bar) - 1, bottom - 1),
                fill=BAR_COLOUR,
            )
    points = [(left + (n + 0.5) * column, y(row.visits, line_top)) for n, row in enumerate(rows)]
    if len(points) > 1:
        draw.line(points, fill=LINE_COLOUR, width=_LINE_WIDTH, joint="curve")
    radius = min(_DOT_RADIUS, max(2.0, column / 3))
    for x, y_ in points:
        draw.ellipse((x - radius, y_ - radius, x + radius, y_ + radius), fill=LINE_COLOUR)
    _day_labels(image, [row.day for row in rows], column)
    return _png(image)


def _title(image: Image.Image, title: str) -> None:
    text = _one_line(title)
    width = WIDTH - 2 * 48
    size, text = typeset.fit(text, "bold", 40, 26, width)
    # A right-to-left title starts at the right edge, where its reader looks first.
    rtl = typeset.layout(text, "bold", size).rtl
    at = (WIDTH - 48, 56) if rtl else (48, 56)
    _put(image, at, text, "bold", size, INK, "rm" if rtl else "lm")


def _legend(image: Image.Image, draw: ImageDraw.ImageDraw, labels: ChartLabels) -> None:
    size = 28
    left, y = PLOT_BOX[0], 124
    room = (PLOT_BOX[2] - left) // 2 - 60
    draw.rectangle((left, y - 14, left + 28, y + 14), fill=BAR_COLOUR)
    text = typeset.ellipsize(_one_line(labels.deliveries), "regular", size, room)
    _put(image, (left + 40, y), text, "regular", size, INK, "lm")
    x = left + 40 + round(typeset.width(text, "regular", size)) + 56
    draw.line((x, y, x + 44, y), fill=LINE_COLOUR, width=_LINE_WIDTH)
    draw.ellipse(
        (x + 22 - _DOT_RADIUS, y - _DOT_RADIUS, x + 22 + _DOT_RADIUS, y + _DOT_RADIUS),
        fill=LINE_COLOUR,
    )
    text = typeset.ellipsize(_one_line(labels.visits), "regular", size, room)
    _put(image, (x + 56, y), text, "regular", size, INK, "lm")


def _axes(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    bar_top: int,
    bar_step: int,
    line_top: int,
    line_step: int,
) -> None:
    left, top, right, bottom = PLOT_BOX
    ticks = bar_top // bar_step
    for n in range(ticks + 1):
        y = bottom - n * (bottom - top) / ticks
        draw.line((left, y, right, y), fill=GRID if n else MUTED, width=2)
        _put(image, (left - 14, y), str(n * bar_step), "regular", 24, BAR_COLOUR, "rm")
    # The visits axis has its own ticks; put them at its own heights, so each reads true.
    for n in range(line_top // line_step + 1):
        y = bottom - n * line_step / line_top * (bottom - top)
        _put(image, (right + 14, y), str(n * line_step), "regular", 24, LINE_COLOUR, "lm")


def _day_labels(image: Image.Image, days: Sequence[date], column: float) -> None:
    left, _, _, bottom = PLOT_BOX
    widest = max(typeset.width(day.strftime("%d.%m"), "regular", 24) for day in days)
    every = max(1, math.ceil((widest + 16) / column))
    for n, day in enumerate(days):
        if n % every == 0:
            _put(
                image,
                (left + (n + 0.5) * column, bottom + 14),
                day.strftime("%d.%m"),
                "regular",
                24,
                MUTED,
                "mt",
            )


def _scale(peak: int) -> tuple[int, int]:
    """A round axis maximum at or above ``peak`` and its whole-number step (at most 5 steps)."""
    peak = max(peak, 1)
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if peak <= step * _TICKS:
                return step * math.ceil(peak / step), step
        magnitude *= 10


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _put(
    image: Image.Image,
    xy: tuple[float, float],
    text: str,
    style: typeset.Style,
    size: int,
    fill: tuple[int, int, int],
    anchor: Anchor,
) -> None:
    if text:
        typeset.draw(image, xy, text, style, size, fill, anchor)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
    "BAR_COLOUR",
    "HEIGHT",
    "LINE_COLOUR",
    "PLOT_BOX",
    "WIDTH",
    "ChartLabels",
    "CsvLabels",
    "DayRow",
    "chart_png",
    "csv_export",
    "daily_series",
]
