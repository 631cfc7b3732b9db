from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import aiohttp
import pytest

from bot.app import BotRuntime
from bot.config import Settings
from fakes.telegram import StoredMessage, visible
from handlers.callbacks import SettingsAction, SettingsOp
from loyalty.profile import OFFER_CHANNELS
from loyalty.stamps import add_stamps
from models import (
    ChannelOptOut,
    Customer,
    Delivery,
    Identity,
    Membership,
    PassRegistration,
    Voucher,
    WalletPass,
)
from models.enums import Channel, DeliveryStatus, MembershipStatus, VoucherStatus
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
        "Offers: on",
    ]
    # Leaving and erasing are one step away, under Privacy & data (review U7).
    assert [label for label, _ in buttons(menu)] == [
        "🌐 Language",
        "Email",
        "Birthday",
        "Offers",
        "🔒 Privacy & data",
        "✖ Close",
    ]


async def test_linking_is_offered_only_where_another_messenger_is(chat: Chat) -> None:
    """This run's bot is on Telegram only: no button, /link says so, a code is a text."""
    _, menu = await _customer_with_settings(chat)

    assert "Link another messenger" not in " ".join(label for label, _ in buttons(menu))
    assert [text_of(m) for m in await chat.send("/link")] == [
        "We are on Telegram only here, so there is no other messenger to link."
    ]
    assert [text_of(m) for m in await chat.send("/link K7Q-D3M-XPA")] == [
        "We are on Telegram only here, so there is no other messenger to link."
    ]
    typed = [text_of(m) for m in await chat.send("K7Q-D3M-XPA")]
    assert not any("code" in text for text in typed), typed
    # A button from when Viber was still there: expired, nothing issued.
    forged = SettingsAction(op=SettingsOp.LINK).pack()
    assert (
        await chat._post(
            chat.telegram.callback_update(chat.user, menu, forged, check_button=False)
        )
        == []
    )
    assert chat.last_answer()["text"] == "This button has expired."


@pytest.mark.usefixtures("other_messengers")
async def test_with_viber_or_whatsapp_the_settings_offer_linking(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)

    assert [label for label, _ in buttons(menu)][4:] == [
        "🔗 Link another messenger",
        "🔒 Privacy & data",
        "✖ Close",
    ]


async def test_settings_before_joining_explain_how_to_start(chat: Chat) -> None:
    replies = await chat.send("/settings")

    assert "Settings appear once you have joined" in text_of(replies[0])
    assert await Customer.all().count() == 0


async def test_email_is_validated_then_confirmed_by_the_emailed_link(
    chat: Chat, bot_settings: Settings
) -> None:
    _, menu = await _customer_with_settings(chat)
    assert await chat.press_label(menu, "Email") == []
    assert text_of(chat.current(menu)) == (
        "Send me your email address. We use it only for news and vouchers from the shops "
        "you've joined."
    )

    refused = await chat.send("not an email")
    assert "That doesn't look like an email address" in text_of(refused[0])
    assert (await _customer(chat)).email is None

    # The typed address brings the same message back as the menu, with the result on top.
    assert await chat.send("  Olena.K@Example.COM ") == []
    saved = text_of(chat.current(menu))
    assert saved.startswith("Saved: Olena.K@example.com. I sent you a confirmation link")
    assert "Email: Olena.K@example.com (not confirmed yet)" in saved
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

    assert await chat.send(typed) == []

    assert text_of(chat.current(menu)).splitlines()[0] == f"Birthday saved: {shown}."
    assert f"Birthday: {shown}" in text_of(chat.current(menu))
    customer = await _customer(chat)
    assert (customer.birth_day, customer.birth_month, customer.birth_year) == stored


