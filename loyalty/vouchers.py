"""Issuing, redeeming, expiring and voiding vouchers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.clock import ensure_utc
from loyalty.errors import (
    InvalidExtension,
    InvalidReason,
    LoyaltyError,
    MembershipNotActive,
    MembershipNotFound,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotFound,
    VoucherVoid,
)
from loyalty.staff import Permission, allows
from loyalty.tokens import new_token, new_voucher_code, normalize_voucher_code
from models import Card, Membership, Staff, Voucher
from models.enums import MembershipStatus, RedeemVia, VoucherSource, VoucherStatus

_CODE_ATTEMPTS = 5
MAX_EXTENSION_DAYS = 365
MAX_REASON = 200
# Cancelling, extending and giving vouchers away all hand out (or take) value: the same trust.
MANAGE_VOUCHERS = Permission.VOID_VOUCHER


async def issue_voucher(
    membership: Membership,
    card: Card,
    *,
    source: VoucherSource,
    title: str,
    validity_days: int | None,
    now: datetime | None = None,
    campaign_id: int | None = None,
    issued_by_id: int | None = None,
    issue_reason: str | None = None,
) -> Voucher:
    moment = ensure_utc(now)
    expires_at = moment + timedelta(days=validity_days) if validity_days else None
    for attempt in range(_CODE_ATTEMPTS):
        try:
            # A savepoint, so a code collision does not abort the caller's transaction.
            async with in_transaction():
                return await Voucher.create(
                    merchant_id=card.merchant_id,
                    card_id=card.id,
                    membership_id=membership.id,
                    campaign_id=campaign_id,
                    source=source,
                    title=title[:200],
                    code=new_voucher_code(),
                    token=new_token(),
                    issued_at=moment,
                    expires_at=expires_at,
                    issued_by_id=issued_by_id,
                    issue_reason=issue_reason[:200] if issue_reason is not None else None,
                )
        except IntegrityError:
            if attempt == _CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def find_voucher(
    merchant_id: int, *, code: str | None = None, token: str | None = None
) -> Voucher:
    """A voucher of this merchant by typed code or scanned token; foreign ones are unknown."""
    voucher: Voucher | None = None
    if token is not None:
        voucher = await Voucher.get_or_none(token=token, merchant_id=merchant_id)
    elif code is not None and (normalized := normalize_voucher_code(code)) is not None:
        voucher = await Voucher.get_or_none(code=normalized, merchant_id=merchant_id)
    if voucher is None:
        raise VoucherNotFound()
    return voucher


@dataclass(frozen=True, slots=True)
class _Outcome:
    voucher: Voucher | None = None
    error: LoyaltyError | None = None


async def redeem_voucher(
    voucher_id: int,
    *,
    merchant_id: int,
    via: RedeemVia,
    staff_id: int | None = None,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> Voucher:
    """Exactly once: of any number of concurrent calls, one wins and the rest are told when.

    ``customer_id`` scopes a self-redeem to the customer's own vouchers.
    """
    moment = ensure_utc(now)
    async with in_transaction():
        outcome = await _redeem_locked(voucher_id, merchant_id, via, staff_id, customer_id, moment)
    # Raised after the transaction so an expiry noticed on the way is kept.
    if outcome.error is not None:
        raise outcome.error
    assert outcome.voucher is not None
    return outcome.voucher


async def _redeem_locked(
    voucher_id: int,
    merchant_id: int,
    via: RedeemVia,
    staff_id: int | None,
    customer_id: int | None,
    moment: datetime,
) -> _Outcome:
    voucher = await Voucher.select_for_update().get_or_none(id=voucher_id, merchant_id=merchant_id)
    if voucher is None:
        return _Outcome(error=VoucherNotFound())
    if customer_id is not None:
        membership = await Membership.get(id=voucher.membership_id)
        if membership.customer_id != customer_id:
            return _Outcome(error=VoucherNotFound())
    if error := _refusal(voucher, moment):
        if isinstance(error, VoucherExpired) and voucher.status == VoucherStatus.ISSUED:
            await Voucher.filter(id=voucher.id, status=VoucherStatus.ISSUED).update(
                status=VoucherStatus.EXPIRED
            )
        return _Outcome(error=error)
    # The status condition makes this exactly-once even where row locks do not exist.
    won = await Voucher.filter(id=voucher.id, status=VoucherStatus.ISSUED).update(
        status=VoucherStatus.REDEEMED,
        redeemed_at=moment,
        redeemed_by_id=staff_id,
        redeemed_via=via,
    )
    if won != 1:
        await voucher.refresh_from_db()
        return _Outcome(error=_refusal(voucher, moment) or VoucherNotFound())
    await voucher.refresh_from_db()
    return _Outcome(voucher=voucher)


def _refusal(voucher: Voucher, moment: datetime) -> LoyaltyError | None:
    if voucher.status == VoucherStatus.REDEEMED:
        assert voucher.redeemed_at is not None
        return VoucherAlreadyRedeemed(voucher.redeemed_at)
    if voucher.status == VoucherStatus.VOID:
        return VoucherVoid(voucher.void_reason)
    if voucher.status == VoucherStatus.EXPIRED or (
        voucher.expires_at is not None and voucher.expires_at <= moment
    ):
        assert voucher.expires_at is not None
        return VoucherExpired(voucher.expires_at)
    return None


async def void_voucher(
    voucher_id: int, *, merchant_id: int, reason: str, now: datetime | None = None
) -> Voucher:
    moment = ensure_utc(now)
    voided = await Voucher.filter(
        id=voucher_id, merchant_id=merchant_id, status=VoucherStatus.ISSUED
    ).update(status=VoucherStatus.VOID, voided_at=moment, void_reason=reason[:200])
    voucher = await Voucher.get_or_none(id=voucher_id, merchant_id=merchant_id)
    if voucher is None:
        raise VoucherNotFound()
    if voided != 1 and (error := _refusal(voucher, moment)):
        raise error
    return voucher


async def expire_due_vouchers(*, now: datetime | None = None) -> int:
    """Mark every issued voucher past its expiry as expired; returns how many."""
    moment = ensure_utc(now)
    return await Voucher.filter(status=VoucherStatus.ISSUED, expires_at__lte=moment).update(
        status=VoucherStatus.EXPIRED
    )


async def active_vouchers(membership_id: int, *, now: datetime | None = None) -> list[Voucher]:
    moment = ensure_utc(now)
    return (
        await Voucher.filter(membership_id=membership_id, status=VoucherStatus.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .order_by("expires_at", "id")
    )


def clean_reason(text: str) -> str:
    """A typed reason, spaces tidied; refused when empty or too long."""
    reason = " ".join(text.split())
    if not reason or len(reason) > MAX_REASON:
        raise InvalidReason(MAX_REASON)
    return reason


async def void_by_staff(
    seat: Staff, voucher_id: int, *, reason: str, now: datetime | None = None
) -> Voucher:
    """A manager or owner cancels an issued voucher of their shop, with a reason, audited."""
    if not allows(seat, MANAGE_VOUCHERS):
        raise VoucherNotFound()
    why = clean_reason(reason)
    async with in_transaction():
        voucher = await void_voucher(voucher_id, merchant_id=seat.merchant_id, reason=why, now=now)
        await audit.record(
            seat.merchant_id, "voucher.void", by=seat, now=now, voucher_id=voucher.id, reason=why
        )
    return voucher


async def extend_voucher(
    seat: Staff, voucher_id: int, *, days: int, now: datetime | None = None
) -> Voucher:
    """Push a usable voucher's end date back by ``days`` (1 to 365); audited.

    Only a voucher with an end date that is still usable: an expired one stays expired (a
    goodwill voucher replaces it), so a customer is never told "expired" and then "valid".
    The expiry reminder is re-armed for the new date.
    """
    moment = ensure_utc(now)
    if not allows(seat, MANAGE_VOUCHERS):
        raise VoucherNotFound()
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidExtension(MAX_EXTENSION_DAYS)
    async with in_transaction():
        voucher = await Voucher.select_for_update().get_or_none(
            id=voucher_id, merchant_id=seat.merchant_id
        )
        if voucher is None:
            raise VoucherNotFound()
        if error := _refusal(voucher, moment):
            raise error
        if voucher.expires_at is None:
            raise InvalidExtension(MAX_EXTENSION_DAYS)
        before = voucher.expires_at
        voucher.expires_at = before + timedelta(days=days)
        voucher.expiry_reminded_at = None
        await voucher.save(update_fields=["expires_at", "expiry_reminded_at"])
        await audit.record(
            seat.merchant_id,
            "voucher.extend",
            by=seat,
            now=moment,
            voucher_id=voucher.id,
            days=days,
            old_expires_at=before.isoformat(),
            new_expires_at=voucher.expires_at.isoformat(),
        )
    return voucher


async def give_goodwill(
    seat: Staff,
    membership_id: int,
    *,
    reason: str,
    title: str | None = None,
    now: datetime | None = None,
) -> Voucher:
    """A voucher given as a gesture (a wrong order, a long wait): who gave it and why are kept
    on the voucher and in the audit log. The title defaults to the card's reward; it is valid
    as long as the card's rewards are."""
    moment = ensure_utc(now)
    if not allows(seat, MANAGE_VOUCHERS):
        raise MembershipNotFound()
    why = clean_reason(reason)
    named = " ".join((title or "").split())
    if len(named) > MAX_REASON:
        raise InvalidReason(MAX_REASON)
    async with in_transaction():
        membership = await Membership.get_or_none(id=membership_id)
        card = await Card.get_or_none(id=membership.card_id) if membership else None
        if membership is None or card is None or card.merchant_id != seat.merchant_id:
            raise MembershipNotFound()
        if membership.status != MembershipStatus.ACTIVE:
            raise MembershipNotActive()
        voucher = await issue_voucher(
            membership,
            card,
            source=VoucherSource.GOODWILL,
            title=named or card.reward_text,
            validity_days=card.voucher_validity_days,
            now=moment,
            issued_by_id=seat.id,
            issue_reason=why,
        )
        await audit.record(
            seat.merchant_id,
            "voucher.goodwill",
            by=seat,
            now=moment,
            voucher_id=voucher.id,
            membership_id=membership.id,
            title=voucher.title,
            reason=why,
        )
    return voucher
