from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import loyalty.vouchers
from loyalty.errors import (
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotFound,
    VoucherVoid,
)
from loyalty.merchants import NewMerchant
from loyalty.stamps import add_stamps
from loyalty.tokens import new_token, new_voucher_code, normalize_voucher_code
from loyalty.vouchers import (
    active_vouchers,
    expire_due_vouchers,
    find_voucher,
    issue_voucher,
    redeem_voucher,
    void_voucher,
)
from models import Membership, Staff, Voucher
from models.enums import RedeemVia, StaffRole, VoucherSource, VoucherStatus
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")


async def _rewarded(shop: NewMerchant, telegram_id: int = 1001) -> Voucher:
    membership = await factories.member(shop, telegram_id)
    result = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id, now=T0)
    return result.vouchers[0]


async def _cashier(shop: NewMerchant, telegram_id: int = 5000) -> Staff:
    return await Staff.create(
        merchant=shop.merchant, telegram_user_id=telegram_id, role=StaffRole.CASHIER
    )


async def test_staff_redeem_by_typed_code_marks_who_and_when() -> None:
    shop = await factories.merchant(stamps_needed=2)
    voucher = await _rewarded(shop)
    cashier = await _cashier(shop)
    typed = voucher.code.replace("-", " ").lower()

    found = await find_voucher(shop.merchant.id, code=typed)
    redeemed = await redeem_voucher(
        found.id,
        merchant_id=shop.merchant.id,
        staff_id=cashier.id,
        via=RedeemVia.CODE,
        now=T0 + timedelta(hours=1),
    )

    stored = await Voucher.get(id=voucher.id)
    assert redeemed.status == stored.status == VoucherStatus.REDEEMED
    assert stored.redeemed_at == T0 + timedelta(hours=1)
    assert (stored.redeemed_by_id, stored.redeemed_via) == (cashier.id, RedeemVia.CODE)


async def test_a_second_redeem_is_told_when_the_first_happened() -> None:
    shop = await factories.merchant(stamps_needed=2)
    voucher = await _rewarded(shop)
    first_at = T0 + timedelta(minutes=3)
    await redeem_voucher(
        voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=first_at
    )

    with pytest.raises(VoucherAlreadyRedeemed) as refused:
        await redeem_voucher(
            voucher.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.SCAN,
            now=first_at + timedelta(minutes=1),
        )

    assert refused.value.redeemed_at == first_at
    assert "already redeemed at 2026-05-04 14:22" in refused.value.message.lower()


async def test_a_voucher_of_another_merchant_is_unknown_by_code_token_and_id() -> None:
    shop = await factories.merchant(stamps_needed=2)
    other = await factories.merchant("Other", stamps_needed=2)
    voucher = await _rewarded(shop)

    with pytest.raises(VoucherNotFound):
        await find_voucher(other.merchant.id, code=voucher.code)
    with pytest.raises(VoucherNotFound):
        await find_voucher(other.merchant.id, token=voucher.token)
    with pytest.raises(VoucherNotFound):
        await redeem_voucher(voucher.id, merchant_id=other.merchant.id, via=RedeemVia.SCAN)

    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED


@pytest.mark.parametrize("typed", ["", "ABCD", "not a code at all", "0000-1111-IIII", "x" * 500])
async def test_garbage_codes_are_unknown(typed: str) -> None:
    shop = await factories.merchant(stamps_needed=2)

    with pytest.raises(VoucherNotFound):
        await find_voucher(shop.merchant.id, code=typed)


async def test_an_expired_voucher_is_refused_and_marked_expired() -> None:
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    voucher = await _rewarded(shop)

    with pytest.raises(VoucherExpired) as refused:
        await redeem_voucher(
            voucher.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.CODE,
            now=T0 + timedelta(days=7),
        )

    assert refused.value.expired_at == T0 + timedelta(days=7)
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_at) == (VoucherStatus.EXPIRED, None)


async def _old_and_fresh_vouchers() -> tuple[NewMerchant, Voucher, Voucher]:
    """A shop with two reward vouchers valid 7 days: one from T0, one from three days later."""
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    old = await _rewarded(shop, 1)
    membership = await factories.member(shop, 2)
    fresh = (
        await add_stamps(
            membership.id, 2, merchant_id=shop.merchant.id, now=T0 + timedelta(days=3)
        )
    ).vouchers[0]
    return shop, old, fresh


