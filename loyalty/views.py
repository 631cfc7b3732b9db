"""Read models: what a customer's card and vouchers look like, for chat, web and wallets."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections

from loyalty.clock import ensure_utc
from loyalty.customers import _numbered
from loyalty.errors import MembershipNotFound, VoucherNotFound
from loyalty.memberships import ensure_counter_code
from loyalty.referrals import REFERRAL_TRIGGERS
from models import Automation, Card, Membership, Merchant, Voucher
from models.enums import MembershipStatus, Platform, VoucherStatus


@dataclass(frozen=True, slots=True)
class Brand:
    merchant_name: str
    timezone: str
    background: str
    foreground: str
    accent: str
    logo_png: bytes | None

    @classmethod
    def of(cls, merchant: Merchant) -> Brand:
        return cls(
            merchant_name=merchant.name,
            timezone=merchant.timezone,
            background=merchant.background_color,
            foreground=merchant.foreground_color,
            accent=merchant.accent_color,
            logo_png=merchant.logo_png,
        )


@dataclass(frozen=True, slots=True)
class VoucherView:
    id: int
    merchant_id: int
    title: str
    code: str
    token: str
    status: VoucherStatus
    expires_at: datetime | None
    redeemed_at: datetime | None
    card_name: str
    brand: Brand

    def usable(self, moment: datetime) -> bool:
        return self.status == VoucherStatus.ISSUED and (
            self.expires_at is None or self.expires_at > moment
        )


@dataclass(frozen=True, slots=True)
class CardView:
    membership_id: int
    token: str
    card_id: int
    card_name: str
    stamps_needed: int
    balance: int
    reward_text: str
    brand: Brand
    vouchers: tuple[VoucherView, ...]
    counter_code: str = ""
    merchant_id: int = 0
    # The shop rewards friends who join through this member's invite link (refer a friend).
    invites_open: bool = False

    @property
    def stamps_to_reward(self) -> int:
        return self.stamps_needed - self.balance


@dataclass(frozen=True, slots=True)
class Contact:
    """Where and in which language to reach a customer on a messenger."""

    customer_id: int
    platform: Platform
    chat_id: str
    language: str | None
    # The shop's own bot the person came through (None: the shared bot); whether it is still
    # connected, and whose it is, the sender checks (``handlers.notify``).
    account_id: int | None = None


def _voucher_view(voucher: Voucher, card: Card, merchant: Merchant) -> VoucherView:
    return VoucherView(
        id=voucher.id,
        merchant_id=voucher.merchant_id,
        title=voucher.title,
        code=voucher.code,
        token=voucher.token,
        status=VoucherStatus(voucher.status),
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        card_name=card.name,
        brand=Brand.of(merchant),
    )


# What a card view shows, and nothing more: the columns of one membership, its card and its
# shop, whether the shop rewards invites for that card, and one of its usable vouchers (a row
# per voucher; NULLs for a card without one).
_VIEW_COLUMNS = (
    'm."id", m."public_token", m."balance", m."counter_code", m."customer_id", m."card_id", '
    'c."name", c."stamps_needed", c."reward_text", c."merchant_id", '
    's."name", s."timezone", s."background_color", s."foreground_color", s."accent_color", '
    's."logo_png", '
    'EXISTS (SELECT 1 FROM "automation" a WHERE a."merchant_id" = c."merchant_id" '
    'AND a."enabled" = {} AND a."trigger" IN ({triggers}) '
    'AND (a."card_id" IS NULL OR a."card_id" = c."id")), '
    'v."id", v."merchant_id", v."title", v."code", v."token", v."status", v."expires_at", '
    'v."redeemed_at"'
)
# The voucher columns' place in a row, after the membership's, card's and shop's.
_VOUCHER_AT = 17


async def _card_views(where: str, values: list[object], moment: datetime) -> list[CardView]:
    return [view for _, view in await _owned_views(where, values, moment)]


async def _owned_views(
    where: str, values: list[object], moment: datetime
) -> list[tuple[int, CardView]]:
    """(customer id, card) of the active memberships ``where`` picks (``m``), each card with
    its usable vouchers, soonest to expire first, from one statement.

    Every /card, /vouchers and stamp notice reads these. They were three statements (the
    memberships with their card and shop, made into models; the vouchers and the invite
    automations, built by the ORM's query builder each time), which cost more CPU than the
    database spent running them: now one, written once, selecting only what a view shows."""
    conn = connections.get("default")
    sql = _card_views_sql(conn.capabilities.dialect, where)
    params: list[object] = [
        True,
        *REFERRAL_TRIGGERS,
        VoucherStatus.ISSUED.value,
        moment,
        *values,
        MembershipStatus.ACTIVE.value,
    ]
    _, rows = await conn.execute_query(sql, params)
    views: list[tuple[int, CardView]] = []
    vouchers: list[VoucherView] = []
    for row in map(tuple, rows):  # asyncpg's records and SQLite's rows alike
        if not views or views[-1][1].membership_id != row[0]:
            if vouchers:
                owner, view = views[-1]
                views[-1] = owner, dataclasses.replace(view, vouchers=tuple(vouchers))
            vouchers = []
            views.append((row[4], await _card_view(row)))
        if row[_VOUCHER_AT] is not None:
            card = views[-1][1]
            vouchers.append(_row_voucher(row[_VOUCHER_AT:], card.card_name, card.brand))
    if vouchers:
        owner, view = views[-1]
        views[-1] = owner, dataclasses.replace(view, vouchers=tuple(vouchers))
    return views


async def _card_view(row: Sequence[Any]) -> CardView:
    (membership_id, token, balance, counter_code, _customer, card_id, card_name, needed,
     reward, merchant_id) = row[:10]  # fmt: skip
    if counter_code is None:  # an older membership: its code is made on first need
        counter_code = await ensure_counter_code(await Membership.get(id=membership_id))
    return CardView(
        membership_id=membership_id,
        token=token,
        card_id=card_id,
        card_name=card_name,
        stamps_needed=needed,
        balance=balance,
        reward_text=reward,
        brand=_row_brand(row[10:16]),
        vouchers=(),
        counter_code=counter_code,
        merchant_id=merchant_id,
        invites_open=bool(row[16]),
    )


def _row_brand(row: Sequence[Any]) -> Brand:
    """The shop's name, time zone, colours and logo, in that order."""
    shop, zone, background, foreground, accent, logo = row
    return Brand(
        merchant_name=shop,
        timezone=zone,
        background=background,
        foreground=foreground,
        accent=accent,
        logo_png=None if logo is None else bytes(logo),
    )


def _row_voucher(row: Sequence[Any], card_name: str, brand: Brand) -> VoucherView:
    voucher_id, merchant_id, title, code, token, status, expires_at, redeemed_at = row[:8]
    return VoucherView(
        id=voucher_id,
        merchant_id=merchant_id,
        title=title,
        code=code,
        token=token,
        status=VoucherStatus(status),
        # As the ORM reads them (SQLite keeps them as text).
        expires_at=_datetime(expires_at),
        redeemed_at=_datetime(redeemed_at),
        card_name=card_name,
        brand=brand,
    )


def _datetime(value: object) -> datetime | None:
    converted: datetime | None = Voucher._meta.fields_map["expires_at"].to_python_value(value)
    return converted


@functools.lru_cache(maxsize=64)
def _card_views_sql(dialect: str, where: str) -> str:
    """``where``'s ``{}`` are its parameters, in order; ``$n`` for PostgreSQL, ``?`` else."""
    columns = _VIEW_COLUMNS.replace("{triggers}", ", ".join(["{}"] * len(REFERRAL_TRIGGERS)))
    text = (
        f"SELECT {columns} "  # noqa: S608
        'FROM "membership" m JOIN "card" c ON c."id" = m."card_id" '
        'JOIN "merchant" s ON s."id" = c."merchant_id" '
        'LEFT JOIN "voucher" v ON v."membership_id" = m."id" AND v."status" = {} '
        # A voucher without an expiry date never expires: NULL must not drop out of the filter.
        'AND (v."expires_at" IS NULL OR v."expires_at" > {}) '
        f'WHERE {where} AND m."status" = {{}} '
        'ORDER BY m."last_visit_at" DESC, m."joined_at" DESC, m."id" ASC, '
        'v."expires_at" ASC, v."id" ASC'
    )
    return _numbered(dialect, text)


async def customer_cards(customer_id: int, *, now: datetime | None = None) -> list[CardView]:
    """The customer's active cards, the last visited first."""
    return await _card_views('m."customer_id" = {}', [customer_id], ensure_utc(now))


async def cards_on(
    card_ids: set[int], customer_ids: set[int], *, now: datetime | None = None
) -> dict[tuple[int, int], CardView]:
    """(customer id, card id) → the active card, in one query, for messages sent in bulk."""
    if not card_ids or not customer_ids:
        return {}
    customers, cards = sorted(customer_ids), sorted(card_ids)
    where = (
        f'm."customer_id" IN ({", ".join(["{}"] * len(customers))}) '
        f'AND m."card_id" IN ({", ".join(["{}"] * len(cards))})'
    )
    owned = await _owned_views(where, [*customers, *cards], ensure_utc(now))
    return {(customer, view.card_id): view for customer, view in owned}


async def customer_card(
    membership_id: int, customer_id: int, *, now: datetime | None = None
) -> CardView:
    """One card of this customer; another customer's membership id is simply unknown."""
    views = await _card_views(
        'm."id" = {} AND m."customer_id" = {}', [membership_id, customer_id], ensure_utc(now)
    )
    if not views:
        raise MembershipNotFound()
    return views[0]


async def customer_vouchers(customer_id: int, *, now: datetime | None = None) -> list[VoucherView]:
    cards = await customer_cards(customer_id, now=now)
    return [voucher for card in cards for voucher in card.vouchers]


async def customer_voucher(voucher_id: int, customer_id: int) -> VoucherView:
    """One voucher of this customer, used or not; another customer's is simply unknown."""
    found = await _voucher_views(
        'JOIN "membership" m ON m."id" = v."membership_id" '
        'WHERE v."id" = {} AND m."customer_id" = {}',
        [voucher_id, customer_id],
    )
    if not found:
        raise VoucherNotFound()
    return found[0]


async def issued_voucher(voucher_id: int) -> VoucherView | None:
    """A voucher not used, voided or expired yet, by id alone: for a link that carries the id
    and proves it knows the voucher's token (``web.card_image``)."""
    found = await _voucher_views(
        'WHERE v."id" = {} AND v."status" = {}', [voucher_id, VoucherStatus.ISSUED.value]
    )
    return found[0] if found else None


async def _voucher_views(joins_and_where: str, values: list[object]) -> list[VoucherView]:
    """Vouchers with their card's name and shop, from one statement written once (a voucher's
    photo, its buttons and each redemption's notice read one)."""
    conn = connections.get("default")
    sql = _voucher_views_sql(conn.capabilities.dialect, joins_and_where)
    _, rows = await conn.execute_query(sql, values)
    return [_row_voucher(row, row[8], _row_brand(row[9:15])) for row in map(tuple, rows)]


@functools.lru_cache(maxsize=8)
def _voucher_views_sql(dialect: str, joins_and_where: str) -> str:
    text = (
        'SELECT v."id", v."merchant_id", v."title", v."code", v."token", v."status", '  # noqa: S608
        'v."expires_at", v."redeemed_at", c."name", s."name", s."timezone", '
        's."background_color", s."foreground_color", s."accent_color", s."logo_png" '
        'FROM "voucher" v JOIN "card" c ON c."id" = v."card_id" '
        'JOIN "merchant" s ON s."id" = c."merchant_id" '
        f"{joins_and_where}"
    )
    return _numbered(dialect, text)


async def contact_of(customer_id: int, platform: Platform = Platform.TELEGRAM) -> Contact | None:
    """The reachable messenger identity of a customer, or None.

    Every stamp, redemption and notice asks, so it is one statement written once (the
    identity with its customer's chosen language), as ``find_customer`` is."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _contact_sql(conn.capabilities.dialect), [customer_id, platform.value]
    )
    if not rows:
        return None
    row = rows[0]
    return Contact(
        customer_id=customer_id,
        platform=platform,
        chat_id=str(row["external_id"]),
        language=row["language"] or row["language_code"],
        account_id=row["account_id"],
    )


async def contacts_of(customer_id: int, platform: Platform) -> list[Contact]:
    """Every reachable identity of a customer on ``platform``, oldest first: on Viber and
    WhatsApp one may be the shared bot's and others shops' own bots' (a notice picks)."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _contact_sql(conn.capabilities.dialect, every=True), [customer_id, platform.value]
    )
    return [
        Contact(
            customer_id=customer_id,
            platform=platform,
            chat_id=str(row["external_id"]),
            language=row["language"] or row["language_code"],
            account_id=row["account_id"],
        )
        for row in rows
    ]


