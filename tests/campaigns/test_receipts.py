"""Viber's receipts, posted by the fake to our webhook byte for byte as Viber posts them, land on
the campaign's delivery rows and in its statistics; a failed one hands a "first reachable"
person to their next channel."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from campaigns.stats import campaign_stats
from channels.viber.api import ViberApi
from conversation.receipts import DeliveryReceipts
from conversation.screen import Inbound, Screen, StatusUpdate
from fakes.viber import FakeViber
from models import Campaign, Delivery
from models.enums import Channel, DeliveryPolicy
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, messenger_member, messenger_worker, started
from tests.viber_fixtures import serving_viber_webhook

pytestmark = pytest.mark.usefixtures("db")


@dataclass
class ReceiptsOnly:
    """A conversation that hears nothing but receipts, which go where production's go."""

    receipts: DeliveryReceipts

    async def handle(self, inbound: Inbound) -> list[Screen]:
        raise AssertionError(f"no person speaks in this test: {inbound}")

    async def receipt(self, update: StatusUpdate) -> None:
        await self.receipts.record(update)


async def test_delivered_and_seen_are_counted_once_each(
    viber: FakeViber, viber_api: ViberApi, redis_client: Redis
) -> None:
    shop = await factories.merchant()
    readers = [viber.add_user(f"Reader {n}") for n in range(3)]
    for user in readers:
        await messenger_member(shop, viber=user)
    campaign = await started(shop, Channel.VIBER, holdout_percent=0)
    await messenger_worker(ScriptedChannel("telegram"), viber_api).tick()
    conversation = ReceiptsOnly(DeliveryReceipts())

    async with serving_viber_webhook(viber, viber_api, conversation, redis_client) as url:
        # Everyone's phone got it; the first reader opened the chat (Viber repeats itself).
        first_token = viber.received[readers[0]][0].token
        answers = await viber.post_receipts(url=url)
        seen = viber.receipt("seen", first_token, readers[0])
        answers += [await viber.post_callback(seen, url=url) for _ in range(2)]

    assert [a.status for a in answers] == [200] * 5
    rows = await Delivery.filter(campaign_id=campaign.id).order_by("id")
    assert all(row.delivered_at is not None for row in rows)
    assert [row.opened_at is not None for row in rows] == [True, False, False]
    stats = await campaign_stats(await Campaign.get(id=campaign.id))
    viber_stats = stats.channels["viber"]
    assert (viber_stats.sent, viber_stats.delivered, viber_stats.opened) == (3, 3, 1)


async def test_a_failed_receipt_falls_back_to_telegram(
    viber: FakeViber, viber_api: ViberApi, redis_client: Redis
) -> None:
    shop = await factories.merchant()
    user = viber.add_user("Oksana")
    person = await messenger_member(shop, telegram="7400", viber=user)
    campaign = await started(
        shop,
        Channel.VIBER,
        Channel.TELEGRAM,
        policy=DeliveryPolicy.FIRST_REACHABLE,
        holdout_percent=0,
        channel_order=(Channel.VIBER, Channel.TELEGRAM),
    )
    telegram = ScriptedChannel("telegram")
    run = messenger_worker(telegram, viber_api)
    await run.tick()
    assert telegram.sent == []  # Viber first, Telegram on standby
    token = viber.received[user][0].token

    async with serving_viber_webhook(
        viber, viber_api, ReceiptsOnly(DeliveryReceipts()), redis_client
    ) as url:
        failed = viber.failed(token, user, "the client rejected the message")
        answer = await viber.post_callback(failed, url=url)
    await run.tick()

    assert answer.status == 200
    rows = {
        str(r.channel): (str(r.status), r.reason)
        for r in await Delivery.filter(campaign_id=campaign.id, customer_id=person.id)
    }
    assert rows == {"viber": ("failed", "unreachable"), "telegram": ("sent", None)}
    assert [m.address for m in telegram.sent] == ["7400"]
