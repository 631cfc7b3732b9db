"""Campaigns on Apple Wallet: the push text on the pass, an APNs push to each device (fake APNs
over HTTP/2), the device fetching the pass from the PassKit web service as Wallet does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from campaigns.composer import Composer
from campaigns.stats import campaign_stats
from campaigns.worker import DeliveryWorker
from channels.apple_wallet.apns import ApnsClient
from channels.apple_wallet.channel import AppleWalletChannel
from channels.apple_wallet.pkpass import CAMPAIGN_FIELD
from channels.base import OutboundMessage, Outcome
from fakes.apns import FakeAPNs
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.merchants import NewMerchant
from models import Delivery, Membership, PassRegistration, WalletPass
from models.enums import Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import SIGNER, started
from tests.channels.apple_wallet.pki import PASS_TYPE_ID, Chain
from tests.channels.apple_wallet.verify import pass_problems, unzip
from wallets import apple_registry
from wallets.apple_passes import WalletPasses
from wallets.apple_registry import PassRegistry

pytestmark = pytest.mark.usefixtures("db")

DEVICE = "6b1c2a7e9f0d4c3b8a5e6f7d8c9b0a1e"
OTHER_DEVICE = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def _worker(client: ApnsClient) -> DeliveryWorker:
    composer = Composer(SIGNER, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    return DeliveryWorker(
        {"apple_wallet": AppleWalletChannel(client, PassRegistry())},
        composer,
        lease=timedelta(seconds=60),
    )


async def _installed(
    wallet: WalletPasses,
    passkit_service: str,
    membership: Membership,
    device: str,
    push_token: str,
) -> WalletPass:
    """The customer adds the pass: Wallet registers the device with the web service."""
    issued = await wallet.issue(membership.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            f"{passkit_service}/v1/devices/{device}/registrations/{PASS_TYPE_ID}/{issued.serial_number}",
            json={"pushToken": push_token},
            headers={"Authorization": f"ApplePass {wallet_pass.authentication_token}"},
        )
        assert answer.status == 201
    return wallet_pass


async def _on_two_devices(
    wallet: WalletPasses, passkit_service: str, fake: FakeAPNs
) -> tuple[NewMerchant, WalletPass, str, str]:
    """A shop's member who added the pass on two devices (a phone and a watch or an old phone):
    the shop, the pass and the two devices' push tokens."""
    shop = await factories.merchant()
    member = await factories.member(shop)
    first, second = fake.add_device(), fake.add_device()
    wallet_pass = await _installed(wallet, passkit_service, member, DEVICE, first)
    await _installed(wallet, passkit_service, member, OTHER_DEVICE, second)
    return shop, wallet_pass, first, second


async def _fetch_as_wallet(passkit_service: str, device: str, wallet_pass: WalletPass) -> bytes:
    """What a device does after the push: ask what changed, then download that pass."""
    async with aiohttp.ClientSession() as http:
        changed = await http.get(
            f"{passkit_service}/v1/devices/{device}/registrations/{PASS_TYPE_ID}"
        )
        assert changed.status == 200
        assert (await changed.json())["serialNumbers"] == [wallet_pass.serial_number]
        answer = await http.get(
            f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}",
            headers={"Authorization": f"ApplePass {wallet_pass.authentication_token}"},
        )
        assert answer.status == 200
        assert answer.content_type == "application/vnd.apple.pkpass"
        return await answer.read()


def _campaign_field(pkpass: bytes) -> dict[str, object]:
    document = json.loads(unzip(pkpass)["pass.json"])
    [field] = [f for f in document["storeCard"]["backFields"] if f["key"] == CAMPAIGN_FIELD]
    return dict(field)


async def test_a_campaign_pushes_every_device_and_the_pass_shows_the_push_text(
    wallet: WalletPasses,
    passkit_service: str,
    apns: tuple[FakeAPNs, ApnsClient],
    chain: Chain,
) -> None:
    fake, client = apns
    shop, wallet_pass, phone, watch = await _on_two_devices(wallet, passkit_service, fake)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Pumpkin latte 🎃")

    tick = await _worker(client).tick()

    assert tick.sent == 1
    assert [push.payload for push in fake.pushes_to(phone)] == [{}]
    assert [push.payload for push in fake.pushes_to(watch)] == [{}]
    pkpass = await _fetch_as_wallet(passkit_service, DEVICE, wallet_pass)
    assert pass_problems(pkpass, chain.ca_pem) == []
    field = _campaign_field(pkpass)
    # Wallet shows changeMessage with %@ replaced by the new value: exactly the push text.
    assert field["value"] == "Pumpkin latte 🎃"
    assert field["changeMessage"] == "%@"
    row = await Delivery.get(campaign_id=campaign.id)
    assert (row.status, row.reason) == (DeliveryStatus.SENT, None)


