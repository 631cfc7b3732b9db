"""Two customers who turn out to be one person become one (see ``loyalty.linking``)."""

from __future__ import annotations

from datetime import datetime

from loyalty.clock import ensure_utc
from loyalty.ledger import record
from loyalty.stamps import issue_due_rewards
from loyalty.tokens import new_token
from models import (
    Card,
    ChannelOptOut,
    Customer,
    Delivery,
    Enrollment,
    Identity,
    Membership,
    Referral,
    Voucher,
)
from models.enums import LedgerKind, MembershipStatus

_PERSONAL = ("first_name", "last_name", "language", "email_prompted_at")


async def merge_customers(
    source: Customer, target: Customer, *, now: datetime | None = None
) -> int:
    """Make ``source`` part of ``target``: every row that points at ``source`` moves over, and
    ``source`` is deleted. Call it inside a transaction; returns the reward vouchers issued.

    - identities, enrolments in automations: moved;
    - opt-outs: moved, so a "no" said on either side still holds (a duplicate goes);
    - deliveries: moved, except a campaign's row for a channel ``target`` has one of already
      (the unique row per campaign, customer and channel), which stays with ``source``, or is
      deleted with it (no foreign key cascades: see ``Delivery``);
    - memberships of cards only ``source`` held: moved whole (ledger, vouchers, passes);
    - a card both held: ``target``'s membership keeps going with the stamps of both (a
      ``merge`` row on each side of the ledger, then the rewards the sum has earned), the
      visits of both and every voucher of both. ``source``'s membership stays as an emptied
      left row, because its ledger rows are the shop's history (stamps given, campaign
      results) and are never deleted; so ``source`` stays too, as an anonymous row like an
      erased customer (no identities, no personal data), since a membership needs its
      customer. Without such a card ``source`` is deleted;
    - name, language, email and birthday: ``target``'s, with the blanks filled from
      ``source``.
    """
    moment = ensure_utc(now)
    await Identity.filter(customer_id=source.id).update(customer_id=target.id)
    await Enrollment.filter(customer_id=source.id).update(customer_id=target.id)
    await _move_opt_outs(source, target)
    await _move_deliveries(source, target)
    rewards, kept = await _move_memberships(source, target, moment)
    await _fill_from(target, source)
    if kept:
        await _anonymise(source, moment)
    else:
        await Delivery.filter(customer_id=source.id).delete()
        await source.delete()
    return rewards


async def _move_opt_outs(source: Customer, target: Customer) -> None:
    held = set(
        await ChannelOptOut.filter(customer_id=target.id).values_list("merchant_id", "channel")
    )
    for opt_out in await ChannelOptOut.filter(customer_id=source.id):
        if (opt_out.merchant_id, opt_out.channel) in held:
            await opt_out.delete()
        else:
            await ChannelOptOut.filter(id=opt_out.id).update(customer_id=target.id)


async def _move_deliveries(source: Customer, target: Customer) -> None:
    taken = set(
        await Delivery.filter(customer_id=target.id, enrollment_id__isnull=True).values_list(
            "campaign_id", "channel"
        )
    )
    movable = [
        row_id
        for row_id, campaign_id, channel, enrollment_id in await Delivery.filter(
            customer_id=source.id
        ).values_list("id", "campaign_id", "channel", "enrollment_id")
        if enrollment_id is not None or (campaign_id, channel) not in taken
    ]
    for start in range(0, len(movable), 500):
        await Delivery.filter(id__in=movable[start : start + 500]).update(customer_id=target.id)


async def _move_memberships(
    source: Customer, target: Customer, moment: datetime
) -> tuple[int, bool]:
    """(reward vouchers issued, whether a membership of ``source`` had to stay behind)."""
    held = {
        m.card_id: m for m in await Membership.filter(customer_id=target.id).select_for_update()
    }
    rewards, kept = 0, False
    for membership in await Membership.filter(customer_id=source.id).select_for_update():
        keeper = held.get(membership.card_id)
        if keeper is None:
            await Membership.filter(id=membership.id).update(customer_id=target.id)
            continue
        rewards += await _join_memberships(keeper, membership, moment)
        kept = True
    return rewards, kept


async def _join_memberships(keeper: Membership, gone: Membership, moment: datetime) -> int:
    """``gone``'s stamps, visits, vouchers and invited friends move to ``keeper``; ``gone`` is
    left, empty, with new tokens (its QR and till code stop working)."""
    card = await Card.get(id=keeper.card_id)
    moved = gone.balance
    if moved:
        await record(gone, LedgerKind.MERGE, -moved, moment, reason=f"moved to #{keeper.id}")
    await Voucher.filter(membership_id=gone.id).update(membership_id=keeper.id)
    await (
        Referral.filter(referrer_id=gone.id)
        .exclude(friend_id=keeper.id)
        .update(referrer_id=keeper.id)
    )
    if keeper.status == MembershipStatus.LEFT and gone.status == MembershipStatus.ACTIVE:
        keeper.status = MembershipStatus.ACTIVE
        keeper.left_at = None
    if moved:
        await record(keeper, LedgerKind.MERGE, moved, moment, reason=f"moved from #{gone.id}")
    keeper.visits += gone.visits
    if gone.last_visit_at is not None and (
        keeper.last_visit_at is None or gone.last_visit_at > keeper.last_visit_at
    ):
        keeper.last_visit_at = gone.last_visit_at
    issued = await issue_due_rewards(keeper, card, moment)
    await keeper.save(update_fields=["status", "left_at", "balance", "visits", "last_visit_at"])
    gone.status = MembershipStatus.LEFT
    gone.left_at = gone.left_at or moment
    gone.public_token = new_token()
    gone.counter_code = None
    gone.referral_token = None
    await gone.save(
        update_fields=[
            "status",
            "left_at",
            "balance",
            "public_token",
            "counter_code",
            "referral_token",
        ]
    )
    return len(issued)


async def _fill_from(target: Customer, source: Customer) -> None:
    changed: list[str] = []
    for name in _PERSONAL:
        if getattr(target, name) is None and getattr(source, name) is not None:
            setattr(target, name, getattr(source, name))
            changed.append(name)
    if target.email is None and source.email is not None:
        target.email, target.email_verified = source.email, source.email_verified
        changed += ["email", "email_verified"]
    if target.birth_month is None and source.birth_month is not None:
        target.birth_day = source.birth_day
        target.birth_month = source.birth_month
        target.birth_year = source.birth_year
        changed += ["birth_day", "birth_month", "birth_year"]
    if changed:
        await target.save(update_fields=changed)


async def _anonymise(customer: Customer, moment: datetime) -> None:
    customer.first_name = customer.last_name = customer.email = None
    customer.email_verified = False
    customer.birth_day = customer.birth_month = customer.birth_year = None
    customer.language = None
    customer.erased_at = moment
    await customer.save()
