"""The campaign's business limits live in the spec and the service, and the service enforces
them whoever calls it: the wizard only reads them to ask again politely."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.errors import InvalidCampaign
from campaigns.service import create_campaign, schedule
from campaigns.spec import MAX_SCHEDULE_AHEAD, MAX_VOUCHER_DAYS, MAX_VOUCHER_TITLE, CampaignSpec
from loyalty.clock import utcnow
from models import Campaign
from models.enums import CampaignStatus, Channel
from tests import factories

pytestmark = pytest.mark.usefixtures("db")


def _spec(card_id: int, **change: object) -> CampaignSpec:
    values: dict[str, object] = {
        "card_id": card_id,
        "channels": (Channel.TELEGRAM,),
        "message_text": "Hi",
    }
    return CampaignSpec(**(values | change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "days", "allowed"),
    [
        ("x" * MAX_VOUCHER_TITLE, MAX_VOUCHER_DAYS, True),
        ("x" * (MAX_VOUCHER_TITLE + 1), 7, False),
        ("Free tea", MAX_VOUCHER_DAYS + 1, False),
    ],
)
async def test_the_service_refuses_a_voucher_over_the_limits(
    title: str, days: int, allowed: bool
) -> None:
    shop = await factories.merchant()
    spec = _spec(shop.card.id, voucher_title=title, voucher_validity_days=days)

    if allowed:
        campaign = await create_campaign(shop.merchant.id, spec)
        assert campaign.voucher_title == title
        return
    with pytest.raises(InvalidCampaign) as refused:
        await create_campaign(shop.merchant.id, spec)
    assert refused.value.field == "voucher"
    assert not await Campaign.filter(merchant_id=shop.merchant.id).exists()


async def test_the_service_schedules_at_most_a_year_ahead() -> None:
    shop = await factories.merchant()
    now = utcnow()
    campaign = await create_campaign(shop.merchant.id, _spec(shop.card.id), now=now)

    with pytest.raises(InvalidCampaign) as refused:
        await schedule(campaign, at=now + MAX_SCHEDULE_AHEAD + timedelta(minutes=1), now=now)
    assert refused.value.field == "scheduled_at"
    await campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (CampaignStatus.DRAFT, None)

    await schedule(campaign, at=now + MAX_SCHEDULE_AHEAD, now=now)
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


async def test_a_switched_off_card_takes_no_campaign() -> None:
    shop = await factories.merchant()
    shop.card.active = False
    await shop.card.save(update_fields=["active"])

    with pytest.raises(InvalidCampaign) as refused:
        await create_campaign(shop.merchant.id, _spec(shop.card.id))
    assert refused.value.field == "card_id"
