"""Joining and leaving a card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from loyalty.errors import CardEnded, CardNotFound, CardPaused, CustomerErased, MembershipNotFound
from loyalty.ledger import forfeit_balance
from loyalty.tokens import new_counter_code, new_token
from models import Card, Customer, Membership, Voucher
from models.enums import CardState, MembershipStatus, VoucherStatus


@dataclass(frozen=True, slots=True)
class JoinResult:
    membership: Membership
    created: bool
    rejoined: bool = False


async def card_by_join_token(token: str) -> Card:
    """The card behind a join link; a paused or retired card says so (CardPaused, CardEnded)."""
    card = await Card.get_or_none(join_token=token)
    if card is None:
        raise CardNotFound()
    _check_open(card)
    return card


def _check_open(card: Card) -> None:
    if card.active:
        return
    if card.state == CardState.RETIRED:
        raise CardEnded()
    if card.state == CardState.PAUSED:
        raise CardPaused()
    raise CardNotFound()


async def join(customer: Customer, card: Card, *, now: datetime | None = None) -> JoinResult:
    """Idempotent: the same customer and card always give the same membership."""
    if customer.erased_at is not None:
        raise CustomerErased()
    _check_open(card)
    existing = await Membership.get_or_none(customer_id=customer.id, card_id=card.id)
    while existing is None:
        try:
            # The till code comes with the row: a join is one statement, not three.
            membership = await Membership.create(
                customer=customer,
                card=card,
                public_token=new_token(),
                counter_code=new_counter_code(),
            )
            return JoinResult(membership=membership, created=True)
        except IntegrityError:
            # A double tap on the join link raced us and the other request made the row; or,
            # with no such row, the card already has that till code: draw another.
            existing = await Membership.get_or_none(customer_id=customer.id, card_id=card.id)
    if existing.status == MembershipStatus.LEFT:
        existing.status = MembershipStatus.ACTIVE
        existing.left_at = None
        existing.joined_at = ensure_utc(now)
        await existing.save(update_fields=["status", "left_at", "joined_at"])
        return JoinResult(membership=existing, created=False, rejoined=True)
    return JoinResult(membership=existing, created=False)


async def ensure_counter_code(membership: Membership) -> str:
    """The membership's code for typing at the till, made on first need (older rows have none)."""
    while membership.counter_code is None:
        code = new_counter_code()
        # Conditional, so two requests making one at once agree on whichever landed first.
        try:
            await Membership.filter(id=membership.id, counter_code__isnull=True).update(
                counter_code=code
            )
        except IntegrityError:
            continue  # this card already has that code: draw another
        await membership.refresh_from_db(fields=["counter_code"])
    return membership.counter_code


async def membership_by_token(token: str, *, merchant_id: int | None = None) -> Membership:
    """The membership behind a personal QR; scoped to ``merchant_id`` when staff look it up."""
    membership = await Membership.get_or_none(public_token=token).select_related(
        "card", "customer"
    )
    if membership is None or (
        merchant_id is not None and membership.card.merchant_id != merchant_id
    ):
        raise MembershipNotFound()
    return membership


async def leave(membership: Membership, *, now: datetime | None = None) -> Membership:
    """Leaving forfeits the stamps and the unused vouchers of this card."""
    moment = ensure_utc(now)
    async with in_transaction():
        locked = await Membership.select_for_update().get(id=membership.id)
        if locked.status == MembershipStatus.LEFT:
            return locked
        await forfeit_balance(locked, moment, reason="left the card")
        locked.status = MembershipStatus.LEFT
        locked.left_at = moment
        await locked.save(update_fields=["status", "left_at", "balance"])
        await Voucher.filter(membership_id=locked.id, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.VOID, voided_at=moment, void_reason="left the card"
        )
    return locked


async def leave_card(
    membership_id: int, *, customer_id: int, now: datetime | None = None
) -> Membership:
    """Leave one of the customer's own cards; another customer's membership is unknown."""
    membership = await Membership.get_or_none(id=membership_id, customer_id=customer_id)
    if membership is None:
        raise MembershipNotFound()
    return await leave(membership, now=now)
