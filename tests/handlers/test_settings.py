from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import aiohttp
import pytest

from bot.app import BotRuntime
from bot.config import Settings
from fakes.telegram import StoredMessage
from loyalty.stamps import add_stamps
from models import (
    ChannelOptOut,
    Customer,
    Identity,
    Membership,
    PassRegistration,
    Voucher,
    WalletPass,
)
from models.enums import Channel, MembershipStatus, VoucherStatus
from tests import factories
from tests.chat import Chat, button, buttons, text_of
from wallets.apple_registry import (
    RETIRING_GRACE,
    register_device,
    retire_overdue_passes,
)


async def _customer_with_settings(chat: Chat) -> tuple[factories.NewMerchant, StoredMessage]:
    shop = await factories.merchant()
    await chat.send(f"/start j-{shop.card.join_token}")
    menu = (await chat.send("/settings"))[0]
    return shop, menu


async def _customer(chat: Chat) -> Customer:
    identity = await Identity.get(external_id=str(chat.user.id))
    return await Customer.get(id=identity.customer_id)


async def test_settings_menu_shows_the_current_values(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)

    assert text_of(menu).splitlines() == [
        "Settings",
        "Language: English",
        "Email: not set",
        "Birthday: not set",
        "Notifications: Messages in this chat 🔔, Email 🔔",
    ]
    assert [label for label, _ in buttons(menu)] == [
        "🌐 Language",
        "✉️ Email",
        "🎂 Birthday",
        "🔔 Notifications",
        "🚪 Leave a card",
        "🗑 Erase my data",
        "✖️ Close",
    ]


async def test_settings_before_joining_explain_how_to_start(chat: Chat) -> None:
    replies = await chat.send("/settings")

    assert "Settings appear once you have joined" in text_of(replies[0])
    assert await Customer.all().count() == 0


async def test_email_is_validated_then_confirmed_by_the_emailed_link(
    chat: Chat, bot_settings: Settings
) -> None:
    _, menu = await _customer_with_settings(chat)
    prompt = (await chat.press_label(menu, "Email"))[0]
    assert "Send me your email address" in text_of(prompt)

    refused = await chat.send("not an email")
    assert "That doesn't look like an email address" in text_of(refused[0])
    assert (await _customer(chat)).email is None

    saved = await chat.send("  Olena.K@Example.COM ")
    assert "Saved: Olena.K@example.com. I sent you a confirmation link" in text_of(saved[0])
    assert "Email: Olena.K@example.com (not confirmed yet)" in text_of(saved[1])
    customer = await _customer(chat)
    assert (customer.email, customer.email_verified) == ("Olena.K@example.com", False)

    # The embedded default writes the mail into var/mail; follow its link like a person would.
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (bot_settings.var_dir / "mail").glob("verify-*.eml")
    ]
    mail = next(m for m in mails if m["To"] == "Olena.K@example.com")
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"http://\S+/e/v/\S+", body.get_content())
    assert link is not None
    async with aiohttp.ClientSession() as http, http.get(link.group(0)) as page:
        assert page.status == 200
    assert (await _customer(chat)).email_verified is True


async def test_oversized_input_is_refused_politely(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Email")

    replies = await chat.send("a" * 4000 + "@example.com")

    assert "That doesn't look like an email address" in text_of(replies[0])
    assert (await _customer(chat)).email is None


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [("24.11", (24, 11, None), "24.11"), ("29.02.1992", (29, 2, 1992), "29.02.1992")],
)
async def test_birthday_with_or_without_year(
    chat: Chat, typed: str, stored: tuple[int, int, int | None], shown: str
) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Birthday")

    replies = await chat.send(typed)

    assert text_of(replies[0]) == f"Saved: {shown} 🎂"
    customer = await _customer(chat)
    assert (customer.birth_day, customer.birth_month, customer.birth_year) == stored


@pytest.mark.parametrize("typed", ["31.02", "yesterday", "12.13.1990", "01.01.2999", "1.1.1800"])
async def test_impossible_birthdays_are_re_asked(chat: Chat, typed: str) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Birthday")

    replies = await chat.send(typed)

    assert "Please send the date as DD.MM or DD.MM.YYYY" in text_of(replies[0])
    assert (await _customer(chat)).birth_month is None
    again = await chat.send("01.05")
    assert text_of(again[0]) == "Saved: 01.05 🎂"


