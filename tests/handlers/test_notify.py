from __future__ import annotations

from datetime import timedelta

from bot.app import BotRuntime
from handlers.notify import send_expiry_reminders
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from loyalty.vouchers import redeem_voucher
from models import Identity, Membership, Voucher
from models.enums import RedeemVia
from tests import factories
from tests.chat import Chat, buttons, text_of


async def _member(chat: Chat, **shop: int) -> tuple[factories.NewMerchant, Membership]:
    created = await factories.merchant(**shop)  # type: ignore[arg-type]
    await chat.send(f"/start j-{created.card.join_token}")
    return created, await Membership.get(card_id=created.card.id)


async def test_the_customer_is_told_about_stamps_and_a_new_reward(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, membership = await _member(chat, stamps_needed=5)
    first = await add_stamps(membership.id, 3, merchant_id=shop.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, first)
    assert text_of(chat.new_messages()[0]).splitlines() == [
        "+3 stamps at Kafe Lviv!",
        "3/5 — 2 more stamps for Free cappuccino",
    ]

    second = await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, ignore_cooldown=True)
    await runtime.notifier.stamps_added(membership.customer_id, second)

    message = chat.new_messages()[0]
    lines = text_of(message).splitlines()
    assert lines[:2] == ["+3 stamps at Kafe Lviv!", "1/5 — 4 more stamps for Free cappuccino"]
    assert lines[3].startswith(
        f"🎉 Your reward is ready: Free cappuccino. Code {second.vouchers[0].code}. Valid until"
    )
    assert [label for label, _ in buttons(message)] == ["Show my card"]


async def test_expiry_reminders_go_out_once_per_voucher(chat: Chat, runtime: BotRuntime) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)

    sent = await send_expiry_reminders(runtime.notifier, within=timedelta(days=3))
    again = await send_expiry_reminders(runtime.notifier, within=timedelta(days=3))

    assert (sent, again) == (1, 0)
    reminder = chat.new_messages()
    assert len(reminder) == 1
    assert "⏳ Your voucher Free cappuccino at Kafe Lviv expires on" in text_of(reminder[0])
    assert [label for label, _ in buttons(reminder[0])] == ["Show the voucher"]


async def test_vouchers_far_from_expiry_are_not_reminded(chat: Chat, runtime: BotRuntime) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=30)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)

    assert await send_expiry_reminders(runtime.notifier, within=timedelta(days=3)) == 0
    assert chat.new_messages() == []


async def test_a_redemption_at_the_till_is_confirmed_in_the_chat(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, membership = await _member(chat, stamps_needed=1)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN)

    assert await runtime.notifier.voucher_redeemed(membership.customer_id, voucher.id)

    assert "✅ Free cappuccino was redeemed at Kafe Lviv on" in text_of(chat.new_messages()[0])


async def test_a_customer_who_blocked_the_bot_is_marked_unreachable(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, membership = await _member(chat, stamps_needed=1)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    chat.telegram.block_chat(chat.user.id)
    try:
        delivered = await runtime.notifier.voucher_issued(membership.customer_id, voucher.id)
    finally:
        chat.telegram.unblock_chat(chat.user.id)

    assert delivered is False
    assert (await Identity.get(external_id=str(chat.user.id))).reachable is False
    assert await runtime.notifier.voucher_issued(membership.customer_id, voucher.id) is False
    # Writing to the bot again makes the customer reachable again.
    await chat.send("/card")
    assert (await Identity.get(external_id=str(chat.user.id))).reachable is True
    assert await Voucher.filter(id=voucher.id).exists()


async def test_notifications_follow_the_customers_language(
    new_chat: object, runtime: BotRuntime
) -> None:
    chat: Chat = new_chat("uk")  # type: ignore[operator]
    shop, membership = await _member(chat, stamps_needed=5)
    result = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)

    await runtime.notifier.stamps_added(membership.customer_id, result)

    assert text_of(chat.new_messages()[0]).splitlines() == [
        "Kafe Lviv: +2 штампи!",
        "2/5 — ще 3 штампи до нагороди: Free cappuccino",
    ]


async def test_expired_vouchers_are_never_reminded(chat: Chat, runtime: BotRuntime) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await Voucher.filter(id=voucher.id).update(expires_at=utcnow() - timedelta(seconds=1))

    assert await send_expiry_reminders(runtime.notifier, within=timedelta(days=3)) == 0
