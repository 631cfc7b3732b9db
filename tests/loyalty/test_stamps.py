from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from loyalty import stamps
from loyalty.errors import (
    InvalidIdempotencyKey,
    InvalidStampCount,
    MembershipNotActive,
    MembershipNotFound,
    StampCooldown,
)
from loyalty.ledger import ledger_sum, record
from loyalty.memberships import leave
from loyalty.merchants import NewMerchant
from loyalty.stamps import add_stamps
from loyalty.vouchers import issue_voucher
from models import Membership, Staff, StampEvent, Voucher
from models.enums import LedgerKind, StaffRole, VoucherSource, VoucherStatus
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")


async def _snapshot(membership_id: int) -> tuple[int, int, int, int]:
    m = await Membership.get(id=membership_id)
    return (
        m.balance,
        m.visits,
        await StampEvent.filter(membership_id=membership_id).count(),
        await Voucher.filter(membership_id=membership_id).count(),
    )


async def test_stamps_accumulate_and_are_recorded_in_the_ledger() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)

    result = await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, now=T0)

    assert result.added == 3
    assert result.vouchers == []
    assert result.stamps_to_reward == 7
    stored = await Membership.get(id=membership.id)
    assert (stored.balance, stored.visits, stored.last_visit_at) == (3, 1, T0)
    event = await StampEvent.get(membership_id=membership.id)
    assert (event.kind, event.delta, event.balance_after) == (LedgerKind.STAMP, 3, 3)


async def test_reaching_the_goal_issues_a_voucher_and_carries_the_surplus() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    await add_stamps(membership.id, 5, merchant_id=shop.merchant.id, now=T0)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id, now=T0 + timedelta(days=1))

    result = await add_stamps(
        membership.id, 3, merchant_id=shop.merchant.id, now=T0 + timedelta(days=2)
    )

    assert len(result.vouchers) == 1
    voucher = result.vouchers[0]
    assert (voucher.source, voucher.title, voucher.status) == (
        VoucherSource.REWARD,
        "Free cappuccino",
        VoucherStatus.ISSUED,
    )
    assert voucher.expires_at == T0 + timedelta(days=2 + 30)
    assert (await Membership.get(id=membership.id)).balance == 2
    kinds = (
        await StampEvent.filter(membership_id=membership.id)
        .order_by("id")
        .values_list("kind", "delta", "balance_after")
    )
    assert kinds[-2:] == [(LedgerKind.STAMP, 3, 12), (LedgerKind.REWARD, -10, 2)]
    assert await ledger_sum(membership.id) == 2


async def test_a_large_stamp_can_complete_several_cards_at_once() -> None:
    shop = await factories.merchant(stamps_needed=2, max_per_call=5)
    membership = await factories.member(shop)

    result = await add_stamps(membership.id, 5, merchant_id=shop.merchant.id, now=T0)

    assert len(result.vouchers) == 2
    assert result.membership.balance == 1
    assert len({v.code for v in result.vouchers}) == 2


@pytest.mark.parametrize("count", [0, -1, 6, True, 2.0, "1"])
async def test_stamp_counts_outside_one_to_n_are_refused_and_change_nothing(
    count: object,
) -> None:
    shop = await factories.merchant(max_per_call=5)
    membership = await factories.member(shop)
    before = await _snapshot(membership.id)

    with pytest.raises(InvalidStampCount) as refused:
        await add_stamps(membership.id, count, merchant_id=shop.merchant.id, now=T0)  # type: ignore[arg-type]

    assert "between 1 and 5" in refused.value.message
    assert await _snapshot(membership.id) == before


async def test_a_second_scan_within_the_cooldown_is_refused_then_allowed_after_it() -> None:
    shop = await factories.merchant(cooldown=300)
    membership = await factories.member(shop)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    before = await _snapshot(membership.id)

    with pytest.raises(StampCooldown) as refused:
        await add_stamps(
            membership.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(seconds=299)
        )

    assert refused.value.retry_at == T0 + timedelta(seconds=300)
    assert await _snapshot(membership.id) == before
    later = await add_stamps(
        membership.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(seconds=300)
    )
    assert later.membership.balance == 2


async def test_the_owner_override_stamps_during_the_cooldown() -> None:
    shop = await factories.merchant(cooldown=300)
    membership = await factories.member(shop)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)

    result = await add_stamps(
        membership.id,
        1,
        merchant_id=shop.merchant.id,
        ignore_cooldown=True,
        now=T0 + timedelta(seconds=10),
    )

    assert result.membership.balance == 2


