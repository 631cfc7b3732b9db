"""Who a campaign reaches, and the snapshot of that audience into delivery rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from campaigns.spec import AudienceFilter, delivery_order
from campaigns.sql import Params, connection, is_postgres
from channels.base import Reason
from loyalty.clock import ensure_utc
from loyalty.tokens import new_token, new_voucher_code
from models import Campaign, Card, Delivery, Merchant
from models.enums import (
    MESSENGERS,
    CampaignStatus,
    Channel,
    DeliveryPolicy,
    DeliveryStatus,
    MembershipStatus,
    VoucherSource,
    VoucherStatus,
)


class AudienceCard(Protocol):
    """What the audience queries need of a card: a stored ``Card`` or a screen's view of one."""

    @property
    def id(self) -> int: ...
    @property
    def merchant_id(self) -> int: ...
    @property
    def stamps_needed(self) -> int: ...


def _audience_where(
    p: Params, audience: AudienceFilter, card: AudienceCard, timezone: str, moment: datetime
) -> str:
    clauses = [
        f"m.card_id = {p(card.id)}",
        f"m.status = {p(MembershipStatus.ACTIVE.value)}",
        "c.erased_at IS NULL",
    ]
    if audience.new_within_days is not None:
        clauses.append(f"m.joined_at >= {p(moment - timedelta(days=audience.new_within_days))}")
    if audience.close_to_reward is not None:
        clauses.append(f"m.balance >= {p(card.stamps_needed - audience.close_to_reward)}")
    if audience.inactive_days is not None:
        before = p(moment - timedelta(days=audience.inactive_days))
        clauses.append(f"COALESCE(m.last_visit_at, m.joined_at) < {before}")
    if audience.birthday_this_month:
        clauses.append(f"c.birth_month = {p(moment.astimezone(ZoneInfo(timezone)).month)}")
    if (days := audience.birthday_within_days) is not None:
        clauses.append(f"({_birthdays_ahead(p, moment.astimezone(ZoneInfo(timezone)), days)})")
    if audience.has_unused_voucher:
        clauses.append(
            "EXISTS (SELECT 1 FROM voucher v WHERE v.membership_id = m.id "
            f"AND v.status = {p('issued')} "
            f"AND (v.expires_at IS NULL OR v.expires_at > {p(moment)}))"
        )
    return " AND ".join(clauses)


def _birthdays_ahead(p: Params, today: datetime, days: int) -> str:
    """Day and month from ``today`` to ``days`` ahead, as month * 100 + day (29 February counts
    on 28 February in a year without it)."""
    keys: set[int] = set()
    for ahead in range(days + 1):
        day = today + timedelta(days=ahead)
        keys.add(day.month * 100 + day.day)
        if (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).month == 3:
            keys.add(229)
    values = ", ".join(p(key) for key in sorted(keys))
    return f"c.birth_month * 100 + c.birth_day IN ({values})"


async def audience_count(
    card: AudienceCard, audience: AudienceFilter, timezone: str, *, now: datetime | None = None
) -> int:
    conn = connection()
    p = Params(is_postgres(conn))
    where = _audience_where(p, audience, card, timezone, ensure_utc(now))
    sql = (
        "SELECT COUNT(*) AS n FROM membership m JOIN customer c ON c.id = m.customer_id "
        f"WHERE {where}"
    )
    _, rows = await conn.execute_query(sql, p.values)
    return int(dict(rows[0])["n"])


async def reachable_counts(
    card: AudienceCard, audience: AudienceFilter, timezone: str, *, now: datetime | None = None
) -> dict[Channel, int]:
    """How many of the audience each channel can reach right now (for the wizard's preview)."""
    conn = connection()
    p = Params(is_postgres(conn))
    channels = list(Channel)
    where = _audience_where(p, audience, card, timezone, ensure_utc(now))
    people, flags = _flags_query(p, channels, card.merchant_id, where, ordered=False)
    sums = ", ".join(
        f"COALESCE(SUM(CASE WHEN {flags[ch].reaches('a')} THEN 1 ELSE 0 END), 0) AS n{n}"
        for n, ch in enumerate(channels)
    )
    _, rows = await conn.execute_query(f"SELECT {sums} FROM ({people}) a", p.values)
    row = dict(rows[0])
    return {ch: int(row[f"n{n}"]) for n, ch in enumerate(channels)}


