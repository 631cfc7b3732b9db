from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from loyalty import memberships
from loyalty.customers import customer_for_identity, erase_customer
from loyalty.errors import CardNotFound, CustomerErased, MembershipNotFound
from loyalty.ledger import ledger_sum
from loyalty.memberships import card_by_join_token, join, leave, membership_by_token
from loyalty.stamps import add_stamps
from models import ChannelOptOut, Customer, Identity, Membership, StampEvent, Voucher
from models.enums import Channel, LedgerKind, MembershipStatus, Platform, VoucherStatus
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")


async def test_join_is_idempotent_even_when_raced() -> None:
    shop = await factories.merchant()
    person = await factories.customer()

    results = await asyncio.gather(*(join(person, shop.card) for _ in range(5)))

    assert len({r.membership.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await Membership.filter(customer_id=person.id).count() == 1


async def test_first_contact_from_many_updates_makes_one_customer() -> None:
    results = await asyncio.gather(
        *(customer_for_identity(Platform.TELEGRAM, "42", first_name="Dana") for _ in range(5))
    )

    assert len({c.id for c in results}) == 1
    assert await Identity.filter(platform=Platform.TELEGRAM, external_id="42").count() == 1


async def test_a_first_contact_made_without_a_second_look_still_ends_in_one_customer() -> None:
    """``absent``: the caller found no one for this message; one that raced it made them."""
    first = await customer_for_identity(Platform.TELEGRAM, "43", first_name="Dana")

    raced = await customer_for_identity(Platform.TELEGRAM, "43", first_name="Dana", absent=True)
    fresh = await customer_for_identity(Platform.TELEGRAM, "44", first_name="Ola", absent=True)

    assert raced.id == first.id
    assert fresh.id != first.id
    assert await Identity.filter(platform=Platform.TELEGRAM, external_id="43").count() == 1
    assert await Identity.filter(platform=Platform.TELEGRAM, external_id="44").count() == 1


async def test_an_erased_customer_is_not_handed_back_through_a_raced_identity() -> None:
    person = await customer_for_identity(Platform.TELEGRAM, "45", first_name="Dana")
    await Customer.filter(id=person.id).update(erased_at=T0)  # identity kept: the race's view

    with pytest.raises(CustomerErased):
        await customer_for_identity(Platform.TELEGRAM, "45", absent=True)
    with pytest.raises(CustomerErased):
        await customer_for_identity(Platform.TELEGRAM, "45")


@pytest.mark.parametrize("token", ["", "nope", "x" * 64, "j-" + "A" * 22, "🙂" * 10])
async def test_unknown_join_tokens_are_refused(token: str) -> None:
    await factories.merchant()

    with pytest.raises(CardNotFound):
        await card_by_join_token(token)


async def test_the_personal_token_is_scoped_to_the_merchant() -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other")
    membership = await factories.member(shop)

    found = await membership_by_token(membership.public_token, merchant_id=shop.merchant.id)
    assert found.id == membership.id
    with pytest.raises(MembershipNotFound):
        await membership_by_token(membership.public_token, merchant_id=other.merchant.id)


async def test_leaving_forfeits_stamps_and_vouchers_and_rejoining_starts_afresh() -> None:
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    await add_stamps(membership.id, 5, merchant_id=shop.merchant.id, now=T0)

    left = await leave(membership, now=T0 + timedelta(days=1))

    assert (left.status, left.balance, left.left_at) == (
        MembershipStatus.LEFT,
        0,
        T0 + timedelta(days=1),
    )
    assert await Voucher.filter(membership_id=membership.id).values_list("status", flat=True) == [
        VoucherStatus.VOID
    ]
    assert await ledger_sum(membership.id) == 0
    person = await Customer.get(id=membership.customer_id)
    again = await join(person, shop.card, now=T0 + timedelta(days=2))
    assert (again.membership.id, again.rejoined, again.membership.balance) == (
        membership.id,
        True,
        0,
    )


async def test_erasing_a_customer_removes_personal_data_and_keeps_an_anonymous_ledger() -> None:
    shop = await factories.merchant(stamps_needed=3)
    membership = await factories.member(shop)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id, now=T0)
    person = await Customer.get(id=membership.customer_id)
    person.email, person.email_verified = "olena@example.com", True
    await person.save()
    await ChannelOptOut.create(customer=person, merchant=shop.merchant, channel=Channel.EMAIL)
    old_token = membership.public_token
    await membership.refresh_from_db()
    assert membership.counter_code is not None  # made when the customer joined

    await erase_customer(person, now=T0 + timedelta(days=1))

    erased = await Customer.get(id=person.id)
    assert (erased.first_name, erased.email, erased.birth_month, erased.language) == (
        None,
        None,
        None,
        None,
    )
    assert erased.erased_at == T0 + timedelta(days=1)
    assert not await Identity.filter(customer_id=person.id).exists()
    assert not await ChannelOptOut.filter(customer_id=person.id).exists()
    with pytest.raises(MembershipNotFound):
        await membership_by_token(old_token)
    assert (await Membership.get(id=membership.id)).counter_code is None
    kinds = await StampEvent.filter(membership_id=membership.id).values_list("kind", flat=True)
    assert kinds == [LedgerKind.STAMP, LedgerKind.REWARD, LedgerKind.FORFEIT]
    assert await ledger_sum(membership.id) == 0
    statuses = await Voucher.filter(membership_id=membership.id).values_list("status", flat=True)
    assert statuses == [VoucherStatus.VOID]
    with pytest.raises(CustomerErased):
        await join(erased, shop.card)


async def test_the_same_messenger_account_after_erasure_is_a_new_customer() -> None:
    person = await factories.customer(77)
    await erase_customer(person)

    again = await factories.customer(77)

    assert again.id != person.id


async def test_a_join_whose_till_code_the_card_already_has_draws_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The till code comes with the new row; a code the card already uses is refused by the
    unique index, and the join draws again instead of failing."""
    shop = await factories.merchant()
    first = await factories.member(shop)
    assert first.counter_code is not None
    drawn = iter([first.counter_code, "Q7KM-3XPD"])
    monkeypatch.setattr(memberships, "new_counter_code", lambda: next(drawn))
    person = await factories.customer(4242)

    joined = await join(person, shop.card)

    assert joined.created
    assert (await Membership.get(id=joined.membership.id)).counter_code == "Q7KM-3XPD"
    assert await Membership.filter(card_id=shop.card.id).count() == 2
