from __future__ import annotations

import asyncio

import pytest

from channels.base import DeliveryResult, OutboundMessage
from models import Delivery
from models.enums import CampaignStatus, Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import audience, started, worker

pytestmark = pytest.mark.usefixtures("db")


class GatedChannel:
    """Holds every send until released, so a test can see how many are in flight."""

    name = "telegram"

    def __init__(self) -> None:
        self.waiting: list[str] = []
        self.release = asyncio.Event()
        self._arrived = asyncio.Condition()

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        async with self._arrived:
            self.waiting.append(message.address)
            self._arrived.notify_all()
        await self.release.wait()
        return DeliveryResult.delivered(external_id=f"t-{message.delivery_id}")

    async def until_waiting(self, count: int) -> None:
        async with asyncio.timeout(5), self._arrived:
            await self._arrived.wait_for(lambda: len(self.waiting) >= count)


async def test_run_claims_the_next_batch_while_the_last_one_is_still_sending() -> None:
    shop = await factories.merchant()
    await audience(shop, 5)
    campaign = await started(shop, Channel.TELEGRAM)
    channel = GatedChannel()
    run = worker(channel, batch_size=2)  # type: ignore[arg-type]
    stop = asyncio.Event()

    task = asyncio.create_task(run.run(stop, idle=0.01, overlap=2))
    await channel.until_waiting(4)
    await asyncio.sleep(0.1)
    in_flight = len(channel.waiting)
    channel.release.set()
    await channel.until_waiting(5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)

    assert in_flight == 4  # two batches of two, and no third while both are out
    statuses = await Delivery.filter(campaign_id=campaign.id).values_list("status", flat=True)
    assert sorted(map(str, statuses)) == [str(DeliveryStatus.SENT)] * 5
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


async def test_a_stop_lets_the_batch_in_hand_finish_and_be_recorded() -> None:
    shop = await factories.merchant()
    await audience(shop, 2)
    campaign = await started(shop, Channel.TELEGRAM)
    channel = GatedChannel()
    run = worker(channel, batch_size=10)  # type: ignore[arg-type]
    stop = asyncio.Event()

    task = asyncio.create_task(run.run(stop, idle=0.01))
    await channel.until_waiting(2)
    stop.set()
    await asyncio.sleep(0.05)
    assert not task.done()
    channel.release.set()
    await asyncio.wait_for(task, timeout=5)

    statuses = await Delivery.filter(campaign_id=campaign.id).values_list("status", flat=True)
    assert sorted(map(str, statuses)) == [str(DeliveryStatus.SENT)] * 2