async def test_a_photo_instead_of_text_is_re_asked(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Birthday")
    update = chat.telegram.message_update(chat.user, "x")
    message = update["message"]
    del message["text"]
    message["sticker"] = {
        "file_id": "sticker-1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }

    replies = await chat._post(update)

    assert text_of(replies[0]) == "Please send it as text, or /cancel."


async def test_notification_opt_out_toggles_and_is_stored(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    panel = (await chat.press_label(menu, "Notifications"))[0]

    await chat.press_label(panel, "Email")
    assert chat.last_answer()["text"] == "Turned off."
    assert "🔕 Email" in [label for label, _ in buttons(chat.current(panel))]
    customer = await _customer(chat)
    assert await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "channel", flat=True
    ) == [Channel.EMAIL]

    await chat.press_label(chat.current(panel), "Email")
    assert chat.last_answer()["text"] == "Turned on."
    assert not await ChannelOptOut.filter(customer_id=customer.id).exists()


async def test_changing_language_switches_the_whole_conversation(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    picker = (await chat.press_label(menu, "Language"))[0]

    replies = await chat.press_label(picker, "Українська")

    assert (await _customer(chat)).language == "uk"
    assert "Українська" in text_of(replies[-1])
    assert "Language:" not in text_of(replies[-1])


async def test_leaving_a_card_asks_first_and_forfeits_it(chat: Chat) -> None:
    shop, menu = await _customer_with_settings(chat)
    membership = await Membership.get(card_id=shop.card.id)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id)
    picker = (await chat.press_label(menu, "Leave a card"))[0]
    confirm = (await chat.press_label(picker, "Coffee card · Kafe Lviv"))[0]
    assert "Its stamps (4) and unused vouchers (0) will be lost." in text_of(confirm)
    assert (await Membership.get(id=membership.id)).status == MembershipStatus.ACTIVE

    await chat.press_label(confirm, "Yes, leave the card")

    assert text_of(chat.current(confirm)).startswith("You left Coffee card.")
    stored = await Membership.get(id=membership.id)
    assert (stored.status, stored.balance) == (MembershipStatus.LEFT, 0)


async def test_erasing_my_data_needs_confirmation_and_forgets_me(chat: Chat) -> None:
    shop, menu = await _customer_with_settings(chat)
    membership = await Membership.get(card_id=shop.card.id)
    for _ in range(2):
        await add_stamps(membership.id, 5, merchant_id=shop.merchant.id)
    confirm = (await chat.press_label(menu, "Erase my data"))[0]
    assert "This cannot be undone." in text_of(confirm)
    assert await Identity.filter(external_id=str(chat.user.id)).exists()

    await chat.press_label(confirm, "Yes, erase everything")

    assert text_of(chat.current(confirm)).startswith("Done: your data is erased.")
    assert not await Identity.filter(external_id=str(chat.user.id)).exists()
    erased = await Customer.get(id=membership.customer_id)
    assert (erased.first_name, erased.erased_at is not None) == (None, True)
    assert await Voucher.filter(membership_id=membership.id).values_list("status", flat=True) == [
        VoucherStatus.VOID
    ]
    replies = await chat.send("/card")
    assert "You don't have a stamp card yet." in text_of(replies[0])


async def test_leaving_a_card_in_the_chat_retires_its_apple_pass(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop, menu = await _customer_with_settings(chat)
    membership = await Membership.get(card_id=shop.card.id)
    issued = await runtime.wallets.apple_pass(membership.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(wallet_pass, "device-1", "ab" * 32)
    picker = (await chat.press_label(menu, "Leave a card"))[0]
    confirm = (await chat.press_label(picker, "Coffee card · Kafe Lviv"))[0]

    await chat.press_label(confirm, "Yes, leave the card")

    # Retiring: the device may still fetch the voided pass with the old token.
    retiring = await WalletPass.get(id=wallet_pass.id)
    assert retiring.retiring_since is not None
    assert retiring.update_tag > wallet_pass.update_tag
    assert retiring.authentication_token == wallet_pass.authentication_token
    # A device that never fetches it is forgotten after the grace period.
    assert await retire_overdue_passes(now=retiring.retiring_since + RETIRING_GRACE) == 1
    assert not await PassRegistration.exists(wallet_pass_id=wallet_pass.id)
    retired = await WalletPass.get(id=wallet_pass.id)
    assert retired.authentication_token != wallet_pass.authentication_token


async def test_stale_settings_buttons_after_erasure_are_expired(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    email_button = button(menu, "Email")
    confirm = (await chat.press_label(menu, "Erase my data"))[0]
    await chat.press_label(confirm, "Yes, erase everything")

    await chat.press(menu, email_button)

    assert chat.last_answer()["text"] == "This button has expired."


def _confirmations_to(bot_settings: Settings, address: str) -> int:
    return sum(
        1
        for path in (bot_settings.var_dir / "mail").glob("verify-*.eml")
        if email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["To"]
        == address
    )


async def _enter_email(chat: Chat, address: str, label: str = "Email") -> list[StoredMessage]:
    menu = (await chat.send("/settings"))[0]
    await chat.press_label(menu, label)
    return await chat.send(address)


async def test_one_confirmation_per_address_per_ten_minutes_whoever_asks(
    chat: Chat, new_chat: Any, bot_settings: Settings
) -> None:
    shop, _ = await _customer_with_settings(chat)
    target = "victim.throttle@example.com"

    first = await _enter_email(chat, target)
    again = await _enter_email(chat, target)
    # Another account asking for the same address is refused as well.
    other = new_chat(first_name="Mallory")
    await other.send(f"/start j-{shop.card.join_token}")
    foreign = await _enter_email(other, target)

    assert "I sent you a confirmation link" in text_of(first[0])
    for refused in (again, foreign):
        assert text_of(refused[0]) == (
            "A confirmation email went to this address a moment ago. Please check your inbox "
            "(and spam folder), or try again in 10 minutes."
        )
    assert _confirmations_to(bot_settings, target) == 1
    # A refused request changes nothing: the other account has no address stored.
    assert (await _customer(other)).email is None


async def test_a_customer_gets_a_few_confirmations_a_day_then_a_localized_refusal(
    new_chat: Any, bot_settings: Settings
) -> None:
    chat = new_chat(language="uk")
    await _customer_with_settings(chat)
    addresses = [f"daily{n}.cap@example.com" for n in range(6)]

    answers = [await _enter_email(chat, address, "Ел. пошта") for address in addresses]

    for address, answer in zip(addresses[:5], answers[:5], strict=True):
        assert text_of(answer[0]).startswith(f"Збережено: {address}.")
    assert "На сьогодні листів із підтвердженням досить" in text_of(answers[5][0])
    assert _confirmations_to(bot_settings, addresses[5]) == 0
    assert (await _customer(chat)).email == addresses[4]


async def test_notification_opt_outs_are_per_shop(chat: Chat) -> None:
    cafe = await factories.merchant("Kafe Lviv")
    bakery = await factories.merchant("Bakery")
    await chat.send(f"/start j-{cafe.card.join_token}")
    await chat.send(f"/start j-{bakery.card.join_token}")
    menu = (await chat.send("/settings"))[0]
    assert text_of(menu).splitlines()[-2:] == [
        "Notifications from Bakery: Messages in this chat 🔔, Email 🔔",
        "Notifications from Kafe Lviv: Messages in this chat 🔔, Email 🔔",
    ]

    picker = (await chat.press_label(menu, "Notifications"))[0]
    assert text_of(picker) == "News from which shop?"
    assert [label for label, _ in buttons(picker)] == ["Bakery", "Kafe Lviv", "⬅️ Settings"]
    panel = (await chat.press_label(picker, "Kafe Lviv"))[0]
    assert text_of(panel).startswith("News and offers from Kafe Lviv.")
    await chat.press_label(panel, "Email")

    assert chat.last_answer()["text"] == "Turned off."
    customer = await _customer(chat)
    assert await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "merchant_id", "channel"
    ) == [(cafe.merchant.id, Channel.EMAIL)]
    again = (await chat.send("/settings"))[0]
    assert text_of(again).splitlines()[-2:] == [
        "Notifications from Bakery: Messages in this chat 🔔, Email 🔔",
        "Notifications from Kafe Lviv: Messages in this chat 🔔, Email 🔕",
    ]
    # A switch for a shop the customer holds no card at is a stale button, not an opt-out.
    florist = await factories.merchant("Florist")
    forged = f"set:toggle:{florist.merchant.id}-email"
    await chat._post(chat.telegram.callback_update(chat.user, panel, forged, check_button=False))
    assert chat.last_answer()["text"] == "This button has expired."
    assert await ChannelOptOut.filter(customer_id=customer.id).count() == 1