async def test_expiry_sweep_marks_only_vouchers_past_their_date() -> None:
    _, old, fresh = await _old_and_fresh_vouchers()

    expired = await expire_due_vouchers(now=T0 + timedelta(days=8))

    assert expired == 1
    assert (await Voucher.get(id=old.id)).status == VoucherStatus.EXPIRED
    assert (await Voucher.get(id=fresh.id)).status == VoucherStatus.ISSUED
    still_active = await active_vouchers(fresh.membership_id, now=T0 + timedelta(days=8))
    assert [v.id for v in still_active] == [fresh.id]


async def test_a_void_voucher_cannot_be_redeemed() -> None:
    shop = await factories.merchant(stamps_needed=2)
    voucher = await _rewarded(shop)

    await void_voucher(voucher.id, merchant_id=shop.merchant.id, reason="sold out", now=T0)

    with pytest.raises(VoucherVoid) as refused:
        await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN)
    assert refused.value.reason == "sold out"
    with pytest.raises(VoucherVoid):
        await void_voucher(voucher.id, merchant_id=shop.merchant.id, reason="again")


async def test_self_redeem_only_works_on_the_customers_own_voucher() -> None:
    shop = await factories.merchant(stamps_needed=2)
    mine = await _rewarded(shop, 1)
    stranger = await factories.customer(2, "Ivan")

    with pytest.raises(VoucherNotFound):
        await redeem_voucher(
            mine.id, merchant_id=shop.merchant.id, via=RedeemVia.SELF, customer_id=stranger.id
        )
    owner_id = (await mine.membership).customer_id
    redeemed = await redeem_voucher(
        mine.id, merchant_id=shop.merchant.id, via=RedeemVia.SELF, customer_id=owner_id, now=T0
    )

    assert (redeemed.status, redeemed.redeemed_via, redeemed.redeemed_by_id) == (
        VoucherStatus.REDEEMED,
        RedeemVia.SELF,
        None,
    )


async def test_codes_are_unique_readable_and_round_trip() -> None:
    shop = await factories.merchant(stamps_needed=1, max_per_call=50)
    membership = await factories.member(shop)

    result = await add_stamps(membership.id, 50, merchant_id=shop.merchant.id, now=T0)

    codes = [v.code for v in result.vouchers]
    assert len(set(codes)) == 50
    assert all(normalize_voucher_code(code) == code for code in codes)
    assert all(len(v.token) >= 22 for v in result.vouchers)


async def test_a_voucher_without_an_end_date_is_never_swept_reminded_or_hidden() -> None:
    """NULL expiry means "valid with no end date": every expiry filter must keep such rows."""
    from campaigns.audience import audience_count
    from campaigns.spec import AudienceFilter
    from loyalty.views import customer_vouchers, vouchers_to_remind
    from loyalty.vouchers import issue_voucher
    from models.enums import VoucherSource

    shop = await factories.merchant(stamps_needed=2)
    membership = await factories.member(shop)
    forever = await issue_voucher(
        membership, shop.card, source=VoucherSource.MANUAL, title="Free tea", validity_days=None
    )
    later = T0 + timedelta(days=3650)

    assert await expire_due_vouchers(now=later) == 0
    assert (await Voucher.get(id=forever.id)).status == VoucherStatus.ISSUED
    assert [v.id for v in await active_vouchers(membership.id, now=later)] == [forever.id]
    assert [v.id for v in await customer_vouchers(membership.customer_id, now=later)] == [
        forever.id
    ]
    assert await vouchers_to_remind(within=timedelta(days=3650), now=T0) == []
    holders = AudienceFilter(has_unused_voucher=True)
    assert await audience_count(shop.card, holders, shop.merchant.timezone, now=later) == 1


def _competitor_commits_after_the_read(
    monkeypatch: pytest.MonkeyPatch, compete: Callable[[], Awaitable[object]]
) -> list[bool]:
    """The first locked read of a voucher returns what it read, but only after ``compete`` has
    run to completion: the interleaving two tills produce where row locks do not exist, so only
    the conditional UPDATE can keep the redemption exactly-once."""
    original = Voucher.select_for_update
    pending = [True]

    class StaleRead:
        async def get_or_none(self, **filters: Any) -> Voucher | None:
            snapshot = await Voucher.get_or_none(**filters)
            await compete()
            return snapshot

    def select_for_update() -> object:
        if pending:
            pending.pop()
            return StaleRead()
        return original()

    monkeypatch.setattr(Voucher, "select_for_update", select_for_update)
    return pending


