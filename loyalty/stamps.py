"""Adding stamps: the double-scan guard, idempotency, rewards and carried-over surplus."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from loyalty.customers import _numbered, _select_list, _unprefixed
from loyalty.errors import (
    InvalidIdempotencyKey,
    InvalidStampCount,
    MembershipNotActive,
    MembershipNotFound,
    StampCooldown,
)
from loyalty.ledger import record
from loyalty.vouchers import issue_voucher
from models import Card, Membership, Merchant, StampEvent, Voucher
from models.enums import LedgerKind, MembershipStatus, VoucherSource

# The ``reason`` of a stamp row that adds to the visit of the stamp before it ("+1 more" after
# a scan that stamped at once): the same purchase, so no new visit and no double-scan cooldown.
SAME_VISIT = "same_visit"


@dataclass(frozen=True, slots=True)
class StampResult:
    membership: Membership
    card: Card
    added: int
    vouchers: list[Voucher] = field(default_factory=list)
    replayed: bool = False
    """True when the idempotency key was seen before and nothing new was written."""
    event_id: int | None = None
    """The stamp row this call wrote (or, replayed, the one it wrote the first time): what an
    undo or a receipt amount refers to."""
    shop_name: str = ""
    """The card's shop, read with the card: the customer's notice names it."""

    @property
    def stamps_to_reward(self) -> int:
        return self.card.stamps_needed - self.membership.balance


async def add_stamps(
    membership_id: int,
    count: int,
    *,
    merchant_id: int,
    staff_id: int | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    ignore_cooldown: bool = False,
    adds_to: int | None = None,
    now: datetime | None = None,
) -> StampResult:
    """Add ``count`` stamps to a membership of ``merchant_id``'s card.

    ``ignore_cooldown`` is the owner's override for a genuine second purchase. ``adds_to`` names
    the stamp row this one completes (the same purchase): while that row is still this card's
    newest stamp standing and inside the undo window, the cooldown does not apply and no visit
    is counted; otherwise ``adds_to`` is ignored and every rule applies as usual.
    """
    moment = ensure_utc(now)
    if idempotency_key is not None and not (
        0 < len(idempotency_key) <= 64 and idempotency_key.isprintable()
    ):
        raise InvalidIdempotencyKey()
    try:
        async with in_transaction():
            return await _add_locked(
                membership_id,
                count,
                merchant_id=merchant_id,
                staff_id=staff_id,
                reason=reason,
                idempotency_key=idempotency_key,
                ignore_cooldown=ignore_cooldown,
                adds_to=adds_to,
                moment=moment,
            )
    except IntegrityError:
        # Only the idempotency key can collide: the same request won in another transaction.
        if idempotency_key is None:
            raise
        return await _replay(membership_id, idempotency_key)


async def _add_locked(
    membership_id: int,
    count: int,
    *,
    merchant_id: int,
    staff_id: int | None,
    reason: str,
    idempotency_key: str | None,
    ignore_cooldown: bool,
    moment: datetime,
    adds_to: int | None = None,
) -> StampResult:
    # The row lock serialises stamps on one membership, so the cooldown and balance are exact.
    locked = await _lock(membership_id, idempotency_key)
    if locked is None:
        raise MembershipNotFound()
    membership, card, shop_name, seen = locked
    if card.merchant_id != merchant_id:
        raise MembershipNotFound()
    if seen and idempotency_key is not None:
        return await _replay(membership_id, idempotency_key)
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not (1 <= count <= card.max_stamps_per_call)
    ):
        raise InvalidStampCount(count, card.max_stamps_per_call)
    if membership.status != MembershipStatus.ACTIVE:
        raise MembershipNotActive()
    same_visit = adds_to is not None and await _continues(membership, card, adds_to, moment)
    cooldown = timedelta(seconds=card.stamp_cooldown_seconds)
    last = membership.last_visit_at
    if (
        not (ignore_cooldown or same_visit)
        and cooldown
        and last is not None
        and moment < last + cooldown
    ):
        raise StampCooldown(last, last + cooldown)

    stamp = await record(
        membership,
        LedgerKind.STAMP,
        count,
        moment,
        staff_id=staff_id,
        reason=SAME_VISIT if same_visit else reason,
        idempotency_key=idempotency_key,
    )
    vouchers = await issue_due_rewards(membership, card, moment, staff_id=staff_id)
    if not same_visit:
        membership.visits += 1
    membership.last_visit_at = moment
    await membership.save(update_fields=["balance", "visits", "last_visit_at"])
    return StampResult(
        membership=membership,
        card=card,
        added=count,
        vouchers=vouchers,
        event_id=stamp.id,
        shop_name=shop_name,
    )


async def _lock(
    membership_id: int, idempotency_key: str | None
) -> tuple[Membership, Card, str, bool] | None:
    """The membership, locked, with its card, its shop's name and whether ``idempotency_key``
    was used on it already: one statement where the ORM took three, as every press of a stamp
    button asks.
    Only the membership row is locked (``FOR UPDATE OF``): a lock on the card would queue every
    cashier of the shop behind one another. SQLite has no row locks; its writes take turns."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _lock_sql(conn.capabilities.dialect), [idempotency_key, membership_id]
    )
    if not rows:
        return None
    row = rows[0]
    membership = Membership._init_from_db(**_unprefixed(row, "m_", Membership))
    card = Card._init_from_db(**_unprefixed(row, "c_", Card))
    return membership, card, str(row["shop_name"]), bool(row["seen"])


