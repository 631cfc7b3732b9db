from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.exceptions import TelegramServerError
from babel.dates import format_date

from bot.app import BotRuntime
from bot.config import Settings
from channels.viber.api import ViberApi
from fakes.apns import FakeAPNs
from fakes.telegram import FakeTelegramAPI
from fakes.viber import FakeViber
from handlers.notify import send_expiry_reminders
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from loyalty.vouchers import redeem_voucher
from models import Customer, Identity, Membership, PassRegistration, Voucher, WalletPass
from models.enums import RedeemVia
from tests import factories
from tests.channels.apple_wallet.verify import unzip
from tests.chat import Chat, button, buttons, text_of
from wallets.apple_registry import register_device


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
    stamped = chat.new_messages()[0]
    assert text_of(stamped).splitlines() == [
        "+3 stamps at Kafe Lviv!",
        "3 of 5 stamps — 2 more for Free cappuccino",
    ]
    assert buttons(stamped) == [("🪪 My card", f"card:show:{membership.id}")]

    second = await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, ignore_cooldown=True)
    await runtime.notifier.stamps_added(membership.customer_id, second)

    # U4: the good news first, then how to use it, then that a new card began.
    message = chat.new_messages()[0]
    voucher = second.vouchers[0]
    assert voucher.expires_at is not None
    until = format_date(
        voucher.expires_at.astimezone(ZoneInfo(shop.merchant.timezone)), "medium", locale="en"
    )
    assert text_of(message).splitlines() == [
        "🎉 Free cappuccino is yours! (+3 stamps at Kafe Lviv)",
        f"Show it at the counter — valid until {until}.",
        "New card started: 1 of 5 stamps.",
    ]
    assert buttons(message) == [
        ("🎟 Show the voucher", f"vch:show:{voucher.id}"),
        ("🪪 My card", f"card:show:{membership.id}"),
    ]
    [shown] = await chat.press_label(message, "Show the voucher")
    assert shown.photo is not None
    assert voucher.code in text_of(shown)


async def test_expiry_reminders_go_out_once_per_voucher(chat: Chat, runtime: BotRuntime) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)

    sent = await send_expiry_reminders(runtime.notifier, within=timedelta(days=3))
    again = await send_expiry_reminders(runtime.notifier, within=timedelta(days=3))

    assert (sent, again) == (1, 0)
    reminder = chat.new_messages()
    assert len(reminder) == 1
    assert "⏳ Your voucher Free cappuccino at Kafe Lviv expires on" in text_of(reminder[0])
    assert "Show it at the counter before then!" in text_of(reminder[0])
    assert [label for label, _ in buttons(reminder[0])] == ["🎟 Show the voucher"]


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

    assert "✅ Free cappuccino was used at Kafe Lviv on" in text_of(chat.new_messages()[0])


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
        "+2 штампи у Kafe Lviv!",
        "2 з 5 штампів — ще 3 до: Free cappuccino",
    ]


async def test_expired_vouchers_are_never_reminded(chat: Chat, runtime: BotRuntime) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await Voucher.filter(id=voucher.id).update(expires_at=utcnow() - timedelta(seconds=1))

    assert await send_expiry_reminders(runtime.notifier, within=timedelta(days=3)) == 0


async def _installed_pass(runtime: BotRuntime, apns: FakeAPNs, membership_id: int) -> WalletPass:
    issued = await runtime.wallets.apple_pass(membership_id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(wallet_pass, "iphone-of-olena", apns.add_device())
    return wallet_pass


async def test_stamps_a_reward_and_a_redemption_each_update_the_wallet_pass(
    chat: Chat, runtime: BotRuntime, apns: FakeAPNs
) -> None:
    shop, membership = await _member(chat, stamps_needed=3)
    wallet_pass = await _installed_pass(runtime, apns, membership.id)
    tags = [wallet_pass.update_tag]

    stamped = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)
    await runtime.notifier.stamps_added(membership.customer_id, stamped)
    tags.append((await WalletPass.get(id=wallet_pass.id)).update_tag)
    rewarded = await add_stamps(
        membership.id, 1, merchant_id=shop.merchant.id, ignore_cooldown=True
    )
    await runtime.notifier.stamps_added(membership.customer_id, rewarded)
    tags.append((await WalletPass.get(id=wallet_pass.id)).update_tag)
    voucher = rewarded.vouchers[0]
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN)
    await runtime.notifier.voucher_redeemed(membership.customer_id, voucher.id)
    tags.append((await WalletPass.get(id=wallet_pass.id)).update_tag)

    assert tags == sorted(set(tags))  # moved forward at every change
    assert [push.payload for push in apns.pushes] == [{}, {}, {}]
    # The pass the device then fetches shows the new state.
    latest = await runtime.wallets.passes.build(await WalletPass.get(id=wallet_pass.id))
    document = json.loads(unzip(latest.pkpass)["pass.json"])
    assert document["storeCard"]["primaryFields"][0]["value"] == "0/3"
    assert document["storeCard"]["auxiliaryFields"][0]["value"] == "None"


