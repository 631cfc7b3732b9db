"""Wallet passes as campaign channels and kept current, against the loopback fakes of APNs
(HTTP/2) and Google's token endpoint + Wallet Objects API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from campaigns.composer import Composer
from campaigns.stats import as_text, campaign_stats
from campaigns.wallets import Wallets
from campaigns.worker import DeliveryWorker
from channels.apple_wallet.apns import ApnsClient, ApnsCredentials
from channels.apple_wallet.channel import AppleWalletChannel
from channels.apple_wallet.demo_certs import demo_signer
from channels.apple_wallet.passes import WalletPasses
from channels.apple_wallet.registry import register_device
from channels.apple_wallet.webservice import passkit_app
from channels.google_wallet import GoogleWalletChannel, GoogleWalletSettings
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.customers import erase_customer
from loyalty.memberships import leave
from loyalty.stamps import add_stamps
from loyalty.views import customer_card
from models import Customer, Delivery, GoogleWalletObject, Membership, PassRegistration, WalletPass
from models.enums import Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import SIGNER, started
from tests.fakes.apns import DEFAULT_KEY_ID, DEFAULT_TEAM_ID, FakeAPNs, generate_p8_key
from tests.fakes.google_wallet import FakeClock, FakeGoogleWallet

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
            channels["apple_wallet"] = AppleWalletChannel(self.wallets.apns)  # type: ignore[assignment]
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
    key = generate_p8_key()
    async with FakeGoogleWallet(clock=clock) as google, FakeAPNs(topic=PASS_TYPE_ID) as apns:
        apns.register_key(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, key)
        account = google.new_service_account(tmp_path)
        channel = GoogleWalletChannel.from_settings(
            GoogleWalletSettings(
                issuer_id=google.issuer_id,
                key_file=tmp_path / f"{account.email}.json",
                api_url=google.api_url,
                token_url=google.token_url,
            ),
            secret=b"0123456789abcdef-object-ids",
            clock=clock,
        )
        client = ApnsClient(
            ApnsCredentials(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, SecretStr(key)),
            topic=PASS_TYPE_ID,
            host="127.0.0.1",
            port=apns.port,
            ca_file=apns.ca_file,
        )
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
    import json
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


async def _passkit_status(base: str, serial: str, token: str) -> int:
    url = f"{base}/v1/passes/{PASS_TYPE_ID}/{serial}"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": f"ApplePass {token}"}) as response,
    ):
        return response.status


async def test_erasing_a_customer_leaves_no_wallet_footprint(setup: Setup, passkit: str) -> None:
    shop = await factories.merchant()
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    object_id = (await GoogleWalletObject.get(membership_id=member.id)).object_id
    assert setup.google.objects[object_id]["accountName"] == "Olena"
    old_token = wallet_pass.authentication_token
    assert await _passkit_status(passkit, wallet_pass.serial_number, old_token) == 200

    await erase_customer(await Customer.get(id=member.customer_id))
    [update] = await setup.wallets.forget_left_memberships(member.customer_id)

    # One last push: the device is told the pass changed (it is voided now).
    assert [push.payload for push in setup.apns.pushes_to(device)] == [{}]
    assert update.apple_devices == 1
    retired = await WalletPass.get(id=wallet_pass.id)
    assert retired.update_tag > wallet_pass.update_tag
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    assert retired.authentication_token != old_token
    assert await _passkit_status(passkit, wallet_pass.serial_number, old_token) == 401
    stored = setup.google.objects[object_id]
    assert (stored["state"], stored["accountName"]) == ("EXPIRED", "")
    assert not await GoogleWalletObject.exists(membership_id=member.id)

    # Nothing is left to do a second time: no second push, no second call to Google.
    patches = len(setup.google.api_requests("PATCH"))
    await setup.wallets.forget_left_memberships(member.customer_id)
    assert len(setup.apns.pushes_to(device)) == 1
    assert len(setup.google.api_requests("PATCH")) == patches


async def test_leaving_one_card_retires_only_that_cards_passes(setup: Setup) -> None:
    shop = await factories.merchant()
    other_shop = await factories.merchant(name="Pekarnia")
    member, wallet_pass, device = await member_with_both_passes(setup, shop)
    kept, kept_pass, kept_device = await member_with_both_passes(setup, other_shop)
    assert kept.customer_id == member.customer_id
    kept_object = (await GoogleWalletObject.get(membership_id=kept.id)).object_id

    await leave(member)
    await setup.wallets.forget_left_memberships(member.customer_id)

    assert len(setup.apns.pushes_to(device)) == 1
    assert await PassRegistration.filter(wallet_pass_id=wallet_pass.id).count() == 0
    assert setup.apns.pushes_to(kept_device) == []
    assert await PassRegistration.filter(wallet_pass_id=kept_pass.id).count() == 1
    assert (await WalletPass.get(id=kept_pass.id)).authentication_token == (
        kept_pass.authentication_token
    )
    assert setup.google.objects[kept_object]["state"] == "ACTIVE"
    assert setup.google.objects[kept_object]["accountName"] == "Olena"


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