async def test_a_pass_removed_from_its_only_device_makes_the_customer_unreachable(
    wallet: WalletPasses, passkit_service: str, apns: tuple[FakeAPNs, ApnsClient]
) -> None:
    fake, client = apns
    shop = await factories.merchant()
    member = await factories.member(shop)
    phone = fake.add_device()
    await _installed(wallet, passkit_service, member, DEVICE, phone)
    fake.unregister(phone)  # APNs answers 410 Unregistered from now on
    first = await started(shop, Channel.APPLE_WALLET, push_text="Hello")

    await _worker(client).tick()

    row = await Delivery.get(campaign_id=first.id)
    assert (row.status, row.reason) == (DeliveryStatus.FAILED, "pass_removed")
    assert await PassRegistration.all().count() == 0
    stats = await campaign_stats(first)
    assert stats.channels["apple_wallet"].failed == {"pass_removed": 1}
    # The next campaign does not even try: the pass is on no device.
    second = await started(shop, Channel.APPLE_WALLET, push_text="Again")
    await _worker(client).tick()
    assert len(fake.requests) == 1  # only the first campaign's push, answered 410
    skipped = await Delivery.get(campaign_id=second.id)
    assert (skipped.status, skipped.reason) == (DeliveryStatus.SKIPPED, "pass_removed")


async def test_one_dead_device_of_two_is_forgotten_and_the_message_still_delivered(
    wallet: WalletPasses, passkit_service: str, apns: tuple[FakeAPNs, ApnsClient]
) -> None:
    fake, client = apns
    shop, _, phone, old_phone = await _on_two_devices(wallet, passkit_service, fake)
    fake.unregister(old_phone)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Hello")

    await _worker(client).tick()

    row = await Delivery.get(campaign_id=campaign.id)
    assert row.status == DeliveryStatus.SENT
    tokens = await PassRegistration.all().values_list("push_token", flat=True)
    assert tokens == [phone]


async def test_apns_trouble_is_retried_and_a_pass_never_installed_is_not_targeted(
    wallet: WalletPasses, passkit_service: str, apns: tuple[FakeAPNs, ApnsClient]
) -> None:
    fake, client = apns
    shop = await factories.merchant()
    member = await factories.member(shop)
    downloaded_only = await factories.member(shop, telegram_id=1002)
    await wallet.issue(downloaded_only.id)  # the file was sent, but never added to Wallet
    phone = fake.add_device()
    await _installed(wallet, passkit_service, member, DEVICE, phone)
    fake.fail(phone, 503, "ServiceUnavailable", times=1)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Hello")

    await _worker(client).tick()

    rows = {
        r.customer_id: (r.status, r.reason) for r in await Delivery.filter(campaign_id=campaign.id)
    }
    assert rows == {
        member.customer_id: (DeliveryStatus.PENDING, "server_error"),
        downloaded_only.customer_id: (DeliveryStatus.SKIPPED, "pass_removed"),
    }


