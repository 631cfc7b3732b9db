"""Taking back a stamp given by mistake, through the ledger.

The ledger stays append-only: an undo adds compensating ``undo`` rows, one per row it takes
back, each naming that row in ``reverses_id``. The column is unique, so a row is taken back at
most once even when two tills press Undo at the same instant (the membership row lock orders
them; the unique index settles it where no lock exists).

When the stamp completed the card, its reward is taken back too: the voucher is voided and the
``reward`` row reversed (``+goal``) before the stamp row (``-count``), so every ``balance_after``
stays a true running sum and never dips below zero, and the balance ends where it was before
the stamp — surplus carried over included. A reward already used cannot be taken back, so the
undo is refused. Only the newest stamp still standing may be undone: with a later stamp on top,
putting the balance back would rewrite that stamp's reward arithmetic.

Invariants kept (``tests/loyalty/test_undo.py``): the deltas add up to the balance; the stamps
standing (stamp rows not reversed) equal the balance plus the goal times the rewards standing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.clock import ensure_utc
from loyalty.errors import (
    MembershipNotActive,
    StampAlreadyUndone,
    StampNotFound,
    UndoNotLatest,
    UndoRewardRedeemed,
    UndoWindowPassed,
)
from loyalty.ledger import record
from loyalty.staff import Permission, seat_at
from loyalty.stamps import SAME_VISIT
from models import Card, Customer, Membership, Merchant, Staff, StampEvent, Voucher
from models.enums import LedgerKind, MembershipStatus, VoucherStatus


class UndoReason:
    """Why staff took a stamp back: stable codes, translated where they are shown."""

    WRONG_COUNT = "wrong_count"
    WRONG_CUSTOMER = "wrong_customer"
    OTHER = "other"
    # One tap on "↩️ Undo" under the confirmation: a correction, no questions asked.
    UNDO_BUTTON = "undo_button"
    ALL = (WRONG_COUNT, WRONG_CUSTOMER, OTHER, UNDO_BUTTON)


@dataclass(frozen=True, slots=True)
class UndoResult:
    membership_id: int
    customer_id: int
    removed: int
    balance: int
    stamps_needed: int
    voided_voucher_ids: tuple[int, ...]
    voided_titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UndoTarget:
    """A stamp as the till sees it before taking it back (for the "are you sure" screen)."""

    staff: Staff
    event_id: int
    membership_id: int
    customer_id: int
    first_name: str
    count: int
    created_at: datetime
    deadline: datetime
    timezone: str


async def _stamp_for(telegram_user_id: int, event_id: int) -> tuple[StampEvent, Card, Staff]:
    """The stamp row and its card, if this person may stamp at its shop; else unknown."""
    event = await StampEvent.get_or_none(id=event_id, kind=LedgerKind.STAMP)
    if event is None:
        raise StampNotFound()
    card = await Card.get(id=event.card_id)
    seat = await seat_at(telegram_user_id, card.merchant_id, Permission.STAMP)
    if seat is None:
        raise StampNotFound()
    return event, card, seat


async def undo_target(telegram_user_id: int, event_id: int) -> UndoTarget:
    event, card, seat = await _stamp_for(telegram_user_id, event_id)
    membership = await Membership.get(id=event.membership_id)
    customer = await Customer.get(id=membership.customer_id)
    merchant = await Merchant.get(id=card.merchant_id)
    return UndoTarget(
        staff=seat,
        event_id=event.id,
        membership_id=membership.id,
        customer_id=membership.customer_id,
        first_name=customer.first_name or "—",
        count=event.delta,
        created_at=event.created_at,
        deadline=event.created_at + timedelta(seconds=card.undo_window_seconds),
        timezone=merchant.timezone,
    )


async def latest_undoable(membership_id: int, *, now: datetime | None = None) -> int | None:
    """The id of the stamp row an undo may take back now, None when there is none."""
    moment = ensure_utc(now)
    membership = await Membership.get(id=membership_id)
    card = await Card.get(id=membership.card_id)
    stamp = await _latest_standing(membership_id)
    if stamp is None or membership.status != MembershipStatus.ACTIVE:
        return None
    if moment >= stamp.created_at + timedelta(seconds=card.undo_window_seconds):
        return None
    return stamp.id


async def _reversed_ids(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    found = await StampEvent.filter(reverses_id__in=ids).only("reverses_id")
    return {e.reverses_id for e in found if e.reverses_id is not None}


async def _latest_standing(membership_id: int, *, before: int | None = None) -> StampEvent | None:
    """The newest stamp row not taken back (optionally older than row ``before``)."""
    query = StampEvent.filter(membership_id=membership_id, kind=LedgerKind.STAMP)
    if before is not None:
        query = query.filter(id__lt=before)
    offset = 0
    while True:
        page = await query.order_by("-id").offset(offset).limit(20)
        if not page:
            return None
        undone = await _reversed_ids([e.id for e in page])
        for event in page:
            if event.id not in undone:
                return event
        offset += len(page)


async def undo_stamp(
    telegram_user_id: int, event_id: int, *, reason: str, now: datetime | None = None
) -> UndoResult:
    """Take back stamp row ``event_id`` for staff with the stamp permission at its shop."""
    moment = ensure_utc(now)
    try:
        async with in_transaction():
            return await _undo_locked(telegram_user_id, event_id, reason, moment)
    except IntegrityError:
        # Only ``reverses_id`` can collide: another till's undo of this stamp won.
        raise StampAlreadyUndone() from None


async def _undo_locked(
    telegram_user_id: int, event_id: int, reason: str, moment: datetime
) -> UndoResult:
    event, card, seat = await _stamp_for(telegram_user_id, event_id)
    # The same lock stamping takes: an undo and a stamp (or two undos) on one card take turns.
    membership = await Membership.select_for_update().get(id=event.membership_id)
    if await StampEvent.exists(reverses_id=event.id):
        raise StampAlreadyUndone()
    deadline = event.created_at + timedelta(seconds=card.undo_window_seconds)
    if moment >= deadline:
        raise UndoWindowPassed(deadline)
    if membership.status != MembershipStatus.ACTIVE:
        raise MembershipNotActive()
    latest = await _latest_standing(membership.id)
    if latest is None or latest.id != event.id:
        raise UndoNotLatest()

    # This stamp's rewards: the reward rows between it and the next stamp row (stamps on one
    # membership are serialised, so nothing else can sit there).
    next_stamp = (
        await StampEvent.filter(
            membership_id=membership.id, kind=LedgerKind.STAMP, id__gt=event.id
        )
        .order_by("id")
        .first()
    )
    rewards_query = StampEvent.filter(
        membership_id=membership.id, kind=LedgerKind.REWARD, id__gt=event.id
    )
    if next_stamp is not None:
        rewards_query = rewards_query.filter(id__lt=next_stamp.id)
    rewards = await rewards_query.order_by("id")
    undone_rewards = await _reversed_ids([r.id for r in rewards])

    voided: list[Voucher] = []
    for reward in rewards:
        if reward.id in undone_rewards:
            continue
        if reward.voucher_id is not None:
            voucher = await Voucher.select_for_update().get(id=reward.voucher_id)
            if voucher.status == VoucherStatus.REDEEMED:
                assert voucher.redeemed_at is not None
                raise UndoRewardRedeemed(voucher.title, voucher.redeemed_at)
            if voucher.status != VoucherStatus.VOID:
                # Conditioned on the status, so a redemption that slipped in is never voided.
                won = await Voucher.filter(
                    id=voucher.id, status__in=[VoucherStatus.ISSUED, VoucherStatus.EXPIRED]
                ).update(status=VoucherStatus.VOID, voided_at=moment, void_reason="stamp undone")
                if won != 1:
                    await voucher.refresh_from_db()
                    assert voucher.redeemed_at is not None
                    raise UndoRewardRedeemed(voucher.title, voucher.redeemed_at)
                voided.append(voucher)
        await record(
            membership,
            LedgerKind.UNDO,
            -reward.delta,
            moment,
            staff_id=seat.id,
            voucher_id=reward.voucher_id,
            reason=reason,
            reverses_id=reward.id,
        )
    await record(
        membership,
        LedgerKind.UNDO,
        -event.delta,
        moment,
        staff_id=seat.id,
        reason=reason,
        reverses_id=event.id,
    )
    # The visit did not happen: the double-scan cooldown counts from the stamp before it, so
    # the right stamp can be given at once.
    previous = await _latest_standing(membership.id, before=event.id)
    if event.reason != SAME_VISIT:
        # A stamp added to the visit before it counted no visit of its own.
        membership.visits = max(0, membership.visits - 1)
    membership.last_visit_at = previous.created_at if previous is not None else None
    await membership.save(update_fields=["balance", "visits", "last_visit_at"])
    await audit.record(
        card.merchant_id,
        "stamp.undo",
        by=seat,
        now=moment,
        event_id=event.id,
        membership_id=membership.id,
        stamps=event.delta,
        vouchers_voided=[v.id for v in voided],
        reason=reason[:200],
    )
    return UndoResult(
        membership_id=membership.id,
        customer_id=membership.customer_id,
        removed=event.delta,
        balance=membership.balance,
        stamps_needed=card.stamps_needed,
        voided_voucher_ids=tuple(v.id for v in voided),
        voided_titles=tuple(v.title for v in voided),
    )