async def test_a_retried_request_with_the_same_key_never_stamps_twice() -> None:
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    first = await add_stamps(
        membership.id, 4, merchant_id=shop.merchant.id, idempotency_key="scan-1", now=T0
    )

    again = await add_stamps(
        membership.id,
        4,
        merchant_id=shop.merchant.id,
        idempotency_key="scan-1",
        now=T0 + timedelta(seconds=5),
    )

    assert again.replayed
    assert not first.replayed
    assert [v.id for v in again.vouchers] == [v.id for v in first.vouchers]
    assert await _snapshot(membership.id) == (1, 1, 2, 1)


@pytest.mark.parametrize("key", ["", "x" * 65, "tab\tkey"])
async def test_malformed_idempotency_keys_are_refused(key: str) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)

    with pytest.raises(InvalidIdempotencyKey):
        await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, idempotency_key=key)

    assert await _snapshot(membership.id) == (0, 0, 0, 0)


async def test_staff_of_another_merchant_cannot_stamp() -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other shop")
    membership = await factories.member(shop)

    with pytest.raises(MembershipNotFound):
        await add_stamps(membership.id, 1, merchant_id=other.merchant.id, now=T0)

    assert await _snapshot(membership.id) == (0, 0, 0, 0)


async def test_a_left_membership_cannot_be_stamped() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    await leave(membership, now=T0)

    with pytest.raises(MembershipNotActive):
        await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)


async def test_an_unknown_membership_is_not_found() -> None:
    shop = await factories.merchant()

    with pytest.raises(MembershipNotFound):
        await add_stamps(999_999, 1, merchant_id=shop.merchant.id, now=T0)


async def _cashier(shop: NewMerchant, telegram_id: int = 5000) -> Staff:
    return await Staff.create(
        merchant=shop.merchant, telegram_user_id=telegram_id, role=StaffRole.CASHIER
    )


async def test_a_replay_returns_only_the_rewards_of_the_original_request() -> None:
    """Earlier rewards, later stamps and another member's rewards are not the request's."""
    shop = await factories.merchant(stamps_needed=3)
    alice = await factories.member(shop, 1)
    bob = await factories.member(shop, 2)
    merchant_id = shop.merchant.id
    earlier = await add_stamps(alice.id, 3, merchant_id=merchant_id, now=T0)
    keyed = await add_stamps(alice.id, 3, merchant_id=merchant_id, idempotency_key="a-1", now=T0)
    bobs = await add_stamps(bob.id, 3, merchant_id=merchant_id, idempotency_key="b-1", now=T0)
    later = await add_stamps(alice.id, 3, merchant_id=merchant_id, now=T0)
    assert len({v.id for r in (earlier, keyed, bobs, later) for v in r.vouchers}) == 4

    replay = await add_stamps(alice.id, 3, merchant_id=merchant_id, idempotency_key="a-1")
    bob_replay = await add_stamps(bob.id, 3, merchant_id=merchant_id, idempotency_key="b-1")

    assert replay.replayed
    assert [v.id for v in replay.vouchers] == [v.id for v in keyed.vouchers]
    assert [v.id for v in bob_replay.vouchers] == [v.id for v in bobs.vouchers]


async def test_the_same_key_on_two_memberships_is_two_requests() -> None:
    shop = await factories.merchant(stamps_needed=3)
    alice = await factories.member(shop, 1)
    bob = await factories.member(shop, 2)
    merchant_id = shop.merchant.id
    await add_stamps(alice.id, 2, merchant_id=merchant_id, idempotency_key="tg-1", now=T0)

    bobs = await add_stamps(bob.id, 1, merchant_id=merchant_id, idempotency_key="tg-1", now=T0)
    alice_again = await add_stamps(alice.id, 2, merchant_id=merchant_id, idempotency_key="tg-1")
    bob_again = await add_stamps(bob.id, 1, merchant_id=merchant_id, idempotency_key="tg-1")

    assert (bobs.replayed, bobs.membership.balance, bobs.added) == (False, 1, 1)
    assert (alice_again.replayed, alice_again.added, alice_again.membership.id) == (
        True,
        2,
        alice.id,
    )
    assert (bob_again.replayed, bob_again.added, bob_again.membership.id) == (True, 1, bob.id)
    assert await _snapshot(alice.id) == (2, 1, 1, 0)
    assert await _snapshot(bob.id) == (1, 1, 1, 0)


