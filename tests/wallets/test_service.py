"""Wallet passes as campaign channels and kept current, against the loopback fakes of APNs
(HTTP/2) and Google's token endpoint + Wallet Objects API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from campaigns.composer import Composer
from campaigns.stats import as_text, campaign_stats
from campaigns.worker import DeliveryWorker
from channels.apple_wallet.channel import AppleWalletChannel
from channels.apple_wallet.demo_certs import demo_signer
from fakes.apns import FakeAPNs
from fakes.google_wallet import FakeClock, FakeGoogleWallet
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.customers import erase_customer
from loyalty.memberships import join, leave
from loyalty.messenger_accounts import CredentialBox, connect_account, disconnect_account
from loyalty.stamps import add_stamps
from loyalty.views import customer_card
from models import Customer, Delivery, GoogleWalletObject, Membership, PassRegistration, WalletPass
from models.enums import Channel, DeliveryStatus, Platform
from tests import factories
from tests.campaigns.helpers import SIGNER, started
from tests.channels.apple_wallet.verify import pass_problems, read_strings, unzip
from tests.google_wallet_fixtures import google_channel
from wallets.apple_passes import WalletPasses
from wallets.apple_registry import (
    RETIRING_GRACE,
    PassRegistry,
    register_device,
    retire_overdue_passes,
)
from wallets.card_link import CARD_PAGE_PATH
from wallets.service import Wallets
from web.passkit import passkit_app

pytestmark = pytest.mark.usefixtures("db")

PASS_TYPE_ID = "pass.example.stampbot.wallets"
TEAM_ID = "TEAM123456"
BOT = "stampbot_test_bot"


@dataclass
class Setup:
    wallets: Wallets
    apns: FakeAPNs
    google: FakeGoogleWallet
    clock: FakeClock

    def worker(self) -> DeliveryWorker:
        composer = Composer(SIGNER, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
        channels = {"google_wallet": self.wallets.google}
        if self.wallets.apns is not None:
            channels["apple_wallet"] = AppleWalletChannel(self.wallets.apns, PassRegistry())  # type: ignore[assignment]
        return DeliveryWorker(
            channels,  # type: ignore[arg-type]
            composer,
            lease=timedelta(seconds=60),
            wallets=self.wallets,
        )


@pytest.fixture(scope="module")
def pass_signer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("apple-demo")


@pytest.fixture
async def setup(pass_signer_dir: Path, tmp_path: Path) -> AsyncIterator[Setup]:
    clock = FakeClock()
    async with FakeGoogleWallet(clock=clock) as google, FakeAPNs(topic=PASS_TYPE_ID) as apns:
        key = apns.register_key()
        channel = google_channel(google, tmp_path, clock=clock)
        client = apns.make_client(key)
        passes = WalletPasses(
            pass_type_identifier=PASS_TYPE_ID,
            team_identifier=TEAM_ID,
            base_url=SIGNER.base_url,
            signer=demo_signer(pass_signer_dir, PASS_TYPE_ID, TEAM_ID),
            link_signer=SIGNER,
            bot_username=BOT,
        )
        wallets = Wallets(
            passes=passes, link_signer=SIGNER, bot_username=BOT, apns=client, google=channel
        )
        yield Setup(wallets, apns, google, clock)
        await wallets.close()


async def member_with_both_passes(
    setup: Setup, shop: factories.NewMerchant
) -> tuple[Membership, WalletPass, str]:
    """A member who saved the card to Google Wallet and added it to an iPhone (one device)."""
    member = await factories.member(shop)
    card = await customer_card(member.id, member.customer_id)
    await setup.wallets.google_save_url(card)
    issued = await setup.wallets.apple_pass(member.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    device = setup.apns.add_device()
    await register_device(wallet_pass, "device-1", device)
    return member, wallet_pass, device


async def test_saving_to_google_wallet_creates_the_object_once_and_links_to_it(
    setup: Setup,
) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    card = await customer_card(member.id, member.customer_id)

    first = await setup.wallets.google_save_url(card)
    again = await setup.wallets.google_save_url(card)

    assert first is not None
    assert first.startswith("https://pay.google.com/gp/v/save/")
    assert again is not None
    stored = await GoogleWalletObject.get(membership_id=member.id)
    google_object = setup.google.objects[stored.object_id]
    assert google_object["loyaltyPoints"]["balance"] == {"string": "0/10"}
    assert google_object["classId"] in setup.google.classes
    # The object (refused: no class yet), the class, the object again; the second showing of
    # the card wrote nothing.
    assert [r.path.rsplit("/", 1)[1] for r in setup.google.api_requests("POST")] == [
        "loyaltyObject",
        "loyaltyClass",
        "loyaltyObject",
    ]
    assert setup.google.api_requests("PATCH") == []


async def test_google_wallet_campaigns_notify_three_times_a_day_then_go_silent(
    setup: Setup,
) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    never_saved = await factories.member(shop, telegram_id=1002)
    await setup.wallets.google_save_url(await customer_card(member.id, member.customer_id))
    object_id = (await GoogleWalletObject.get(membership_id=member.id)).object_id

    campaigns = []
    for n in range(4):
        campaign = await started(
            shop, Channel.GOOGLE_WALLET, push_text=f"News {n}", text=f"Long text {n}"
        )
        await setup.worker().tick()
        campaigns.append(campaign)
        setup.clock.advance(3600)

    messages = setup.google.messages(object_id)
    assert [(m["header"], m["messageType"]) for m in messages] == [
        ("News 0", "TEXT_AND_NOTIFY"),
        ("News 1", "TEXT_AND_NOTIFY"),
        ("News 2", "TEXT_AND_NOTIFY"),
        ("News 3", "TEXT"),
    ]
    assert messages[0]["body"] == "Long text 0"
    last = await Delivery.get(campaign_id=campaigns[-1].id, customer_id=member.customer_id)
    assert (last.status, last.reason) == (DeliveryStatus.SENT, "quota_silent")
    stats = await campaign_stats(campaigns[-1])
    google = stats.channels["google_wallet"]
    assert (google.sent, google.silent, google.skipped) == (1, 1, {"no_address": 1})
    assert "sent 1 (1 added without notification)" in as_text(stats)
    first = await campaign_stats(campaigns[0])
    assert first.channels["google_wallet"].silent == 0
    skipped = await Delivery.get(campaign_id=campaigns[0].id, customer_id=never_saved.customer_id)
    assert skipped.status == DeliveryStatus.SKIPPED


async def test_a_google_object_gone_at_google_stops_campaigns_to_it(setup: Setup) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await setup.wallets.google_save_url(await customer_card(member.id, member.customer_id))
    setup.google.objects.clear()  # deleted at Google (by the issuer console, say)
    campaign = await started(shop, Channel.GOOGLE_WALLET, push_text="Hello")

    await setup.worker().tick()

    row = await Delivery.get(campaign_id=campaign.id)
    assert (row.status, row.reason) == (DeliveryStatus.FAILED, "unreachable")
    assert await GoogleWalletObject.all().count() == 0


async def test_a_stamp_moves_the_apple_pass_pushes_its_device_and_patches_google(
    setup: Setup,
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    result = await add_stamps(member.id, 2, merchant_id=shop.merchant.id)

    update = await setup.wallets.membership_changed(result.membership.id)

    assert update.apple_devices == 1
    moved = await WalletPass.get(id=wallet_pass.id)
    assert moved.update_tag > wallet_pass.update_tag
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    object_id = (await GoogleWalletObject.get(membership_id=member.id)).object_id
    assert setup.google.objects[object_id]["loyaltyPoints"]["balance"] == {"string": "2/10"}
    built = await setup.wallets.passes.build(moved)
    assert built.updated_at == moved.updated_at


async def test_a_stamp_push_to_a_device_apns_calls_gone_forgets_only_that_device(
    setup: Setup,
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    old_phone = setup.apns.add_device()
    await register_device(wallet_pass, "device-2", old_phone)
    setup.apns.unregister(old_phone)

    update = await setup.wallets.membership_changed(member.id)

    assert update.apple is not None
    assert (update.apple_devices, update.apple.outcome) == (2, "delivered")
    tokens = await PassRegistration.filter(wallet_pass_id=wallet_pass.id).values_list(
        "push_token", flat=True
    )
    assert tokens == [device]


async def test_wallet_trouble_never_raises_into_the_stamp(setup: Setup) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await setup.wallets.google_save_url(await customer_card(member.id, member.customer_id))
    issued = await setup.wallets.apple_pass(member.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    device = setup.apns.add_device()
    await register_device(wallet_pass, "device-1", device)
    setup.apns.fail(device, 500, "InternalServerError")
    setup.google.fail(500, times=5)

    update = await setup.wallets.membership_changed(member.id)

    assert update.apple is not None
    assert update.apple.outcome == "retry"
    assert update.google is not None
    assert update.google.outcome == "retry"


async def test_a_campaign_voucher_reaches_the_pass_even_without_a_wallet_channel(
    setup: Setup,
) -> None:
    import zipfile
    from io import BytesIO

    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)

    await started(
        shop,
        Channel.EMAIL,
        voucher_title="Free cookie",
        voucher_validity_days=7,
    )
    await setup.worker().tick()

    moved = await WalletPass.get(id=wallet_pass.id)
    assert moved.update_tag > wallet_pass.update_tag
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    rebuilt = await setup.wallets.passes.build(moved)
    with zipfile.ZipFile(BytesIO(rebuilt.pkpass)) as archive:
        document = json.loads(archive.read("pass.json"))
    assert "Free cookie" in json.dumps(document, ensure_ascii=False)
    object_id = (await GoogleWalletObject.get(membership_id=member.id)).object_id
    assert "Free cookie" in json.dumps(setup.google.objects[object_id], ensure_ascii=False)


@pytest.fixture
async def passkit(setup: Setup) -> AsyncIterator[str]:
    """The PassKit web service of these wallets on a real port; yields its base URL."""
    runner = web.AppRunner(passkit_app(setup.wallets.passes))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def _passkit(
    base: str,
    path: str,
    token: str | None = None,
    method: str = "GET",
    body: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One request to the PassKit web service as Wallet makes it: status and body."""
    headers = {"Authorization": f"ApplePass {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{base}{path}", headers=headers, json=body) as response,
    ):
        return response.status, await response.read()


