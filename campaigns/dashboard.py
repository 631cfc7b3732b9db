"""The shop's dashboard: members, visits, stamps, vouchers and what campaigns brought, for this
week, the last 30 days or all time, counted on the shop's local days.

A visit is a stamp row that was not taken back (an ``undo`` row reverses it): a stamp given by
mistake is not a visit. Attributed visits follow ``campaigns.stats`` (the window after a
person's first message of a campaign, on that campaign's card); their value is the sum of the
receipt amounts recorded with them (``amount_minor``, often not recorded).

Times are grouped in SQL into 15-minute UTC buckets and put on local days here: every time zone
in use is a whole number of quarter hours from UTC, and neither SQLite nor the ORM knows zones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from campaigns.sql import Params, connection, is_postgres
from campaigns.stats import DEFAULT_WINDOW, shop_attributed
from loyalty.clock import ensure_utc
from models import Campaign, Merchant, Voucher
from models.enums import CampaignStatus, LedgerKind, MembershipStatus, VoucherStatus
from render.chart_data import BarDay, BarLabels

_BUCKET = 900  # seconds: a quarter hour


class Period(StrEnum):
    WEEK = "week"
    DAYS_30 = "30d"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    visits: int
    stamps: int
    new_members: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    merchant_id: int
    shop_name: str
    timezone: str
    currency: str
    period: Period
    first_day: date
    last_day: date
    members_total: int
    members_new: int
    visits: int
    stamps: int
    value_minor: int
    """Receipt amounts recorded with the period's visits (minor units of ``currency``)."""
    vouchers_issued: int
    vouchers_redeemed: int
    vouchers_waiting: int
    """Rewards issued and still usable now, whenever they were earned: the shop owes them."""
    campaigns_sending: int
    campaigns_scheduled: int
    attributed_visits: int
    attributed_value_minor: int
    attributed_with_amount: int
    """How many attributed visits had a receipt amount: the value covers only those."""
    window_days: int
    """The attribution window, in days after a person's first message of a campaign."""
    days: tuple[DayFigures, ...]


def period_start(
    period: Period, *, timezone: str, first_week_day: int, now: datetime, since: datetime
) -> datetime:
    """Where the period begins (UTC): local midnight of the week's first day, of 29 days ago,
    or ``since`` (the shop's beginning) for all time. ``first_week_day``: 0 Monday … 6 Sunday."""
    zone = ZoneInfo(timezone)
    today = ensure_utc(now).astimezone(zone).date()
    if period == Period.WEEK:
        first = today - timedelta(days=(today.weekday() - first_week_day) % 7)
    elif period == Period.DAYS_30:
        first = today - timedelta(days=29)
    else:
        return ensure_utc(since)
    return datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)


def _bucket(p: Params, column: str) -> str:
    if p.postgres:
        return f"FLOOR(EXTRACT(EPOCH FROM {column}) / {_BUCKET})::bigint"
    return f"CAST(strftime('%s', {column}) AS INTEGER) / {_BUCKET}"