async def test_a_redeem_that_read_the_voucher_before_another_won_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await factories.merchant(stamps_needed=2)
    voucher = await _rewarded(shop)
    winner, loser = await _cashier(shop, 5000), await _cashier(shop, 5001)
    first_at = T0 + timedelta(minutes=3)

    async def other_till() -> object:
        return await redeem_voucher(
            voucher.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.SCAN,
            staff_id=winner.id,
            now=first_at,
        )

    pending = _competitor_commits_after_the_read(monkeypatch, other_till)

    with pytest.raises(VoucherAlreadyRedeemed) as refused:
        await redeem_voucher(
            voucher.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.CODE,
            staff_id=loser.id,
            now=first_at + timedelta(seconds=1),
        )

    assert not pending
    assert refused.value.redeemed_at == first_at
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_at, stored.redeemed_by_id, stored.redeemed_via) == (
        VoucherStatus.REDEEMED,
        first_at,
        winner.id,
        RedeemVia.SCAN,
    )


async def test_an_expiry_noticed_late_never_overwrites_a_redemption(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    voucher = await _rewarded(shop)
    in_time = T0 + timedelta(days=7) - timedelta(minutes=1)

    async def other_till() -> object:
        return await redeem_voucher(
            voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=in_time
        )

    _competitor_commits_after_the_read(monkeypatch, other_till)

    with pytest.raises(VoucherExpired):
        await redeem_voucher(
            voucher.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.SCAN,
            now=T0 + timedelta(days=7),
        )

    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_at) == (VoucherStatus.REDEEMED, in_time)


async def test_expiring_one_voucher_leaves_the_others_issued() -> None:
    shop, old, fresh = await _old_and_fresh_vouchers()

    with pytest.raises(VoucherExpired):
        await redeem_voucher(
            old.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=T0 + timedelta(days=8)
        )

    assert (await Voucher.get(id=old.id)).status == VoucherStatus.EXPIRED
    assert (await Voucher.get(id=fresh.id)).status == VoucherStatus.ISSUED


@pytest.mark.parametrize("validity_days", [None, 0])
async def test_a_voucher_without_validity_never_expires(validity_days: int | None) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)

    voucher = await issue_voucher(
        membership,
        shop.card,
        source=VoucherSource.CAMPAIGN,
        title="Free tea",
        validity_days=validity_days,
        now=T0,
    )

    assert (await Voucher.get(id=voucher.id)).expires_at is None
    years_later = T0 + timedelta(days=3650)
    assert await expire_due_vouchers(now=years_later) == 0
    redeemed = await redeem_voucher(
        voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=years_later
    )
    assert redeemed.status == VoucherStatus.REDEEMED


async def test_a_code_collision_is_retried_until_the_last_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await factories.merchant(stamps_needed=2)
    taken = await _rewarded(shop)
    membership = await factories.member(shop, 2)
    fresh = new_voucher_code()
    while fresh == taken.code:
        fresh = new_voucher_code()
    codes = [taken.code] * 4 + [fresh]
    monkeypatch.setattr(loyalty.vouchers, "new_voucher_code", lambda: codes.pop(0))

    voucher = await issue_voucher(
        membership, shop.card, source=VoucherSource.REWARD, title="Free tea", validity_days=7
    )

    assert (voucher.code, codes) == (fresh, [])
    assert (await Voucher.get(id=voucher.id)).code == fresh


async def test_codes_that_keep_colliding_give_up_without_breaking_the_callers_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await factories.merchant(stamps_needed=2)
    taken = await _rewarded(shop)
    membership = await factories.member(shop, 2)
    calls: list[str] = []

    def colliding() -> str:
        calls.append(taken.code)
        return taken.code

    monkeypatch.setattr(loyalty.vouchers, "new_voucher_code", colliding)

    async with in_transaction():
        with pytest.raises(IntegrityError):
            await issue_voucher(
                membership, shop.card, source=VoucherSource.REWARD, title="Tea", validity_days=7
            )
        await Voucher.filter(id=taken.id).update(title="still writable")

    assert len(calls) == 5
    assert (await Voucher.get(id=taken.id)).title == "still writable"
    assert await Voucher.filter(membership_id=membership.id).count() == 0


async def test_long_titles_and_void_reasons_are_cut_to_two_hundred_characters() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    voucher = await issue_voucher(
        membership, shop.card, source=VoucherSource.CAMPAIGN, title="t" * 300, validity_days=7
    )

    await void_voucher(voucher.id, merchant_id=shop.merchant.id, reason="r" * 300, now=T0)

    stored = await Voucher.get(id=voucher.id)
    assert (stored.title, stored.void_reason) == ("t" * 200, "r" * 200)