async def test_a_line_longer_than_the_pass_holds_fails_the_delivery_and_changes_no_pass(
    wallet: WalletPasses,
    passkit_service: str,
    apns: tuple[FakeAPNs, ApnsClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, client = apns
    shop = await factories.merchant()
    member = await factories.member(shop)
    phone = fake.add_device()
    wallet_pass = await _installed(wallet, passkit_service, member, DEVICE, phone)
    before = await WalletPass.get(id=wallet_pass.id)
    # The stored campaign cannot hold more than the pass does, so the pass is made smaller.
    monkeypatch.setattr(apple_registry, "CAMPAIGN_MESSAGE_MAX", 8)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Pumpkin latte")

    await _worker(client).tick()

    row = await Delivery.get(campaign_id=campaign.id)
    assert (row.status, row.reason) == (DeliveryStatus.FAILED, "bad_request")
    assert fake.requests == []
    after = await WalletPass.get(id=wallet_pass.id)
    assert (after.campaign_message, after.update_tag) == (
        before.campaign_message, before.update_tag,
    )  # fmt: skip


async def test_sending_alone_changes_no_pass_and_no_registration(
    wallet: WalletPasses, passkit_service: str, apns: tuple[FakeAPNs, ApnsClient]
) -> None:
    """The channel only pushes: with no composer before it, the pass is not touched (so a
    device fetching it finds what it had) and the devices still get their push."""
    fake, client = apns
    shop = await factories.merchant()
    member = await factories.member(shop)
    phone = fake.add_device()
    wallet_pass = await _installed(wallet, passkit_service, member, DEVICE, phone)
    before = await _rows()

    result = await AppleWalletChannel(client, PassRegistry()).send(
        OutboundMessage(
            delivery_id=1,
            channel=Channel.APPLE_WALLET,
            address=wallet_pass.serial_number,
            language="en",
            right_to_left=False,
            merchant_name="Corner Café",
            subject="Cake day!",
            push_text="Cake day!",
            html="",
        )
    )

    assert result.outcome == Outcome.DELIVERED
    assert [push.payload for push in fake.pushes_to(phone)] == [{}]
    assert await _rows() == before
    assert "Cake day!" not in json.dumps(
        _campaign_field(await _fetch_as_wallet_again(passkit_service, wallet_pass))
    )


async def _rows() -> list[tuple[object, ...]]:
    passes = await WalletPass.all().order_by("id").values_list(
        "id", "update_tag", "updated_at", "campaign_message", "retiring_since",
        "authentication_token",
    )  # fmt: skip
    devices = (
        await PassRegistration.all().order_by("id").values_list("id", "push_token", "updated_at")
    )
    return [*passes, *devices]


async def _fetch_as_wallet_again(passkit_service: str, wallet_pass: WalletPass) -> bytes:
    async with aiohttp.ClientSession() as http:
        answer = await http.get(
            f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}",
            headers={"Authorization": f"ApplePass {wallet_pass.authentication_token}"},
        )
        assert answer.status == 200
        return await answer.read()


@pytest.mark.parametrize(
    "refusal",
    [(410, "Unregistered"), (400, "BadDeviceToken"), (410, "ExpiredToken")],
    ids=lambda refusal: refusal[1],
)
async def test_a_token_apns_calls_dead_loses_its_registration_and_only_that_one(
    wallet: WalletPasses,
    passkit_service: str,
    apns: tuple[FakeAPNs, ApnsClient],
    refusal: tuple[int, str],
) -> None:
    fake, client = apns
    shop, _, phone, old_phone = await _on_two_devices(wallet, passkit_service, fake)
    fake.fail(old_phone, *refusal)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Hello")

    await _worker(client).tick()

    assert sorted((r.status, r.reason) for r in fake.requests) == sorted([(200, ""), refusal])
    rows = await PassRegistration.all().values_list("push_token", flat=True)
    assert rows == [phone]
    assert (await Delivery.get(campaign_id=campaign.id)).status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    ("status", "reason", "recorded"),
    [
        (429, "TooManyRequests", "rate_limited"),
        (500, "InternalServerError", "server_error"),
        (503, "ServiceUnavailable", "server_error"),
    ],
)
async def test_429_and_5xx_are_retried_until_every_device_has_the_push(
    wallet: WalletPasses,
    passkit_service: str,
    apns: tuple[FakeAPNs, ApnsClient],
    status: int,
    reason: str,
    recorded: str,
) -> None:
    """The watch is refused once while the phone takes the push: the delivery is retried (the
    phone's second push is harmless) and the watch gets it on the next attempt."""
    fake, client = apns
    shop, _, phone, watch = await _on_two_devices(wallet, passkit_service, fake)
    fake.fail(watch, status, reason, times=1)
    campaign = await started(shop, Channel.APPLE_WALLET, push_text="Hello")
    worker = _worker(client)

    await worker.tick()
    row = await Delivery.get(campaign_id=campaign.id)
    assert (row.status, row.reason) == (DeliveryStatus.PENDING, recorded)
    assert fake.pushes_to(watch) == []

    await worker.tick(now=datetime.now(UTC) + timedelta(hours=1))

    row = await Delivery.get(campaign_id=campaign.id)
    assert row.status == DeliveryStatus.SENT
    assert len(fake.pushes_to(watch)) == 1
    assert len(fake.pushes_to(phone)) == 2
    assert await PassRegistration.all().count() == 2  # nobody forgotten for a 429 or 5xx
