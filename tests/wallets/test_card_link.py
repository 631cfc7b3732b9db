"""The card-page link on the back of the pass: scoped, unguessable, dead after erasure."""

from __future__ import annotations

import pytest

from loyalty.customers import erase_customer
from loyalty.links import LinkSigner, Purpose
from models import Customer
from tests import factories
from tests.apple_wallet_fixtures import BASE_URL
from wallets.card_link import (
    card_page_token,
    card_page_url,
    membership_for_card_page,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_the_link_finds_its_membership_and_nothing_else(link_signer: LinkSigner) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    other = await factories.member(shop, telegram_id=3003)
    token = card_page_token(link_signer, member.id, member.public_token)

    assert card_page_url(link_signer, member.id, member.public_token) == f"{BASE_URL}/c/{token}"
    found = await membership_for_card_page(link_signer, token)
    assert found is not None
    assert found.id == member.id
    # Neither a message link for the same id, nor another member's token re-aimed, nor junk.
    assert (
        await membership_for_card_page(link_signer, link_signer.token(Purpose.CLICK, member.id))
        is None
    )
    forged = card_page_token(link_signer, other.id, other.public_token).split(".")[1]
    reaimed = f"{token.split('.')[0]}.{forged}"
    assert await membership_for_card_page(link_signer, reaimed) is None
    assert await membership_for_card_page(link_signer, "x" * 30) is None
    # A card-page token is no use as a click link either.
    assert link_signer.verify(Purpose.CLICK, token) is None


async def test_the_link_stops_working_when_the_customer_is_erased(link_signer: LinkSigner) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    token = card_page_token(link_signer, member.id, member.public_token)

    await erase_customer(await Customer.get(id=member.customer_id))

    assert await membership_for_card_page(link_signer, token) is None