@pytest.mark.parametrize("typed", ["31.02", "yesterday", "12.13.1990", "01.01.2999", "1.1.1800"])
async def test_impossible_birthdays_are_re_asked(chat: Chat, typed: str) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Birthday")

    replies = await chat.send(typed)

    assert "Please send the date as DD.MM or DD.MM.YYYY" in text_of(replies[0])
    assert (await _customer(chat)).birth_month is None
    await chat.send("01.05")
    assert text_of(chat.current(menu)).startswith("Birthday saved: 01.05.")


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
    await chat.press_label(menu, "Offers")
    panel = chat.current(menu)
    assert [label for label, _ in buttons(panel)] == [
        "Kafe Lviv: on",
        "In this chat: on",
        "By email: on",
        "◀ Back",
    ]

    await chat.press_label(panel, "By email")
    assert chat.last_answer()["text"] == "Turned off."
    assert [label for label, _ in buttons(chat.current(panel))][:3] == [
        "Kafe Lviv: partly on",
        "In this chat: on",
        "By email: off",
    ]
    customer = await _customer(chat)
    assert await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "channel", flat=True
    ) == [Channel.EMAIL]

    await chat.press_label(chat.current(panel), "By email")
    assert chat.last_answer()["text"] == "Turned on."
    assert not await ChannelOptOut.filter(customer_id=customer.id).exists()


async def test_changing_language_switches_the_whole_conversation(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Language")
    picker = chat.current(menu)
    assert next(label for label, _ in buttons(picker)) == "✅ English"
    assert [label for label, _ in buttons(picker)][-1] == "◀ Back"

    assert await chat.press_label(picker, "Українська") == []

    assert (await _customer(chat)).language == "uk"
    assert "Українська" in text_of(chat.current(menu))
    assert "Language:" not in text_of(chat.current(menu))


async def test_leaving_a_card_asks_first_and_forfeits_it(chat: Chat) -> None:
    shop, menu = await _customer_with_settings(chat)
    membership = await Membership.get(card_id=shop.card.id)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id)
    await chat.press_label(menu, "Privacy & data")
    await chat.press_label(chat.current(menu), "Leave a card")
    await chat.press_label(chat.current(menu), "Coffee card · Kafe Lviv")
    confirm = chat.current(menu)
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
    await chat.press_label(menu, "Privacy & data")
    await chat.press_label(chat.current(menu), "Erase my data")
    confirm = chat.current(menu)
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
    await chat.press_label(menu, "Privacy & data")
    await chat.press_label(chat.current(menu), "Leave a card")
    await chat.press_label(chat.current(menu), "Coffee card · Kafe Lviv")
    confirm = chat.current(menu)

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
    # Erased from a second settings message; the first one keeps its old buttons.
    other = (await chat.send("/settings"))[0]
    await chat.press_label(other, "Privacy & data")
    await chat.press_label(chat.current(other), "Erase my data")
    await chat.press_label(chat.current(other), "Yes, erase everything")

    await chat.press(menu, email_button)

    assert chat.last_answer()["text"] == "This button has expired."
    # Nobody's settings to draw any more: the old screen stays as it was.
    assert button(chat.current(menu), "Email") == email_button


def _confirmations_to(bot_settings: Settings, address: str) -> int:
    return sum(
        1
        for path in (bot_settings.var_dir / "mail").glob("verify-*.eml")
        if email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["To"]
        == address
    )


