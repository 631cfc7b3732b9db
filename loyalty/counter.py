"""What staff see at the counter after scanning a QR code or typing a voucher code.

A lookup succeeds only for staff of the merchant that owns the card or voucher; to anyone else
the code is simply unknown, so guessing cannot reveal another shop's customers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tortoise import connections

from loyalty.clock import ensure_utc
from loyalty.customers import _numbered, _select_list, _unprefixed
from loyalty.errors import MembershipNotFound, VoucherNotFound
from loyalty.staff import Permission, allows, seat_at, staff_roles
from loyalty.tokens import normalize_counter_code, normalize_voucher_code
from loyalty.vouchers import active_vouchers
from models import Customer, Membership, Merchant, Staff, Voucher
from models.enums import MembershipStatus, VoucherStatus

# The ready vouchers the stamp screen offers to redeem: the customer is standing there.
READY_VOUCHERS = 5


@dataclass(frozen=True, slots=True)
class ReadyVoucher:
    """A voucher the customer can use right now, as the stamp screen lists it."""

    id: int
    title: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class CounterCard:
    staff: Staff
    membership_id: int
    customer_id: int
    first_name: str
    card_name: str
    balance: int
    stamps_needed: int
    max_stamps: int
    timezone: str
    reward_text: str = ""
    shop_name: str = ""
    vouchers: tuple[ReadyVoucher, ...] = ()
    """Up to ``READY_VOUCHERS`` usable vouchers of this card, soonest to expire first."""
    scan_adds_stamp: bool = False
    """The shop's opt-in: a scan of this card stamps it once at once."""
    several_cards: bool = False
    """The shop runs more than one card, so the screen names which one this is."""


@dataclass(frozen=True, slots=True)
class CounterVoucher:
    staff: Staff
    voucher_id: int
    customer_id: int
    first_name: str
    title: str
    code: str
    status: VoucherStatus
    expires_at: datetime | None
    redeemed_at: datetime | None
    timezone: str
    voided_at: datetime | None = None


async def _name(customer_id: int) -> str:
    customer = await Customer.get(id=customer_id)
    return customer.first_name or "—"


async def card_at_counter(
    telegram_user_id: int,
    *,
    token: str | None = None,
    membership_id: int | None = None,
    code: str | None = None,
    merchant_id: int | None = None,
    now: datetime | None = None,
    ready: bool = True,
) -> CounterCard:
    """The card as the till sees it; ``merchant_id`` narrows a typed code to that one shop
    (the one a member of several shops' staff said they work for). ``ready=False`` leaves out
    the ready vouchers (``with_ready_vouchers`` adds them): a stamp button's press shows them
    only when the stamp is refused, so the press does not read them first."""
    row: dict[str, Any] | None = None
    if token is not None:
        row = await _counter_row('m."public_token" = {}', token, telegram_user_id)
    elif code is not None:
        # Codes are unique per card only: look among the shops this person works for.
        normalized = normalize_counter_code(code)
        merchants = [
            s.merchant_id
            for s in await staff_roles(telegram_user_id)
            if merchant_id is None or s.merchant_id == merchant_id
        ]
        if normalized is not None and merchants:
            membership = await Membership.filter(
                counter_code=normalized, card__merchant_id__in=merchants
            ).first()
            if membership is not None:
                row = await _counter_row('m."id" = {}', membership.id, telegram_user_id)
    elif membership_id is not None:
        row = await _counter_row('m."id" = {}', membership_id, telegram_user_id)
    if row is None or row["status"] != MembershipStatus.ACTIVE.value:
        raise MembershipNotFound()
    staff = _seat(row)
    if staff is None or not allows(staff, Permission.STAMP):
        raise MembershipNotFound()
    card = CounterCard(
        staff=staff,
        membership_id=int(row["id"]),
        customer_id=int(row["customer_id"]),
        first_name=row["first_name"] or "—",
        card_name=row["card_name"],
        balance=int(row["balance"]),
        stamps_needed=int(row["stamps_needed"]),
        max_stamps=int(row["max_stamps_per_call"]),
        timezone=row["timezone"],
        reward_text=row["reward_text"],
        shop_name=row["shop_name"],
        scan_adds_stamp=bool(row["scan_adds_stamp"]),
        several_cards=int(row["cards"]) > 1,
    )
    return await with_ready_vouchers(card, now=now) if ready else card