async def test_the_pass_is_updated_even_when_the_chat_message_cannot_be_sent(
    chat: Chat, runtime: BotRuntime, apns: FakeAPNs
) -> None:
    shop, membership = await _member(chat, stamps_needed=5)
    await _installed_pass(runtime, apns, membership.id)
    result = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)
    chat.telegram.block_chat(chat.user.id)
    try:
        delivered = await runtime.notifier.stamps_added(membership.customer_id, result)
    finally:
        chat.telegram.unblock_chat(chat.user.id)

    assert delivered is False
    assert len(apns.pushes) == 1


async def test_apns_down_never_fails_the_stamp_notification(
    chat: Chat, runtime: BotRuntime, apns: FakeAPNs
) -> None:
    shop, membership = await _member(chat, stamps_needed=5)
    wallet_pass = await _installed_pass(runtime, apns, membership.id)
    device = (await PassRegistration.get(wallet_pass_id=wallet_pass.id)).push_token
    apns.fail(device, 500, "InternalServerError")
    result = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)

    assert await runtime.notifier.stamps_added(membership.customer_id, result)
    assert (await WalletPass.get(id=wallet_pass.id)).update_tag > wallet_pass.update_tag


async def test_two_reminder_rounds_at_once_send_each_reminder_once(
    chat: Chat, runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    """What two replicas do when their reminder loops run together."""
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    await add_stamps(membership.id, 3, merchant_id=shop.merchant.id)
    # Slow sends, so each round is still sending when the other reads the due vouchers.
    telegram.delay_next("sendMessage", 0.2, times=6)
    try:
        counts = await asyncio.gather(
            send_expiry_reminders(runtime.notifier, within=timedelta(days=3)),
            send_expiry_reminders(runtime.notifier, within=timedelta(days=3)),
        )
    finally:
        telegram.clear_faults()

    assert sum(counts) == 3
    reminders = [m for m in chat.new_messages() if "⏳ Your voucher" in text_of(m)]
    assert len(reminders) == 3
    unreminded = await Voucher.filter(membership_id=membership.id, expiry_reminded_at=None)
    assert unreminded == []


async def test_a_reminder_telegram_failed_to_take_is_tried_again(
    chat: Chat, runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    shop, membership = await _member(chat, stamps_needed=1, validity_days=2)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)
    telegram.fail_with_server_error("sendMessage", times=10)
    try:
        with pytest.raises(TelegramServerError):
            await send_expiry_reminders(runtime.notifier, within=timedelta(days=3))
    finally:
        telegram.clear_faults()

    assert await Voucher.filter(expiry_reminded_at__isnull=False).count() == 0
    assert await send_expiry_reminders(runtime.notifier, within=timedelta(days=3)) == 1
    assert ["⏳ Your voucher" in text_of(m) for m in chat.new_messages()] == [True]


# -- U2: the one-time email offer after the first reward ---------------------------------------


def _confirmation_link(settings: Settings, address: str) -> str:
    import email
    import email.policy
    import re

    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (settings.var_dir / "mail").glob("verify-*.eml")
    ]
    mail = next(m for m in mails if m["To"] == address)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http://\S+/e/v/\S+", body.get_content())
    assert found is not None
    return found.group(0)


async def _reward(
    runtime: BotRuntime, shop: factories.NewMerchant, membership: Membership
) -> None:
    result = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id, ignore_cooldown=True)
    assert result.vouchers
    await runtime.notifier.stamps_added(membership.customer_id, result)


