"""Pass rows and device registrations: the state behind the PassKit web service.

Other code calls ``pass_changed`` after anything a pass shows has changed (a stamp, a voucher,
a campaign line); it moves the pass's update tag and returns the push tokens to notify.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from models import Membership, PassRegistration, WalletPass

SERIAL_BYTES = 16
# Wallet wants at least 16 characters; 32 random bytes are 43 characters, 256 bits.
AUTH_TOKEN_BYTES = 32
CAMPAIGN_MESSAGE_MAX = 200


class Registration(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True, slots=True)
class UpdatedSerials:
    serial_numbers: list[str]
    last_updated: str


def _tag(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _next_tag(previous: int, moment: datetime) -> int:
    # Strictly increasing per pass even when the clock stands still or steps back.
    return max(_tag(moment), previous + 1)


async def ensure_wallet_pass(membership_id: int, *, now: datetime | None = None) -> WalletPass:
    """The membership's pass row, made with a fresh serial and token the first time."""
    existing = await WalletPass.get_or_none(membership_id=membership_id)
    if existing is not None:
        return existing
    await Membership.get(id=membership_id)  # DoesNotExist for an unknown membership
    moment = ensure_utc(now)
    try:
        return await WalletPass.create(
            membership_id=membership_id,
            serial_number=secrets.token_hex(SERIAL_BYTES),
            authentication_token=secrets.token_urlsafe(AUTH_TOKEN_BYTES),
            update_tag=_tag(moment),
            updated_at=moment,
        )
    except IntegrityError:
        # Two downloads raced; the other one made the row.
        return await WalletPass.get(membership_id=membership_id)


async def authorized_pass(serial_number: str, authorization: str | None) -> WalletPass | None:
    """The pass when ``authorization`` is ``ApplePass <its token>``; None otherwise."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme != "ApplePass" or not token:
        return None
    wallet_pass = await WalletPass.get_or_none(serial_number=serial_number)
    if wallet_pass is None:
        return None
    expected = wallet_pass.authentication_token.encode()
    if not hmac.compare_digest(token.strip().encode(), expected):
        return None
    return wallet_pass


async def register_device(
    wallet_pass: WalletPass, device_library_identifier: str, push_token: str
) -> Registration:
    existing = await PassRegistration.get_or_none(
        wallet_pass_id=wallet_pass.id, device_library_identifier=device_library_identifier
    )
    if existing is None:
        try:
            await PassRegistration.create(
                wallet_pass_id=wallet_pass.id,
                device_library_identifier=device_library_identifier,
                push_token=push_token,
            )
            return Registration.CREATED
        except IntegrityError:
            existing = await PassRegistration.get(
                wallet_pass_id=wallet_pass.id,
                device_library_identifier=device_library_identifier,
            )
    if existing.push_token != push_token:
        # The device got a new push token (restore from backup, reinstall).
        existing.push_token = push_token
        await existing.save(update_fields=["push_token", "updated_at"])
    return Registration.UPDATED


async def unregister_device(wallet_pass: WalletPass, device_library_identifier: str) -> bool:
    deleted = await PassRegistration.filter(
        wallet_pass_id=wallet_pass.id, device_library_identifier=device_library_identifier
    ).delete()
    return deleted > 0


async def serials_updated_since(
    device_library_identifier: str, since: int | None
) -> UpdatedSerials | None:
    """The device's passes changed after tag ``since`` (all of them without one); None if none."""
    query = PassRegistration.filter(device_library_identifier=device_library_identifier)
    if since is not None:
        query = query.filter(wallet_pass__update_tag__gt=since)
    rows = await query.values_list("wallet_pass__serial_number", "wallet_pass__update_tag")
    if not rows:
        return None
    serials = sorted({str(serial) for serial, _ in rows})
    return UpdatedSerials(serials, str(max(int(tag) for _, tag in rows)))


async def _touch(
    wallet_pass_filter: dict[str, object], campaign_message: str | None, now: datetime | None
) -> list[str]:
    if campaign_message is not None and len(campaign_message) > CAMPAIGN_MESSAGE_MAX:
        raise ValueError(f"a pass campaign message has at most {CAMPAIGN_MESSAGE_MAX} characters")
    moment = ensure_utc(now)
    async with in_transaction():
        wallet_pass = await WalletPass.select_for_update().get_or_none(**wallet_pass_filter)
        if wallet_pass is None:
            return []  # never downloaded: no device to tell
        wallet_pass.update_tag = _next_tag(wallet_pass.update_tag, moment)
        wallet_pass.updated_at = moment
        fields = ["update_tag", "updated_at"]
        if campaign_message is not None:
            wallet_pass.campaign_message = campaign_message
            fields.append("campaign_message")
        await wallet_pass.save(update_fields=fields)
    tokens = await PassRegistration.filter(wallet_pass_id=wallet_pass.id).values_list(
        "push_token", flat=True
    )
    return sorted({str(token) for token in tokens})


async def pass_changed(
    membership_id: int, *, campaign_message: str | None = None, now: datetime | None = None
) -> list[str]:
    """Mark the membership's pass as changed; the push tokens of every registered device.

    ``campaign_message`` replaces the pass's campaign line (Wallet shows it on the lock screen
    because the field changed); None leaves it as it is. No pass yet: nothing to notify, [].
    """
    return await _touch({"membership_id": membership_id}, campaign_message, now)


async def pass_changed_by_serial(
    serial_number: str, *, campaign_message: str | None = None, now: datetime | None = None
) -> list[str]:
    """``pass_changed`` for a channel that addresses the pass by its serial number."""
    return await _touch({"serial_number": serial_number}, campaign_message, now)


async def forget_push_token(push_token: str) -> int:
    """Drop every registration of a push token APNs called invalid (410); how many went."""
    return await PassRegistration.filter(push_token=push_token).delete()


async def retire_pass(membership_id: int) -> int:
    """After the last push of a voided pass: forget its devices and change its token.

    For a left or erased member. The device's copy stays a voided pass, and nothing that
    copy knows (its old token) reaches this service any more: every request with it is a
    401, and no device is pushed again. Returns how many registrations went.
    """
    async with in_transaction():
        wallet_pass = await WalletPass.select_for_update().get_or_none(membership_id=membership_id)
        if wallet_pass is None:
            return 0
        gone = await PassRegistration.filter(wallet_pass_id=wallet_pass.id).delete()
        wallet_pass.authentication_token = secrets.token_urlsafe(AUTH_TOKEN_BYTES)
        await wallet_pass.save(update_fields=["authentication_token"])
    return gone
