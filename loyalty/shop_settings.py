"""A shop's own settings changed from the chat: name, time zone, language, location, first card.

The rules of each value live here (what a name may be, which zones exist, which coordinates are
on Earth), so the walkthrough, a later settings screen and the command line refuse the same
things with the same typed errors. Every change is written with its audit entry in one
transaction, and changes nothing when refused. The seat is re-read by the caller on every
action (``loyalty.staff.seat_at``); these functions check once more that it may set the shop up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.clock import ensure_utc
from loyalty.errors import LoyaltyError, NotFound
from loyalty.merchants import CardSpec, MerchantSpec, NewMerchant, create_merchant
from loyalty.merchants import create_staff_invite as _create_staff_invite
from loyalty.staff import Permission, allows, shop_of
from models import Card, Merchant, Staff, StaffInvite
from models.enums import StaffRole

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

# The shop's default language: one the bot speaks (locales.SUPPORTED, kept here as a rule).
SHOP_LANGUAGES = ("en", "he", "fa", "th", "uk")
MAX_NAME = 120
# The zones offered as buttons: the first markets, then UTC.
COMMON_ZONES = (
    "Asia/Jerusalem",
    "Asia/Tehran",
    "Asia/Bangkok",
    "Europe/Kyiv",
    "Europe/London",
    "UTC",
)
# Where those markets are, for the rare case the zone cannot be read off the map (a point at
# sea): the nearest of these is taken, and the answer says it is a guess.
_ZONE_PLACES = {
    "Asia/Jerusalem": (31.78, 35.22),
    "Asia/Tehran": (35.69, 51.39),
    "Asia/Bangkok": (13.75, 100.50),
    "Europe/Kyiv": (50.45, 30.52),
    "Europe/London": (51.51, -0.13),
}


class ShopSettingRefused(LoyaltyError):
    code = "shop_setting_refused"


class InvalidShopName(ShopSettingRefused):
    code = "invalid_shop_name"

    def __init__(self) -> None:
        super().__init__(f"A shop name is 1 to {MAX_NAME} characters.")


class UnknownTimezone(ShopSettingRefused):
    code = "unknown_timezone"

    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown time zone {name[:64]!r}.")
        self.name = name[:64]


class UnsupportedLanguage(ShopSettingRefused):
    code = "unsupported_language"

    def __init__(self) -> None:
        super().__init__("The shop's language is one of " + ", ".join(SHOP_LANGUAGES) + ".")


class InvalidLocation(ShopSettingRefused):
    code = "invalid_location"

    def __init__(self) -> None:
        super().__init__("A latitude is -90 to 90 degrees and a longitude -180 to 180.")


class InvalidPhone(ShopSettingRefused):
    code = "invalid_phone"

    def __init__(self) -> None:
        super().__init__("A phone number is + and the country code, then 8 to 15 digits in all.")


class NotTheOwner(NotFound):
    """The seat may not set the shop up (or is of another shop): indistinguishable on purpose."""

    code = "not_the_owner"

    def __init__(self) -> None:
        super().__init__("Only the shop's owner sets the shop up.")


# -- the values ---------------------------------------------------------------------------------


_PHONE_SEPARATORS = str.maketrans("", "", " -().\u00a0")


def shop_phone(text: str) -> str:
    """E.164: ``+`` and 8 to 15 digits, the country code first (``+380441234567``); spaces,
    dashes, dots and brackets as people write numbers are dropped. A ``tel:`` link of it dials
    from any country, which is what the customers' 📞 button needs."""
    raw = text.strip().translate(_PHONE_SEPARATORS)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    digits = raw[1:]
    if not (
        raw.startswith("+")
        and digits.isascii()
        and digits.isdecimal()
        and 8 <= len(digits) <= 15
        and digits[0] != "0"
    ):
        raise InvalidPhone()
    return raw


async def set_shop_phone(
    seat: Staff, text: str | None, *, now: datetime | None = None
) -> Merchant:
    """The owner sets the shop's phone (``None`` removes it); refused unless E.164-ish."""
    phone = shop_phone(text) if text is not None else None
    async with in_transaction():
        shop = await _shop(seat)
        if phone != shop.phone:
            await audit.record(
                shop.id, "shop.phone", by=seat, now=now, old=shop.phone or "", new=phone or ""
            )
            shop.phone = phone
            await shop.save(update_fields=["phone"])
    return shop


def shop_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidShopName()
    return name


def timezone_name(text: str) -> str:
    """An IANA zone name as ``zoneinfo`` knows it; typed case does not matter."""
    name = text.strip()
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        raise UnknownTimezone(name)
    exact = {zone.lower(): zone for zone in _zones()}.get(name.lower(), name)
    try:
        ZoneInfo(exact)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezone(name) from exc
    return exact


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def shop_language(code: str) -> str:
    if code not in SHOP_LANGUAGES:
        raise UnsupportedLanguage()
    return code


