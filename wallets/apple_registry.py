"""Pass rows and device registrations: the state behind the PassKit web service.

Other code calls ``pass_changed`` after anything a pass shows has changed (a stamp, a voucher,
a campaign line); it moves the pass's update tag and returns the push tokens to notify.

A left or erased member's pass is *retired* in two steps: ``start_retiring`` moves the tag once
more and returns the tokens for one last push; the pass then stays "retiring" (old token still
valid, no further pushes) until every device has fetched the voided copy or unregistered, or
``RETIRING_GRACE`` is over (``retire_overdue_passes``). Only then do the registrations go and
the token change. Deleting them at once would leave the phone with a live-looking card: Wallet
answers the push by asking which of its passes changed, and a device with no registration is
told "none" and never downloads the voided pass.

A campaign to Apple Wallet writes here twice removed from the push: the composer puts the line
on the pass (``put_campaign_line``) when it composes the delivery, and the Apple Wallet channel
then sees this module only through ``PassRegistry``, the read-only store it is given (the push
tokens of a pass). An adapter never touches the database, and what its pushes found out (dead
push tokens) is forgotten here by whoever sent them (``forget_push_tokens``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from models import Membership, PassRegistration, WalletPass
from models.enums import MembershipStatus

SERIAL_BYTES = 16
# Wallet wants at least 16 characters; 32 random bytes are 43 characters, 256 bits.
AUTH_TOKEN_BYTES = 32
CAMPAIGN_MESSAGE_MAX = 200
RETIRING_GRACE = timedelta(days=7)
"""How long a voided pass waits for its devices to fetch it after the last push.

A phone that is off, in flight mode or without data gets the push (APNs keeps the latest one)
when it is back and only then fetches; a week covers a holiday. Until then the registrations
(device library ids and push tokens, nothing else about the person) and the old token are
kept for exactly this purpose; afterwards ``retire_overdue_passes`` deletes them.
"""


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
    """Record the device; a retiring pass takes no new devices (UNAUTHORIZED): the copy that
    device holds is the voided one already, and nothing will be pushed to it again."""
    existing = await PassRegistration.get_or_none(
        wallet_pass_id=wallet_pass.id, device_library_identifier=device_library_identifier
    )
    retiring = wallet_pass.retiring_since is not None and not await _rejoined(wallet_pass)
    if existing is None and retiring:
        return Registration.UNAUTHORIZED
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
    """Forget the device; the last device of a retiring pass leaving retires the pass."""
    async with in_transaction():
        locked = await WalletPass.select_for_update().get_or_none(id=wallet_pass.id)
        if locked is None:
            return False
        deleted = await PassRegistration.filter(
            wallet_pass_id=locked.id, device_library_identifier=device_library_identifier
        ).delete()
        if (
            locked.retiring_since is not None
            and not await _rejoined(locked)
            and not await PassRegistration.exists(wallet_pass_id=locked.id)
        ):
            await _retire(locked)
    return deleted > 0


async def serials_updated_since(
    device_library_identifier: str, since: int | None, *, now: datetime | None = None
) -> UpdatedSerials | None:
    """The device's passes changed after tag ``since`` (all of them without one); None if none.

    A retiring pass among them is noted on the device's registration: the download that
    follows (which names no device) may then retire that registration.
    """
    query = PassRegistration.filter(device_library_identifier=device_library_identifier)
    if since is not None:
        query = query.filter(wallet_pass__update_tag__gt=since)
    rows = await query.values_list(
        "id",
        "wallet_pass__serial_number",
        "wallet_pass__update_tag",
        "wallet_pass__retiring_since",
    )
    if not rows:
        return None
    asking = [int(row_id) for row_id, _, _, retiring in rows if retiring is not None]
    if asking:
        await PassRegistration.filter(id__in=asking, retiring_asked_at__isnull=True).update(
            retiring_asked_at=ensure_utc(now)
        )
    serials = sorted({str(serial) for _, serial, _, _ in rows})
    return UpdatedSerials(serials, str(max(int(tag) for _, _, tag, _ in rows)))


async def _touch(
    wallet_pass_filter: dict[str, object], campaign_message: str | None, now: datetime | None
) -> list[str]:
    moment = ensure_utc(now)
    async with in_transaction():
        wallet_pass = await WalletPass.select_for_update().get_or_none(**wallet_pass_filter)
        if wallet_pass is None:
            return []  # never downloaded: no device to tell
        if wallet_pass.retiring_since is not None and not await _rejoined(wallet_pass):
            return []  # voided and pushed once already: its devices hear nothing more
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
    _check_line(campaign_message)
    if not await WalletPass.filter(membership_id=membership_id).exists():
        # Most members never download a pass, and every stamp asks: one look, not a
        # transaction. A pass made just after it is drawn as the membership is then anyway.
        return []
    return await _touch({"membership_id": membership_id}, campaign_message, now)


def _check_line(campaign_message: str | None) -> None:
    if campaign_message is not None and len(campaign_message) > CAMPAIGN_MESSAGE_MAX:
        raise ValueError(f"a pass campaign message has at most {CAMPAIGN_MESSAGE_MAX} characters")


def campaign_line(push_text: str, merchant_name: str) -> str:
    """What a pass's campaign field shows for a campaign's push text: one line (the lock screen
    shows the field as one), or the shop's name when the campaign has no push text."""
    return " ".join(push_text.split()) or merchant_name


