from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.stats import as_text, campaign_stats
from channels.base import DeliveryResult, Reason
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from loyalty.undo import undo_stamp
from loyalty.vouchers import redeem_voucher
from models import Campaign, Delivery, Identity, Membership
from models.enums import Channel, RedeemVia
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker

pytestmark = pytest.mark.usefixtures("db")


async def test_per_channel_outcomes_with_reasons_and_engagement() -> None:
    shop = await factories.merchant()
    people = await audience(shop, 4)
    await Identity.filter(customer_id=people[3].id).update(reachable=False)
    telegram = ScriptedChannel("telegram")
    telegram.script["5001"].append(DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True))
    campaign = await started(shop, Channel.TELEGRAM, Channel.EMAIL)
    await worker(telegram, ScriptedChannel("email")).tick()
    first_email = await Delivery.filter(campaign_id=campaign.id, channel="email").first()
    assert first_email is not None
    await Delivery.filter(id=first_email.id).update(opened_at=utcnow(), clicked_at=utcnow())

    stats = await campaign_stats(await Campaign.get(id=campaign.id))

    tg, email = stats.channels["telegram"], stats.channels["email"]
    assert (tg.targeted, tg.sent, dict(tg.failed), dict(tg.skipped)) == (
        4,
        2,
        {"bot_blocked": 1},
        {"unreachable": 1},
    )
    assert (email.targeted, email.sent, email.opened, email.clicked) == (4, 4, 1, 1)
    assert "telegram  targeted 4, sent 2" in as_text(stats)


async def test_visits_and_redemptions_within_the_window_and_the_holdout_uplift() -> None:
    shop = await factories.merchant(stamps_needed=1)
    await audience(shop, 60)
    campaign = await started(shop, Channel.TELEGRAM, holdout_percent=30)
    await worker(ScriptedChannel("telegram"), batch_size=100).tick()
    rows = await Delivery.filter(campaign_id=campaign.id).values("customer_id", "status")
    reached = [r["customer_id"] for r in rows if r["status"] == "sent"]
    held = [r["customer_id"] for r in rows if r["status"] == "holdout"]
    assert held
    # Half of the reached come back the next day; one of the holdout does.
    later = utcnow() + timedelta(days=1)
    visitors = reached[: len(reached) // 2] + held[:1]
    for customer_id in visitors:
        membership = await Membership.get(customer_id=customer_id, card_id=shop.card.id)
        result = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=later)
        await redeem_voucher(
            result.vouchers[0].id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN, now=later
        )
    # A visit after the 7-day window does not count.
    outside = await Membership.get(customer_id=reached[-1], card_id=shop.card.id)
    await add_stamps(outside.id, 1, merchant_id=shop.merchant.id, now=utcnow() + timedelta(days=9))

    stats = await campaign_stats(await Campaign.get(id=campaign.id))

    assert (stats.reached.people, stats.reached.visitors) == (len(reached), len(reached) // 2)
    assert stats.reached.redeemed == len(reached) // 2
    assert stats.holdout is not None
    assert (stats.holdout.people, stats.holdout.visitors) == (len(held), 1)
    expected = (len(reached) // 2 / len(reached) - 1 / len(held)) * 100
    assert stats.uplift == pytest.approx(expected)


async def test_a_stamp_taken_back_at_the_till_is_no_visit_of_the_campaign() -> None:
    from models import Staff
    from models.enums import StaffRole

    shop = await factories.merchant(stamps_needed=5)
    await audience(shop, 4)
    campaign = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram"), batch_size=100).tick()
    reached = await Delivery.filter(campaign_id=campaign.id, status="sent").values_list(
        "customer_id", flat=True
    )
    cashier = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=880_777, role=StaffRole.CASHIER
    )
    later = utcnow() + timedelta(hours=1)
    events = []
    for customer_id in reached[:2]:
        membership = await Membership.get(customer_id=customer_id, card_id=shop.card.id)
        result = await add_stamps(
            membership.id, 1, merchant_id=shop.merchant.id, staff_id=cashier.id, now=later
        )
        events.append(result.event_id)
    assert events[0] is not None
    await undo_stamp(880_777, events[0], reason="wrong_customer", now=later)

    stats = await campaign_stats(await Campaign.get(id=campaign.id))

    assert (stats.reached.people, stats.reached.visitors) == (len(reached), 1)
