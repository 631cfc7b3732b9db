"""The till's rules without the chat: amounts, the receipt setting, extensions, goodwill."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty.errors import (
    CardNotFound,
    InvalidAmount,
    InvalidExtension,
    InvalidReason,
    VoucherNotFound,
)
from loyalty.receipts import parse_amount, set_asks_receipt_amount
from loyalty.stamps import add_stamps
from loyalty.vouchers import extend_voucher, give_goodwill, void_by_staff
from models import AuditEntry, Card, Staff, Voucher
from models.enums import StaffRole, VoucherSource, VoucherStatus
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("4.50", "USD", 450), ("4,5", "EUR", 450), (" 12 ", "UAH", 1200), ("450", "JPY", 450)],
)
def test_amounts_are_read_in_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["", "0", "4.505", "1,234.50", "-3", "abc", "4.5€", "99999999"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text, "USD")


async def _seat(shop: factories.NewMerchant, role: StaffRole, telegram_id: int) -> Staff:
    return await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=telegram_id, role=role
    )


async def test_only_an_owner_switches_the_receipt_question_and_it_is_audited() -> None:
    shop = await factories.merchant()
    owner = await _seat(shop, StaffRole.OWNER, 1)
    cashier = await _seat(shop, StaffRole.CASHIER, 2)

    with pytest.raises(CardNotFound):
        await set_asks_receipt_amount(cashier, shop.card.id, True)
    await set_asks_receipt_amount(owner, shop.card.id, True)
    await set_asks_receipt_amount(owner, shop.card.id, True)

    assert (await Card.get(id=shop.card.id)).asks_receipt_amount is True
    entry = await AuditEntry.get(action="card.edit")
    assert entry.detail == {
        "card_id": shop.card.id,
        "field": "asks_receipt_amount",
        "old": False,
        "new": True,
    }


async def test_extending_goodwill_and_voiding_check_role_bounds_and_reason() -> None:
    shop = await factories.merchant(stamps_needed=1, validity_days=30)
    membership = await factories.member(shop)
    manager = await _seat(shop, StaffRole.MANAGER, 1)
    cashier = await _seat(shop, StaffRole.CASHIER, 2)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)).vouchers[
        0
    ]
    assert voucher.expires_at is not None

    for days in (0, 366):
        with pytest.raises(InvalidExtension):
            await extend_voucher(manager, voucher.id, days=days, now=T0)
    extended = await extend_voucher(manager, voucher.id, days=30, now=T0)
    assert extended.expires_at == voucher.expires_at + timedelta(days=30)

    with pytest.raises(InvalidReason):
        await give_goodwill(manager, membership.id, reason="   ", now=T0)
    gift = await give_goodwill(manager, membership.id, reason="cold coffee", now=T0)
    assert (gift.source, gift.title, gift.issued_by_id) == (
        VoucherSource.GOODWILL,
        "Free cappuccino",
        manager.id,
    )

    with pytest.raises(VoucherNotFound):
        await void_by_staff(cashier, gift.id, reason="mistake", now=T0)
    await void_by_staff(manager, gift.id, reason="mistake", now=T0)
    assert (await Voucher.get(id=gift.id)).status == VoucherStatus.VOID
    actions = sorted(await AuditEntry.all().values_list("action", flat=True))
    assert actions == ["voucher.extend", "voucher.goodwill", "voucher.void"]
