"""Campaign statistics: per channel outcomes, and what people did afterwards.

Attribution: a stamp (visit) or a voucher redemption on the campaign's card counts for the
campaign when it happens within the window after the person's first delivered message. The
holdout group, who got nothing, is measured over the same window from the campaign's start;
the uplift is the difference between the two groups' visit rates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from campaigns.sql import Params, connection, is_postgres
from channels.base import Reason
from models import Campaign, Delivery
from models.enums import DeliveryStatus, LedgerKind, VoucherStatus

DEFAULT_WINDOW = timedelta(days=7)


@dataclass
class ChannelStats:
    channel: str
    targeted: int = 0
    sent: int = 0
    pending: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    # A messenger's receipt that it reached the phone (Viber, WhatsApp); their "seen" or
    # "read" counts as opened.
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    # Sent, but without a lock-screen notification (Google Wallet's daily limit was spent).
    silent: int = 0


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    people: int
    visitors: int
    visits: int
    redeemed: int

    @property
    def visit_rate(self) -> float:
        return self.visitors / self.people if self.people else 0.0


@dataclass
class CampaignStats:
    campaign_id: int
    channels: dict[str, ChannelStats]
    reached: GroupOutcome
    holdout: GroupOutcome | None
    window: timedelta

    @property
    def uplift(self) -> float | None:
        """Percentage points of visit rate the campaign added over the holdout group."""
        if self.holdout is None or not self.holdout.people:
            return None
        return (self.reached.visit_rate - self.holdout.visit_rate) * 100


async def campaign_stats(
    campaign: Campaign, *, window: timedelta = DEFAULT_WINDOW
) -> CampaignStats:
    per_channel: dict[str, ChannelStats] = {
        str(channel): ChannelStats(str(channel)) for channel in campaign.channels
    }
    rows = await Delivery.filter(campaign_id=campaign.id).values(
        "channel", "status", "reason", "delivered_at", "opened_at", "clicked_at"
    )
    for row in rows:
        stats = per_channel.setdefault(str(row["channel"]), ChannelStats(str(row["channel"])))
        status = str(row["status"])
        if status in (DeliveryStatus.STANDBY, DeliveryStatus.HOLDOUT):
            continue
        stats.targeted += 1
        if status == DeliveryStatus.SENT:
            stats.sent += 1
            stats.silent += row["reason"] == Reason.QUOTA_SILENT
        elif status == DeliveryStatus.FAILED:
            stats.failed[str(row["reason"])] += 1
        elif status == DeliveryStatus.SKIPPED:
            stats.skipped[str(row["reason"])] += 1
        else:
            stats.pending += 1
        stats.delivered += row["delivered_at"] is not None
        stats.opened += row["opened_at"] is not None
        stats.clicked += row["clicked_at"] is not None
    reached = await _outcome(campaign, window, holdout=False)
    holdout = await _outcome(campaign, window, holdout=True) if campaign.holdout_percent else None
    return CampaignStats(campaign.id, per_channel, reached, holdout, window)


@dataclass(frozen=True, slots=True)
class Attribution:
    """SQL fragments, bound to one ``Params``, for what a group did within the window.

    ``people`` selects ``(customer_id, since)``: the moment each person's window opens. The
    ``stamps`` and ``redemptions`` fragments (``FROM …``, to be used after ``with_people``)
    yield one row per attributed visit (``e``) or redeemed voucher (``v``). Statistics count
    them; the daily report reads their times.
    """

    postgres: bool
    people: str
    stamps: str
    redemptions: str

    def with_people(self, select: str) -> str:
        return f"WITH g AS ({self.people}) {select}"

    def timestamp(self, column: str) -> str:
        """``column`` as a comparable moment: as is on PostgreSQL, UTC text on SQLite.

        SQLite keeps times as text with an offset; strftime() puts them in one format, in UTC,
        to the millisecond.
        """
        return column if self.postgres else f"strftime('%Y-%m-%d %H:%M:%f', {column})"


def window_end(p: Params, since: str, window: timedelta) -> str:
    """The SQL moment ``window`` after the column ``since`` (as a timestamp on PostgreSQL, as
    the comparable UTC text of ``Attribution.timestamp`` on SQLite)."""
    seconds = p(int(window.total_seconds()))
    if p.postgres:
        return f"{since} + make_interval(secs => {seconds})"
    return f"strftime('%Y-%m-%d %H:%M:%f', {since}, '+' || {seconds} || ' seconds')"


def attribution(
    campaign: Campaign, window: timedelta, p: Params, *, holdout: bool = False
) -> Attribution:
    """The attribution rule, once: a stamp or redemption on the campaign's card in the window."""
    if holdout:
        # Nobody in the holdout got a message: their clock starts with the campaign.
        start = p(campaign.started_at or campaign.created_at)
        people = (
            f"SELECT customer_id, {start} AS since FROM delivery "
            f"WHERE campaign_id = {p(campaign.id)} AND status = {p(DeliveryStatus.HOLDOUT.value)}"
        )
    else:
        people = (
            "SELECT customer_id, MIN(sent_at) AS since FROM delivery "
            f"WHERE campaign_id = {p(campaign.id)} AND status = {p(DeliveryStatus.SENT.value)} "
            "GROUP BY customer_id"
        )
    card = p(campaign.card_id)
    until = window_end(p, "g.since", window)
    shape = Attribution(p.postgres, people, "", "")
    ts = shape.timestamp
    member = f"FROM g JOIN membership m ON m.customer_id = g.customer_id AND m.card_id = {card} "
    stamps = (
        f"{member}JOIN stamp_event e ON e.membership_id = m.id "
        f"AND e.kind = {p(LedgerKind.STAMP.value)} AND {ts('e.created_at')} >= {ts('g.since')} "
        f"AND {ts('e.created_at')} < {ts(until)} "
        # A stamp taken back at the till (an ``undo`` row reverses it) was no visit.
        "AND NOT EXISTS (SELECT 1 FROM stamp_event u WHERE u.reverses_id = e.id)"
    )
    redemptions = (
        f"{member}JOIN voucher v ON v.membership_id = m.id "
        f"AND v.status = {p(VoucherStatus.REDEEMED.value)} "
        f"AND {ts('v.redeemed_at')} >= {ts('g.since')} AND {ts('v.redeemed_at')} < {ts(until)}"
    )
    return Attribution(p.postgres, people, stamps, redemptions)


