"""Receipt amounts: what the customer spent on a stamped visit, when the card asks for it.

The amount is typed by the cashier right after stamping (``4.50`` or ``4,50``) and kept in
minor units of the shop's currency on the stamp row — the one ledger column written after
the row, and only once, so a figure in a report is never silently changed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from babel.numbers import get_currency_precision
from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.cards import set_card_column
from loyalty.clock import ensure_utc
from loyalty.errors import AmountAlreadyRecorded, CardNotFound, InvalidAmount, StampNotFound
from loyalty.staff import Permission, allows, seat_at
from models import Card, Merchant, Staff, StampEvent
from models.enums import LedgerKind

# Above this (in major units) an amount is a typo, not a receipt at a café.
MAX_MAJOR = 1_000_000
# How long after the stamp its amount may still be entered.
AMOUNT_WINDOW = timedelta(hours=1)
_AMOUNT = re.compile(r"(\d{1,7})(?:[.,](\d+))?")


def currency_digits(currency: str) -> int:
    """Decimals of a currency (2 for USD and UAH, 0 for JPY, 3 for KWD)."""
    try:
        return int(get_currency_precision(currency))
    except (KeyError, ValueError):
        return 2


def parse_amount(text: str, currency: str) -> int:
    """``4.50`` / ``4,50`` / ``4`` → minor units; one decimal separator, no grouping."""
    digits = currency_digits(currency)
    found = _AMOUNT.fullmatch(text.strip().replace(" ", ""))
    if found is None:
        raise InvalidAmount(digits)
    whole, fraction = found.group(1), found.group(2) or ""
    if len(fraction) > digits:
        raise InvalidAmount(digits)
    scale: int = 10**digits
    minor = int(whole) * scale + int(fraction.ljust(digits, "0") or 0)
    if not 0 < minor <= MAX_MAJOR * scale:
        raise InvalidAmount(digits)
    return minor


def format_minor(amount_minor: int, currency: str) -> tuple[int, str]:
    """The amount as a decimal string with the currency's decimals (for Babel to localize)."""
    digits = currency_digits(currency)
    if digits == 0:
        return digits, str(amount_minor)
    whole, fraction = divmod(amount_minor, 10**digits)
    return digits, f"{whole}.{fraction:0{digits}d}"


async def shop_currency(merchant_id: int) -> str:
    merchant = await Merchant.get(id=merchant_id)
    return merchant.currency


async def record_amount(
    telegram_user_id: int, event_id: int, text: str, *, now: datetime | None = None
) -> tuple[int, str]:
    """Parse and store the receipt amount of a stamp; returns (minor units, currency)."""
    moment = ensure_utc(now)
    event = await StampEvent.get_or_none(id=event_id, kind=LedgerKind.STAMP)
    if event is None:
        raise StampNotFound()
    card = await Card.get(id=event.card_id)
    seat = await seat_at(telegram_user_id, card.merchant_id, Permission.STAMP)
    if seat is None or moment >= event.created_at + AMOUNT_WINDOW:
        raise StampNotFound()
    currency = await shop_currency(card.merchant_id)
    minor = parse_amount(text, currency)
    async with in_transaction():
        # Conditioned on the column being empty: written once, whoever types first.
        stored = await StampEvent.filter(id=event.id, amount_minor__isnull=True).update(
            amount_minor=minor
        )
        if stored != 1:
            raise AmountAlreadyRecorded()
        await audit.record(
            card.merchant_id,
            "stamp.amount",
            by=seat,
            now=moment,
            event_id=event.id,
            amount_minor=minor,
            currency=currency,
        )
    return minor, currency


async def set_asks_receipt_amount(seat: Staff, card_id: int, enabled: bool) -> Card:
    """Switch the receipt-amount question at stamping on or off (owners); audited."""
    if not allows(seat, Permission.STAFF):
        raise CardNotFound()
    return await set_card_column(seat, card_id, "asks_receipt_amount", enabled, retired_too=True)
