"""Which campaign texts a customer's card page repeats: sent to them, on this card, recent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.history import recent_messages
from loyalty.clock import utcnow
from loyalty.memberships import join
from models import Campaign, Delivery
from models.enums import Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker

pytestmark = pytest.mark.usefixtures("db")


async def _send(shop: factories.NewMerchant, text: str, *channels: Channel) -> Campaign:
    campaign = await started(shop, *(channels or (Channel.TELEGRAM,)), text=text)
    await worker(*(ScriptedChannel(c.value) for c in channels or (Channel.TELEGRAM,))).tick()
    return campaign


async def test_only_this_customers_sent_messages_of_this_card_newest_first() -> None:
    shop = await factories.merchant()
    other_shop = await factories.merchant("Bakery")
    me, neighbour = await audience(shop, 2)
    await join(me, other_shop.card)
    first = await _send(shop, "first", Channel.TELEGRAM, Channel.EMAIL)
    await _send(other_shop, "another card")
    failed = await _send(shop, "failed")
    await Delivery.filter(campaign_id=failed.id).update(status=DeliveryStatus.FAILED)
    second = await _send(shop, "second")
    await Delivery.filter(campaign_id=second.id, customer_id=neighbour.id).delete()

    mine = await recent_messages(me.id, shop.card.id)
    theirs = await recent_messages(neighbour.id, shop.card.id)

    assert [m.message_text for m in mine] == ["second", "first"]
    assert [m.campaign_id for m in theirs] == [first.id]
    assert await Delivery.filter(campaign_id=first.id, customer_id=me.id).count() == 2


async def test_at_most_ten_from_the_last_ninety_days() -> None:
    shop = await factories.merchant()
    me = (await audience(shop, 1))[0]
    now = utcnow()
    old = await _send(shop, "old news")
    await Delivery.filter(campaign_id=old.id).update(sent_at=now - timedelta(days=91))
    for n in range(12):
        campaign = await _send(shop, f"news {n}")
        await Delivery.filter(campaign_id=campaign.id).update(
            sent_at=now - timedelta(hours=12 - n)
        )

    shown = await recent_messages(me.id, shop.card.id, now=now)

    assert [m.message_text for m in shown] == [f"news {n}" for n in range(11, 1, -1)]
