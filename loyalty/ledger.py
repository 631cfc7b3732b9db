"""Writing the stamp ledger. Every change of a balance goes through here."""

from __future__ import annotations

from datetime import datetime

from models import Membership, StampEvent
from models.enums import LedgerKind


async def record(
    membership: Membership,
    kind: LedgerKind,
    delta: int,
    moment: datetime,
    *,
    staff_id: int | None = None,
    voucher_id: int | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    reverses_id: int | None = None,
) -> StampEvent:
    """Append one movement and apply it to ``membership.balance`` (the caller saves it)."""
    membership.balance += delta
    return await StampEvent.create(
        membership_id=membership.id,
        card_id=membership.card_id,
        kind=kind,
        delta=delta,
        balance_after=membership.balance,
        staff_id=staff_id,
        voucher_id=voucher_id,
        reason=reason[:200],
        idempotency_key=idempotency_key,
        reverses_id=reverses_id,
        created_at=moment,
    )


async def forfeit_balance(membership: Membership, moment: datetime, *, reason: str) -> None:
    """Zero the balance through the ledger, so the ledger always adds up to the balance."""
    if membership.balance:
        await record(membership, LedgerKind.FORFEIT, -membership.balance, moment, reason=reason)


async def ledger_sum(membership_id: int, kind: LedgerKind | None = None) -> int:
    query = StampEvent.filter(membership_id=membership_id)
    if kind is not None:
        query = query.filter(kind=kind)
    return sum(event.delta for event in await query.only("delta"))
