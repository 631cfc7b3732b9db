"""A customer with 7 of 10 stamps, one voucher and one campaign received, and their card page."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.links import LinkSigner
from loyalty.merchants import NewMerchant
from loyalty.stamps import add_stamps
from loyalty.vouchers import issue_voucher
from models import Customer, Membership, Voucher
from models.enums import Channel, VoucherSource
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from wallets.card_link import card_page_url

CAMPAIGN_TEXT = (
    "Our <b>autumn menu</b> is here: pumpkin latte and plum cake.\n\n"
    "Show this message at the till for a free cookie."
)


@dataclass(frozen=True, slots=True)
class CardOnTheWeb:
    customer: Customer
    membership: Membership
    voucher: Voucher
    url: str


async def send_campaign(scenario_shop: NewMerchant, text: str) -> None:
    await started(scenario_shop, Channel.TELEGRAM, text=text)
    await worker(ScriptedChannel("telegram")).tick()


async def card_on_the_web(
    signer: LinkSigner, *, campaign_text: str = CAMPAIGN_TEXT
) -> tuple[NewMerchant, CardOnTheWeb]:
    shop = await factories.merchant()
    person = (await audience(shop, 1))[0]
    membership = await Membership.get(customer_id=person.id)
    for count in (5, 2):
        await add_stamps(membership.id, count, merchant_id=shop.merchant.id)
    voucher = await issue_voucher(
        membership,
        shop.card,
        source=VoucherSource.MANUAL,
        title="Free croissant",
        validity_days=30,
    )
    await send_campaign(shop, campaign_text)
    url = card_page_url(signer, membership.id, membership.public_token)
    return shop, CardOnTheWeb(person, membership, voucher, url)
