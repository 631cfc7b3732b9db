"""The rules of a shop's own settings: names, zones, places on Earth, and who may change them."""

from __future__ import annotations

import math

import pytest

from loyalty.errors import InvalidCardSettings
from loyalty.shop_settings import (
    InvalidLocation,
    InvalidShopName,
    NotTheOwner,
    UnknownTimezone,
    UnsupportedLanguage,
    edit_first_card,
    location,
    needs_walkthrough,
    rename_shop,
    set_shop_language,
    set_shop_location,
    shop_name,
    timezone_name,
    zone_at,
)
from models import AuditEntry, Card, Merchant, Staff
from models.enums import StaffRole
from tests import factories


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        (32.0853, 34.7818, "Asia/Jerusalem"),
        (35.6892, 51.3890, "Asia/Tehran"),
        (13.7563, 100.5018, "Asia/Bangkok"),
        (50.4501, 30.5234, "Europe/Kyiv"),
        (51.5072, -0.1276, "Europe/London"),
    ],
)
def test_the_zone_is_read_off_the_map_offline(
    latitude: float, longitude: float, zone: str
) -> None:
    guess = zone_at(latitude, longitude)

    assert (guess.zone, guess.exact) == (zone, True)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(90.01, 0.0), (-90.5, 0.0), (0.0, 180.01), (0.0, -181.0), (math.nan, 0.0), (0.0, math.inf)],
)
def test_a_place_off_the_earth_is_refused(latitude: float, longitude: float) -> None:
    with pytest.raises(InvalidLocation):
        location(latitude, longitude)
    with pytest.raises(InvalidLocation):
        zone_at(latitude, longitude)


def test_the_edges_of_the_map_are_places() -> None:
    assert location(90.0, 180.0) == (90.0, 180.0)
    assert location(-90.0, -180.0) == (-90.0, -180.0)


@pytest.mark.parametrize("typed", ["Mars/Olympus", "", "../../etc/passwd", "Europe/" + "x" * 80])
def test_unknown_zones_are_refused(typed: str) -> None:
    with pytest.raises(UnknownTimezone):
        timezone_name(typed)


def test_a_zone_is_found_whatever_its_case() -> None:
    assert timezone_name(" asia/BANGKOK ") == "Asia/Bangkok"


def test_a_shop_name_is_trimmed_and_bounded() -> None:
    assert shop_name("  Kafe \n Lviv ") == "Kafe Lviv"
    for bad in ("", "   ", "x" * 121):
        with pytest.raises(InvalidShopName):
            shop_name(bad)


@pytest.mark.usefixtures("db")
async def test_only_the_owner_changes_the_shop_and_a_refusal_writes_nothing() -> None:
    shop = await factories.merchant("Kafe Lviv", onboarded=False)
    owner = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=1, role=StaffRole.OWNER
    )
    manager = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=2, role=StaffRole.MANAGER
    )
    other = await factories.merchant("Other")

    assert await needs_walkthrough(owner) is True
    assert await needs_walkthrough(manager) is False
    with pytest.raises(NotTheOwner):
        await rename_shop(manager, "Mine now")
    with pytest.raises(NotTheOwner):
        await set_shop_location(manager, 1.0, 1.0)
    with pytest.raises(NotTheOwner):
        await edit_first_card(owner, other.card.id, name="Stolen")
    with pytest.raises(UnsupportedLanguage):
        await set_shop_language(owner, "de")
    with pytest.raises(InvalidCardSettings):
        await edit_first_card(owner, shop.card.id, stamps_needed=0)
    with pytest.raises(InvalidLocation):
        await set_shop_location(owner, 91.0, 0.0)

    merchant = await Merchant.get(id=shop.merchant.id)
    assert (merchant.name, merchant.default_language) == ("Kafe Lviv", "en")
    assert merchant.latitude is None
    assert (await Card.get(id=other.card.id)).name == "Coffee card"
    assert (await Card.get(id=shop.card.id)).stamps_needed == 10
    assert await AuditEntry.all().count() == 0


@pytest.mark.usefixtures("db")
async def test_a_location_sets_the_zone_and_both_are_audited() -> None:
    shop = await factories.merchant("Kafe", timezone="Europe/Kyiv")
    owner = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=1, role=StaffRole.OWNER
    )

    placed = await set_shop_location(owner, 13.7563, 100.5018)

    assert (placed.zone.zone, placed.zone_changed) == ("Asia/Bangkok", True)
    rows = await AuditEntry.filter(merchant_id=shop.merchant.id).order_by("id")
    assert [(row.action, row.staff_id) for row in rows] == [
        ("shop.location", owner.id),
        ("shop.timezone", owner.id),
    ]
    assert rows[1].detail == {"old": "Europe/Kyiv", "new": "Asia/Bangkok", "source": "location"}


def test_without_a_zone_on_the_map_the_nearest_market_is_taken_and_said_to_be_a_guess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NoZones:
        def timezone_at(self, *, lng: float, lat: float) -> None:
            return None

    monkeypatch.setattr("loyalty.shop_settings._finder", NoZones)

    assert zone_at(31.0, 33.0).zone == "Asia/Jerusalem"  # off the coast of Sinai
    assert zone_at(49.0, -3.0).zone == "Europe/London"  # the Channel
    assert zone_at(49.0, -3.0).exact is False