async def test_after_the_first_reward_adding_an_email_takes_three_actions_offered_once(
    chat: Chat, runtime: BotRuntime, bot_settings: Settings
) -> None:
    import aiohttp

    shop, membership = await _member(chat, stamps_needed=2)
    await _reward(runtime, shop, membership)
    _, offer = chat.new_messages()
    assert text_of(offer) == "Want offers and vouchers by email too?"
    assert [label for label, _ in buttons(offer)] == ["✉️ Add my email", "No thanks"]
    customer = await Customer.get(id=membership.customer_id)
    assert customer.email_prompted_at is not None
    before = chat.actions

    await chat.press_label(offer, "Add my email")
    # The settings' own question, in place of the offer (settings edit their one message).
    assert "Send me your email address" in text_of(chat.current(offer))
    await chat.send("olena@example.com")
    assert "I sent you a confirmation link" in text_of(chat.current(offer))
    link = _confirmation_link(bot_settings, "olena@example.com")
    async with aiohttp.ClientSession() as http, http.get(link) as page:  # the third action
        assert page.status == 200
    actions = chat.actions - before + 1

    assert actions == 3
    customer = await Customer.get(id=membership.customer_id)
    assert (customer.email, customer.email_verified) == ("olena@example.com", True)
    # The next reward brings no second offer.
    await _reward(runtime, shop, membership)
    later = chat.new_messages()
    assert len(later) == 1
    assert "is yours!" in text_of(later[0])


async def test_no_thanks_closes_the_offer_and_it_never_comes_back(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, membership = await _member(chat, stamps_needed=2)
    await _reward(runtime, shop, membership)
    _, offer = chat.new_messages()

    no = button(offer, "No thanks")
    await chat.press(offer, no)
    # A double tap on the stale button: the same message, no error, nothing sent.
    await chat._post(chat.telegram.callback_update(chat.user, offer, no, check_button=False))

    assert text_of(chat.current(offer)) == (
        "All right, no email. You can add one any time in Settings."
    )
    assert buttons(chat.current(offer)) == []
    assert chat.new_messages() == []
    await _reward(runtime, shop, membership)
    assert len(chat.new_messages()) == 1


async def test_a_customer_with_a_confirmed_email_is_not_asked(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, membership = await _member(chat, stamps_needed=2)
    await Customer.filter(id=membership.customer_id).update(
        email="olena@example.com", email_verified=True
    )

    await _reward(runtime, shop, membership)

    [reward] = chat.new_messages()
    assert "is yours!" in text_of(reward)


async def test_a_customer_who_joined_in_viber_hears_of_stamps_there_in_their_language(
    runtime: BotRuntime, viber: FakeViber, viber_api: ViberApi
) -> None:
    """No Telegram at all: the notice goes to their Viber chat, the same words (Ukrainian,
    Viber's marks for bold) and the same [My card] button, which comes back as its id."""
    from channels.viber.replies import ViberReplies
    from handlers.notify import CustomerNotifier
    from loyalty.customers import customer_for_identity
    from loyalty.memberships import join
    from models.enums import Platform
    from tests.viber_fixtures import SENDER

    shop = await factories.merchant(stamps_needed=5)
    user = viber.add_user("Оксана", language="uk")
    person = await customer_for_identity(Platform.VIBER, user, language_code="uk")
    membership = (await join(person, shop.card)).membership
    notifier = CustomerNotifier(
        runtime.bot, runtime.i18n, chats={Platform.VIBER: ViberReplies(viber_api, SENDER)}
    )
    stamped = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)

    assert await notifier.stamps_added(person.id, stamped)

    assert viber.texts(user) == [
        "+2 штампи у \u2068Kafe Lviv\u2069!\n"
        "2 з 5 штампів — ще 3 до: *\u2068Free cappuccino\u2069*"
    ]
    (received,) = viber.received[user]
    assert received.keyboard is not None
    assert [(b["Text"], b["ActionBody"]) for b in received.keyboard["Buttons"]] == [
        ("🪪 Моя картка", f"act:card:show:{membership.id}")
    ]
    # Without a Viber account configured, such a customer is not told (and nothing breaks).
    assert not await CustomerNotifier(runtime.bot, runtime.i18n).stamps_added(person.id, stamped)