async def with_ready_vouchers(card: CounterCard, *, now: datetime | None = None) -> CounterCard:
    """``card`` with up to ``READY_VOUCHERS`` of its usable vouchers, soonest to expire first."""
    usable = (await active_vouchers(card.membership_id, now=ensure_utc(now)))[:READY_VOUCHERS]
    return replace(card, vouchers=tuple(ReadyVoucher(v.id, v.title, v.expires_at) for v in usable))


async def _counter_row(where: str, value: object, telegram_user_id: int) -> dict[str, Any] | None:
    """The membership with what the till shows of its card, shop and customer, and the staff
    seat of ``telegram_user_id`` at that shop if any, in one statement written once (every
    scan and every press of a stamp button reads it)."""
    conn = connections.get("default")
    sql = _counter_sql(conn.capabilities.dialect, where)
    rows = await conn.execute_query_dict(sql, [telegram_user_id, True, value])
    return rows[0] if rows else None


def _seat(row: dict[str, Any]) -> Staff | None:
    """The staff seat ``_counter_row`` found beside the card (None: not staff there)."""
    if row["st_id"] is None:
        return None
    return Staff._init_from_db(**_unprefixed(row, "st_", Staff))


@functools.cache
def _counter_sql(dialect: str, where: str) -> str:
    """Built on first use: the models know their columns once Tortoise is set up. Its values:
    the person, ``True`` (an active seat), then ``where``'s."""
    text = (
        'SELECT m."id", m."customer_id", m."status", m."balance", c."merchant_id", '  # noqa: S608
        'c."name" AS "card_name", c."stamps_needed", c."max_stamps_per_call", '
        'c."reward_text", s."timezone", s."name" AS "shop_name", s."scan_adds_stamp", '
        'cu."first_name", (SELECT COUNT(*) FROM "card" o WHERE o."merchant_id" = '
        f'c."merchant_id") AS "cards", {_select_list(Staff, "st")} '
        'FROM "membership" m JOIN "card" c ON c."id" = m."card_id" '
        'JOIN "merchant" s ON s."id" = c."merchant_id" '
        'JOIN "customer" cu ON cu."id" = m."customer_id" '
        'LEFT JOIN "staff" st ON st."merchant_id" = c."merchant_id" '
        'AND st."telegram_user_id" = {} AND st."active" = {} '
        f"WHERE {where} LIMIT 1"
    )
    return _numbered(dialect, text)


async def voucher_at_counter(
    telegram_user_id: int,
    *,
    token: str | None = None,
    code: str | None = None,
    voucher_id: int | None = None,
    merchant_id: int | None = None,
) -> CounterVoucher:
    voucher: Voucher | None = None
    if token is not None:
        voucher = await Voucher.get_or_none(token=token)
    elif voucher_id is not None:
        voucher = await Voucher.get_or_none(id=voucher_id)
    elif code is not None and (normalized := normalize_voucher_code(code)) is not None:
        # A code is unique per merchant: look only among the shops this person works for.
        merchants = [
            s.merchant_id
            for s in await staff_roles(telegram_user_id)
            if merchant_id is None or s.merchant_id == merchant_id
        ]
        voucher = await Voucher.filter(code=normalized, merchant_id__in=merchants).first()
    if voucher is None:
        raise VoucherNotFound()
    staff = await seat_at(telegram_user_id, voucher.merchant_id, Permission.REDEEM)
    if staff is None:
        raise VoucherNotFound()
    membership = await Membership.get(id=voucher.membership_id)
    merchant = await Merchant.get(id=voucher.merchant_id)
    return CounterVoucher(
        staff=staff,
        voucher_id=voucher.id,
        customer_id=membership.customer_id,
        first_name=await _name(membership.customer_id),
        title=voucher.title,
        code=voucher.code,
        status=VoucherStatus(voucher.status),
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        timezone=merchant.timezone,
        voided_at=voucher.voided_at,
    )
