from __future__ import annotations

import asyncio
import time

from tests.chat import Chat, text_of


async def test_a_spamming_customer_is_throttled_politely_and_others_are_not(
    chat: Chat, new_chat: object
) -> None:
    started = time.monotonic()
    for n in range(150):
        await chat.send(f"spam {n}")
    elapsed = time.monotonic() - started
    replies = [text_of(m) for m in chat.replies]
    answered = [r for r in replies if r.startswith("I'm the card bot")]
    warned = [r for r in replies if r == "You're going a bit fast — please wait a moment."]

    # Burst 60 at 5/s (test settings): the burst, plus what refilled while spamming, is
    # answered; one warning; then silence.
    assert 60 <= len(answered) <= 60 + 5 * elapsed + 1
    assert len(answered) < 150
    assert len(warned) == 1
    other: Chat = new_chat(first_name="Calm")  # type: ignore[operator]
    assert text_of((await other.send("hello"))[0]).startswith("I'm the card bot")

    await asyncio.sleep(0.5)
    assert text_of((await chat.send("/help"))[0]).startswith("I keep your stamp cards")