async def test_a_replay_answers_with_the_state_the_handler_shows() -> None:
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    await add_stamps(
        membership.id, 4, merchant_id=shop.merchant.id, idempotency_key="scan-1", now=T0
    )

    again = await add_stamps(
        membership.id, 4, merchant_id=shop.merchant.id, idempotency_key="scan-1", now=T0
    )

    assert (again.added, again.membership.balance, again.stamps_to_reward) == (4, 1, 2)
    assert (again.membership.id, again.card.id) == (membership.id, shop.card.id)


@pytest.mark.parametrize("key", ["k", "x" * 64])
async def test_idempotency_keys_of_one_and_sixty_four_characters_are_accepted(key: str) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)

    result = await add_stamps(
        membership.id, 1, merchant_id=shop.merchant.id, idempotency_key=key, now=T0
    )

    assert (result.replayed, result.membership.balance) == (False, 1)
    assert (await StampEvent.get(membership_id=membership.id)).idempotency_key == key


async def test_losing_the_insert_race_on_the_key_replays_the_winner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The row lock normally finds the key first; here the check misses it once, as it would
    where two requests pass the check together, so the unique index must decide."""
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    first = await add_stamps(
        membership.id, 4, merchant_id=shop.merchant.id, idempotency_key="scan-1", now=T0
    )
    before = await _snapshot(membership.id)
    real_lock = stamps._lock
    misses = [True]

    async def lock_missing_once(membership_id: int, key: str | None) -> Any:
        locked = await real_lock(membership_id, key)
        if misses and key == "scan-1" and locked is not None:
            misses.pop()
            return locked[0], locked[1], locked[2], False
        return locked

    monkeypatch.setattr(stamps, "_lock", lock_missing_once)

    again = await add_stamps(
        membership.id, 4, merchant_id=shop.merchant.id, idempotency_key="scan-1", now=T0
    )

    assert not misses
    assert (again.replayed, again.added, again.membership.balance) == (True, 4, 1)
    assert [v.id for v in again.vouchers] == [v.id for v in first.vouchers]
    assert await _snapshot(membership.id) == before


async def test_the_cashier_and_the_reasons_are_kept_on_every_ledger_row() -> None:
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    cashier = await _cashier(shop)

    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, staff_id=cashier.id, now=T0)
    await add_stamps(
        membership.id, 1, merchant_id=shop.merchant.id, reason="owner correction", now=T0
    )

    rows = (
        await StampEvent.filter(membership_id=membership.id)
        .order_by("id")
        .values_list("kind", "staff_id", "reason")
    )
    assert rows == [
        (LedgerKind.STAMP, None, ""),
        (LedgerKind.STAMP, cashier.id, ""),
        (LedgerKind.REWARD, cashier.id, "reward"),
        (LedgerKind.STAMP, None, "owner correction"),
    ]


async def test_a_refused_count_is_reported_back() -> None:
    shop = await factories.merchant(max_per_call=5)
    membership = await factories.member(shop)

    with pytest.raises(InvalidStampCount) as refused:
        await add_stamps(membership.id, 6, merchant_id=shop.merchant.id, now=T0)

    assert refused.value.count == 6


async def test_a_replay_ignores_another_members_stamp_between_its_rows() -> None:
    """Concurrent transactions on PostgreSQL can number another member's stamp between this
    request's stamp and reward rows; written here directly through the ledger."""
    shop = await factories.merchant(stamps_needed=3)
    alice = await factories.member(shop, 1)
    bob = await factories.member(shop, 2)
    await record(alice, LedgerKind.STAMP, 3, T0, idempotency_key="a-1")
    await record(bob, LedgerKind.STAMP, 1, T0)
    voucher = await issue_voucher(
        alice, shop.card, source=VoucherSource.REWARD, title="Tea", validity_days=7, now=T0
    )
    await record(alice, LedgerKind.REWARD, -3, T0, voucher_id=voucher.id, reason="reward")
    await alice.save(update_fields=["balance"])

    replay = await add_stamps(alice.id, 3, merchant_id=shop.merchant.id, idempotency_key="a-1")

    assert replay.replayed
    assert [v.id for v in replay.vouchers] == [voucher.id]
