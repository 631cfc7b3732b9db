"""Read models: what a customer's card and vouchers look like, for chat, web and wallets."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.expressions import Q

from loyalty.clock import ensure_utc
from loyalty.customers import _select_list, _unprefixed
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


async def _views(memberships: list[Membership], moment: datetime) -> list[CardView]:
    ids = [m.id for m in memberships]
    vouchers = (
        # A voucher without an expiry date never expires: NULL must not drop out of the filter.
        await Voucher.filter(membership_id__in=ids, status=VoucherStatus.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .order_by("expires_at", "id")
    )
    inviting = await _inviting(memberships)
    views = []
    for membership in memberships:
        card: Card = membership.card
        merchant: Merchant = card.merchant
        own = tuple(
            _voucher_view(v, card, merchant) for v in vouchers if v.membership_id == membership.id
        )
        views.append(
            CardView(
                membership_id=membership.id,
                token=membership.public_token,
                card_id=card.id,
                card_name=card.name,
                stamps_needed=card.stamps_needed,
                balance=membership.balance,
                reward_text=card.reward_text,
                brand=Brand.of(merchant),
                vouchers=own,
                counter_code=await ensure_counter_code(membership),
                merchant_id=card.merchant_id,
                invites_open=(card.merchant_id, card.id) in inviting
                or (card.merchant_id, None) in inviting,
            )
        )
    return views


async def _inviting(memberships: list[Membership]) -> set[tuple[int, int | None]]:
    """(shop, card or None for all its cards) with a switched-on refer-a-friend automation."""
    shops = {m.card.merchant_id for m in memberships}
    if not shops:
        return set()
    rows = await Automation.filter(
        merchant_id__in=shops, enabled=True, trigger__in=REFERRAL_TRIGGERS
    ).values_list("merchant_id", "card_id")
    return {(int(shop), card) for shop, card in rows}


async def customer_cards(customer_id: int, *, now: datetime | None = None) -> list[CardView]:
    memberships = await _active_memberships(
        'm."customer_id" = {} AND m."status" = {} '
        'ORDER BY m."last_visit_at" DESC, m."joined_at" DESC, m."id" ASC',
        [customer_id, MembershipStatus.ACTIVE.value],
    )
    return await _views(memberships, ensure_utc(now))


async def _active_memberships(where: str, values: list[object]) -> list[Membership]:
    """Memberships with their card and its shop, as ``select_related("card__merchant")``
    gives them, from one statement written once: a card view and every stamp's notice read
    one, and building the join with the ORM's query builder cost more than running it."""
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    rows = await conn.execute_query_dict(_memberships_sql(dialect, where), values)
    found = []
    for row in rows:
        membership = Membership._init_from_db(**_unprefixed(row, "m_", Membership))
        card = Card._init_from_db(**_unprefixed(row, "c_", Card))
        merchant = Merchant._init_from_db(**_unprefixed(row, "s_", Merchant))
        # Where the ORM's executor puts related rows it selected.
        object.__setattr__(card, "_merchant", merchant)
        object.__setattr__(membership, "_card", card)
        found.append(membership)
    return found


@functools.cache
def _memberships_sql(dialect: str, where: str) -> str:
    """``where``'s ``{}`` are its parameters, in order."""
    marks = [f"${n}" if dialect == "postgres" else "?" for n in range(1, where.count("{}") + 1)]
    return (
        f"SELECT {_select_list(Membership, 'm')}, {_select_list(Card, 'c')}, "  # noqa: S608
        f"{_select_list(Merchant, 's')} "
        'FROM "membership" m JOIN "card" c ON c."id" = m."card_id" '
        'JOIN "merchant" s ON s."id" = c."merchant_id" '
        f"WHERE {where.format(*marks)}"
    )


async def cards_on(
    card_ids: set[int], customer_ids: set[int], *, now: datetime | None = None
) -> dict[tuple[int, int], CardView]:
    """(customer id, card id) → the active card, in one query, for messages sent in bulk."""
    memberships = await Membership.filter(
        customer_id__in=customer_ids, card_id__in=card_ids, status=MembershipStatus.ACTIVE
    ).select_related("card__merchant")
    views = await _views(memberships, ensure_utc(now))
    return {(m.customer_id, m.card_id): view for m, view in zip(memberships, views, strict=True)}


async def customer_card(
    membership_id: int, customer_id: int, *, now: datetime | None = None
) -> CardView:
    """One card of this customer; another customer's membership id is simply unknown."""
    memberships = await _active_memberships(
        'm."id" = {} AND m."customer_id" = {} AND m."status" = {}',
        [membership_id, customer_id, MembershipStatus.ACTIVE.value],
    )
    if not memberships:
        raise MembershipNotFound()
    return (await _views(memberships, ensure_utc(now)))[0]


async def customer_vouchers(customer_id: int, *, now: datetime | None = None) -> list[VoucherView]:
    cards = await customer_cards(customer_id, now=now)
    return [voucher for card in cards for voucher in card.vouchers]


async def customer_voucher(voucher_id: int, customer_id: int) -> VoucherView:
    voucher = await Voucher.get_or_none(
        id=voucher_id, membership__customer_id=customer_id
    ).select_related("card__merchant")
    if voucher is None:
        raise VoucherNotFound()
    return _voucher_view(voucher, voucher.card, voucher.card.merchant)


async def issued_voucher(voucher_id: int) -> VoucherView | None:
    """A voucher not used, voided or expired yet, by id alone: for a link that carries the id
    and proves it knows the voucher's token (``web.card_image``)."""
    voucher = await Voucher.get_or_none(id=voucher_id, status=VoucherStatus.ISSUED).select_related(
        "card__merchant"
    )
    if voucher is None:
        return None
    return _voucher_view(voucher, voucher.card, voucher.card.merchant)


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