def shop_attributed(merchant_id: int, window: timedelta, p: Params) -> str:
    """An EXISTS fragment: stamp row ``e`` counts for some campaign of the shop.

    The same rule as :func:`attribution`, over every campaign at once: a stamp on the
    campaign's card within ``window`` after the person's first sent message of it. A visit two
    campaigns both claim is still one visit (the fragment tests the row, it does not join).
    """
    ts = Attribution(p.postgres, "", "", "").timestamp
    until = window_end(p, "g.since", window)
    people = (
        "SELECT d.customer_id, c.card_id, MIN(d.sent_at) AS since FROM delivery d "
        f"JOIN campaign c ON c.id = d.campaign_id WHERE c.merchant_id = {p(merchant_id)} "
        f"AND d.status = {p(DeliveryStatus.SENT.value)} "
        "GROUP BY d.campaign_id, d.customer_id, c.card_id"
    )
    return (
        f"EXISTS (SELECT 1 FROM ({people}) g JOIN membership gm "
        "ON gm.customer_id = g.customer_id AND gm.card_id = g.card_id "
        f"WHERE gm.id = e.membership_id AND {ts('e.created_at')} >= {ts('g.since')} "
        f"AND {ts('e.created_at')} < {ts(until)})"
    )


async def _outcome(campaign: Campaign, window: timedelta, *, holdout: bool) -> GroupOutcome:
    conn = connection()
    p = Params(is_postgres(conn))
    rule = attribution(campaign, window, p, holdout=holdout)
    sql = rule.with_people(
        "SELECT (SELECT COUNT(*) FROM g) AS people, "
        f"(SELECT COUNT(DISTINCT g.customer_id) {rule.stamps}) AS visitors, "
        f"(SELECT COUNT(*) {rule.stamps}) AS visits, "
        f"(SELECT COUNT(*) {rule.redemptions}) AS redeemed"
    )
    rows = await conn.execute_query_dict(sql, p.values)
    row = rows[0]
    return GroupOutcome(
        people=int(row["people"]),
        visitors=int(row["visitors"]),
        visits=int(row["visits"]),
        redeemed=int(row["redeemed"]),
    )


def as_text(stats: CampaignStats) -> str:
    """A plain-text report (the demo prints it; the admin chat renders its own)."""
    lines = []
    for channel in stats.channels.values():
        failed = ", ".join(f"{k} {v}" for k, v in sorted(channel.failed.items())) or "none"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(channel.skipped.items())) or "none"
        silent = f" ({channel.silent} added without notification)" if channel.silent else ""
        lines.append(
            f"{channel.channel:<9} targeted {channel.targeted}, sent {channel.sent}{silent}, "
            f"opened {channel.opened}, clicked {channel.clicked}; "
            f"failed: {failed}; skipped: {skipped}"
        )
    days = stats.window.days
    reached = stats.reached
    lines.append(
        f"within {days} days of delivery: {reached.visitors}/{reached.people} people visited "
        f"({reached.visits} visits), {reached.redeemed} vouchers redeemed"
    )
    if stats.holdout is not None:
        held = stats.holdout
        lines.append(
            f"holdout: {held.visitors}/{held.people} visited; uplift "
            f"{stats.uplift:+.1f} percentage points"
            if stats.uplift is not None
            else "holdout: empty"
        )
    return "\n".join(lines)


__all__ = [
    "Attribution",
    "CampaignStats",
    "ChannelStats",
    "GroupOutcome",
    "as_text",
    "attribution",
    "campaign_stats",
    "shop_attributed",
]