async def reachable_people(
    card: AudienceCard,
    audience: AudienceFilter,
    timezone: str,
    channels: tuple[Channel, ...],
    *,
    now: datetime | None = None,
) -> int:
    """How many of the audience at least one of ``channels`` reaches right now: a member with
    the card in Apple Wallet and in Google Wallet is one person for the wallet push."""
    if not channels:
        return 0
    conn = connection()
    p = Params(is_postgres(conn))
    wanted = list(dict.fromkeys(channels))
    where = _audience_where(p, audience, card, timezone, ensure_utc(now))
    people, flags = _flags_query(p, wanted, card.merchant_id, where, ordered=False)
    reachable = " OR ".join(flags[ch].reaches("a") for ch in wanted)
    sql = f"SELECT COUNT(*) AS n FROM ({people}) a WHERE {reachable}"
    _, rows = await conn.execute_query(sql, p.values)
    return int(dict(rows[0])["n"])


@dataclass(frozen=True, slots=True)
class Snapshot:
    rows: int
    people: int
    holdout: int


async def snapshot(campaign_id: int, *, now: datetime | None = None) -> Snapshot | None:
    """Turn a due scheduled campaign into delivery rows and mark it sending, atomically.

    Returns None when another worker got there first (the campaign is no longer scheduled).
    Safe to repeat: rows are unique per (campaign, customer, channel).
    """
    moment = ensure_utc(now)
    async with in_transaction():
        campaign = await Campaign.select_for_update().get_or_none(id=campaign_id)
        if campaign is None or campaign.status != CampaignStatus.SCHEDULED:
            return None
        conn = connection()
        if is_postgres(conn):
            # A million rows need not wait for their WAL to reach the disk at commit: lost in a
            # crash, the campaign is still scheduled and the snapshot is taken again, and no row
            # can be sent before it is durable, as the claim that leases a row commits
            # synchronously and the WAL is flushed in order.
            await conn.execute_script("SET LOCAL synchronous_commit = off")
        card = await Card.get(id=campaign.card_id)
        merchant = await Merchant.get(id=campaign.merchant_id)
        # Rows are made channel by channel in the fallback order: under "first reachable" the
        # earliest standby row of a person is the one that takes over.
        channels = list(
            delivery_order(
                [Channel(c) for c in campaign.channels],
                [Channel(c) for c in campaign.channel_order if c in campaign.channels],
            )
        )
        # A campaign's rows are made here only, under the lock above, and one statement makes
        # one row per person and channel: with none there yet, nothing can conflict.
        fresh = not await Delivery.filter(campaign_id=campaign.id, enrollment_id=None).exists()
        made = [
            await _insert_rows(
                conn, campaign, card, merchant.timezone, channels, index, moment, fresh=fresh
            )
            for index in range(len(channels))
        ]
        counts = await _counts(conn, campaign.id) if None in made or not made else _sum(made)
        if campaign.voucher_title and campaign.voucher_validity_days:
            await _issue_vouchers(campaign, card, moment)
        campaign.status = CampaignStatus.SENDING
        campaign.started_at = moment
        await campaign.save(update_fields=["status", "started_at", "updated_at"])
    return counts


# Why a person with an address on the channel cannot be reached there.
_UNUSABLE = {
    Channel.TELEGRAM: Reason.UNREACHABLE,
    Channel.EMAIL: Reason.NOT_VERIFIED,
    Channel.APPLE_WALLET: Reason.PASS_REMOVED,
    Channel.GOOGLE_WALLET: Reason.NO_ADDRESS,
    Channel.VIBER: Reason.UNREACHABLE,
    Channel.WHATSAPP: Reason.UNREACHABLE,
}


@dataclass(frozen=True, slots=True)
class _Flags:
    """SQL over one row a person of ``_flags_query``: 1 or 0 per channel for has an address,
    can use it, opted out of it (for the CASEs of the outer statement)."""

    has: str
    usable: str
    out: str

    def reaches(self, alias: str) -> str:
        return f"({alias}.{self.usable} = 1 AND {alias}.{self.out} = 0)"


