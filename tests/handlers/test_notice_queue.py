"""Customer notices after the staff member's answer: bounded, in order per customer, drained."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.app import BotRuntime
from handlers.notice_queue import NoticeQueue
from loyalty.merchants import create_staff_invite
from models import Membership
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, button, text_of


async def test_a_notice_is_sent_after_put_returns_and_drain_waits_for_it() -> None:
    queue, sent = NoticeQueue(), []

    async def tell(text: str) -> None:
        await asyncio.sleep(0)
        sent.append(text)

    await queue.put(1, tell, "+1 stamp")
    assert (sent, queue.pending) == ([], 1)
    assert await queue.drain() == 0
    assert sent == ["+1 stamp"]


async def test_a_full_queue_makes_the_next_put_wait_for_room() -> None:
    queue, gate = NoticeQueue(capacity=2), asyncio.Event()

    async def held() -> None:
        await gate.wait()

    await queue.put(1, held)
    await queue.put(2, held)
    third = asyncio.create_task(queue.put(3, held))
    await asyncio.sleep(0.01)
    assert not third.done()
    assert queue.pending == 2
    gate.set()
    await asyncio.wait_for(third, 1)
    assert await queue.drain(1) == 0
    assert queue.peak == 2


async def test_notices_for_one_customer_keep_their_order_and_others_do_not_wait() -> None:
    queue, sent, gate = NoticeQueue(), [], asyncio.Event()

    async def tell(text: str, wait: bool) -> None:
        if wait:
            await gate.wait()
        sent.append(text)

    await queue.put("olena", tell, "Olena's stamp", True)
    await queue.put("olena", tell, "Olena's undo", False)
    await queue.put("taras", tell, "Taras's stamp", False)
    await asyncio.sleep(0.01)
    assert sent == ["Taras's stamp"]  # Olena's undo waits for her stamp, Taras does not
    gate.set()
    await queue.drain()
    assert sent == ["Taras's stamp", "Olena's stamp", "Olena's undo"]


async def test_a_failed_notice_is_logged_and_the_next_one_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue, sent = NoticeQueue(), []

    async def broken() -> None:
        raise RuntimeError("Telegram is down")

    async def tell() -> None:
        sent.append("told")

    with caplog.at_level(logging.ERROR, logger="handlers.notice_queue"):
        await queue.put(1, broken)
        await queue.put(1, tell)
        await queue.drain()
    assert sent == ["told"]
    [record] = [r for r in caplog.records if r.name == "handlers.notice_queue"]
    assert "broken" in record.getMessage()
    assert record.exc_info is not None
    assert "Telegram is down" in str(record.exc_info[1])


async def test_closing_waits_a_while_then_gives_up_and_says_how_many_were_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue, sent = NoticeQueue(), []

    async def stuck() -> None:
        await asyncio.Event().wait()

    async def tell(text: str) -> None:
        sent.append(text)

    await queue.put(1, tell, "quick")
    await queue.put(2, stuck)
    with caplog.at_level(logging.WARNING, logger="handlers.notice_queue"):
        assert await queue.close(0.05) == 1
    assert sent == ["quick"]
    assert queue.pending == 0
    assert "1 customer notices unsent" in caplog.text
    # Once closed, a notice is sent in the caller's own time: nothing is lost at the stop.
    await queue.put(3, tell, "late")
    assert sent == ["quick", "late"]


async def test_the_cashier_is_answered_while_the_customers_notice_waits_for_its_slot(
    new_chat: object, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The press is answered (the screen edited, the webhook done) before the notice's slot is
    free; the notice follows, in the same words, once it is."""
    shop = await factories.merchant(stamps_needed=4)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")
    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    customer.new_messages()
    slot_free = asyncio.Event()

    async def busy_slot(chat_id: int | str, account_id: int | None = None) -> None:
        await slot_free.wait()

    monkeypatch.setattr(runtime.notifier, "_slot", busy_slot)
    update = cashier.telegram.callback_update(cashier.user, screen, button(screen, "+1"))
    delivery = await asyncio.wait_for(cashier.telegram.post_update(update, url=cashier.url), 10)

    assert delivery.status == 200
    assert text_of(cashier.current(screen)) == "✅ +1 for Olena · 1 of 4 stamps"
    assert customer.new_messages() == []
    assert runtime.notices.pending == 1
    slot_free.set()
    await runtime.notices.drain()
    [told] = customer.new_messages()
    assert text_of(told).startswith("+1 stamp at Kafe Lviv!")