async def test_find_voucher_by_token_and_code_finds_that_voucher_only() -> None:
    shop = await factories.merchant(stamps_needed=2)
    first = await _rewarded(shop, 1)
    second = await _rewarded(shop, 2)

    assert (await find_voucher(shop.merchant.id, token=second.token)).id == second.id
    assert (await find_voucher(shop.merchant.id, code=second.code)).id == second.id
    assert (await find_voucher(shop.merchant.id, token=first.token)).id == first.id
    unknown_code = new_voucher_code()
    while unknown_code in (first.code, second.code):
        unknown_code = new_voucher_code()
    with pytest.raises(VoucherNotFound):
        await find_voucher(shop.merchant.id, code=unknown_code)
    with pytest.raises(VoucherNotFound):
        await find_voucher(shop.merchant.id, token=new_token())
    with pytest.raises(VoucherNotFound):
        await find_voucher(shop.merchant.id)


async def test_voiding_touches_only_that_voucher_of_that_merchant() -> None:
    shop = await factories.merchant(stamps_needed=2)
    other = await factories.merchant("Other", stamps_needed=2)
    target = await _rewarded(shop, 1)
    bystander = await _rewarded(shop, 2)
    foreign = await _rewarded(other, 3)

    voided = await void_voucher(target.id, merchant_id=shop.merchant.id, reason="sold out", now=T0)
    with pytest.raises(VoucherNotFound):
        await void_voucher(foreign.id, merchant_id=shop.merchant.id, reason="mine?", now=T0)

    stored = await Voucher.get(id=target.id)
    assert (voided.id, voided.status) == (target.id, VoucherStatus.VOID)
    assert (stored.status, stored.voided_at, stored.void_reason) == (
        VoucherStatus.VOID,
        T0,
        "sold out",
    )
    assert (await Voucher.get(id=bystander.id)).status == VoucherStatus.ISSUED
    assert (await Voucher.get(id=foreign.id)).status == VoucherStatus.ISSUED


async def test_a_redeemed_or_expired_voucher_cannot_be_voided() -> None:
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    redeemed = await _rewarded(shop, 1)
    expired = await _rewarded(shop, 2)
    await redeem_voucher(redeemed.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=T0)

    with pytest.raises(VoucherAlreadyRedeemed):
        await void_voucher(redeemed.id, merchant_id=shop.merchant.id, reason="x", now=T0)
    assert await expire_due_vouchers(now=T0 + timedelta(days=8)) == 1
    with pytest.raises(VoucherExpired):
        await void_voucher(
            expired.id, merchant_id=shop.merchant.id, reason="x", now=T0 + timedelta(days=8)
        )

    assert (await Voucher.get(id=redeemed.id)).status == VoucherStatus.REDEEMED
    assert (await Voucher.get(id=expired.id)).void_reason is None


async def test_the_expiry_sweep_leaves_redeemed_and_void_vouchers_alone() -> None:
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    redeemed = await _rewarded(shop, 1)
    void = await _rewarded(shop, 2)
    await redeem_voucher(redeemed.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=T0)
    await void_voucher(void.id, merchant_id=shop.merchant.id, reason="x", now=T0)

    assert await expire_due_vouchers(now=T0 + timedelta(days=8)) == 0

    assert (await Voucher.get(id=redeemed.id)).status == VoucherStatus.REDEEMED
    assert (await Voucher.get(id=void.id)).status == VoucherStatus.VOID


async def test_active_vouchers_are_this_members_usable_ones_soonest_first() -> None:
    shop = await factories.merchant()
    mine = await factories.member(shop, 1)
    theirs = await factories.member(shop, 2)

    async def issue(membership: Membership, days: int | None) -> Voucher:
        return await issue_voucher(
            membership,
            shop.card,
            source=VoucherSource.CAMPAIGN,
            title="x",
            validity_days=days,
            now=T0,
        )

    late = await issue(mine, 10)
    soon_a = await issue(mine, 5)
    soon_b = await issue(mine, 5)
    forever = await issue(mine, None)
    redeemed = await issue(mine, 5)
    void = await issue(mine, 5)
    await issue(theirs, 5)
    await redeem_voucher(redeemed.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=T0)
    await void_voucher(void.id, merchant_id=shop.merchant.id, reason="x", now=T0)

    # Rewriting the expiry moves the row behind its twin in the heap and in the expiry index
    # (PostgreSQL), so only the id tie-break keeps equal expiries in id order.
    await Voucher.filter(id=soon_a.id).update(expires_at=T0)
    await Voucher.filter(id=soon_a.id).update(expires_at=soon_a.expires_at)
    listed = [v.id for v in await active_vouchers(mine.id, now=T0)]

    assert sorted(listed) == sorted([late.id, soon_a.id, soon_b.id, forever.id])
    assert [i for i in listed if i != forever.id] == [soon_a.id, soon_b.id, late.id]
