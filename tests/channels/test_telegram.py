"""TelegramChannel against the fake Bot API, which enforces Telegram's limits and HTML rules."""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from PIL import Image
from redis.asyncio import Redis

from channels.base import Action, DeliveryResult, OutboundMessage, Outcome, Reason
from channels.ratelimit import MemoryRateLimiter, Rate, RedisRateLimiter
from channels.telegram import (
    DEFAULT_GLOBAL_RATE,
    DEFAULT_PER_CHAT_RATE,
    TelegramChannel,
    _no_preview,
)
from channels.telegram import _markup as telegram_markup
from fakes.telegram import FakeTelegramAPI
from fakes.telegram.formatting import utf16_len

FAST = Rate(1000, 1000)
# Far from the ids other test modules give their fake users.
_chat_ids = itertools.count(7_300_000_001)
_delivery_ids = itertools.count(1)


def new_chat(telegram: FakeTelegramAPI) -> int:
    return telegram.add_user(next(_chat_ids), "Reader").id


def outbound(chat_id: int | str, html: str, **extra: Any) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=next(_delivery_ids),
        channel="telegram",
        address=str(chat_id),
        language="en",
        right_to_left=False,
        merchant_name="Corner Cafe",
        subject="News",
        push_text="News from Corner Cafe",
        html=html,
        **extra,
    )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


def paragraph(number: int, size: int) -> str:
    """``size`` visible characters, bold lead-in included."""
    lead = f"<b>Part {number}</b> "
    filler = "lorem ipsum dolor " * size
    return lead + filler[: size - len(f"Part {number} ")].strip() + "."


def telegram_plain(html: str) -> str:
    """The visible text of a paragraph() (only <b> in it)."""
    return html.replace("<b>", "").replace("</b>", "")


@pytest.fixture(scope="module")
async def bot(telegram: FakeTelegramAPI) -> AsyncIterator[Bot]:
    # One bot for the module: closing an aiogram session takes a quarter of a second.
    made = telegram.make_bot()
    try:
        yield made
    finally:
        await made.session.close()


@pytest.fixture
def channel(bot: Bot) -> TelegramChannel:
    """Rate limits out of the way: these tests are about what is sent."""
    return TelegramChannel(bot, MemoryRateLimiter(), global_rate=FAST, per_chat_rate=FAST)


@pytest.fixture
def faults(telegram: FakeTelegramAPI) -> Iterator[FakeTelegramAPI]:
    yield telegram
    telegram.clear_faults()


# --------------------------------------------------------------------------------------------
# What gets sent


