from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty.errors import (
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotFound,
    VoucherVoid,
)
from loyalty.merchants import NewMerchant
from loyalty.stamps import add_stamps
from loyalty.tokens import normalize_voucher_code
from loyalty.vouchers import (
    active_vouchers,
    expire_due_vouchers,
    find_voucher,
    redeem_voucher,
    void_voucher,
)
from models import Staff, Voucher
from models.enums import RedeemVia, StaffRole, VoucherStatus
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


async def test_expiry_sweep_marks_only_vouchers_past_their_date() -> None:
    shop = await factories.merchant(stamps_needed=2, validity_days=7)
    old = await _rewarded(shop, 1)
    membership = await factories.member(shop, 2)
    fresh = (
        await add_stamps(
            membership.id, 2, merchant_id=shop.merchant.id, now=T0 + timedelta(days=3)
        )
    ).vouchers[0]

    expired = await expire_due_vouchers(now=T0 + timedelta(days=8))

    assert expired == 1
    assert (await Voucher.get(id=old.id)).status == VoucherStatus.EXPIRED
    assert (await Voucher.get(id=fresh.id)).status == VoucherStatus.ISSUED
    assert [v.id for v in await active_vouchers(membership.id, now=T0 + timedelta(days=8))] == [
        fresh.id
    ]


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
