"""The shop's location on the passes: Apple ``locations`` with a localized ``relevantText``,
Google ``merchantLocations`` on the class, and a push to every pass after a change."""

from __future__ import annotations

import json

import pytest

from loyalty.shop_settings import set_shop_location
from models import Customer, GoogleWalletObject, Staff, WalletPass
from models.enums import StaffRole
from tests import factories
from tests.channels.apple_wallet.verify import read_strings, unzip
from tests.wallets.test_service import (  # noqa: F401 - the fixtures, shared
    Setup,
    member_with_both_passes,
    pass_signer_dir,
    setup,
)

pytestmark = pytest.mark.usefixtures("db")

TEL_AVIV = (32.0853, 34.7818)


async def _owner(shop: factories.NewMerchant) -> Staff:
    return await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=555, display_name="Dana",
        role=StaffRole.OWNER,
    )  # fmt: skip


async def test_a_pass_carries_the_shops_location_with_a_hebrew_lock_screen_line(
    setup: Setup,  # noqa: F811
) -> None:
    shop = await factories.merchant("Café Shalom")
    member = await factories.member(shop)
    await Customer.filter(id=member.customer_id).update(language="he")

    before = unzip((await setup.wallets.apple_pass(member.id)).pkpass)
    assert "locations" not in json.loads(before["pass.json"])
    await set_shop_location(await _owner(shop), *TEL_AVIV)
    files = unzip((await setup.wallets.apple_pass(member.id)).pkpass)

    nearby = "\u2068Café Shalom\u2069 קרוב — הציגו את הכרטיס"
    assert nearby.encode() in files["pass.json"]
    assert json.loads(files["pass.json"])["locations"] == [
        {"latitude": 32.0853, "longitude": 34.7818, "relevantText": nearby}
    ]
    # Each phone reads the line in its own language: it is a key of every pass.strings.
    assert read_strings(files["he.lproj/pass.strings"])[nearby] == nearby
    assert read_strings(files["en.lproj/pass.strings"])[nearby] == (
        "\u2068Café Shalom\u2069 is nearby — show your card"
    )
    assert read_strings(files["uk.lproj/pass.strings"])[nearby] == (
        "\u2068Café Shalom\u2069 поруч — покажи свою картку"
    )


async def test_a_location_change_pushes_every_pass_and_puts_the_place_on_the_google_class(
    setup: Setup,  # noqa: F811
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    other, _, other_device = await member_with_both_passes(
        setup, await factories.merchant("Elsewhere")
    )

    await set_shop_location(await _owner(shop), *TEL_AVIV)
    told = await setup.wallets.shop_changed(shop.merchant.id)

    assert told == 1
    moved = await WalletPass.get(id=wallet_pass.id)
    assert moved.update_tag > wallet_pass.update_tag
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    assert setup.apns.pushes_to(other_device) == []
    google = await GoogleWalletObject.get(membership_id=member.id)
    class_id = setup.google.objects[google.object_id]["classId"]
    assert setup.google.classes[class_id]["merchantLocations"] == [
        {"latitude": 32.0853, "longitude": 34.7818}
    ]
    assert "locations" not in setup.google.classes[class_id]
    other_object = await GoogleWalletObject.get(membership_id=other.id)
    other_class = setup.google.objects[other_object.object_id]["classId"]
    assert "merchantLocations" not in setup.google.classes[other_class]