async def test_short_message_is_one_html_message_without_link_preview(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    result = await channel.send(outbound(chat_id, "<b>Hello</b> https://example.com"))

    [sent] = telegram.sent_messages(chat_id)
    assert result == DeliveryResult.delivered(external_id=str(sent.message_id))
    assert sent.text == "Hello https://example.com"
    assert sent.entities == [{"offset": 0, "length": 5, "type": "bold"}]
    call = telegram.last_call("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}


async def test_long_text_is_split_at_paragraph_boundaries(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    paragraphs = [paragraph(n, 1500) for n in range(1, 7)]
    message = outbound(chat_id, "\n\n".join(paragraphs))

    result = await channel.send(message)

    sent = telegram.sent_messages(chat_id)
    assert result.outcome == Outcome.DELIVERED
    assert result.external_id == ",".join(str(m.message_id) for m in sent)
    texts = [m.shown_text for m in sent]
    plain = [telegram_plain(p) for p in paragraphs]
    # 1500 + 2 + 1500 fits in 4096, a third paragraph does not.
    assert texts == ["\n\n".join(plain[i : i + 2]) for i in (0, 2, 4)]
    assert "\n\n".join(texts) == "\n\n".join(plain)
    assert all(m.entities[0]["type"] == "bold" for m in sent)
    assert channel.sent_parts == {}


BUTTONS = (
    (Action("🪪 My card", id="card:show:5"),),
    (Action("Stop offers from Corner Cafe", id="off:stop:2"),),
    (Action("Menu", url="https://cafe.example/menu"),),
)


def _markup(message: object) -> list[list[tuple[str, str]]]:
    rows = (getattr(message, "reply_markup", None) or {}).get("inline_keyboard", [])
    return [[(b["text"], b.get("callback_data") or b.get("url", "")) for b in row] for row in rows]


async def test_buttons_go_under_the_last_part_of_a_split_message(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    paragraphs = [paragraph(n, 1500) for n in range(1, 5)]

    result = await channel.send(outbound(chat_id, "\n\n".join(paragraphs), buttons=BUTTONS))

    assert result.outcome == Outcome.DELIVERED
    first, last = telegram.sent_messages(chat_id)
    assert _markup(first) == []
    assert _markup(last) == [
        [("🪪 My card", "card:show:5")],
        [("Stop offers from Corner Cafe", "off:stop:2")],
        [("Menu", "https://cafe.example/menu")],
    ]


def test_the_keyboard_goes_out_as_aiogram_would_write_it(bot: Bot) -> None:
    """The channel writes ``reply_markup`` itself (no model per button): the same text as
    aiogram's own serialisation of the keyboard, so the request is what it was."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(text=b.label, callback_data=b.id)
                for b in row
            ]
            for row in BUTTONS
        ]
    )
    dumps = bot.session.json_dumps

    assert telegram_markup(BUTTONS, dumps) == bot.session.prepare_value(keyboard, bot, {})
    assert _no_preview(dumps) == bot.session.prepare_value(
        LinkPreviewOptions(is_disabled=True), bot, {}
    )


async def test_a_photo_alone_carries_the_buttons(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)

    await channel.send(outbound(chat_id, "Short news", photo=png(), buttons=BUTTONS[:1]))

    [photo] = telegram.sent_messages(chat_id)
    assert photo.photo is not None
    assert _markup(photo) == [[("🪪 My card", "card:show:5")]]


async def test_one_huge_paragraph_is_split_within_the_limit(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    words = " ".join(f"w{n}😀" for n in range(3000))  # astral characters count twice
    result = await channel.send(outbound(chat_id, f"<i>{words}</i>"))

    sent = telegram.sent_messages(chat_id)
    assert result.outcome == Outcome.DELIVERED
    sizes = [utf16_len(m.shown_text) for m in sent]
    assert len(sizes) >= math.ceil(utf16_len(words) / 4096) > 1
    assert all(4096 - 8 < size <= 4096 for size in sizes[:-1])  # cut at the last space
    assert " ".join(m.shown_text for m in sent) == words


async def test_hostile_html_is_sanitized_and_accepted(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    hostile = (
        "<script>alert('x')</script><b>Hi & welcome <i>friend</b> 1 < 2</i> "
        '<a href="javascript:alert(1)">click</a> <a href="https://example.com/?a=1&b=2">shop</a>'
        " <img src=x onerror=alert(1)><u>open"
    )
    result = await channel.send(outbound(chat_id, hostile))

    assert result.outcome == Outcome.DELIVERED
    [sent] = telegram.sent_messages(chat_id)
    assert sent.text == "Hi & welcome friend 1 < 2 click shop open"
    assert [(e["type"], e.get("url")) for e in sent.entities] == [
        ("bold", None),
        ("italic", None),
        ("italic", None),
        ("text_link", "https://example.com/?a=1&b=2"),
        ("underline", None),
    ]


async def test_photo_takes_the_first_part_as_caption_and_the_rest_follows(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    paragraphs = [paragraph(n, 800) for n in range(1, 4)]
    result = await channel.send(outbound(chat_id, "\n\n".join(paragraphs), photo=png()))

    photo, follow_up = telegram.sent_messages(chat_id)
    assert result.external_id == f"{photo.message_id},{follow_up.message_id}"
    assert photo.photo is not None
    assert photo.caption == telegram_plain(paragraphs[0])
    assert photo.caption_entities[0]["type"] == "bold"
    assert follow_up.text == "\n\n".join(telegram_plain(p) for p in paragraphs[1:])
    assert telegram.last_call("sendPhoto").params["parse_mode"] == "HTML"

    # The same picture again by file_id, without any text: a bare photo.
    file_id = photo.photo[-1]["file_id"]
    again = await channel.send(outbound(chat_id, "", photo_file_id=file_id))
    assert again.outcome == Outcome.DELIVERED
    last = telegram.sent_messages(chat_id)[-1]
    assert last.photo is not None
    assert last.caption is None
    assert telegram.last_call("sendPhoto").params["photo"] == file_id


async def test_caption_cut_without_paragraphs_stays_within_1024(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    words = " ".join(["word"] * 400)  # 1999 characters, one paragraph
    result = await channel.send(outbound(chat_id, words, photo=png()))

    photo, follow_up = telegram.sent_messages(chat_id)
    assert result.outcome == Outcome.DELIVERED
    assert photo.caption is not None
    assert len(photo.caption) <= 1024
    assert f"{photo.caption} {follow_up.text}" == words


async def test_nothing_to_send_fails_without_calling_telegram(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    before = len(telegram.calls())
    empty = await channel.send(outbound(new_chat(telegram), "  <script>x</script> "))
    nowhere = await channel.send(outbound("", "Hello"))
    assert empty == DeliveryResult.failed(Reason.BAD_REQUEST, detail="message has no text")
    assert nowhere.reason == Reason.NO_ADDRESS
    assert len(telegram.calls()) == before


# --------------------------------------------------------------------------------------------
# Errors


async def test_flood_wait_is_a_retry_after_exactly_telegrams_seconds(
    faults: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    faults.fail_with_retry_after("sendMessage", 17)
    result = await channel.send(outbound(new_chat(faults), "Hi"))
    assert result.outcome == Outcome.RETRY
    assert result.reason == Reason.RATE_LIMITED
    assert result.retry_after == 17


@pytest.mark.parametrize(
    ("inject", "reason"),
    [
        (lambda fake: fake.fail_with_server_error("sendMessage"), Reason.SERVER_ERROR),
        (lambda fake: fake.fail_with_bad_gateway("sendMessage"), Reason.SERVER_ERROR),
    ],
    ids=["500", "502-html"],
)
async def test_server_errors_are_retried_with_engine_backoff(
    faults: FakeTelegramAPI, channel: TelegramChannel, inject: Any, reason: Reason
) -> None:
    inject(faults)
    result = await channel.send(outbound(new_chat(faults), "Hi"))
    assert result.outcome == Outcome.RETRY
    assert result.reason == reason
    assert result.retry_after is None


async def test_timeout_is_a_network_retry(faults: FakeTelegramAPI, bot: Bot) -> None:
    channel = TelegramChannel(
        bot, MemoryRateLimiter(), global_rate=FAST, per_chat_rate=FAST, request_timeout=1
    )
    faults.delay_next("sendMessage", 1.3)
    result = await channel.send(outbound(new_chat(faults), "Hi"))
    assert result.outcome == Outcome.RETRY
    assert result.reason == Reason.NETWORK_ERROR
    assert result.retry_after is None


async def test_blocked_and_deactivated_users_are_unreachable(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    blocked, deactivated = new_chat(telegram), new_chat(telegram)
    telegram.block_chat(blocked)
    telegram.block_chat(deactivated, "Forbidden: user is deactivated")
    try:
        first = await channel.send(outbound(blocked, "Hi"))
        second = await channel.send(outbound(deactivated, "Hi"))
    finally:
        telegram.unblock_chat(blocked)
        telegram.unblock_chat(deactivated)
    assert (first.outcome, first.reason, first.unreachable) == (
        Outcome.FAILED,
        Reason.BOT_BLOCKED,
        True,
    )
    assert (second.reason, second.unreachable) == (Reason.USER_DEACTIVATED, True)


async def test_unknown_chat_is_unreachable(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    strict = telegram.strict_chats
    telegram.strict_chats = True
    try:
        result = await channel.send(outbound(999_999_999_001, "Hi"))
    finally:
        telegram.strict_chats = strict
    assert (result.outcome, result.reason, result.unreachable) == (
        Outcome.FAILED,
        Reason.CHAT_NOT_FOUND,
        True,
    )


async def test_other_bad_requests_fail_without_marking_the_person(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    result = await channel.send(outbound(new_chat(telegram), "Hi", photo_file_id="no-such-file"))
    assert (result.outcome, result.reason, result.unreachable) == (
        Outcome.FAILED,
        Reason.BAD_REQUEST,
        False,
    )
    assert "wrong file identifier" in result.detail


async def test_retry_resumes_a_split_message_at_the_failed_part(
    faults: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(faults)
    message = outbound(chat_id, "\n\n".join(paragraph(n, 3000) for n in range(1, 4)))
    faults.delay_next("sendMessage", 0.01)  # part 1 goes through (a little slowly)
    faults.fail_with_retry_after("sendMessage", 3)  # part 2 hits a flood wait

    first = await channel.send(message)

    [part1] = faults.sent_messages(chat_id)
    assert (first.outcome, first.reason, first.retry_after) == (
        Outcome.RETRY,
        Reason.RATE_LIMITED,
        3,
    )
    assert first.detail.startswith("part 2/3")
    assert channel.sent_parts == {message.delivery_id: [part1.message_id]}

    second = await channel.send(message)

    sent = faults.sent_messages(chat_id)
    assert len(sent) == 3  # part 1 was not sent twice
    assert second == DeliveryResult.delivered(",".join(str(m.message_id) for m in sent))
    assert [m.shown_text.split()[1] for m in sent] == ["1", "2", "3"]
    assert channel.sent_parts == {}


async def test_permanent_failure_forgets_sent_parts(
    telegram: FakeTelegramAPI, channel: TelegramChannel
) -> None:
    chat_id = new_chat(telegram)
    message = outbound(chat_id, "\n\n".join(paragraph(n, 3000) for n in range(1, 3)))
    channel.sent_parts[message.delivery_id] = [1]  # part 1 went out on an earlier attempt
    telegram.block_chat(chat_id)
    try:
        result = await channel.send(message)
    finally:
        telegram.unblock_chat(chat_id)
    assert result.reason == Reason.BOT_BLOCKED
    assert result.detail.startswith("part 2/2")
    assert channel.sent_parts == {}


# --------------------------------------------------------------------------------------------
# Rate limits, against the fake's strict sliding-second limits


@pytest.fixture
async def strict_limits(telegram: FakeTelegramAPI) -> AsyncIterator[FakeTelegramAPI]:
    try:
        yield telegram
    finally:
        telegram.disable_rate_limit()


def shared_limiter(redis: Redis) -> RedisRateLimiter:
    """Buckets in Redis under a prefix of their own, so no other test run shares them."""
    return RedisRateLimiter(redis, prefix=f"test:ratelimit:{secrets.token_hex(6)}:")


async def test_two_workers_sharing_redis_buckets_stay_under_the_global_limit(
    strict_limits: FakeTelegramAPI, redis_client: Redis
) -> None:
    telegram = strict_limits
    limiter = shared_limiter(redis_client)
    bots = [telegram.make_bot(), telegram.make_bot()]
    try:
        channels = [TelegramChannel(b, limiter) for b in bots]
        chats = [new_chat(telegram) for _ in range(90)]
        telegram.enable_rate_limit(per_second=30)
        throttled = telegram.rate_limited_count
        started = time.monotonic()
        results = await asyncio.gather(
            *(channels[n % 2].send(outbound(chat, f"Hi {n}")) for n, chat in enumerate(chats))
        )
        elapsed = time.monotonic() - started
    finally:
        await asyncio.gather(*(made.session.close() for made in bots))

    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 90
    assert telegram.rate_limited_count == throttled
    rate = DEFAULT_GLOBAL_RATE
    assert elapsed >= (90 - rate.burst) / rate.per_second - 0.05 >= 2.0


async def test_one_chat_gets_at_most_one_message_a_second(
    strict_limits: FakeTelegramAPI, redis_client: Redis, bot: Bot
) -> None:
    telegram = strict_limits
    channel = TelegramChannel(bot, shared_limiter(redis_client))
    chat_id = new_chat(telegram)
    telegram.enable_rate_limit(per_second=30, per_chat_per_second=1)
    throttled = telegram.rate_limited_count
    two_parts = "\n\n".join(paragraph(n, 3000) for n in range(1, 3))
    started = time.monotonic()
    results = await asyncio.gather(
        channel.send(outbound(chat_id, two_parts)), channel.send(outbound(chat_id, "Also hi"))
    )
    elapsed = time.monotonic() - started

    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 2, results
    assert len(telegram.sent_messages(chat_id)) == 3
    assert telegram.rate_limited_count == throttled
    assert elapsed >= 2 / DEFAULT_PER_CHAT_RATE.per_second - 0.05 >= 2.0