def location(latitude: float, longitude: float) -> tuple[float, float]:
    if not all(math.isfinite(value) for value in (latitude, longitude)):
        raise InvalidLocation()
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise InvalidLocation()
    return latitude, longitude


@dataclass(frozen=True, slots=True)
class ZoneGuess:
    zone: str
    # False: the nearest of the first markets' zones, not the zone of that very point.
    exact: bool


@cache
def _finder() -> TimezoneFinder:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def zone_at(latitude: float, longitude: float) -> ZoneGuess:
    """The time zone at a point, read offline from the zone boundaries (timezonefinder)."""
    latitude, longitude = location(latitude, longitude)
    found = _finder().timezone_at(lng=longitude, lat=latitude)
    if found:
        try:
            return ZoneGuess(timezone_name(found), exact=True)
        except UnknownTimezone:
            pass  # a zone newer than this system's tz database: take the nearest market's
    nearest = min(
        _ZONE_PLACES,
        key=lambda zone: _distance((latitude, longitude), _ZONE_PLACES[zone]),
    )
    return ZoneGuess(nearest, exact=False)


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in radians (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * math.asin(min(1.0, math.sqrt(h)))


# -- creating a shop and its owner's link ------------------------------------------------------


async def create_shop(
    name: str,
    card: CardSpec,
    *,
    operator_telegram_id: int,
    timezone: str,
    language: str,
    invite_ttl: timedelta,
    now: datetime | None = None,
) -> NewMerchant:
    """An operator creates a shop from the chat: merchant, first card, owner invite, audit."""
    spec = MerchantSpec(name=shop_name(name), timezone=timezone, default_language=language)
    async with in_transaction():
        created = await create_merchant(spec, card, invite_ttl=invite_ttl, now=now)
        await audit.record(
            created.merchant.id,
            "shop.create",
            actor_telegram_id=operator_telegram_id,
            now=now,
            name=created.merchant.name,
            card_id=created.card.id,
        )
    return created


async def reissue_owner_invite(
    merchant_id: int, *, ttl: timedelta, now: datetime | None = None
) -> tuple[Merchant, StaffInvite]:
    """A new one-time owner link for a shop whose first one was lost or ran out; the operator's
    earlier owner links still unused stop working, so only the newest one makes an owner."""
    moment = ensure_utc(now)
    async with in_transaction():
        merchant = await Merchant.get_or_none(id=merchant_id)
        if merchant is None:
            raise NotFound(f"No shop #{merchant_id}.")
        await StaffInvite.filter(
            merchant_id=merchant.id,
            role=StaffRole.OWNER,
            created_by_id__isnull=True,
            used_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=moment)
        invite = await _create_staff_invite(
            merchant, StaffRole.OWNER, ttl=ttl, created_by=None, now=now
        )
        await audit.record(
            merchant.id, "staff.invite", now=now, role=StaffRole.OWNER.value, via="cli"
        )
    return merchant, invite


# -- the owner's first-run set-up --------------------------------------------------------------


def _owner(seat: Staff) -> None:
    if not allows(seat, Permission.STAFF):
        raise NotTheOwner()


async def _shop(seat: Staff) -> Merchant:
    _owner(seat)
    return await Merchant.select_for_update().get(id=seat.merchant_id)


async def needs_walkthrough(seat: Staff) -> bool:
    """The owner of a shop never set up: their first ``/admin`` walks through the essentials."""
    if not allows(seat, Permission.STAFF):
        return False
    # Fetched onto the seat, so the admin menu that follows reads the shop from it.
    await seat.fetch_related("merchant")
    return (await shop_of(seat)).onboarded_at is None


async def fresh_shop(seat: Staff) -> Merchant:
    """The seat's shop as it is now (after a step changed it), kept on the seat for the rest of
    the update."""
    await seat.fetch_related("merchant")
    return await shop_of(seat)


async def finish_walkthrough(seat: Staff, *, now: datetime | None = None) -> bool:
    """Done or skipped; True the first time only (a stale button finds it done)."""
    _owner(seat)
    done = await Merchant.filter(id=seat.merchant_id, onboarded_at__isnull=True).update(
        onboarded_at=ensure_utc(now)
    )
    return done == 1


async def rename_shop(seat: Staff, text: str, *, now: datetime | None = None) -> Merchant:
    name = shop_name(text)
    async with in_transaction():
        shop = await _shop(seat)
        if name != shop.name:
            await audit.record(shop.id, "shop.rename", by=seat, now=now, old=shop.name, new=name)
            shop.name = name
            await shop.save(update_fields=["name"])
    return shop


async def set_shop_timezone(seat: Staff, text: str, *, now: datetime | None = None) -> Merchant:
    zone = timezone_name(text)
    async with in_transaction():
        shop = await _shop(seat)
        if zone != shop.timezone:
            await audit.record(
                shop.id, "shop.timezone", by=seat, now=now, old=shop.timezone, new=zone
            )
            shop.timezone = zone
            await shop.save(update_fields=["timezone"])
    return shop


async def set_shop_language(seat: Staff, code: str, *, now: datetime | None = None) -> Merchant:
    language = shop_language(code)
    async with in_transaction():
        shop = await _shop(seat)
        if language != shop.default_language:
            await audit.record(
                shop.id, "shop.language", by=seat, now=now, old=shop.default_language,
                new=language,
            )  # fmt: skip
            shop.default_language = language
            await shop.save(update_fields=["default_language"])
    return shop


@dataclass(frozen=True, slots=True)
class LocatedShop:
    shop: Merchant
    zone: ZoneGuess
    # The zone changed with the location (it was another one before).
    zone_changed: bool


async def set_shop_location(
    seat: Staff, latitude: float, longitude: float, *, now: datetime | None = None
) -> LocatedShop:
    """Where the shop is (passes show near it), and the time zone of that place."""
    latitude, longitude = location(latitude, longitude)
    guess = zone_at(latitude, longitude)
    async with in_transaction():
        shop = await _shop(seat)
        await audit.record(
            shop.id, "shop.location", by=seat, now=now, latitude=latitude, longitude=longitude,
            zone=guess.zone, exact_zone=guess.exact,
        )  # fmt: skip
        changed = guess.zone != shop.timezone
        if changed:
            await audit.record(
                shop.id, "shop.timezone", by=seat, now=now, old=shop.timezone, new=guess.zone,
                source="location",
            )  # fmt: skip
        shop.latitude, shop.longitude, shop.timezone = latitude, longitude, guess.zone
        await shop.save(update_fields=["latitude", "longitude", "timezone"])
    return LocatedShop(shop=shop, zone=guess, zone_changed=changed)


@dataclass(frozen=True, slots=True)
class FirstCard:
    id: int
    name: str
    stamps_needed: int
    reward_text: str


async def first_card(seat: Staff) -> FirstCard | None:
    _owner(seat)
    card = await Card.filter(merchant_id=seat.merchant_id).order_by("id").first()
    if card is None:
        return None
    return FirstCard(card.id, card.name, card.stamps_needed, card.reward_text)


async def edit_first_card(
    seat: Staff,
    card_id: int,
    *,
    name: str | None = None,
    stamps_needed: int | None = None,
    reward_text: str | None = None,
    now: datetime | None = None,
) -> FirstCard:
    """Name, stamps needed and reward of a card of the seat's shop; None keeps a value."""
    _owner(seat)
    async with in_transaction():
        card = await Card.select_for_update().get_or_none(id=card_id, merchant_id=seat.merchant_id)
        if card is None:
            raise NotTheOwner()
        wanted = CardSpec(
            name=card.name if name is None else " ".join(name.split()),
            stamps_needed=card.stamps_needed if stamps_needed is None else stamps_needed,
            reward_text=card.reward_text if reward_text is None else " ".join(reward_text.split()),
        )
        wanted.validate()
        changes: dict[str, audit.JsonValue] = {}
        for field, value in (
            ("name", wanted.name),
            ("stamps_needed", wanted.stamps_needed),
            ("reward_text", wanted.reward_text),
        ):
            if getattr(card, field) != value:
                changes[field] = {"old": getattr(card, field), "new": value}
                setattr(card, field, value)
        if changes:
            await audit.record(
                card.merchant_id, "card.edit", by=seat, now=now, card_id=card.id, changes=changes
            )
            await card.save(update_fields=list(changes))
    return FirstCard(card.id, card.name, card.stamps_needed, card.reward_text)


async def set_scan_adds_stamp(seat: Staff, on: bool, *, now: datetime | None = None) -> Merchant:
    """The opt-in "scanning adds 1 stamp at once": the owner's choice, audited."""
    async with in_transaction():
        shop = await _shop(seat)
        if on != shop.scan_adds_stamp:
            await audit.record(
                shop.id, "shop.scan_adds_stamp", by=seat, now=now, old=shop.scan_adds_stamp,
                new=on,
            )  # fmt: skip
            shop.scan_adds_stamp = on
            await shop.save(update_fields=["scan_adds_stamp"])
    return shop
