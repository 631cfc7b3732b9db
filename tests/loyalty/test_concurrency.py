"""Races that real tills produce. On PostgreSQL every call runs on its own pooled connection."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest

from loyalty.errors import StampCooldown, VoucherAlreadyRedeemed
from loyalty.ledger import ledger_sum
from loyalty.stamps import StampResult, add_stamps
from loyalty.vouchers import redeem_voucher
from models import Membership, StampEvent, Voucher
from models.enums import LedgerKind, RedeemVia, VoucherStatus
from tests import factories
from tests.conftest import Backend
from tests.factories import T0


async def _one_voucher(stamps_needed: int = 2) -> tuple[int, Voucher]:
    shop = await factories.merchant(stamps_needed=stamps_needed)
    membership = await factories.member(shop)
    result = await add_stamps(membership.id, stamps_needed, merchant_id=shop.merchant.id, now=T0)
    return shop.merchant.id, result.vouchers[0]


@pytest.mark.parametrize("tills", [2, 10])
async def test_concurrent_redeems_of_one_voucher_succeed_exactly_once(
    db: Backend, tills: int
) -> None:
    merchant_id, voucher = await _one_voucher()

    outcomes = await asyncio.gather(
        *(
            redeem_voucher(voucher.id, merchant_id=merchant_id, via=RedeemVia.SCAN, now=T0)
            for _ in range(tills)
        ),
        return_exceptions=True,
    )

    winners = [o for o in outcomes if isinstance(o, Voucher)]
    losers = [o for o in outcomes if isinstance(o, VoucherAlreadyRedeemed)]
    assert (len(winners), len(losers)) == (1, tills - 1)
    assert {loser.redeemed_at for loser in losers} <= {winners[0].redeemed_at}
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.REDEEMED


async def test_redeem_waits_for_another_connections_lock_and_sees_its_redemption(
    db: Backend,
) -> None:
    """Two real connections: a till holds the row; ours must wait, then refuse."""
    if not db.is_postgres:
        pytest.skip("row locks held across connections exist on PostgreSQL only")
    merchant_id, voucher = await _one_voucher()
    other_till = await asyncpg.connect(db.url.split("?")[0])
    try:
        transaction = other_till.transaction()
        await transaction.start()
        await other_till.execute("SELECT 1 FROM voucher WHERE id = $1 FOR UPDATE", voucher.id)

        ours = asyncio.create_task(
            redeem_voucher(voucher.id, merchant_id=merchant_id, via=RedeemVia.CODE)
        )
        await asyncio.sleep(0.3)
        assert not ours.done(), "the redeem must wait for the other till's row lock"
        await other_till.execute(
            "UPDATE voucher SET status = 'redeemed', redeemed_at = now(), redeemed_via = 'scan' "
            "WHERE id = $1",
            voucher.id,
        )
        await transaction.commit()

        with pytest.raises(VoucherAlreadyRedeemed):
            await ours
    finally:
        await other_till.close()
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SCAN)


async def test_fifty_concurrent_stamps_keep_the_ledger_equal_to_balance_plus_rewards(
    db: Backend,
) -> None:
    goal = 10
    shop = await factories.merchant(stamps_needed=goal, cooldown=0, max_per_call=3)
    membership = await factories.member(shop)
    counts = [random.randint(1, 3) for _ in range(50)]

    results = await asyncio.gather(
        *(add_stamps(membership.id, n, merchant_id=shop.merchant.id) for n in counts)
    )

    stored = await Membership.get(id=membership.id)
    vouchers = await Voucher.filter(membership_id=membership.id).count()
    stamped = await ledger_sum(membership.id, LedgerKind.STAMP)
    assert stamped == sum(counts)
    assert stamped == stored.balance + goal * vouchers
    assert await ledger_sum(membership.id) == stored.balance
    assert vouchers == sum(len(r.vouchers) for r in results) == sum(counts) // goal
    assert stored.visits == 50
    assert 0 <= stored.balance < goal


async def test_the_same_idempotency_key_from_concurrent_retries_stamps_once(db: Backend) -> None:
    shop = await factories.merchant(cooldown=0)
    membership = await factories.member(shop)

    results = await asyncio.gather(
        *(
            add_stamps(membership.id, 2, merchant_id=shop.merchant.id, idempotency_key="tap-7")
            for _ in range(10)
        )
    )

    assert sum(not r.replayed for r in results) == 1
    assert await StampEvent.filter(membership_id=membership.id).count() == 1
    assert (await Membership.get(id=membership.id)).balance == 2


async def test_a_double_scan_at_the_same_moment_stamps_once(db: Backend) -> None:
    shop = await factories.merchant(cooldown=300)
    membership = await factories.member(shop)

    outcomes = await asyncio.gather(
        *(add_stamps(membership.id, 1, merchant_id=shop.merchant.id) for _ in range(2)),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["StampCooldown", "StampResult"]
    assert isinstance(next(o for o in outcomes if not isinstance(o, StampResult)), StampCooldown)
    assert (await Membership.get(id=membership.id)).balance == 1
