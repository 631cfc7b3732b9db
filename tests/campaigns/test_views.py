"""The read models behind the campaign screens, and the progress follower's claims."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.composer import Composer
from campaigns.errors import CampaignNotFound
from campaigns.progress import claim_due, start_following, stop_following
from campaigns.spec import CampaignSpec
from campaigns.views import CampaignShop, campaign_detail, campaign_page, campaign_shop
from loyalty.clock import utcnow
from models.enums import CampaignStatus, Channel
from tests import factories
from tests.campaigns.helpers import started

pytestmark = pytest.mark.usefixtures("db")


async def test_the_wizard_shop_survives_the_fsm_storage_and_refuses_other_shapes() -> None:
    shop = await factories.merchant("Kafe Lviv", timezone="Europe/Kyiv")

    read = await campaign_shop(shop.merchant.id)

    assert (read.name, read.timezone) == ("Kafe Lviv", "Europe/Kyiv")
    assert [card.id for card in read.cards] == [shop.card.id]
    assert CampaignShop.from_json(read.as_json()) == read
    assert read.card(shop.card.id) == read.cards[0]
    assert read.card(shop.card.id + 1) is None
    malformed: list[object] = [None, [], {"merchant_id": 1}, {**read.as_json(), "cards": [[1]]}]
    for stored in malformed:
        assert CampaignShop.from_json(stored) is None


async def test_a_page_and_a_detail_are_read_within_one_shop() -> None:
    shop, other = await factories.merchant(), await factories.merchant()
    campaign = await started(shop, Channel.TELEGRAM)

    page = await campaign_page(shop.merchant.id, page=7, size=5)
    assert (page.page, page.pages) == (0, 1)
    assert [(c.id, c.status) for c in page.campaigns] == [(campaign.id, CampaignStatus.SCHEDULED)]
    assert not (await campaign_page(other.merchant.id, page=0, size=5)).campaigns
    assert not (
        await campaign_page(shop.merchant.id, page=0, size=5, statuses=(CampaignStatus.DONE,))
    ).campaigns
    detail = await campaign_detail(campaign.id, merchant_id=shop.merchant.id)
    assert (detail.card_name, detail.channels, detail.stats) == (
        shop.card.name,
        (Channel.TELEGRAM.value,),
        None,
    )
    with pytest.raises(CampaignNotFound):
        await campaign_detail(campaign.id, merchant_id=other.merchant.id)


async def test_one_process_claims_a_followed_campaign_per_round() -> None:
    shop = await factories.merchant()
    campaign = await started(shop, Channel.TELEGRAM)
    now = utcnow()
    every = timedelta(seconds=3)
    await start_following(
        campaign.id, merchant_id=shop.merchant.id, chat_id=42, language="en", now=now
    )

    assert (await claim_due(now + every / 2, every=every)).claimed == ()
    first = await claim_due(now + every, every=every)
    second = await claim_due(now + every, every=every)

    assert [c.campaign_id for c in first.claimed] == [campaign.id]
    assert (second.followed, second.claimed) == (1, ())
    await stop_following(campaign.id)
    assert (await claim_due(now + 3 * every, every=every)).followed == 0


def test_a_preview_is_composed_like_a_delivery_but_counts_nothing() -> None:
    spec = CampaignSpec(
        card_id=1,
        channels=(Channel.TELEGRAM, Channel.EMAIL),
        message_text="<b>Autumn</b> blend\nis here",
        photo_file_id="photo-1",
    )

    chat = Composer.preview(
        spec, channel=Channel.TELEGRAM, address="42", language="he", right_to_left=True,
        merchant_name="Kafe",
    )  # fmt: skip
    mail = Composer.preview(
        spec, channel=Channel.EMAIL, address="me@example.com", language="en",
        right_to_left=False, merchant_name="Kafe",
    )  # fmt: skip

    assert chat.delivery_id < 0
    assert mail.delivery_id < 0
    assert chat.delivery_id != mail.delivery_id
    assert (chat.subject, chat.photo_file_id, chat.right_to_left) == (
        "Autumn blend",
        "photo-1",
        True,
    )
    assert (mail.photo_file_id, mail.links) == (None, {})