async def dashboard(
    merchant_id: int,
    period: Period,
    *,
    first_week_day: int = 0,
    now: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> Dashboard:
    moment = ensure_utc(now)
    merchant = await Merchant.get(id=merchant_id)
    zone = ZoneInfo(merchant.timezone)
    conn = connection()
    postgres = is_postgres(conn)

    async def rows(sql: str, p: Params) -> list[dict[str, Any]]:
        return list(await conn.execute_query_dict(sql, p.values))

    p = Params(postgres)
    merchant_p = p(merchant_id)
    first_seen = await rows(
        "SELECT (SELECT MIN(m.joined_at) FROM membership m JOIN card k ON k.id = m.card_id "
        f"WHERE k.merchant_id = {merchant_p}) AS joined, (SELECT MIN(e.created_at) "
        f"FROM stamp_event e JOIN card k ON k.id = e.card_id WHERE k.merchant_id = {merchant_p}"
        ") AS stamped",
        p,
    )
    # All time begins with the shop's first member or stamp (imported history may be older).
    known = [_moment(v) for v in first_seen[0].values() if v is not None]
    since = min([ensure_utc(merchant.created_at), *known, moment])
    start = period_start(
        period,
        timezone=merchant.timezone,
        first_week_day=first_week_day,
        now=moment,
        since=since,
    )

    def local(bucket: int) -> date:
        return datetime.fromtimestamp(int(bucket) * _BUCKET, UTC).astimezone(zone).date()

    # Visits and stamps per bucket; the value of all visits and of the attributed ones.
    p = Params(postgres)
    visit = (
        f"FROM stamp_event e JOIN card k ON k.id = e.card_id WHERE k.merchant_id = "
        f"{p(merchant_id)} AND e.kind = {p(LedgerKind.STAMP.value)} "
        f"AND e.created_at >= {p(start)} AND e.created_at < {p(moment)} "
        "AND NOT EXISTS (SELECT 1 FROM stamp_event u WHERE u.reverses_id = e.id)"
    )
    visit_rows = await rows(
        f"SELECT {_bucket(p, 'e.created_at')} AS b, COUNT(*) AS visits, "
        f"SUM(e.delta) AS stamps, SUM(e.amount_minor) AS value {visit} GROUP BY 1",
        p,
    )
    attributed = await rows(
        f"SELECT COUNT(*) AS visits, SUM(e.amount_minor) AS value, "
        f"COUNT(e.amount_minor) AS priced {visit} AND {shop_attributed(merchant_id, window, p)}",
        p,
    )
    p = Params(postgres)
    joined = await rows(
        f"SELECT {_bucket(p, 'f.first')} AS b, COUNT(*) AS people FROM ("
        "SELECT m.customer_id, MIN(m.joined_at) AS first FROM membership m "
        f"JOIN card k ON k.id = m.card_id WHERE k.merchant_id = {p(merchant_id)} "
        f"GROUP BY m.customer_id) f WHERE f.first >= {p(start)} AND f.first < {p(moment)} "
        "GROUP BY 1",
        p,
    )
    p = Params(postgres)
    members = await rows(
        "SELECT COUNT(DISTINCT m.customer_id) AS people FROM membership m "
        "JOIN card k ON k.id = m.card_id JOIN customer c ON c.id = m.customer_id "
        f"WHERE k.merchant_id = {p(merchant_id)} "
        f"AND m.status = {p(MembershipStatus.ACTIVE.value)} AND c.erased_at IS NULL",
        p,
    )

    visits: Counter[date] = Counter()
    stamps: Counter[date] = Counter()
    new: Counter[date] = Counter()
    value = 0
    for row in visit_rows:
        visits[local(row["b"])] += int(row["visits"])
        stamps[local(row["b"])] += int(row["stamps"] or 0)
        value += int(row["value"] or 0)
    for row in joined:
        new[local(row["b"])] += int(row["people"])
    first_day = start.astimezone(zone).date()
    last_day = max(moment.astimezone(zone).date(), first_day)
    days = tuple(
        DayFigures(day, visits[day], stamps[day], new[day])
        for day in (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    )
    campaigns = Campaign.filter(merchant_id=merchant_id)
    vouchers = Voucher.filter(merchant_id=merchant_id)
    return Dashboard(
        merchant_id=merchant_id,
        shop_name=merchant.name,
        timezone=merchant.timezone,
        currency=merchant.currency,
        period=period,
        first_day=first_day,
        last_day=last_day,
        members_total=int(members[0]["people"]),
        members_new=sum(new.values()),
        visits=sum(visits.values()),
        stamps=sum(stamps.values()),
        value_minor=value,
        vouchers_issued=await vouchers.filter(issued_at__gte=start, issued_at__lt=moment).count(),
        vouchers_redeemed=await vouchers.filter(
            status=VoucherStatus.REDEEMED, redeemed_at__gte=start, redeemed_at__lt=moment
        ).count(),
        vouchers_waiting=await vouchers.filter(status=VoucherStatus.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .count(),
        campaigns_sending=await campaigns.filter(status=CampaignStatus.SENDING).count(),
        campaigns_scheduled=await campaigns.filter(status=CampaignStatus.SCHEDULED).count(),
        attributed_visits=int(attributed[0]["visits"]),
        attributed_value_minor=int(attributed[0]["value"] or 0),
        attributed_with_amount=int(attributed[0]["priced"]),
        window_days=window.days,
        days=days,
    )


DAILY_UP_TO = 62
"""Longer periods are drawn a week per column, so the bars stay bars."""


def chart_png(board: Dashboard, *, title: str, labels: BarLabels, rtl: bool = False) -> bytes:
    """Visits and stamps per day (per week beyond :data:`DAILY_UP_TO` days) as bars."""
    from render.chart import render_bars  # here: Pillow only where a chart is drawn

    columns = [BarDay(d.day, d.visits, d.stamps) for d in board.days]
    if len(columns) > DAILY_UP_TO:
        weeks: dict[date, tuple[int, int]] = {}
        start = board.first_day
        for column in columns:
            week = start + timedelta(days=(column.day - start).days // 7 * 7)
            visits, stamps = weeks.get(week, (0, 0))
            weeks[week] = (visits + column.visits, stamps + column.stamps)
        columns = [BarDay(week, v, s) for week, (v, s) in weeks.items()]
    return render_bars(columns, title=title, labels=labels, rtl=rtl)


def _moment(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "BarLabels",
    "Dashboard",
    "DayFigures",
    "Period",
    "chart_png",
    "dashboard",
    "period_start",
]
