"""Taking a stamp back keeps the ledger true: running sums, carry-over, rewards, once only."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from loyalty.errors import (
    StampAlreadyUndone,
    StampNotFound,
    UndoNotLatest,
    UndoRewardRedeemed,
    UndoWindowPassed,
)
from loyalty.ledger import ledger_sum
from loyalty.stamps import add_stamps
from loyalty.undo import UndoResult, undo_stamp
from loyalty.vouchers import redeem_voucher
from models import AuditEntry, Membership, Staff, StampEvent, Voucher
from models.enums import LedgerKind, RedeemVia, StaffRole, VoucherStatus
from tests import factories
from tests.conftest import Backend
from tests.factories import T0

TILL = 424242


async def _cashier(shop: factories.NewMerchant, telegram_id: int = TILL) -> Staff:
    return await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=telegram_id, role=StaffRole.CASHIER
    )


async def _assert_ledger_true(membership_id: int, goal: int) -> None:
    events = await StampEvent.filter(membership_id=membership_id).order_by("id")
    running = 0
    for event in events:
        running += event.delta
        assert event.balance_after == running >= 0
    stored = await Membership.get(id=membership_id)
    assert await ledger_sum(membership_id) == stored.balance == running
    reversed_ids = {e.reverses_id for e in events if e.reverses_id is not None}
    standing = sum(
        e.delta for e in events if e.kind == LedgerKind.STAMP and e.id not in reversed_ids
    )
    rewards = [e for e in events if e.kind == LedgerKind.REWARD and e.id not in reversed_ids]
    assert standing == stored.balance + goal * len(rewards)


async def test_an_undo_writes_a_compensating_row_and_restores_the_cooldown(db: Backend) -> None:
    shop = await factories.merchant(stamps_needed=10, cooldown=300)
    membership = await factories.member(shop)
    seat = await _cashier(shop)
    first = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    later = T0 + timedelta(minutes=10)
    wrong = await add_stamps(
        membership.id, 3, merchant_id=shop.merchant.id, staff_id=seat.id, now=later
    )
    assert wrong.event_id is not None

    result = await undo_stamp(TILL, wrong.event_id, reason="wrong_count", now=later)

    assert (result.removed, result.balance, result.voided_voucher_ids) == (3, 1, ())
    undo = await StampEvent.get(reverses_id=wrong.event_id)
    assert (undo.kind, undo.delta, undo.balance_after, undo.staff_id, undo.reason) == (
        LedgerKind.UNDO,
        -3,
        1,
        seat.id,
        "wrong_count",
    )
    stored = await Membership.get(id=membership.id)
    assert (stored.visits, stored.last_visit_at) == (1, first.membership.last_visit_at)
    await _assert_ledger_true(membership.id, 10)
    entry = await AuditEntry.get(action="stamp.undo")
    assert (entry.staff_id, entry.detail["stamps"], entry.detail["reason"]) == (
        seat.id,
        3,
        "wrong_count",
    )


async def test_undoing_the_stamp_that_completed_the_card_voids_its_reward(db: Backend) -> None:
    goal = 4
    shop = await factories.merchant(stamps_needed=goal)
    membership = await factories.member(shop)
    await _cashier(shop)
    await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, now=T0)
    later = T0 + timedelta(minutes=1)
    completing = await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, now=later)
    assert completing.membership.balance == 2
    assert len(completing.vouchers) == 1
    assert completing.event_id is not None

    result = await undo_stamp(TILL, completing.event_id, reason="other", now=later)

    assert result.balance == 3
    voucher = await Voucher.get(id=completing.vouchers[0].id)
    assert (voucher.status, voucher.void_reason) == (VoucherStatus.VOID, "stamp undone")
    rows = await StampEvent.filter(membership_id=membership.id).order_by("id")
    assert [(r.kind, r.delta, r.balance_after) for r in rows] == [
        (LedgerKind.STAMP, 3, 3),
        (LedgerKind.STAMP, 3, 6),
        (LedgerKind.REWARD, -goal, 2),
        (LedgerKind.UNDO, goal, 6),
        (LedgerKind.UNDO, -3, 3),
    ]
    await _assert_ledger_true(membership.id, goal)


async def test_refusals_change_nothing(db: Backend) -> None:
    shop = await factories.merchant(stamps_needed=2)
    other = await factories.merchant("Elsewhere")
    membership = await factories.member(shop)
    await _cashier(shop)
    await _cashier(other, telegram_id=555)
    rewarded = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id, now=T0)
    assert rewarded.event_id is not None
    await redeem_voucher(
        rewarded.vouchers[0].id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=T0
    )
    before = await StampEvent.filter(membership_id=membership.id).count()

    with pytest.raises(UndoRewardRedeemed):
        await undo_stamp(TILL, rewarded.event_id, reason="other", now=T0)
    with pytest.raises(StampNotFound):
        await undo_stamp(555, rewarded.event_id, reason="other", now=T0)
    with pytest.raises(UndoWindowPassed):
        await undo_stamp(TILL, rewarded.event_id, reason="other", now=T0 + timedelta(hours=1))
    one = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    two = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    assert one.event_id is not None
    assert two.event_id is not None
    with pytest.raises(UndoNotLatest):
        await undo_stamp(TILL, one.event_id, reason="other", now=T0)

    # The second of them completed the card again: stamp, stamp, reward.
    assert await StampEvent.filter(membership_id=membership.id).count() == before + 3
    assert (await Voucher.get(id=rewarded.vouchers[0].id)).status == VoucherStatus.REDEEMED
    assert not await AuditEntry.exists(action="stamp.undo")
    # Newest first, then the one under it: both may go.
    await undo_stamp(TILL, two.event_id, reason="other", now=T0)
    await undo_stamp(TILL, one.event_id, reason="other", now=T0)
    with pytest.raises(StampAlreadyUndone):
        await undo_stamp(TILL, one.event_id, reason="other", now=T0)
    await _assert_ledger_true(membership.id, 2)


async def test_two_concurrent_undos_of_one_stamp_take_it_back_once(db: Backend) -> None:
    goal = 3
    shop = await factories.merchant(stamps_needed=goal)
    membership = await factories.member(shop)
    await _cashier(shop)
    await _cashier(shop, telegram_id=TILL + 1)
    stamped = await add_stamps(membership.id, 4, merchant_id=shop.merchant.id, now=T0)
    assert stamped.event_id is not None

    outcomes = await asyncio.gather(
        undo_stamp(TILL, stamped.event_id, reason="other", now=T0),
        undo_stamp(TILL + 1, stamped.event_id, reason="other", now=T0),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["StampAlreadyUndone", "UndoResult"]
    winner = next(o for o in outcomes if isinstance(o, UndoResult))
    assert winner.balance == 0
    assert await StampEvent.filter(membership_id=membership.id, kind=LedgerKind.UNDO).count() == 2
    assert await AuditEntry.filter(action="stamp.undo").count() == 1
    await _assert_ledger_true(membership.id, goal)


async def test_the_database_refuses_a_second_reversal_of_one_row(db: Backend) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    stamped = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    row: dict[str, Any] = dict(
        membership_id=membership.id,
        card_id=shop.card.id,
        kind=LedgerKind.UNDO,
        delta=-1,
        balance_after=0,
        reverses_id=stamped.event_id,
        created_at=T0,
    )
    await StampEvent.create(**row)
    with pytest.raises(IntegrityError):
        await StampEvent.create(**row)
