"""Worker processes against real PostgreSQL and Redis, and the fake Bot API: several at once,
and one killed with SIGKILL in the middle of a campaign."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from campaigns.service import create_campaign, send_now
from campaigns.spec import CampaignSpec
from fakes.telegram import FakeTelegramAPI
from models import Campaign, Delivery
from models.enums import CampaignStatus, Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import audience
from tests.conftest import REDIS_URL, Backend

pytestmark = pytest.mark.usefixtures("fresh_state")


def _env(db: Backend, telegram: FakeTelegramAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")}
    env |= {
        "STAMPBOT_DATABASE_URL": db.url,
        "STAMPBOT_REDIS_URL": REDIS_URL,
        "STAMPBOT_BOT_TOKEN": telegram.token,
        "STAMPBOT_TELEGRAM_API_URL": telegram.base_url,
        "STAMPBOT_VAR_DIR": str(tmp_path / "var"),
        "STAMPBOT_LOG_LEVEL": "WARNING",
        "STAMPBOT_SIGNING_KEY": "k" * 32,
    }
    return env | extra


async def _worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _campaign(people: int, first_id: int) -> Campaign:
    shop = await factories.merchant()
    await audience(shop, people, first_id=first_id)
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text="Hi!"),
    )
    return await send_now(campaign)


def _messages_per_chat(telegram: FakeTelegramAPI, first_id: int, people: int) -> Counter[int]:
    chats: Counter[int] = Counter()
    for call in telegram.calls("sendMessage"):
        chat = int(call.params["chat_id"])
        if call.ok and first_id <= chat < first_id + people:
            chats[chat] += 1
    return chats


async def _until_done(campaign_id: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        campaign = await Campaign.get(id=campaign_id)
        if campaign.status == CampaignStatus.DONE:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"campaign not done after {seconds} s")


async def test_two_workers_share_the_rate_limit_and_send_each_row_once(
    db: Backend, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    if not db.is_postgres:
        pytest.skip("several worker processes need PostgreSQL's row locking")
    people, first_id = 90, 31_000
    campaign = await _campaign(people, first_id)
    telegram.enable_rate_limit(per_second=30)
    throttled_before = telegram.rate_limited_count
    env = _env(
        db, telegram, tmp_path,
        STAMPBOT_TELEGRAM_PER_SECOND="30",
        STAMPBOT_DELIVERY_BATCH_SIZE="10",
    )  # fmt: skip
    started = time.monotonic()
    workers = [await _worker(env), await _worker(env)]
    try:
        await _until_done(campaign.id, 60)
        elapsed = time.monotonic() - started
    finally:
        telegram.disable_rate_limit()
        # Both stop at once: each finishes its batch and closes its connections.
        for process in workers:
            process.terminate()
        await asyncio.gather(*(process.wait() for process in workers))

    per_chat = _messages_per_chat(telegram, first_id, people)
    assert len(per_chat) == people
    assert set(per_chat.values()) == {1}
    assert telegram.rate_limited_count == throttled_before
    # 90 messages at 30/s with a 30-message burst cannot take less than 2 s.
    assert elapsed >= 2.0
    workers_used = set(
        await Delivery.filter(campaign_id=campaign.id).values_list("leased_by", flat=True)
    )
    assert len(workers_used) == 2


async def test_a_killed_worker_loses_nothing_and_duplicates_at_most_its_in_flight_rows(
    db: Backend, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    if not db.is_postgres:
        pytest.skip("the crash test runs worker processes against PostgreSQL")
    people, first_id = 200, 32_000
    campaign = await _campaign(people, first_id)
    env = _env(
        db, telegram, tmp_path,
        STAMPBOT_TELEGRAM_PER_SECOND="100",
        STAMPBOT_DELIVERY_BATCH_SIZE="40",
        STAMPBOT_DELIVERY_LEASE_SECONDS="3",
    )  # fmt: skip
    victim = await _worker(env)
    try:
        deadline = time.monotonic() + 30
        while sum(_messages_per_chat(telegram, first_id, people).values()) < 60:
            assert time.monotonic() < deadline, "the first worker never got going"
            await asyncio.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
    finally:
        if victim.returncode is None:
            victim.kill()
            await victim.wait()
    in_flight = await Delivery.filter(
        campaign_id=campaign.id, status=DeliveryStatus.SENDING
    ).count()
    sent_before_restart = sum(_messages_per_chat(telegram, first_id, people).values())

    survivor = await _worker(env)
    try:
        await _until_done(campaign.id, 60)
    finally:
        survivor.terminate()
        await survivor.wait()

    per_chat = _messages_per_chat(telegram, first_id, people)
    lost = people - len(per_chat)
    duplicates = sum(per_chat.values()) - len(per_chat)
    print(
        f"\nkill -9 after {sent_before_restart} of {people} messages: {in_flight} rows in flight, "
        f"{lost} lost, {duplicates} sent twice"
    )
    assert lost == 0
    assert duplicates <= in_flight
    statuses = set(await Delivery.filter(campaign_id=campaign.id).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.SENT}
