"""Viber's and WhatsApp's receipts land on the campaign's delivery rows and in its statistics
(posted by the fakes to our webhooks byte for byte as the platforms post them, or recorded
directly); a failed one ends the row, or puts it back in the queue, as the platform's error
code says, and an ended one hands a "first reachable" person to their next channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from campaigns.outbox import MAX_ATTEMPTS
from campaigns.receipts import Receipt, failure_result, record_receipt
from campaigns.stats import campaign_stats
from campaigns.worker import DeliveryWorker
from channels.viber.api import ViberApi
from channels.whatsapp.api import GraphError, WhatsAppApi
from channels.whatsapp.errors import result_for_error
from conversation.receipts import DeliveryReceipts
from conversation.screen import Inbound, Screen, StatusUpdate
from fakes.clock import FakeClock
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from loyalty.clock import utcnow
from models import Campaign, Customer, Delivery, Identity
from models.enums import CampaignStatus, Channel, DeliveryPolicy, Platform
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, messenger_member, messenger_worker, started
from tests.viber_fixtures import serving_viber_webhook
from tests.whatsapp_fixtures import serving_whatsapp_webhook

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


# WhatsApp: a failed status names Meta's error code, and the row goes where that code says.

NUMBER = "972501234567"
OTHER = "972507654321"
HOUR = timedelta(hours=1)


@dataclass
class WhatsAppFirst:
    """A "first reachable" campaign that reached the person in WhatsApp, Telegram on standby."""

    person: Customer
    campaign: Campaign
    run: DeliveryWorker
    telegram: ScriptedChannel
    wamid: str

    async def row(self, channel: Channel = Channel.WHATSAPP) -> Delivery:
        return await Delivery.get(
            campaign_id=self.campaign.id, customer_id=self.person.id, channel=channel
        )

    async def rows(self) -> dict[str, tuple[str, str | None]]:
        found = await Delivery.filter(campaign_id=self.campaign.id, customer_id=self.person.id)
        return {str(r.channel): (str(r.status), r.reason) for r in found}

    async def reachable(self) -> bool:
        identity = await Identity.get(customer_id=self.person.id, platform=Platform.WHATSAPP)
        return identity.reachable


async def whatsapp_first(
    whatsapp: FakeWhatsApp,
    viber_api: ViberApi,
    whatsapp_api: WhatsAppApi,
    *,
    number: str = NUMBER,
    telegram_id: str = "7700",
) -> WhatsAppFirst:
    shop = await factories.merchant()
    whatsapp.add_user(number, "Noa", wrote_ago=3600)
    person = await messenger_member(shop, telegram=telegram_id, whatsapp=number, wrote_ago=HOUR)
    campaign = await started(
        shop,
        Channel.WHATSAPP,
        Channel.TELEGRAM,
        policy=DeliveryPolicy.FIRST_REACHABLE,
        holdout_percent=0,
        channel_order=(Channel.WHATSAPP, Channel.TELEGRAM),
    )
    telegram = ScriptedChannel("telegram")
    run = messenger_worker(telegram, viber_api, whatsapp_api)
    await run.tick()
    [sent] = whatsapp.messages(number)
    assert telegram.sent == []
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE  # nothing left: Telegram is on standby
    return WhatsAppFirst(person, campaign, run, telegram, sent.wamid)


@pytest.mark.parametrize(
    ("code", "row", "reachable"),
    [
        (131047, ("skipped", "outside_window"), True),
        (131026, ("failed", "unreachable"), False),
        (131050, ("failed", "opted_out"), True),
        (131051, ("failed", "bad_request"), True),
        (131008, ("failed", "bad_request"), True),
        (132001, ("failed", "bad_request"), True),
        (131031, ("failed", "account_blocked"), True),
        (None, ("failed", "unreachable"), True),
    ],
)
async def test_a_failed_whatsapp_receipt_ends_the_row_and_falls_back_as_its_code_says(
    whatsapp: FakeWhatsApp,
    viber_api: ViberApi,
    whatsapp_api: WhatsAppApi,
    code: int | None,
    row: tuple[str, str],
    reachable: bool,
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)

    changed = await record_receipt(
        Channel.WHATSAPP, sent.wamid, Receipt.FAILED, at=utcnow(), user_id=NUMBER,
        error_code=code, detail="from the webhook",
    )  # fmt: skip
    await sent.run.tick()

    assert changed == 1
    assert await sent.rows() == {"whatsapp": row, "telegram": ("sent", None)}
    assert [m.address for m in sent.telegram.sent] == ["7700"]
    assert await sent.reachable() is reachable
    assert len(whatsapp.messages(NUMBER)) == 1
    stats = (await campaign_stats(sent.campaign)).channels
    counted = stats["whatsapp"].skipped if row[0] == "skipped" else stats["whatsapp"].failed
    assert dict(counted) == {row[1]: 1}
    assert (stats["whatsapp"].sent, stats["telegram"].sent) == (0, 1)


@pytest.mark.parametrize(
    ("code", "reason", "wait"),
    [
        (131049, "rate_limited", HOUR),
        (130429, "rate_limited", timedelta(seconds=60)),
        (131056, "rate_limited", timedelta(seconds=60)),
        (131048, "rate_limited", timedelta(seconds=60)),
    ],
)
async def test_a_limit_in_a_whatsapp_receipt_puts_the_row_back_for_later(
    whatsapp: FakeWhatsApp,
    viber_api: ViberApi,
    whatsapp_api: WhatsAppApi,
    code: int,
    reason: str,
    wait: timedelta,
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)
    at = utcnow()

    changed = await record_receipt(
        Channel.WHATSAPP, sent.wamid, Receipt.FAILED, at=at, user_id=NUMBER, error_code=code
    )
    await sent.run.tick(at + wait - timedelta(seconds=1))

    assert changed == 1
    row = await sent.row()
    assert (row.status, row.reason, row.attempts) == ("pending", reason, 1)
    assert row.next_attempt_at == at + wait
    assert await sent.rows() == {"whatsapp": ("pending", reason), "telegram": ("standby", None)}
    assert len(whatsapp.messages(NUMBER)) == 1  # not due yet
    assert sent.telegram.sent == []
    assert await sent.reachable()
    await sent.campaign.refresh_from_db()
    assert (sent.campaign.status, sent.campaign.finished_at) == (CampaignStatus.SENDING, None)
    stats = (await campaign_stats(sent.campaign)).channels["whatsapp"]
    assert (stats.sent, stats.pending, dict(stats.failed)) == (0, 1, {})


async def test_the_marketing_limit_waits_longer_each_time_then_fails_and_falls_back(
    whatsapp: FakeWhatsApp, viber_api: ViberApi, whatsapp_api: WhatsAppApi
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)
    at, waits, wamids = utcnow(), [], [sent.wamid]
    for expected in (HOUR, 6 * HOUR, 24 * HOUR):
        await record_receipt(
            Channel.WHATSAPP, wamids[-1], Receipt.FAILED, at=at, user_id=NUMBER,
            error_code=131049,
        )  # fmt: skip
        row = await sent.row()
        assert row.status == "pending"
        assert row.next_attempt_at is not None
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
        await sent.run.tick(at)  # due: sent again, as a new message with its own id
        wamids.append(whatsapp.messages(NUMBER)[-1].wamid)
        assert expected == waits[-1]
    row = await sent.row()
    assert (row.status, row.attempts, row.external_id) == ("sent", 4, wamids[-1])
    assert len(set(wamids)) == 4

    # The row's attempts run out: it fails, and Telegram takes over.
    await Delivery.filter(id=row.id).update(attempts=MAX_ATTEMPTS)
    await record_receipt(
        Channel.WHATSAPP, wamids[-1], Receipt.FAILED, at=at, user_id=NUMBER, error_code=131049
    )
    await sent.run.tick(at)

    assert waits == [HOUR, 6 * HOUR, 24 * HOUR]
    assert await sent.rows() == {
        "whatsapp": ("failed", "rate_limited"),
        "telegram": ("sent", None),
    }
    assert len(whatsapp.messages(NUMBER)) == 4
    assert await sent.reachable()


async def test_a_failed_receipt_changes_a_row_once_and_never_undoes_a_read_one(
    whatsapp: FakeWhatsApp, viber_api: ViberApi, whatsapp_api: WhatsAppApi
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)
    at = utcnow()

    async def failed(wamid: str, code: int) -> int:
        return await record_receipt(
            Channel.WHATSAPP, wamid, Receipt.FAILED, at=at, user_id=NUMBER, error_code=code
        )

    # Read, then a failed one (a stale resend): the row stays sent and read.
    await record_receipt(Channel.WHATSAPP, sent.wamid, Receipt.READ, at=at, user_id=NUMBER)
    after_read = await failed(sent.wamid, 131026)
    row = await sent.row()
    assert (after_read, row.status, row.reason, row.opened_at) == (0, "sent", None, at)
    assert await sent.reachable()

    # Another person's row: the first failed receipt counts, its repeats do nothing.
    other = await whatsapp_first(
        whatsapp, viber_api, whatsapp_api, number=OTHER, telegram_id="7701"
    )
    answers = [await failed(other.wamid, 131049), await failed(other.wamid, 131049)]
    answers.append(await failed(other.wamid, 131026))
    row = await other.row()
    assert answers == [1, 0, 0]
    assert (row.status, row.reason, row.next_attempt_at) == ("pending", "rate_limited", at + HOUR)
    assert await other.reachable()
    stats = (await campaign_stats(sent.campaign)).channels["whatsapp"]
    assert (stats.sent, stats.delivered, stats.opened, dict(stats.failed)) == (1, 1, 1, {})


async def test_a_failed_receipt_for_a_cancelled_campaign_is_not_queued_again(
    whatsapp: FakeWhatsApp, viber_api: ViberApi, whatsapp_api: WhatsAppApi
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)
    await Campaign.filter(id=sent.campaign.id).update(status=CampaignStatus.CANCELLED)

    await record_receipt(
        Channel.WHATSAPP, sent.wamid, Receipt.FAILED, at=utcnow(), user_id=NUMBER,
        error_code=131049,
    )  # fmt: skip
    await sent.run.tick()

    assert await sent.rows() == {
        "whatsapp": ("skipped", "cancelled"),
        "telegram": ("standby", None),
    }
    await sent.campaign.refresh_from_db()
    assert sent.campaign.status == CampaignStatus.CANCELLED


@pytest.mark.parametrize(
    "code",
    [131047, 131026, 131049, 130429, 131056, 131000, 131005, 131008, 131009, 131050, 131051,
     132000, 132001, 132015, 133010, 131031, 190, 4242],
)  # fmt: skip
def test_a_failed_receipt_and_a_refused_send_agree_on_every_code(code: int) -> None:
    receipt = failure_result(Channel.WHATSAPP, code, "Title")
    refusal = result_for_error(GraphError(code, "Title"), 400)

    assert (receipt.outcome, receipt.reason, receipt.unreachable, receipt.retry_after) == (
        refusal.outcome, refusal.reason, refusal.unreachable, refusal.retry_after,
    )  # fmt: skip


async def test_a_signed_marketing_limit_status_puts_the_row_back_in_the_queue(
    whatsapp: FakeWhatsApp,
    whatsapp_clock: FakeClock,
    viber_api: ViberApi,
    whatsapp_api: WhatsAppApi,
    redis_client: Redis,
) -> None:
    sent = await whatsapp_first(whatsapp, viber_api, whatsapp_api)
    conversation = ReceiptsOnly(DeliveryReceipts())

    async with serving_whatsapp_webhook(whatsapp, whatsapp_api, conversation, redis_client):
        answers = [await whatsapp.post_status("sent", sent.wamid, NUMBER)]
        answers += [
            await whatsapp.post_status("failed", sent.wamid, NUMBER, error_code=131049)
            for _ in range(2)  # Meta resends
        ]

    assert [a.status for a in answers] == [200] * 3
    failed_at = datetime.fromtimestamp(int(whatsapp_clock()), UTC)
    row = await sent.row()
    assert (row.status, row.reason, row.attempts) == ("pending", "rate_limited", 1)
    assert row.next_attempt_at == failed_at + HOUR
    await sent.run.tick(failed_at + HOUR)
    assert len(whatsapp.messages(NUMBER)) == 2
    assert (await sent.row()).status == "sent"
    assert sent.telegram.sent == []