async def put_campaign_line(serial_number: str, text: str, *, now: datetime | None = None) -> None:
    """Show ``text`` as the campaign line of the pass with that serial and mark it changed.

    The composer calls this while composing an Apple Wallet delivery, before the channel
    pushes: the pass is the message. A retried delivery is composed again and puts the same
    line again, which only moves the tag once more: harmless, the device fetches the same pass.
    An unknown, never downloaded or retiring pass is left as it is. ValueError when ``text``
    is longer than the pass holds (``CAMPAIGN_MESSAGE_MAX``); the pass is not touched then.
    """
    _check_line(text)
    await _touch({"serial_number": serial_number}, text, now)


async def forget_push_tokens(push_tokens: Iterable[str]) -> int:
    """Drop every registration of push tokens APNs called invalid (410); how many went.

    A Wallet push token belongs to a device and a pass type, so it goes from every pass.
    """
    tokens = sorted(set(push_tokens))
    if not tokens:
        return 0
    return await PassRegistration.filter(push_token__in=tokens).delete()


class PassRegistry:
    """The registry as the Apple Wallet channel's store (``channels.apple_wallet.channel``
    defines what it needs; this is the only implementation, over the database). Read-only:
    a send changes no pass, the composer did that already (``put_campaign_line``)."""

    async def push_tokens(self, serial_number: str) -> list[str]:
        """The push tokens of the pass's devices; [] for an unknown or never downloaded pass,
        and for a retiring one (its last push is done) unless its member joined again.

        One query and no write, so unlike ``_rejoined`` it leaves a rejoined member's
        ``retiring_since`` for the next change of the pass to clear.
        """
        tokens = await PassRegistration.filter(
            Q(wallet_pass__retiring_since__isnull=True)
            | Q(wallet_pass__membership__status=MembershipStatus.ACTIVE),
            wallet_pass__serial_number=serial_number,
        ).values_list("push_token", flat=True)
        return sorted({str(token) for token in tokens})


async def _rejoined(wallet_pass: WalletPass) -> bool:
    """A retiring pass whose member joined the card again is live again: it stops retiring,
    keeps its devices and token, and is pushed like any other pass. True then."""
    if wallet_pass.retiring_since is None:
        return False
    if not await Membership.exists(id=wallet_pass.membership_id, status=MembershipStatus.ACTIVE):
        return False
    await WalletPass.filter(id=wallet_pass.id).update(retiring_since=None)
    await PassRegistration.filter(wallet_pass_id=wallet_pass.id).update(retiring_asked_at=None)
    wallet_pass.retiring_since = None
    return True