def _own_or_shared(p: Params, n: int, channel: Channel, merchant_id: int) -> str:
    """On Viber and WhatsApp, only the identities the shop may write to: through the shared
    account, or through its own (an id of another shop's Viber bot is that bot's; a person who
    wrote to another shop's number agreed to hear from that shop)."""
    if channel not in (Channel.VIBER, Channel.WHATSAPP):
        return ""
    return (
        f" AND (i{n}.account_id IS NULL OR i{n}.account_id IN (SELECT ma.id FROM "
        f"messenger_account ma WHERE ma.merchant_id = {p(merchant_id)}))"
    )


def _flags_query(
    p: Params, channels: list[Channel], merchant_id: int, where: str, *, ordered: bool = True
) -> tuple[str, dict[Channel, _Flags]]:
    """One row per person of the audience with each channel's flags, set-wise.

    The channel tables are LEFT JOINed and folded with ``MAX`` per person, instead of an
    ``EXISTS`` per person and flag in the select list: there PostgreSQL runs a subplan for
    every row, a scan of the whole table when no index covers the correlation (``identity``
    has none on ``customer_id``), quadratic in the audience. Joined, the planner may hash.
    A person with two identities on one platform, or a pass on two devices, is still one row.
    """
    joins: list[str] = []
    columns = ["c.id AS id"]
    flags: dict[Channel, _Flags] = {}

    def flag(name: str, condition: str) -> str:
        columns.append(f"MAX(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {name}")
        return name

    for n, channel in enumerate(channels):
        if (platform := MESSENGERS.get(channel)) is not None:
            joins.append(
                f"LEFT JOIN identity i{n} ON i{n}.customer_id = c.id "
                f"AND i{n}.platform = {p(platform.value)}"
                + _own_or_shared(p, n, channel, merchant_id)
            )
            has = flag(f"has{n}", f"i{n}.id IS NOT NULL")
            usable = flag(f"usable{n}", f"i{n}.reachable = TRUE")
        elif channel == Channel.EMAIL:
            has = flag(f"has{n}", "c.email IS NOT NULL")
            usable = flag(f"usable{n}", "c.email IS NOT NULL AND c.email_verified = TRUE")
        elif channel == Channel.APPLE_WALLET:
            # A pass downloaded but on no device (never added, or removed: Wallet unregistered
            # it, or APNs called the token dead) cannot show a campaign line.
            joins.append(f"LEFT JOIN wallet_pass w{n} ON w{n}.membership_id = m.id")
            joins.append(f"LEFT JOIN pass_registration r{n} ON r{n}.wallet_pass_id = w{n}.id")
            has = flag(f"has{n}", f"w{n}.id IS NOT NULL")
            usable = flag(f"usable{n}", f"r{n}.id IS NOT NULL")
        elif channel == Channel.GOOGLE_WALLET:
            joins.append(f"LEFT JOIN google_wallet_object g{n} ON g{n}.membership_id = m.id")
            has = usable = flag(f"has{n}", f"g{n}.id IS NOT NULL")
        else:
            # A channel added to the enum before its rule here reaches nobody.
            has = usable = flag(f"has{n}", "1 = 0")
        # Opt-outs are per shop: a "no" to another shop's email does not silence this one.
        # Unique per (customer, shop, channel): this join adds no rows.
        joins.append(
            f"LEFT JOIN channel_opt_out o{n} ON o{n}.customer_id = c.id "
            f"AND o{n}.merchant_id = {p(merchant_id)} AND o{n}.channel = {p(channel.value)}"
        )
        out = flag(f"out{n}", f"o{n}.id IS NOT NULL")
        flags[channel] = _Flags(has, usable, out)
    sql = (
        f"SELECT {', '.join(columns)} "
        "FROM membership m JOIN customer c ON c.id = m.customer_id "
        f"{' '.join(joins)} WHERE {where} GROUP BY c.id{' ORDER BY c.id' if ordered else ''}"
    )
    return sql, flags


