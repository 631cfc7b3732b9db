"""One bot, one Telegram limit: a campaign sending at full rate and a burst of stamp notices
share it. Telegram (the fake, strict at its limit) must never see more than the limit in any
second, and the notices must not queue behind the campaign's sends."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app import BotRuntime, build_bot
from channels.base import OutboundMessage, Outcome
from channels.ratelimit import Rate, within_rolling_second
from channels.telegram import GLOBAL_KEY, TelegramBudget, TelegramChannel
from fakes.telegram import FakeTelegramAPI
from handlers.notify import CustomerNotifier
from loyalty.stamps import StampResult, add_stamps
from tests import factories
from tests.chat import text_of

# Ids apart from every other test's users: the fake is shared by the whole session.
# Ten a second, so one message of margin (the gate admits 9) is 100 ms of jitter: the fake
# shares this test's event loop with the database work of the notices.
LIMIT = 10
CAMPAIGN = 40  # four seconds at the limit
NOTICES = 5


def _message(n: int) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=n, channel="telegram", address=str(8_880_000 + n), language="en",
        right_to_left=False, merchant_name="Big roastery", subject="", push_text="",
        html=f"<b>Autumn menu</b> №{n}",
    )  # fmt: skip


def test_the_runtime_notifier_takes_its_slots_from_the_workers_budget(runtime: BotRuntime) -> None:
    """The notices' budget is the delivery channel's: the same limiter, key and rate."""
    slot = runtime.notifier._slot
    budget = getattr(slot, "__self__", None)
    assert isinstance(budget, TelegramBudget)
    assert budget.limiter is runtime.limiter
    assert budget.global_rate == within_rolling_second(
        runtime.settings.delivery.telegram_per_second
    )
    assert GLOBAL_KEY == "tg:global"


@pytest.mark.usefixtures("fresh_state")
async def test_a_burst_of_notices_overtakes_a_campaign_at_full_rate_within_the_limit(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant("Corner bakery")
    members = []
    for n in range(NOTICES):
        members.append(await factories.member(shop, telegram_id=8_890_000 + n))
        telegram.add_user(8_890_000 + n, f"Guest {n}")
    for n in range(CAMPAIGN + 1):
        telegram.add_user(8_880_000 + n, f"Reader {n}")
    # The worker's channel and the runtime's notifier as the factories wire them: one (Redis)
    # limiter, one rate; the worker with a bot of its own.
    rate = within_rolling_second(LIMIT)
    notifier = CustomerNotifier(
        runtime.bot, runtime.i18n, slot=TelegramBudget(runtime.limiter, rate).service_slot
    )
    worker_bot = build_bot(runtime.settings.telegram, replies=False)
    channel = TelegramChannel(
        worker_bot, runtime.limiter, global_rate=rate, per_chat_rate=Rate(1, 1)
    )
    slots = asyncio.Semaphore(64)  # as the worker sends a batch

    async def campaign_send(n: int) -> Outcome:
        async with slots:
            return (await channel.send(_message(n))).outcome

    async def control_send() -> float:
        """One more campaign send, asked for with the notices: how long the queue is."""
        started = time.monotonic()
        assert await campaign_send(CAMPAIGN) == Outcome.DELIVERED
        return time.monotonic() - started

    # Stamped at the till already; the notices go out during the campaign.
    stamps = [await add_stamps(m.id, 1, merchant_id=shop.merchant.id) for m in members]

    async def notice(customer_id: int, stamped: StampResult) -> float:
        started = time.monotonic()
        assert await notifier.stamps_added(customer_id, stamped)
        return time.monotonic() - started

    limited_before = telegram.rate_limited_count  # the session's fake counts every test's
    telegram.enable_rate_limit(per_second=LIMIT)
    began = time.monotonic()
    try:
        sending = [asyncio.create_task(campaign_send(n)) for n in range(CAMPAIGN)]
        await asyncio.sleep(1.0)  # the campaign is at full rate, three seconds queued
        control = asyncio.create_task(control_send())
        waits = await asyncio.gather(
            *(notice(m.customer_id, stamped) for m, stamped in zip(members, stamps, strict=True))
        )
        notices_done = time.monotonic()
        outcomes = await asyncio.gather(*sending)
        queued = await control
    finally:
        telegram.disable_rate_limit()
        await worker_bot.session.close()

    assert outcomes == [Outcome.DELIVERED] * CAMPAIGN
    assert telegram.rate_limited_count == limited_before
    assert telegram.busiest_second(since=began) <= LIMIT
    # Each notice reached its customer (in Ukrainian, the customer's language), while the
    # campaign still had more than a second to go.
    for n in range(NOTICES):
        seen = [text_of(m) for m in telegram.sent_messages(8_890_000 + n)]
        assert seen == ["+1 штамп у Corner bakery!\n1 з 10 штампів — ще 9 до: Free cappuccino"]
    assert time.monotonic() - notices_done > 1.0
    # Five notices a slot (0.1 s) apart behind the one bulk slot reserved ahead, plus their
    # database reads; the campaign send asked for with them waits behind the whole queue. The
    # bound is relative to that queue, not to the clock: on a loaded machine the notices'
    # database reads alone took 0.4 s more (CI: notices 0.64-1.05 s, the queue 4.06 s), and a
    # notice that waited its turn behind the campaign would wait at least as long as the queue.
    assert queued > 2.5
    assert max(waits) < queued / 2, (waits, queued)
