"""The wallet part of the demo: Olena's real signed pass, and a campaign line pushed to it.

The pass is signed with the demo certificate chain (made once under var/apple_wallet/), so it
verifies with ``openssl smime`` against that root; an iPhone refuses it, as it trusts only
Apple's. APNs is the loopback fake from ``tests/fakes``: the push really goes over HTTP/2 and
TLS, and the pass the device would fetch next is built and read back.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta

from bot.config import Settings
from bot.factory import build_link_signer, build_wallets
from campaigns.composer import Composer
from campaigns.service import create_campaign, send_now
from campaigns.spec import CampaignSpec
from campaigns.worker import DeliveryWorker
from channels.apple_wallet.apns import ApnsClient
from channels.apple_wallet.channel import AppleWalletChannel
from channels.apple_wallet.demo_certs import CA_FILE
from channels.apple_wallet.pkpass import CAMPAIGN_FIELD
from fakes.apns import FakeAPNs
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.links import LinkSigner
from loyalty.merchants import NewMerchant
from models import Campaign, Customer, Membership, WalletPass
from models.enums import CampaignStatus, Channel
from wallets.apple_registry import PassRegistry, register_device

PUSH_TEXT = "Free cookie today 🍪"


async def wallet_demo(
    settings: Settings, shop: NewMerchant, *, say: Callable[[str], None]
) -> None:
    signer = build_link_signer(settings)
    wallets = build_wallets(settings, signer)
    try:
        olena = await Membership.filter(card_id=shop.card.id, customer__first_name="Olena").first()
        assert olena is not None, "the shop day made Olena's membership"
        issued = await wallets.apple_pass(olena.id)
        say("10. Apple Wallet: on her card page Olena taps [Add to Apple Wallet]; her pass,")
        size = f"{len(issued.pkpass):,} bytes"
        say(f"   signed with the demo certificate chain, is {issued.path} ({size}).")
        say(f"   It verifies against {settings.apple_wallet_dir / CA_FILE} with openssl smime.")
        wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
        async with FakeAPNs(topic=settings.apple_wallet.pass_type_id) as apns:
            key = apns.register_key()
            # What Wallet does once the pass is added: register the phone's push token.
            await register_device(wallet_pass, "olenas-iphone", apns.add_device())
            client = apns.make_client(key)
            async with client:
                campaign = await _send_wallet_campaign(shop, _wallet_worker(signer, client))
            [push] = apns.pushes
        latest = await wallets.passes.build(await WalletPass.get(id=wallet_pass.id))
        document = json.loads(_pass_json(latest.pkpass))
        [news] = [f for f in document["storeCard"]["backFields"] if f["key"] == CAMPAIGN_FIELD]
        customer = await Customer.get(id=olena.customer_id)
        say(
            f"   Campaign {campaign.name!r} to the wallet: one APNs push over "
            f"HTTP/{push.http_version} (payload {push.body.decode()}) to "
            f"{customer.first_name}'s iPhone;"
        )
        say(
            f"   the pass it then fetches says {news['value']!r} with changeMessage "
            f"{news['changeMessage']!r}, so the lock screen shows exactly the push text."
        )
    finally:
        await wallets.close()


def _wallet_worker(signer: LinkSigner, client: ApnsClient) -> DeliveryWorker:
    composer = Composer(signer, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    return DeliveryWorker(
        {"apple_wallet": AppleWalletChannel(client, PassRegistry())},
        composer,
        lease=timedelta(seconds=60),
    )


async def _send_wallet_campaign(shop: NewMerchant, worker: DeliveryWorker) -> Campaign:
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id,
            channels=(Channel.APPLE_WALLET,),
            push_text=PUSH_TEXT,
            message_text="A free cookie with every coffee today.",
        ),
    )
    await send_now(campaign)
    while (await Campaign.get(id=campaign.id)).status != CampaignStatus.DONE:
        await worker.tick()
    return await Campaign.get(id=campaign.id)


def _pass_json(pkpass: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return archive.read("pass.json")