async def _insert_rows(
    conn: BaseDBAsyncClient,
    campaign: Campaign,
    card: Card,
    timezone: str,
    channels: list[Channel],
    index: int,
    moment: datetime,
    *,
    fresh: bool,
) -> tuple[int, int] | None:
    """The rows of ``channels[index]``; on PostgreSQL, with no rows before (``fresh``), how
    many it made and how many of them are the holdout group, counted as they are written."""
    postgres = is_postgres(conn)
    p = Params(postgres)
    channel = channels[index]
    first_reachable = campaign.delivery_policy == DeliveryPolicy.FIRST_REACHABLE and index > 0
    # Under "first reachable" a later channel's row is standby when an earlier one reaches.
    wanted = channels[: index + 1] if first_reachable else [channel]
    audience = AudienceFilter.from_json(campaign.audience_filters)
    where = _audience_where(p, audience, card, timezone, moment)
    people, flags = _flags_query(p, wanted, card.merchant_id, where)
    this = flags[channel]
    holdout = (
        f"(((a.id * 7919) + {p(campaign.id)}) % 100) < {p(campaign.holdout_percent)}"
        if campaign.holdout_percent
        else "1 = 0"
    )
    if first_reachable:
        earlier = " OR ".join(flags[ch].reaches("a") for ch in channels[:index])
        usable_status = (
            f"CASE WHEN {earlier} THEN {p(DeliveryStatus.STANDBY.value)} "
            f"ELSE {p(DeliveryStatus.PENDING.value)} END"
        )
    else:
        usable_status = p(DeliveryStatus.PENDING.value)
    status = (
        f"CASE WHEN {holdout} THEN {p(DeliveryStatus.HOLDOUT.value)} "
        f"WHEN {this.reaches('a')} THEN {usable_status} "
        f"ELSE {p(DeliveryStatus.SKIPPED.value)} END"
    )
    unusable = _UNUSABLE.get(channel, Reason.NO_ADDRESS)
    reason = (
        f"CASE WHEN {holdout} OR {this.reaches('a')} THEN NULL "
        f"WHEN a.{this.has} = 0 THEN {p(Reason.NO_ADDRESS.value)} "
        f"WHEN a.{this.usable} = 0 THEN {p(unusable.value)} "
        f"ELSE {p(Reason.OPTED_OUT.value)} END"
    )
    # The holdout group is recorded once, on the first channel.
    only_first_for_holdout = f"NOT ({holdout})" if index > 0 else "1 = 1"
    campaign_param, channel_param, now_param = p(campaign.id), p(channel.value), p(moment)
    # ON CONFLICT costs a second look into the unique index for every row: only when needed.
    conflict = (
        ""
        if fresh
        else " ON CONFLICT (campaign_id, customer_id, channel) WHERE enrollment_id IS NULL "
        "DO NOTHING"
    )
    sql = (
        "INSERT INTO delivery (campaign_id, customer_id, channel, status, reason, attempts, "
        "next_attempt_at, created_at) "
        f"SELECT {campaign_param}, a.id, {channel_param}, {status}, {reason}, 0, "
        f"{now_param}, {now_param} "
        f"FROM ({people}) a WHERE {only_first_for_holdout}{conflict}"
    )
    if not (postgres and fresh):
        await conn.execute_query(sql, p.values)
        return None
    # Counted on the way in: counting a million rows again afterwards takes seconds.
    holdout_value = p(DeliveryStatus.HOLDOUT.value)
    counted = (
        f"WITH made AS ({sql} RETURNING status) SELECT COUNT(*) AS n, "
        f"COALESCE(SUM(CASE WHEN status = {holdout_value} THEN 1 ELSE 0 END), 0) AS holdout "
        "FROM made"
    )
    _, rows = await conn.execute_query(counted, p.values)
    return int(rows[0]["n"]), int(rows[0]["holdout"])


def _sum(made: list[tuple[int, int] | None]) -> Snapshot:
    """The snapshot's figures from what each channel's statement made: the first channel has
    a row for everyone (the holdout group too), the others for all but the holdout group."""
    counted = [m for m in made if m is not None]
    return Snapshot(
        rows=sum(n for n, _ in counted),
        people=counted[0][0],
        holdout=sum(h for _, h in counted),
    )


