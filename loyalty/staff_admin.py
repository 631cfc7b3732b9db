"""The owners' staff management: roles, co-owners, handing the shop over, invites.

A shop always keeps at least one owner. Every change that could take an owner away (a demotion,
a removal, a transfer) runs in one transaction that first locks the shop's row, so two owners
demoting each other at the same moment are served one after the other: the second finds the
first already demoted and is refused instead of leaving the shop with nobody in charge.
Every change is written to the audit log in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.clock import ensure_utc
from loyalty.errors import InviteInvalid, LastOwner, OwnersOnly, StaffNotFound
from loyalty.merchants import create_staff_invite
from loyalty.staff import Permission, allows
from models import Merchant, Staff, StaffInvite
from models.enums import StaffRole


@dataclass(frozen=True, slots=True)
class RoleChange:
    staff: Staff
    old_role: StaffRole
    new_role: StaffRole


@dataclass(frozen=True, slots=True)
class Transfer:
    new_owner: Staff
    old_owner: Staff


def _require_owner(seat: Staff) -> None:
    if not allows(seat, Permission.STAFF):
        raise OwnersOnly()


async def _lock_shop(seat: Staff) -> Staff:
    """Lock the shop's row, then re-read the acting seat: it may have changed while we waited
    (demoted or removed by another owner), and only what holds now counts."""
    await Merchant.select_for_update().get(id=seat.merchant_id)
    fresh = await Staff.get_or_none(id=seat.id, merchant_id=seat.merchant_id, active=True)
    if fresh is None or not allows(fresh, Permission.STAFF):
        raise OwnersOnly()
    return fresh


async def _member(merchant_id: int, staff_id: int) -> Staff:
    staff = await Staff.get_or_none(id=staff_id, merchant_id=merchant_id, active=True)
    if staff is None:
        raise StaffNotFound()
    return staff


async def _other_owners(merchant_id: int, staff_id: int) -> int:
    return (
        await Staff.filter(merchant_id=merchant_id, role=StaffRole.OWNER, active=True)
        .exclude(id=staff_id)
        .count()
    )


async def change_role(
    seat: Staff, staff_id: int, role: StaffRole, *, now: datetime | None = None
) -> RoleChange:
    """An owner gives someone of the shop (themselves included) another role.

    Promoting to owner makes a co-owner; demoting the last owner is refused (:class:`LastOwner`).
    """
    _require_owner(seat)
    role = StaffRole(role)
    async with in_transaction():
        actor = await _lock_shop(seat)
        staff = await _member(actor.merchant_id, staff_id)
        old = StaffRole(staff.role)
        if old == role:
            return RoleChange(staff=staff, old_role=old, new_role=role)
        if old == StaffRole.OWNER and await _other_owners(actor.merchant_id, staff.id) == 0:
            raise LastOwner()
        staff.role = role
        await staff.save(update_fields=["role"])
        await audit.record(
            actor.merchant_id,
            "staff.role",
            by=actor,
            now=now,
            staff_id=staff.id,
            name=staff.display_name,
            old=old.value,
            new=role.value,
        )
    return RoleChange(staff=staff, old_role=old, new_role=role)


async def remove_staff(seat: Staff, staff_id: int, *, now: datetime | None = None) -> Staff:
    """An owner removes someone of the same shop; never themselves, never the last owner."""
    _require_owner(seat)
    moment = ensure_utc(now)
    async with in_transaction():
        actor = await _lock_shop(seat)
        staff = await _member(actor.merchant_id, staff_id)
        if staff.id == actor.id:
            raise StaffNotFound()
        if staff.role == StaffRole.OWNER and await _other_owners(actor.merchant_id, staff.id) == 0:
            raise LastOwner()
        staff.active = False
        staff.removed_at = moment
        await staff.save(update_fields=["active", "removed_at"])
        await audit.record(
            actor.merchant_id,
            "staff.remove",
            by=actor,
            now=moment,
            staff_id=staff.id,
            name=staff.display_name,
            old=StaffRole(staff.role).value,
        )
    return staff


async def transfer_ownership(
    seat: Staff, staff_id: int, *, now: datetime | None = None
) -> Transfer:
    """The owner makes someone else owner and becomes a manager, in one step."""
    _require_owner(seat)
    async with in_transaction():
        actor = await _lock_shop(seat)
        staff = await _member(actor.merchant_id, staff_id)
        if staff.id == actor.id:
            raise StaffNotFound()
        old = StaffRole(staff.role)
        staff.role = StaffRole.OWNER
        await staff.save(update_fields=["role"])
        actor.role = StaffRole.MANAGER
        await actor.save(update_fields=["role"])
        await audit.record(
            actor.merchant_id,
            "staff.transfer",
            by=actor,
            now=now,
            staff_id=staff.id,
            name=staff.display_name,
            old=old.value,
            from_name=actor.display_name,
        )
    return Transfer(new_owner=staff, old_owner=actor)


async def invite_staff(
    seat: Staff, role: StaffRole, *, ttl: timedelta, now: datetime | None = None
) -> StaffInvite:
    """An owner makes a one-time link for a new owner, manager or cashier."""
    _require_owner(seat)
    role = StaffRole(role)
    async with in_transaction():
        merchant = await Merchant.get(id=seat.merchant_id)
        invite = await create_staff_invite(merchant, role, ttl=ttl, created_by=seat, now=now)
        await audit.record(
            seat.merchant_id,
            "staff.invite",
            by=seat,
            now=now,
            invite_id=invite.id,
            role=role.value,
        )
    return invite


async def pending_invites(seat: Staff, *, now: datetime | None = None) -> list[StaffInvite]:
    """The shop's links nobody has used yet, that have neither expired nor been revoked."""
    _require_owner(seat)
    return await StaffInvite.filter(
        merchant_id=seat.merchant_id,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=ensure_utc(now),
    ).order_by("expires_at", "id")


async def revoke_invite(
    seat: Staff, invite_id: int, *, now: datetime | None = None
) -> StaffInvite:
    """Withdraw a pending link; whoever opens it afterwards is told it was withdrawn."""
    _require_owner(seat)
    moment = ensure_utc(now)
    async with in_transaction():
        invite = await StaffInvite.select_for_update().get_or_none(
            id=invite_id, merchant_id=seat.merchant_id
        )
        if (
            invite is None
            or invite.used_at is not None
            or invite.revoked_at is not None
            or invite.expires_at <= moment
        ):
            raise InviteInvalid()
        invite.revoked_at = moment
        await invite.save(update_fields=["revoked_at"])
        await audit.record(
            seat.merchant_id,
            "staff.invite_revoke",
            by=seat,
            now=moment,
            invite_id=invite.id,
            role=StaffRole(invite.role).value,
        )
    return invite
