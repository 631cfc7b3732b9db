"""Creating merchants and cards, and the staff invites that bring people in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.clock import ensure_utc
from loyalty.errors import (
    InvalidCardSettings,
    InvalidMerchantSettings,
    InviteInvalid,
    InviteRevoked,
)
from loyalty.tokens import new_token
from models import Card, Merchant, Staff, StaffInvite
from models.enums import StaffRole

MAX_STAMPS_NEEDED = 100
MAX_VALIDITY_DAYS = 3650
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_RANK = {StaffRole.CASHIER: 0, StaffRole.MANAGER: 1, StaffRole.OWNER: 2}


@dataclass(frozen=True, slots=True)
class CardSpec:
    name: str
    stamps_needed: int
    reward_text: str
    voucher_validity_days: int = 30
    max_stamps_per_call: int = 5
    stamp_cooldown_seconds: int = 300

    def validate(self) -> None:
        if not self.name.strip() or len(self.name) > 120:
            raise InvalidCardSettings("A card name is 1 to 120 characters.")
        if not 1 <= self.stamps_needed <= MAX_STAMPS_NEEDED:
            raise InvalidCardSettings(f"Stamps needed must be 1 to {MAX_STAMPS_NEEDED}.")
        if not self.reward_text.strip() or len(self.reward_text) > 200:
            raise InvalidCardSettings("A reward text is 1 to 200 characters.")
        if not 1 <= self.voucher_validity_days <= MAX_VALIDITY_DAYS:
            raise InvalidCardSettings(f"Voucher validity must be 1 to {MAX_VALIDITY_DAYS} days.")
        if not 1 <= self.max_stamps_per_call <= MAX_STAMPS_NEEDED:
            raise InvalidCardSettings("Stamps per visit must be 1 to 100.")
        if self.stamp_cooldown_seconds < 0:
            raise InvalidCardSettings("The cooldown cannot be negative.")


@dataclass(frozen=True, slots=True)
class MerchantSpec:
    name: str
    timezone: str = "UTC"
    default_language: str = "en"
    background_color: str = "#1F2937"
    foreground_color: str = "#FFFFFF"
    accent_color: str = "#F59E0B"

    def validate(self) -> None:
        if not self.name.strip() or len(self.name) > 120:
            raise InvalidMerchantSettings("A shop name is 1 to 120 characters.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidMerchantSettings(f"Unknown time zone {self.timezone!r}.") from exc
        for color in (self.background_color, self.foreground_color, self.accent_color):
            if not _COLOR.fullmatch(color):
                raise InvalidMerchantSettings(f"Colours are written #RRGGBB, not {color!r}.")


@dataclass(frozen=True, slots=True)
class NewMerchant:
    merchant: Merchant
    card: Card
    owner_invite: StaffInvite


async def create_card(merchant: Merchant, spec: CardSpec) -> Card:
    spec.validate()
    return await Card.create(
        merchant=merchant,
        name=spec.name.strip(),
        stamps_needed=spec.stamps_needed,
        reward_text=spec.reward_text.strip(),
        voucher_validity_days=spec.voucher_validity_days,
        max_stamps_per_call=spec.max_stamps_per_call,
        stamp_cooldown_seconds=spec.stamp_cooldown_seconds,
        join_token=new_token(),
    )


async def create_merchant(
    spec: MerchantSpec,
    card: CardSpec,
    *,
    invite_ttl: timedelta,
    now: datetime | None = None,
) -> NewMerchant:
    """A merchant with its first card and the one-time link that makes its owner."""
    spec.validate()
    card.validate()
    async with in_transaction():
        merchant = await Merchant.create(
            name=spec.name.strip(),
            timezone=spec.timezone,
            default_language=spec.default_language,
            background_color=spec.background_color.upper(),
            foreground_color=spec.foreground_color.upper(),
            accent_color=spec.accent_color.upper(),
        )
        new_card = await create_card(merchant, card)
        invite = await create_staff_invite(
            merchant, StaffRole.OWNER, ttl=invite_ttl, created_by=None, now=now
        )
    return NewMerchant(merchant=merchant, card=new_card, owner_invite=invite)


async def create_staff_invite(
    merchant: Merchant,
    role: StaffRole,
    *,
    ttl: timedelta,
    created_by: Staff | None,
    now: datetime | None = None,
) -> StaffInvite:
    return await StaffInvite.create(
        merchant=merchant,
        role=role,
        token=new_token(),
        created_by=created_by,
        expires_at=ensure_utc(now) + ttl,
    )


async def accept_staff_invite(
    token: str,
    *,
    telegram_user_id: int,
    display_name: str,
    now: datetime | None = None,
) -> Staff:
    """Use an invite exactly once; a second use, an expired, revoked or unknown token is
    refused (a revoked one says so, as the person was sent it by the shop)."""
    moment = ensure_utc(now)
    async with in_transaction():
        invite = await StaffInvite.select_for_update().get_or_none(token=token)
        if invite is None or invite.used_at is not None or invite.expires_at <= moment:
            raise InviteInvalid()
        if invite.revoked_at is not None:
            raise InviteRevoked()
        claimed = await StaffInvite.filter(
            id=invite.id, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=moment, used_by_telegram_id=telegram_user_id)
        if claimed != 1:
            raise InviteInvalid()
        staff = await Staff.get_or_none(
            merchant_id=invite.merchant_id, telegram_user_id=telegram_user_id
        )
        if staff is None:
            staff = await Staff.create(
                merchant_id=invite.merchant_id,
                telegram_user_id=telegram_user_id,
                display_name=display_name[:128],
                role=invite.role,
            )
            await audit.record(
                invite.merchant_id,
                "staff.join",
                by=staff,
                now=moment,
                role=StaffRole(staff.role).value,
            )
            return staff
        # An invite never lowers an active seat: an owner opening a cashier's link by mistake
        # stays owner (and the shop keeps its owner).
        if not (staff.active and _RANK[StaffRole(staff.role)] > _RANK[StaffRole(invite.role)]):
            staff.role = invite.role
        staff.active = True
        staff.removed_at = None
        staff.display_name = display_name[:128]
        await staff.save(update_fields=["role", "active", "removed_at", "display_name"])
        await audit.record(
            invite.merchant_id,
            "staff.join",
            by=staff,
            now=moment,
            role=StaffRole(staff.role).value,
        )
        return staff


async def merchant_name(merchant_id: int) -> str:
    """The shop's name, as its customers see it (another shop's card is named by it)."""
    names = await Merchant.filter(id=merchant_id).values_list("name", flat=True)
    return str(names[0]) if names else ""
