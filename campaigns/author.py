"""What the campaign wizard needs to know and keep about the staff member writing it: the
card's own voucher validity, their test email, and their own wallet passes of the card, so
"send me a test" reaches the lock screen of their phone through the adapters campaigns use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from campaigns.preview import Tried, send_test
from models import Card, GoogleWalletObject, Membership, Staff, WalletPass
from models.enums import Channel
from wallets.apple_registry import campaign_line, put_campaign_line

if TYPE_CHECKING:
    from campaigns.spec import CampaignSpec
    from channels.base import DeliveryChannel
    from wallets.service import Wallets

WalletSenders = tuple[tuple[Channel, "DeliveryChannel"], ...]


async def card_voucher_days(merchant_id: int, card_id: int | None) -> int:
    """How long the card's own reward vouchers stay valid: the gift voucher's default."""
    card = await Card.get_or_none(id=card_id, merchant_id=merchant_id)
    return card.voucher_validity_days if card is not None else 30


async def set_test_email(staff_id: int, address: str) -> None:
    """Where this staff member's campaign tests go when they have no confirmed email of their
    own as a customer (``address`` already normalized)."""
    await Staff.filter(id=staff_id).update(test_email=address)


def wallet_senders(wallets: Wallets | None) -> WalletSenders:
    """The wallet adapters campaigns push through (Apple: APNs, Google: the Wallet API)."""
    if wallets is None:
        return ()
    senders: list[tuple[Channel, DeliveryChannel]] = []
    if wallets.apns is not None:
        # Only with APNs on: the channel's client imports PyJWT, cryptography's bindings and
        # h2, ~9 MB of idle memory in a web process that has nothing to push with.
        from channels.apple_wallet.channel import AppleWalletChannel
        from wallets.apple_registry import PassRegistry

        senders.append((Channel.APPLE_WALLET, AppleWalletChannel(wallets.apns, PassRegistry())))
    if wallets.google is not None:
        senders.append((Channel.GOOGLE_WALLET, wallets.google))
    return tuple(senders)


async def own_passes(customer_id: int | None, card_id: int | None) -> dict[Channel, str]:
    """The author's own passes of the card: the Apple serial, the Google object id."""
    if customer_id is None or card_id is None:
        return {}
    membership = await Membership.get_or_none(customer_id=customer_id, card_id=card_id)
    if membership is None:
        return {}
    found: dict[Channel, str] = {}
    apple = await WalletPass.filter(membership_id=membership.id).first()
    if apple is not None:
        found[Channel.APPLE_WALLET] = str(apple.serial_number)
    google = await GoogleWalletObject.filter(membership_id=membership.id).first()
    if google is not None:
        found[Channel.GOOGLE_WALLET] = str(google.object_id)
    return found


async def push_to_own_pass(
    spec: CampaignSpec,
    sender: DeliveryChannel,
    *,
    channel: Channel,
    address: str,
    merchant_name: str,
    language: str,
) -> Tried:
    """The campaign's line onto the author's own pass, pushed like a delivery: an Apple pass
    gets the line first (the pass is the message there), then the device is told."""
    if channel == Channel.APPLE_WALLET:
        try:
            await put_campaign_line(address, campaign_line(spec.push_text, merchant_name))
        except ValueError as error:
            return Tried(delivered=False, detail=str(error))
    return await send_test(
        spec,
        sender,
        channel=channel,
        address=address,
        merchant_name=merchant_name,
        language=language,
    )
