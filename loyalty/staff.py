"""Who may do what for which merchant. Every staff action is checked here: role and merchant."""

from __future__ import annotations

from enum import StrEnum

from models import Merchant, Staff
from models.enums import StaffRole


class Permission(StrEnum):
    STAMP = "stamp"
    REDEEM = "redeem"
    CAMPAIGNS = "campaigns"
    STATISTICS = "statistics"
    STAFF = "staff"
    OVERRIDE_COOLDOWN = "override_cooldown"
    # Cancel an issued voucher for good (a mistake at the till, a reward given by hand).
    VOID_VOUCHER = "void_voucher"
    # Create, change, pause and retire cards; the shop's colours and logo. Owners only.
    CARDS = "cards"
    # A spreadsheet of every member: personal data, so the owner's alone.
    EXPORT_MEMBERS = "export_members"
    # The counter poster with the card's join QR, as PDF and PNG.
    PRINT_POSTER = "print_poster"
    # Connect or disconnect the shop's own messenger accounts (its bot's token is the shop's
    # voice to every customer): owners only.
    OWN_BOT = "own_bot"


_GRANTS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.OWNER: frozenset(Permission),
    StaffRole.MANAGER: frozenset(
        {
            Permission.STAMP,
            Permission.REDEEM,
            Permission.CAMPAIGNS,
            Permission.STATISTICS,
            Permission.VOID_VOUCHER,
            Permission.PRINT_POSTER,
        }
    ),
    StaffRole.CASHIER: frozenset({Permission.STAMP, Permission.REDEEM}),
}


def allows(staff: Staff, permission: Permission) -> bool:
    return staff.active and permission in _GRANTS[StaffRole(staff.role)]


async def staff_roles(telegram_user_id: int) -> list[Staff]:
    """Every active staff seat of this Telegram user, one per merchant."""
    return await Staff.filter(telegram_user_id=telegram_user_id, active=True).order_by("id")


async def seat_at(telegram_user_id: int, merchant_id: int, permission: Permission) -> Staff | None:
    """The user's seat at ``merchant_id`` if it grants ``permission``; None otherwise."""
    staff = await Staff.get_or_none(
        telegram_user_id=telegram_user_id, merchant_id=merchant_id, active=True
    )
    return staff if staff is not None and allows(staff, permission) else None


async def shop_of(seat: Staff) -> Merchant:
    """The shop a seat is at (read once per seat object; later calls reuse it)."""
    return await seat.merchant


async def list_staff(merchant_id: int) -> list[Staff]:
    return await Staff.filter(merchant_id=merchant_id, active=True).order_by("id")