async def _enter_email(chat: Chat, address: str, label: str = "Email") -> str:
    """What the settings message says after the address is typed (it is edited in place)."""
    menu = (await chat.send("/settings"))[0]
    await chat.press(menu, next(data for text, data in buttons(menu) if text == label))
    assert await chat.send(address) == []
    return text_of(chat.current(menu)).split("\n\n")[0]


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

    assert "I sent you a confirmation link" in first
    for refused in (again, foreign):
        assert refused == (
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
        assert answer.startswith(f"Збережено: {address}.")
    assert "На сьогодні листів із підтвердженням досить" in answers[5]
    assert _confirmations_to(bot_settings, addresses[5]) == 0
    assert (await _customer(chat)).email == addresses[4]


def _sent_and_edited(chat: Chat) -> tuple[int, int]:
    """How many messages the bot sent this person, and how many edits it made."""
    sent = len(chat.telegram.sent_messages(chat.user.id))
    edits = sum(
        1
        for method in ("editMessageText", "editMessageReplyMarkup")
        for call in chat.telegram.calls(method)
        if str(call.params.get("chat_id")) == str(chat.user.id)
    )
    return sent, edits


async def test_every_button_step_of_settings_edits_the_one_menu_in_place(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    sent_before, edits_before = _sent_and_edited(chat)
    chat.actions = 0

    # Back from every sub-screen, a saved language, a saved email and a saved birthday.
    for label in ("Language", "Email", "Birthday", "Offers", "Privacy & data"):
        await chat.press_label(chat.current(menu), label)
        await chat.press_label(chat.current(menu), "◀ Back")
        assert text_of(chat.current(menu)).startswith("Settings"), label
    await chat.press_label(chat.current(menu), "Language")
    await chat.press_label(chat.current(menu), "English")
    assert chat.last_answer()["text"] == "Language saved."
    await chat.press_label(chat.current(menu), "Email")
    await chat.send("olena@example.com")
    await chat.press_label(chat.current(menu), "Birthday")
    await chat.send("24.11")
    await chat.press_label(chat.current(menu), "Privacy & data")
    await chat.press_label(chat.current(menu), "Leave a card")
    await chat.press_label(chat.current(menu), "◀ Back")
    await chat.press_label(chat.current(menu), "Erase my data")
    await chat.press_label(chat.current(menu), "◀ Back")
    assert text_of(chat.current(menu)).startswith("Privacy & data")

    sent, edits = _sent_and_edited(chat)
    # 19 taps and 2 typed answers: 21 edits of the one message, and no new message at all.
    assert sent == sent_before
    assert edits - edits_before == chat.actions == 21
    final = text_of(chat.current(menu))
    assert "Leaving a card deletes its stamps and vouchers." in final


async def _two_shops(chat: Chat) -> tuple[factories.NewMerchant, factories.NewMerchant]:
    cafe = await factories.merchant("Kafe Lviv")
    bakery = await factories.merchant("Bakery")
    await chat.send(f"/start j-{cafe.card.join_token}")
    await chat.send(f"/start j-{bakery.card.join_token}")
    return cafe, bakery


async def test_offers_list_every_shop_with_its_state_in_words_and_turn_one_off(
    chat: Chat,
) -> None:
    from tests.campaigns.helpers import ScriptedChannel, started, worker

    cafe, bakery = await _two_shops(chat)
    chat.actions = 0
    menu = (await chat.send("/settings"))[0]
    assert text_of(menu).splitlines()[-2:] == [
        "Offers from Bakery: on",
        "Offers from Kafe Lviv: on",
    ]
    await chat.press_label(menu, "Offers")
    assert [label for label, _ in buttons(chat.current(menu))] == [
        "Bakery: on",
        "In this chat: on",
        "By email: on",
        "Kafe Lviv: on",
        "In this chat: on",
        "By email: on",
        "◀ Back",
    ]

    await chat.press_label(chat.current(menu), "Kafe Lviv")

    # One shop off: /settings, Offers, the shop (today: Settings, Notifications, the shop,
    # then each channel: 5), all on the same message.
    assert chat.actions == 3
    assert visible(chat.last_answer()["text"]) == "Offers from Kafe Lviv: off."
    assert [label for label, _ in buttons(chat.current(menu))][:6] == [
        "Bakery: on",
        "In this chat: on",
        "By email: on",
        "Kafe Lviv: off",
        "In this chat: off",
        "By email: off",
    ]
    customer = await _customer(chat)
    assert sorted(
        await ChannelOptOut.filter(customer_id=customer.id).values_list("merchant_id", "channel")
    ) == sorted((cafe.merchant.id, channel) for channel in OFFER_CHANNELS)
    await chat.press_label(chat.current(menu), "◀ Back")
    assert text_of(chat.current(menu)).splitlines()[-2:] == [
        "Offers from Bakery: on",
        "Offers from Kafe Lviv: off",
    ]

    # The next campaigns: Kafe Lviv's skips this person, the bakery's still reaches them.
    from_cafe = await started(cafe, Channel.TELEGRAM)
    from_bakery = await started(bakery, Channel.TELEGRAM)
    telegram = ScriptedChannel("telegram")
    await worker(telegram).tick()
    reached = {
        campaign_id
        for campaign_id in await Delivery.filter(
            customer_id=customer.id, status=DeliveryStatus.SENT
        ).values_list("campaign_id", flat=True)
    }
    assert reached == {from_bakery.id}
    assert [m.address for m in telegram.sent] == [str(chat.user.id)]
    assert from_cafe.id not in reached

    # And on again with one tap.
    await chat.press_label(chat.current(menu), "Offers")
    await chat.press_label(chat.current(menu), "Kafe Lviv: off")
    assert visible(chat.last_answer()["text"]) == "Offers from Kafe Lviv: on."
    assert not await ChannelOptOut.filter(customer_id=customer.id).exists()


@pytest.mark.parametrize(
    "forged",
    [
        "set:shop:{florist}-off",
        "set:toggle:{florist}-email-off",
        "set:toggle:{cafe}-apple_wallet-off",
        "set:toggle:{cafe}-sms-off",
        "set:toggle:{cafe}-email-maybe",
        "set:toggle:{cafe}-off",
        "set:shop:{cafe}-email-off",
        "set:shop:{cafe}",
        "set:shop:abc-off",
        "set:shop:99999999999-off",
        "set:setlang:xx",
        "set:leave_pick:{florist_card}",
        "set:leave_ok:abc",
    ],
)
async def test_forged_settings_buttons_change_nothing_and_redraw_the_menu(
    chat: Chat, forged: str
) -> None:
    cafe, menu = await _customer_with_settings(chat)
    # A shop this person never joined, and someone else's card there.
    florist = await factories.merchant("Florist")
    stranger = await factories.member(florist, telegram_id=4242)
    await chat.press_label(menu, "Offers")
    data = forged.format(
        florist=florist.merchant.id, cafe=cafe.merchant.id, florist_card=stranger.id
    )

    await chat._post(chat.telegram.callback_update(chat.user, menu, data, check_button=False))

    assert chat.last_answer()["text"] == "This button has expired."
    # The stale tap lands back on the settings menu, as it is now (review U9).
    assert text_of(chat.current(menu)).splitlines()[0] == "Settings"
    assert not await ChannelOptOut.all().exists()
    assert (await _customer(chat)).language in (None, "en")
    assert await Membership.filter(status=MembershipStatus.ACTIVE).count() == 2


async def test_a_stale_button_after_leaving_shows_the_menu_again(chat: Chat) -> None:
    _shop, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Privacy & data")
    await chat.press_label(chat.current(menu), "Leave a card")
    await chat.press_label(chat.current(menu), "Coffee card · Kafe Lviv")
    yes = button(chat.current(menu), "Yes, leave the card")
    await chat.press(chat.current(menu), yes)
    assert text_of(chat.current(menu)).startswith("You left Coffee card.")

    # The same confirmation tapped again (a double tap, or an old copy of the screen).
    await chat._post(chat.telegram.callback_update(chat.user, menu, yes, check_button=False))

    assert chat.last_answer()["text"] == "This button has expired."
    assert text_of(chat.current(menu)).splitlines()[0] == "Settings"
    # The card, the note that brings the customer keyboard, and the first menu: nothing new.
    assert len(chat.telegram.sent_messages(chat.user.id)) == 3


async def test_the_language_picker_has_back_on_a_row_of_its_own(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)

    await chat.press_label(menu, "Language")

    rows = chat.current(menu).reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [[b["text"] for b in row] for row in rows][-1] == ["◀ Back"]
    assert all(len(row) <= 2 for row in rows)


async def test_a_double_tap_on_a_switch_changes_nothing_the_second_time(chat: Chat) -> None:
    shop, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Offers")
    off = button(chat.current(menu), "By email: on")

    await chat.press(chat.current(menu), off)
    # The second tap of a double tap carries the first one's data: "email off" again.
    await chat._post(chat.telegram.callback_update(chat.user, menu, off, check_button=False))

    assert chat.last_answer()["text"] == "Turned off."
    customer = await _customer(chat)
    assert await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "merchant_id", "channel"
    ) == [(shop.merchant.id, Channel.EMAIL)]
    assert "By email: off" in [label for label, _ in buttons(chat.current(menu))]


async def test_cancel_brings_the_asking_message_back_as_the_menu(chat: Chat) -> None:
    _, menu = await _customer_with_settings(chat)
    await chat.press_label(menu, "Birthday")

    assert await chat.send("/cancel") == []

    assert text_of(chat.current(menu)).splitlines()[:3] == ["Cancelled.", "", "Settings"]
    assert await chat.send("24.11") != []  # no question is open any more
    assert (await _customer(chat)).birth_month is None
