"""A customer as staff see them at the till: balance, usable vouchers, recent history.

Read only, and only for staff of the shop that owns the card: to anyone else the customer
does not exist (the same rule as scanning, see :mod:`loyalty.counter`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loyalty.clock import ensure_utc
from loyalty.counter import card_at_counter
from loyalty.errors import MembershipNotFound
from loyalty.staff import Permission, allows, staff_roles
from loyalty.undo import latest_undoable
from loyalty.vouchers import MANAGE_VOUCHERS, active_vouchers
from models import Card, Customer, Membership, Merchant, Staff, StampEvent, Voucher
from models.enums import MembershipStatus, VoucherSource

HISTORY = 10
VOUCHERS = 5
# Members a name search lists at most: a first name, typed at the counter, narrows it fast.
FOUND = 8


@dataclass(frozen=True, slots=True)
class LookupVoucher:
    id: int
    title: str
    code: str
    source: VoucherSource
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of the history: a ledger row, or a goodwill voucher (which moves no stamps).

    ``kind`` is a ledger kind (``stamp``, ``reward``, ``undo``, ``forfeit``, ``merge``) or
    ``goodwill``.
    """

    at: datetime
    kind: str
    delta: int
    staff_name: str
    reason: str
    undone: bool
    amount_minor: int | None
    title: str


@dataclass(frozen=True, slots=True)
class CustomerLookup:
    staff: Staff
    membership_id: int
    customer_id: int
    first_name: str
    card_name: str
    balance: int
    stamps_needed: int
    visits: int
    timezone: str
    currency: str
    vouchers: tuple[LookupVoucher, ...]
    history: tuple[HistoryLine, ...]
    undo_event_id: int | None
    """The stamp "Undo last stamp" takes back, when one is still within the window."""
    can_manage: bool
    """May cancel and extend vouchers and give goodwill ones (managers and owners)."""
    can_undo: bool


async def customer_by_code(telegram_user_id: int, code: str) -> int:
    """The membership a typed till code names, among this person's shops."""
    card = await card_at_counter(telegram_user_id, code=code)
    return card.membership_id


async def look_up(
    telegram_user_id: int, membership_id: int, *, now: datetime | None = None
) -> CustomerLookup:
    moment = ensure_utc(now)
    counter = await card_at_counter(telegram_user_id, membership_id=membership_id)
    seat = counter.staff
    membership = await Membership.get(id=membership_id)
    card = await Card.get(id=membership.card_id)
    if card.merchant_id != seat.merchant_id:
        raise MembershipNotFound()
    merchant = await Merchant.get(id=card.merchant_id)
    customer = await Customer.get(id=membership.customer_id)
    vouchers = (await active_vouchers(membership.id, now=moment))[:VOUCHERS]
    return CustomerLookup(
        staff=seat,
        membership_id=membership.id,
        customer_id=membership.customer_id,
        first_name=customer.first_name or "—",
        card_name=card.name,
        balance=membership.balance,
        stamps_needed=card.stamps_needed,
        visits=membership.visits,
        timezone=merchant.timezone,
        currency=merchant.currency,
        vouchers=tuple(
            LookupVoucher(
                id=v.id,
                title=v.title,
                code=v.code,
                source=VoucherSource(v.source),
                expires_at=v.expires_at,
            )
            for v in vouchers
        ),
        history=tuple(await _history(membership.id)),
        undo_event_id=await latest_undoable(membership.id, now=moment),
        can_manage=allows(seat, MANAGE_VOUCHERS),
        can_undo=allows(seat, Permission.STAMP),
    )


async def _history(membership_id: int) -> list[HistoryLine]:
    events = await StampEvent.filter(membership_id=membership_id).order_by("-id").limit(HISTORY)
    gifts = (
        await Voucher.filter(membership_id=membership_id, source=VoucherSource.GOODWILL)
        .order_by("-id")
        .limit(HISTORY)
    )
    staff_ids = {e.staff_id for e in events} | {g.issued_by_id for g in gifts}
    names = {
        s.id: s.display_name
        for s in await Staff.filter(id__in=[i for i in staff_ids if i is not None])
    }
    reversed_ids = set(
        await StampEvent.filter(reverses_id__in=[e.id for e in events]).values_list(
            "reverses_id", flat=True
        )
    )
    titles = {
        v.id: v.title
        for v in await Voucher.filter(id__in=[e.voucher_id for e in events if e.voucher_id])
    }
    lines = [
        HistoryLine(
            at=e.created_at,
            kind=str(e.kind),
            delta=e.delta,
            staff_name=names.get(e.staff_id, "") if e.staff_id is not None else "",
            reason=e.reason,
            undone=e.id in reversed_ids,
            amount_minor=e.amount_minor,
            title=titles.get(e.voucher_id, "") if e.voucher_id is not None else "",
        )
        for e in events
    ] + [
        HistoryLine(
            at=g.issued_at,
            kind="goodwill",
            delta=0,
            staff_name=names.get(g.issued_by_id, "") if g.issued_by_id is not None else "",
            reason=g.issue_reason or "",
            undone=False,
            amount_minor=None,
            title=g.title,
        )
        for g in gifts
    ]
    # Newest first; on the same instant a ledger row's order is kept (sort is stable).
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:HISTORY]


@dataclass(frozen=True, slots=True)
class FoundMember:
    """One card of a member a name search found, at a shop the searching person works for."""

    membership_id: int
    first_name: str
    card_name: str
    balance: int
    stamps_needed: int


async def members_named(telegram_user_id: int, name: str) -> list[FoundMember]:
    """Active members whose first name starts with ``name`` (any case), on the cards of the
    shops this person is staff at: the customer whose phone died is found by name. At most
    ``FOUND``, by name; nobody of another shop is ever listed."""
    typed = name.strip()[:40]
    merchants = [seat.merchant_id for seat in await staff_roles(telegram_user_id)]
    if not typed or not merchants:
        return []
    rows = (
        await Membership.filter(
            status=MembershipStatus.ACTIVE,
            card__merchant_id__in=merchants,
            customer__first_name__istartswith=typed,
        )
        .select_related("card", "customer")
        .order_by("customer__first_name", "id")
        .limit(FOUND)
    )
    return [
        FoundMember(
            membership_id=row.id,
            first_name=row.customer.first_name or "—",
            card_name=row.card.name,
            balance=row.balance,
            stamps_needed=row.card.stamps_needed,
        )
        for row in rows
    ]