@functools.cache
def _lock_sql(dialect: str) -> str:
    """Built on first use: the models know their columns once Tortoise is set up. Its values:
    the idempotency key, then the membership."""
    text = (
        f"SELECT {_select_list(Membership, 'm')}, {_select_list(Card, 'c')}, "  # noqa: S608
        'EXISTS (SELECT 1 FROM "stamp_event" e WHERE e."membership_id" = m."id" '
        'AND e."idempotency_key" = {}) AS "seen", s."name" AS "shop_name" '
        'FROM "membership" m JOIN "card" c ON c."id" = m."card_id" '
        'JOIN "merchant" s ON s."id" = c."merchant_id" '
        'WHERE m."id" = {}' + (" FOR UPDATE OF m" if dialect == "postgres" else "")
    )
    return _numbered(dialect, text)


async def issue_due_rewards(
    membership: Membership, card: Card, moment: datetime, *, staff_id: int | None = None
) -> list[Voucher]:
    """A reward voucher for every full card in the balance, each paid for by a ``reward`` row
    (the caller holds the membership's row lock and saves the balance)."""
    vouchers: list[Voucher] = []
    while membership.balance >= card.stamps_needed:
        voucher = await issue_voucher(
            membership,
            card,
            source=VoucherSource.REWARD,
            title=card.reward_text,
            validity_days=card.voucher_validity_days,
            now=moment,
        )
        await record(
            membership,
            LedgerKind.REWARD,
            -card.stamps_needed,
            moment,
            staff_id=staff_id,
            voucher_id=voucher.id,
            reason="reward",
        )
        vouchers.append(voucher)
    return vouchers


async def _continues(membership: Membership, card: Card, event_id: int, moment: datetime) -> bool:
    """Whether stamp row ``event_id`` is this card's newest stamp, standing, in the undo window."""
    latest = (
        await StampEvent.filter(membership_id=membership.id, kind=LedgerKind.STAMP)
        .order_by("-id")
        .first()
    )
    if latest is None or latest.id != event_id:
        return False
    if await StampEvent.exists(reverses_id=latest.id):
        return False
    return moment < latest.created_at + timedelta(seconds=card.undo_window_seconds)


async def _replay(membership_id: int, idempotency_key: str) -> StampResult:
    """The answer to a retried request: the state now and what the original request did."""
    event = await StampEvent.get(membership_id=membership_id, idempotency_key=idempotency_key)
    membership = await Membership.get(id=membership_id)
    card = await Card.get(id=membership.card_id)
    # Stamps on one membership are serialised, so this call's rewards are the reward rows
    # between its stamp row and the next stamp row.
    later_stamp = (
        await StampEvent.filter(
            membership_id=membership_id, kind=LedgerKind.STAMP, id__gt=event.id
        )
        .order_by("id")
        .first()
    )
    rewards_query = StampEvent.filter(
        membership_id=membership_id, kind=LedgerKind.REWARD, id__gt=event.id
    )
    if later_stamp is not None:
        rewards_query = rewards_query.filter(id__lt=later_stamp.id)
    rewards = await rewards_query.values_list("voucher_id", flat=True)
    vouchers = await Voucher.filter(id__in=list(rewards)).order_by("id")
    return StampResult(
        membership=membership,
        card=card,
        added=event.delta,
        vouchers=vouchers,
        replayed=True,
        event_id=event.id,
        shop_name=(await Merchant.get(id=card.merchant_id)).name,
    )