async def _passkit_status(base: str, serial: str, token: str) -> int:
    status, _ = await _passkit(base, f"/v1/passes/{PASS_TYPE_ID}/{serial}", token)
    return status


async def _asks_for_changes(base: str, device: str, since: int) -> list[str]:
    """What Wallet does on a push: the serials of its passes changed since its last tag."""
    path = f"/v1/devices/{device}/registrations/{PASS_TYPE_ID}?passesUpdatedSince={since}"
    status, body = await _passkit(base, path)
    if status == 204:
        return []
    assert status == 200
    return list(json.loads(body)["serialNumbers"])


def _voided_pass_problems(pkpass: bytes, ca_pem: Path) -> list[str]:
    """Why this is not a signed, voided pass that keeps nothing of the member; []."""
    problems = pass_problems(pkpass, ca_pem)
    files = unzip(pkpass)
    document = json.loads(files["pass.json"])
    if document.get("voided") is not True:
        problems.append("not voided")
    if "barcodes" in document:
        problems.append("still has a QR code")
    shown = {field["key"] for fields in document["storeCard"].values() for field in fields}
    if shown != {"card", "how"}:
        problems.append(f"shows {sorted(shown)}")
    texts = [
        read_strings(data) if name.endswith("pass.strings") else {"": data.decode("utf-8")}
        for name, data in files.items()
        if name.endswith((".json", ".strings"))
    ]
    everything = " ".join(" ".join(table.values()) for table in texts)
    for personal in ("Olena", "/10", CARD_PAGE_PATH):
        if personal in everything:
            problems.append(f"carries {personal!r}")
    return problems