async def _counts(conn: BaseDBAsyncClient, campaign_id: int) -> Snapshot:
    p = Params(is_postgres(conn))
    sql = (
        "SELECT COUNT(*) AS n_rows, COUNT(DISTINCT customer_id) AS people, "
        f"SUM(CASE WHEN status = {p(DeliveryStatus.HOLDOUT.value)} THEN 1 ELSE 0 END) AS holdout "
        f"FROM delivery WHERE campaign_id = {p(campaign_id)}"
    )
    _, rows = await conn.execute_query(sql, p.values)
    row = dict(rows[0])
    return Snapshot(
        rows=int(row["n_rows"]), people=int(row["people"]), holdout=int(row["holdout"] or 0)
    )


# Rounds of fresh codes for the memberships whose code was taken (as ``issue_voucher`` tries).
CODE_ATTEMPTS = 5
# Vouchers written per statement: one round trip each on PostgreSQL (arrays), a batch on SQLite.
VOUCHER_CHUNK = 10_000


async def _issue_vouchers(campaign: Campaign, card: Card, moment: datetime) -> None:
    """The campaign's voucher for everyone targeted (not the holdout group), once each.

    Set-wise: the memberships are selected in SQL (a list of a million customer ids would not
    even fit in one statement's parameters) and the vouchers written in chunks, their codes
    and tokens made here as ``issue_voucher`` makes them. A code already taken at the shop
    leaves that membership without its voucher; the next round gives it a new code.
    """
    conn = connection()
    postgres = is_postgres(conn)
    days = campaign.voucher_validity_days
    expires_at = moment + timedelta(days=days) if days else None
    constants = [
        card.merchant_id,
        card.id,
        campaign.id,
        VoucherSource.CAMPAIGN.value,
        (campaign.voucher_title or "")[:200],
        VoucherStatus.ISSUED.value,
        moment,
        expires_at,
    ]
    columns = (
        "INSERT INTO voucher (merchant_id, card_id, campaign_id, source, title, status, "
        "issued_at, expires_at, membership_id, code, token) "
    )
    for _ in range(CODE_ATTEMPTS):
        p = Params(postgres)
        wanted = (
            f"SELECT m.id AS id FROM membership m WHERE m.card_id = {p(card.id)} "
            "AND EXISTS (SELECT 1 FROM delivery d WHERE d.customer_id = m.customer_id "
            f"AND d.campaign_id = {p(campaign.id)} "
            f"AND d.status <> {p(DeliveryStatus.HOLDOUT.value)}) "
            "AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.membership_id = m.id "
            f"AND v.campaign_id = {p(campaign.id)}) ORDER BY m.id"
        )
        _, rows = await conn.execute_query(wanted, p.values)
        missing = [int(row["id"]) for row in rows]
        if not missing:
            return
        for at in range(0, len(missing), VOUCHER_CHUNK):
            chunk = missing[at : at + VOUCHER_CHUNK]
            codes = [new_voucher_code() for _ in chunk]
            tokens = [new_token() for _ in chunk]
            if postgres:
                p = Params(postgres)
                fixed = ", ".join(p(value) for value in constants[:-1])
                # A NULL expiry has no type of its own: cast like the column.
                expiry = f"{p(expires_at)}::timestamptz"
                sql = (
                    f"{columns}SELECT {fixed}, {expiry}, u.membership_id, u.code, u.token "
                    f"FROM unnest({p(chunk)}::int[], {p(codes)}::text[], {p(tokens)}::text[]) "
                    "AS u(membership_id, code, token) ON CONFLICT DO NOTHING"
                )
                await conn.execute_query(sql, p.values)
            else:
                p = Params(postgres)
                marks = ", ".join(p(None) for _ in range(len(constants) + 3))
                await conn.execute_many(
                    f"{columns}VALUES ({marks}) ON CONFLICT DO NOTHING",
                    [
                        [*constants, membership_id, code, token]
                        for membership_id, code, token in zip(chunk, codes, tokens, strict=True)
                    ],
                )
    raise IntegrityError("voucher codes kept colliding")