@functools.cache
def _contact_sql(dialect: str, *, every: bool = False) -> str:
    first, second = ("$1", "$2") if dialect == "postgres" else ("?", "?")
    return (
        'SELECT i."external_id", i."language_code", i."account_id", c."language" '  # noqa: S608
        'FROM "identity" i '
        'JOIN "customer" c ON c."id" = i."customer_id" '
        f'WHERE i."customer_id" = {first} AND i."platform" = {second} AND i."reachable" '
        f'ORDER BY i."id"{"" if every else " LIMIT 1"}'
    )


async def vouchers_to_remind(
    *, within: timedelta, now: datetime | None = None
) -> list[tuple[int, VoucherView]]:
    """(customer id, voucher) for usable vouchers expiring within ``within``, not yet reminded.

    Shops that switched on the "voucher expiring" automation remind through it instead.
    """
    moment = ensure_utc(now)
    automated = await Automation.filter(trigger="voucher_expiring", enabled=True).values_list(
        "merchant_id", flat=True
    )
    vouchers = (
        await Voucher.filter(
            status=VoucherStatus.ISSUED,
            expiry_reminded_at__isnull=True,
            expires_at__gt=moment,
            expires_at__lte=moment + within,
        )
        .exclude(card__merchant_id__in=list(automated))
        .select_related("card__merchant", "membership")
        .order_by("expires_at", "id")
    )
    return [
        (v.membership.customer_id, _voucher_view(v, v.card, v.card.merchant)) for v in vouchers
    ]


async def claim_reminder(voucher_id: int, *, now: datetime | None = None) -> bool:
    """Take the voucher's one expiry reminder; False when another process took it first (or
    the voucher was used meanwhile).

    One conditional UPDATE decides, so any number of ``run``/``web`` processes listing the
    same vouchers send each reminder once. Taken before sending: a crash between the two
    loses that reminder rather than sending it twice.
    """
    taken = await Voucher.filter(
        id=voucher_id, status=VoucherStatus.ISSUED, expiry_reminded_at__isnull=True
    ).update(expiry_reminded_at=ensure_utc(now))
    return taken == 1


async def release_reminder(voucher_id: int) -> None:
    """Give a claimed reminder back after a send that failed for a passing reason (network,
    Telegram down), so the next round tries it again."""
    await Voucher.filter(id=voucher_id).update(expiry_reminded_at=None)