async def test_erasing_a_customer_leaves_no_wallet_footprint(
    setup: Setup, passkit: str, pass_signer_dir: Path
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    await add_stamps(member.id, 3, merchant_id=shop.merchant.id)
    object_id = (await GoogleWalletObject.get(membership_id=member.id)).object_id
    assert setup.google.objects[object_id]["accountName"] == "Olena"
    old_token = wallet_pass.authentication_token
    serial = wallet_pass.serial_number
    assert await _passkit_status(passkit, serial, old_token) == 200
    device_tag = (await WalletPass.get(id=wallet_pass.id)).update_tag

    await erase_customer(await Customer.get(id=member.customer_id))
    [update] = await setup.wallets.forget_left_memberships(member.customer_id)

    # One last push: the device is told the pass changed (it is voided now).
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    assert update.apple_devices == 1
    stored = setup.google.objects[object_id]
    assert (stored["state"], stored["accountName"]) == ("EXPIRED", "")
    assert not await GoogleWalletObject.exists(membership_id=member.id)

    # Until the device has the voided pass, nothing else reaches it: no second push from a
    # second run, a change or a campaign, and no second call to Google.
    patches = len(setup.google.api_requests("PATCH"))
    await setup.wallets.forget_left_memberships(member.customer_id)
    assert (await setup.wallets.membership_changed(member.id)).apple_devices == 0
    await started(shop, Channel.APPLE_WALLET, push_text="Sale today")
    await setup.worker().tick()
    assert len(setup.apns.pushes_to(device)) == 1
    assert len(setup.google.api_requests("PATCH")) == patches

    # No new device joins a retiring pass.
    path = f"/v1/devices/device-9/registrations/{PASS_TYPE_ID}/{serial}"
    new_device = {"pushToken": setup.apns.add_device()}
    assert (await _passkit(passkit, path, old_token, "POST", new_device))[0] == 401
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 1

    # The device answers the push: it asks what changed, and downloads the voided pass.
    assert await _asks_for_changes(passkit, "device-1", device_tag) == [serial]
    status, pkpass = await _passkit(passkit, f"/v1/passes/{PASS_TYPE_ID}/{serial}", old_token)
    assert status == 200
    assert _voided_pass_problems(pkpass, pass_signer_dir / "ca.pem") == []

    # Then the pass is retired: no registration, a new token, the old copy asks nothing.
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    retired = await WalletPass.get(id=wallet_pass.id)
    assert (retired.retiring_since, retired.authentication_token != old_token) == (None, True)
    assert await _passkit_status(passkit, serial, old_token) == 401
    assert await _asks_for_changes(passkit, "device-1", device_tag) == []
    assert len(setup.apns.pushes_to(device)) == 1


async def test_two_devices_each_get_the_voided_pass_before_it_is_retired(
    setup: Setup, passkit: str, pass_signer_dir: Path
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, phone = await member_with_both_passes(setup, shop)
    watch = setup.apns.add_device()
    await register_device(wallet_pass, "device-2", watch)
    serial, old_token = wallet_pass.serial_number, wallet_pass.authentication_token
    tag = (await WalletPass.get(id=wallet_pass.id)).update_tag

    await erase_customer(await Customer.get(id=member.customer_id))
    await setup.wallets.forget_left_memberships(member.customer_id)

    assert (len(setup.apns.pushes_to(phone)), len(setup.apns.pushes_to(watch))) == (1, 1)
    assert await _asks_for_changes(passkit, "device-1", tag) == [serial]
    assert await _asks_for_changes(passkit, "device-2", tag) == [serial]
    first, pkpass = await _passkit(passkit, f"/v1/passes/{PASS_TYPE_ID}/{serial}", old_token)
    second, _ = await _passkit(passkit, f"/v1/passes/{PASS_TYPE_ID}/{serial}", old_token)
    assert (first, second) == (200, 200)
    assert _voided_pass_problems(pkpass, pass_signer_dir / "ca.pem") == []
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    assert await _passkit_status(passkit, serial, old_token) == 401


async def test_leaving_one_card_retires_only_that_cards_passes(
    setup: Setup, passkit: str, pass_signer_dir: Path
) -> None:
    shop = await factories.merchant()
    other_shop = await factories.merchant(name="Pekarnia")
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    kept, kept_pass, kept_device = await member_with_both_passes(setup, other_shop)
    assert kept.customer_id == member.customer_id
    kept_object = (await GoogleWalletObject.get(membership_id=kept.id)).object_id
    serial, old_token = wallet_pass.serial_number, wallet_pass.authentication_token

    await leave(member)
    await setup.wallets.forget_left_memberships(member.customer_id)

    assert len(setup.apns.pushes_to(device)) == 1
    # The left card's pass on the phone is voided, without the link to the card's page.
    status, pkpass = await _passkit(passkit, f"/v1/passes/{PASS_TYPE_ID}/{serial}", old_token)
    assert status == 200
    assert _voided_pass_problems(pkpass, pass_signer_dir / "ca.pem") == []
    # This download followed no ask (a pull-to-refresh): the device stays registered until
    # it unregisters, which retires the pass.
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 1
    path = f"/v1/devices/device-1/registrations/{PASS_TYPE_ID}/{serial}"
    assert (await _passkit(passkit, path, old_token, method="DELETE"))[0] == 200
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    assert await _passkit_status(passkit, serial, old_token) == 401

    assert setup.apns.pushes_to(kept_device) == []
    assert await PassRegistration.filter(wallet_pass_id=kept_pass.id).count() == 1
    assert (await WalletPass.get(id=kept_pass.id)).authentication_token == (
        kept_pass.authentication_token
    )
    assert setup.google.objects[kept_object]["state"] == "ACTIVE"
    assert setup.google.objects[kept_object]["accountName"] == "Olena"


async def test_rejoining_the_card_while_its_pass_retires_makes_the_pass_live_again(
    setup: Setup, passkit: str
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    serial, token = wallet_pass.serial_number, wallet_pass.authentication_token
    await leave(member)
    await setup.wallets.forget_left_memberships(member.customer_id)
    assert len(setup.apns.pushes_to(device)) == 1

    await join(await Customer.get(id=member.customer_id), shop.card)
    result = await add_stamps(member.id, 2, merchant_id=shop.merchant.id)
    update = await setup.wallets.membership_changed(result.membership.id)

    assert update.apple_devices == 1
    assert len(setup.apns.pushes_to(device)) == 2
    status, pkpass = await _passkit(passkit, f"/v1/passes/{PASS_TYPE_ID}/{serial}", token)
    assert status == 200
    assert "voided" not in json.loads(unzip(pkpass)["pass.json"])
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 1
    later = datetime.now(UTC) + RETIRING_GRACE * 2
    assert await retire_overdue_passes(now=later) == 0
    assert await _passkit_status(passkit, serial, token) == 200


async def test_a_device_that_never_asks_is_forgotten_after_the_grace_period(
    setup: Setup, passkit: str
) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    serial, old_token = wallet_pass.serial_number, wallet_pass.authentication_token
    erased_at = datetime.now(UTC)

    await erase_customer(await Customer.get(id=member.customer_id), now=erased_at)
    await setup.wallets.forget_left_memberships(member.customer_id)
    assert len(setup.apns.pushes_to(device)) == 1

    # Within the grace period the phone (switched off, say) can still fetch the voided pass.
    assert await retire_overdue_passes(now=erased_at + RETIRING_GRACE - timedelta(hours=1)) == 0
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 1
    assert await _passkit_status(passkit, serial, old_token) == 200

    # After it, two processes run the cleanup at once: the pass is retired once.
    later = erased_at + RETIRING_GRACE + timedelta(minutes=1)
    runs = await asyncio.gather(retire_overdue_passes(now=later), retire_overdue_passes(now=later))
    assert sorted(runs) == [0, 1]
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    assert await _passkit_status(passkit, serial, old_token) == 401
    assert await retire_overdue_passes(now=later + RETIRING_GRACE) == 0
    assert len(setup.apns.pushes_to(device)) == 1


async def test_google_trouble_while_erasing_keeps_the_object_to_try_again(
    setup: Setup,
) -> None:
    shop = await factories.merchant()
    member, _, _ = await member_with_both_passes(setup, shop)
    await erase_customer(await Customer.get(id=member.customer_id))
    setup.google.fail(500, times=5)

    [update] = await setup.wallets.forget_left_memberships(member.customer_id)

    assert update.google is not None
    assert update.google.outcome == "retry"
    assert await GoogleWalletObject.exists(membership_id=member.id)


async def test_while_the_shop_has_its_own_bot_both_passes_open_it(setup: Setup) -> None:
    """The QR of either pass opens the bot the shop's join links open; the shop-wide refresh
    (what connecting and disconnecting run) pushes the change to the phone and to Google."""
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    box = CredentialBox(b"k" * 32)
    await connect_account(
        shop.merchant.id,
        Platform.TELEGRAM,
        SecretStr(f"7100000999:{'A' * 35}"),
        external_id="7100000999",
        username="kafe_lviv_bot",
        box=box,
    )

    assert await setup.wallets.shop_changed(shop.merchant.id) == 1

    own = f"https://t.me/kafe_lviv_bot?start=m-{member.public_token}"
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    moved = await WalletPass.get(id=wallet_pass.id)
    assert moved.update_tag > wallet_pass.update_tag
    assert _pass_barcode((await setup.wallets.passes.build(moved)).pkpass) == own
    assert _google_barcode(setup, await _object_id(member.id)) == own

    await disconnect_account(shop.merchant.id, Platform.TELEGRAM)
    await setup.wallets.shop_changed(shop.merchant.id)

    shared = f"https://t.me/{BOT}?start=m-{member.public_token}"
    back = await WalletPass.get(id=wallet_pass.id)
    assert _pass_barcode((await setup.wallets.passes.build(back)).pkpass) == shared
    assert _google_barcode(setup, await _object_id(member.id)) == shared
    assert len(setup.apns.pushes_to(device)) == 2


def _pass_barcode(pkpass: bytes) -> str:
    return str(json.loads(unzip(pkpass)["pass.json"])["barcodes"][0]["message"])


async def _object_id(membership_id: int) -> str:
    return (await GoogleWalletObject.get(membership_id=membership_id)).object_id


def _google_barcode(setup: Setup, object_id: str) -> str:
    return str(setup.google.objects[object_id]["barcode"]["value"])