async def _retire(wallet_pass: WalletPass) -> int:
    """Inside the caller's transaction: the devices go, the token changes, the pass is done
    retiring. Every request with the old token is a 401 from now on."""
    gone = await PassRegistration.filter(wallet_pass_id=wallet_pass.id).delete()
    wallet_pass.authentication_token = secrets.token_urlsafe(AUTH_TOKEN_BYTES)
    wallet_pass.retiring_since = None
    await wallet_pass.save(update_fields=["authentication_token", "retiring_since"])
    return gone


async def start_retiring(membership_id: int, *, now: datetime | None = None) -> list[str]:
    """A left or erased member: void the pass; the push tokens for its one last push.

    The pass's content is voided already (the membership is not active); this moves its tag so
    the devices fetch it, and marks it retiring. Without devices there is nothing to wait for:
    the token changes at once. A pass that is retiring already gets no second push ([]).
    """
    moment = ensure_utc(now)
    async with in_transaction():
        wallet_pass = await WalletPass.select_for_update().get_or_none(membership_id=membership_id)
        if wallet_pass is None or wallet_pass.retiring_since is not None:
            return []
        tokens = await PassRegistration.filter(wallet_pass_id=wallet_pass.id).values_list(
            "push_token", flat=True
        )
        if not tokens:
            await _retire(wallet_pass)
            return []
        wallet_pass.retiring_since = moment
        wallet_pass.update_tag = _next_tag(wallet_pass.update_tag, moment)
        wallet_pass.updated_at = moment
        await wallet_pass.save(update_fields=["retiring_since", "update_tag", "updated_at"])
    return sorted({str(token) for token in tokens})


async def voided_pass_fetched(wallet_pass: WalletPass) -> bool:
    """A retiring pass was served with its old token: one device that asked has it now.

    The download names no device, so it retires one registration among those that asked for
    the pass since the push (the earliest): each asking device fetches once, so the count comes
    out right whichever row goes. A download without an ask (a pull-to-refresh) retires none.
    When no registration is left, the pass is retired. True then. A live pass: False, with no
    query.
    """
    if wallet_pass.retiring_since is None:
        return False
    async with in_transaction():
        locked = await WalletPass.select_for_update().get_or_none(id=wallet_pass.id)
        if locked is None or locked.retiring_since is None or await _rejoined(locked):
            return False
        asked = (
            await PassRegistration.filter(
                wallet_pass_id=locked.id, retiring_asked_at__isnull=False
            )
            .order_by("retiring_asked_at", "id")
            .first()
        )
        if asked is None:
            return False
        await PassRegistration.filter(id=asked.id).delete()
        if await PassRegistration.exists(wallet_pass_id=locked.id):
            return False
        await _retire(locked)
    return True


async def retire_overdue_passes(
    *, now: datetime | None = None, grace: timedelta = RETIRING_GRACE
) -> int:
    """Retire every pass retiring for longer than ``grace``; how many this call retired.

    Safe with any number of processes running it at once: each pass is claimed by one
    conditional UPDATE (still retiring and overdue), which only one of them wins.
    """
    cutoff = ensure_utc(now) - grace
    due = await WalletPass.filter(retiring_since__lte=cutoff).values_list(
        "id", "membership__status"
    )
    retired = 0
    for pass_id, status in due:
        if status == MembershipStatus.ACTIVE:
            # Joined the card again: the pass is live, its devices stay.
            await WalletPass.filter(id=pass_id).update(retiring_since=None)
            continue
        async with in_transaction():
            claimed = await WalletPass.filter(id=pass_id, retiring_since__lte=cutoff).update(
                retiring_since=None, authentication_token=secrets.token_urlsafe(AUTH_TOKEN_BYTES)
            )
            if claimed:
                await PassRegistration.filter(wallet_pass_id=pass_id).delete()
                retired += 1
    return retired
