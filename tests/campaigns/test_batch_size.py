"""The worker's batch follows the bot's rate unless set: a batch is what a campaign that starts
now waits behind (``campaigns.worker.batch_for_rate``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.config import Settings
from bot.delivery import build_worker
from campaigns.worker import batch_for_rate
from channels.ratelimit import MemoryRateLimiter
from loyalty.links import LinkSigner


def test_about_a_second_and_a_half_of_sending_between_ten_and_a_hundred() -> None:
    assert batch_for_rate(30) == 45
    assert batch_for_rate(1000) == 100
    assert batch_for_rate(60) == 90
    assert batch_for_rate(1) == 10


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    bot = Bot("123456:TEST-TOKEN")
    yield bot
    await bot.session.close()


def _batch(bot: Bot, tmp_path: Path, **delivery: object) -> int:
    settings = Settings(var_dir=tmp_path, delivery=delivery)
    worker = build_worker(settings, bot, MemoryRateLimiter(), LinkSigner(b"k" * 32, "http://x"))
    return worker.batch_size


async def test_stampbot_worker_claims_by_the_telegram_rate_unless_told(
    bot: Bot, tmp_path: Path
) -> None:
    assert _batch(bot, tmp_path) == 45  # the default 30/s
    assert _batch(bot, tmp_path, telegram_per_second=1000) == 100
    assert _batch(bot, tmp_path, batch_size=250) == 250


def test_an_empty_batch_size_follows_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAMPBOT_DELIVERY_BATCH_SIZE", "")
    assert Settings().delivery.batch_size is None
    monkeypatch.setenv("STAMPBOT_DELIVERY_BATCH_SIZE", "30")
    assert Settings().delivery.batch_size == 30
