"""Telegram's 429 "retry after N s": replies wait it out, the delivery worker's bot does not."""

from __future__ import annotations

import logging
import time

import pytest
from aiogram.exceptions import TelegramRetryAfter

from bot.config import Settings
from bot.factory import build_bot
from bot.telegram_retry import RetryAfterMiddleware
from fakes.telegram import FakeTelegramAPI
from tests import factories
from tests.chat import Chat, text_of


async def test_a_join_gets_both_messages_through_a_per_chat_flood_limit(
    chat: Chat, telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Joining sends two messages back to back (the card, then the note that brings the
    customer's keyboard); Telegram allows about one a second per chat."""
    shop = await factories.merchant("Kafe Lviv")
    limited_before = telegram.rate_limited_count
    telegram.enable_rate_limit(per_second=1000, per_chat_per_second=1, retry_after=1)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.INFO):
            replies = await chat.send(f"/start j-{shop.card.join_token}")
        took = time.monotonic() - started
    finally:
        telegram.disable_rate_limit()

    assert len(replies) == 2
    assert text_of(replies[0]).splitlines()[0] == "Welcome to Kafe Lviv! 🎉"
    assert telegram.rate_limited_count == limited_before + 1
    assert took >= 1.0  # the second message waited for Telegram's second
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Telegram asked to wait 1 s before Send" in caplog.text


async def test_a_wait_longer_than_the_bound_is_raised_at_once(telegram: FakeTelegramAPI) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    bot = telegram.make_bot()
    bot.session.middleware(RetryAfterMiddleware(max_wait=5, attempts=3, sleep=sleep))
    telegram.fail_with_retry_after("sendMessage", 30)
    calls_before = len(telegram.calls("sendMessage"))
    try:
        async with bot:
            with pytest.raises(TelegramRetryAfter) as raised:
                await bot.send_message(700_900, "hello")
    finally:
        telegram.clear_faults()

    assert raised.value.retry_after == 30
    assert waits == []
    assert len(telegram.calls("sendMessage")) == calls_before + 1


async def test_retries_are_bounded_and_each_waits_what_telegram_said(
    telegram: FakeTelegramAPI,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    bot = telegram.make_bot()
    bot.session.middleware(RetryAfterMiddleware(max_wait=5, attempts=2, sleep=sleep))
    try:
        async with bot:
            telegram.fail_with_retry_after("sendMessage", 2, times=2)
            sent = await bot.send_message(700_901, "second try lucky")
            telegram.fail_with_retry_after("sendMessage", 3, times=3)
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(700_901, "never")
    finally:
        telegram.clear_faults()

    assert sent.text == "second try lucky"
    assert waits == [2, 2, 3, 3]
    assert [m.text for m in telegram.sent_messages(700_901)] == ["second try lucky"]


async def test_the_delivery_workers_bot_leaves_a_429_to_the_outbox(
    telegram: FakeTelegramAPI, bot_settings: Settings
) -> None:
    """Its channel turns the 429 into "retry after N s" on the delivery row; a wait in the
    session as well would retry twice and hold a worker slot meanwhile."""
    telegram.fail_with_retry_after("sendMessage", 1)
    calls_before = len(telegram.calls("sendMessage"))
    started = time.monotonic()
    try:
        async with build_bot(bot_settings.telegram, replies=False) as bot:
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(700_902, "campaign")
    finally:
        telegram.clear_faults()

    assert time.monotonic() - started < 1.0
    assert len(telegram.calls("sendMessage")) == calls_before + 1
