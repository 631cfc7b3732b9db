"""The cashier's tasks of the chat review, driven through the bot and counted as the review
counts them: stamp by scan (with and without the shop's "scan adds 1"), redeem from the card's
own QR or its typed code, "Other…", codes from staff of several shops, the counter keyboard,
and what strangers, stray text and forged buttons get."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, WebAppInfo

from bot.app import BotRuntime
from fakes.telegram import FakeTelegramAPI
from handlers.callbacks import (
    CardSetAction,
    CardSetOp,
    RedeemAction,
    StampAction,
    TillAction,
    TillOp,
)
from handlers.counter_menu import cashier_keyboard, scanner_url
from loyalty.stamps import add_stamps
from models import AuditEntry, Membership, Merchant, Staff, StampEvent, Voucher
from models.enums import LedgerKind, RedeemVia, StaffRole, VoucherStatus
from tests import factories
from tests.chat import Chat, buttons, shop_menu, text_of
from tests.handlers.test_counter import _member, _staff
from web.app import WEBHOOK_PATH


async def _forge(person: Chat, data: str) -> None:
    message = person.replies[-1]
    await person._post(
        person.telegram.callback_update(person.user, message, data, check_button=False)
    )


def _code(membership: Membership) -> str:
    assert membership.counter_code is not None
    return membership.counter_code


async def _people(new_chat: Any, shop: factories.NewMerchant) -> tuple[Chat, Chat, Membership]:
    customer: Chat = new_chat(first_name="Olena")
    cashier: Chat = new_chat(first_name="Taras")
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)
    customer.new_messages()
    cashier.actions = 0
    return customer, cashier, membership


async def test_redeem_from_the_card_qr_takes_two_taps_and_none_from_the_customer(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=3)
    customer, cashier, membership = await _people(new_chat, shop)
    voucher = (await add_stamps(membership.id, 3, merchant_id=shop.merchant.id)).vouchers[0]
    customer.new_messages()
    customer.actions = 0

    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    assert text_of(screen).splitlines() == [
        "Olena — 0 of 3 stamps",
        "🎟 1 reward ready: Free cappuccino",
    ]
    assert [label for label, _ in buttons(screen)] == [
        "+1 stamp",
        "+2",
        "+3",
        "Other…",
        "🎟 Redeem Free cappuccino",
        "🔎 Customer",
    ]
    await cashier.press_label(screen, "Redeem Free cappuccino")

    assert cashier.actions == 2
    assert customer.actions == 0
    assert text_of(cashier.current(screen)) == "✅ Redeemed: Free cappuccino for Olena."
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SCAN)
    assert any(
        "Free cappuccino was used at Kafe Lviv" in text_of(m) for m in customer.new_messages()
    )
    # The same button again (a double tap, a second till) redeems nothing twice.
    again = (await cashier.scan(f"m-{membership.public_token}"))[0]
    assert "reward ready" not in text_of(again)
    await cashier._post(
        cashier.telegram.callback_update(
            cashier.user, screen, RedeemAction(voucher_id=voucher.id).pack(), check_button=False
        )
    )
    assert text_of(cashier.current(screen)).startswith("This voucher was already redeemed on")
    assert await Voucher.filter(membership_id=membership.id).count() == 1


async def test_the_typed_card_code_opens_the_vouchers_in_two_actions(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=2)
    customer, cashier, membership = await _people(new_chat, shop)
    voucher = (await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)).vouchers[0]
    customer.actions = 0

    screen = (await cashier.send(_code(membership).lower()))[-1]
    await cashier.press_label(screen, "Redeem Free cappuccino")

    assert cashier.actions == 2
    assert customer.actions == 0
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.CODE)
    # /redeem with the card's code opens the same screen, with nothing left to redeem.
    by_command = (await cashier.send(f"/redeem {_code(membership)}"))[-1]
    assert text_of(by_command).splitlines() == ["Olena — 0 of 2 stamps"]


async def test_a_stamp_that_completes_the_card_offers_the_reward_at_once(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=3)
    customer, cashier, membership = await _people(new_chat, shop)

    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+3")
    done = cashier.current(screen)
    assert text_of(done).splitlines() == [
        "✅ +3 for Olena · 0 of 3 stamps",
        "🎉 Reward ready: Free cappuccino",
    ]
    assert [label for label, _ in buttons(done)] == ["🎟 Redeem it now", "↩️ Undo"]
    await cashier.press_label(done, "Redeem it now")

    assert text_of(cashier.current(done)) == "✅ Redeemed: Free cappuccino for Olena."
    voucher = await Voucher.get(membership_id=membership.id)
    assert voucher.status == VoucherStatus.REDEEMED
    told = [text_of(m) for m in customer.new_messages()]
    assert told[0].startswith("🎉 Free cappuccino is yours! (+3 stamps at Kafe Lviv)")
    assert any("Free cappuccino was used at Kafe Lviv" in line for line in told)


async def test_with_the_opt_in_a_scan_stamps_at_once_and_offers_more_and_undo(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=10, cooldown=300, max_per_call=10)
    await Merchant.filter(id=shop.merchant.id).update(scan_adds_stamp=True)
    customer, cashier, membership = await _people(new_chat, shop)
    await add_stamps(membership.id, 7, merchant_id=shop.merchant.id, now=factories.T0)

    scanned = (await cashier.scan(f"m-{membership.public_token}"))[0]
    assert cashier.actions == 1  # the task "stamp by scan", with the opt-in
    assert text_of(scanned) == "✅ +1 for Olena · 8 of 10 stamps"
    assert [label for label, _ in buttons(scanned)] == ["+1 more", "↩️ Undo"]
    assert (await Membership.get(id=membership.id)).balance == 8
    assert text_of(customer.new_messages()[0]).startswith("+1 stamp at Kafe Lviv!")

    # "+1 more" is the same purchase: past the double-scan guard, and no second visit.
    await cashier.press_label(scanned, "+1 more")
    more = cashier.current(scanned)
    assert text_of(more) == "✅ +1 for Olena · 9 of 10 stamps"
    stored = await Membership.get(id=membership.id)
    assert (stored.balance, stored.visits) == (9, 2)
    # Its Undo takes back the last +1 only.
    await cashier.press_label(more, "Undo")
    stored = await Membership.get(id=membership.id)
    assert (stored.balance, stored.visits) == (8, 2)

    # A second scan is a new visit: the guard refuses it, naming the customer.
    again = (await cashier.scan(f"m-{membership.public_token}"))[0]
    assert text_of(again).startswith("Olena was stamped just now (")
    assert (await Membership.get(id=membership.id)).balance == 8
    # A forged "+1 more" naming an older stamp is no same purchase: the guard applies.
    old = await StampEvent.filter(membership_id=membership.id, kind=LedgerKind.STAMP).first()
    assert old is not None
    forged = StampAction(membership_id=membership.id, count=1, nonce="f0rged", adds_to=old.id)
    await _forge(cashier, forged.pack())
    assert (await Membership.get(id=membership.id)).balance == 8


async def test_without_the_opt_in_a_scan_and_plus_one_stamp(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=10)
    _customer, cashier, membership = await _people(new_chat, shop)

    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+1 stamp")

    assert cashier.actions == 2
    assert text_of(cashier.current(screen)) == "✅ +1 for Olena · 1 of 10 stamps"
    assert [label for label, _ in buttons(cashier.current(screen))] == ["↩️ Undo"]
    event = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.STAMP)
    assert (event.delta, event.staff_id is not None) == (1, True)


async def test_a_stamp_press_is_answered_in_the_webhook_reply_after_the_screen_changed(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    """The spinner stops through the webhook's HTTP answer, which Telegram runs: the busiest
    button makes one Bot API request fewer, and the edited screen is already there."""
    shop = await factories.merchant(stamps_needed=10)
    _customer, cashier, membership = await _people(new_chat, shop)
    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    before = len(telegram.calls())

    await cashier.press_label(screen, "+1 stamp")

    pressed = [c for c in telegram.calls()[before:] if c.method != "sendMessage"]
    assert [(c.method, c.via_webhook_response) for c in pressed] == [
        ("editMessageText", False),
        ("answerCallbackQuery", True),
    ]
    assert text_of(cashier.current(screen)) == "✅ +1 for Olena · 1 of 10 stamps"


async def test_other_takes_a_typed_number_up_to_the_cards_maximum(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=20, max_per_call=8)
    _customer, cashier, membership = await _people(new_chat, shop)

    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    ask = (await cashier.press_label(screen, "Other…"))[-1]
    assert text_of(ask) == "How many stamps for Olena? Type a number from 1 to 8."
    for bad in ("9", "0", "five", "-2"):
        refused = await cashier.send(bad)
        assert text_of(refused[-1]) == "Please type a number from 1 to 8."
    assert await StampEvent.filter(membership_id=membership.id).count() == 0
    done = (await cashier.send("6"))[-1]

    assert text_of(done) == "✅ +6 for Olena · 6 of 20 stamps"
    assert (await Membership.get(id=membership.id)).balance == 6
    # The question is answered: another number is just text again.
    after = await cashier.send("6")
    assert (await Membership.get(id=membership.id)).balance == 6
    assert text_of(after[-1]).startswith("That isn't a code.")


async def test_a_cashier_keeps_the_counter_keyboard_and_each_button_says_what_to_type(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    cashier: Chat = new_chat(first_name="Taras")
    seat = await _staff(cashier, shop, StaffRole.CASHIER)

    welcome = cashier.replies[-1]
    assert text_of(welcome).startswith("Welcome, Taras! You are now cashier at Kafe Lviv.")
    keyboard = welcome.sent_reply_markup or {}
    assert [[b["text"] for b in row] for row in keyboard["keyboard"]] == [
        ["⌨️ Type a code", "🎟 Redeem a voucher"]
    ]
    typed = await cashier.send("⌨️ Type a code")
    assert text_of(typed[-1]).startswith("Type the code under the customer's QR (like G7P3-NGVZ)")
    redeem = await cashier.send("🎟 Redeem a voucher")
    assert text_of(redeem[-1]).startswith("Scan the customer's card QR")
    # No "Exit admin mode" where the thumb rests; the Mini App scanner only over HTTPS.
    with runtime.i18n.context(), runtime.i18n.use_locale("en"):
        https = cashier_keyboard(seat, "https://shop.example/scanner")
    assert https.keyboard[0][0].web_app is not None
    assert https.keyboard[0][0].web_app.url == "https://shop.example/scanner"


async def test_staff_of_two_shops_are_asked_once_which_shop_a_code_is_for(
    new_chat: Any,
) -> None:
    first = await factories.merchant("Kafe Lviv", stamps_needed=4)
    second = await factories.merchant("Bakery", stamps_needed=4)
    customer: Chat = new_chat(first_name="Olena")
    other: Chat = new_chat(first_name="Ivan")
    both: Chat = new_chat(first_name="Taras")
    membership = await _member(customer, second)
    elsewhere = await _member(other, first)
    await _staff(both, first, StaffRole.CASHIER)
    await _staff(both, second, StaffRole.CASHIER)

    ask = (await both.send(_code(membership)))[-1]
    assert text_of(ask) == "Which shop are you working for?"
    assert [label for label, _ in buttons(ask)] == ["Kafe Lviv", "Bakery"]
    await both.press_label(ask, "Bakery")
    assert text_of(both.current(ask)).splitlines() == ["Olena — 0 of 4 stamps"]
    # Remembered: the next code goes straight to its screen — for the shop chosen.
    again = (await both.send(_code(membership)))[-1]
    assert text_of(again) == "Olena — 0 of 4 stamps"
    wrong_shop = (await both.send(_code(elsewhere)))[-1]
    assert text_of(wrong_shop).startswith("No card or voucher has the code")
    # A forged "which shop" button for a shop they don't work at changes nothing.
    stranger = await factories.merchant("Stranger")
    await _forge(both, TillAction(op=TillOp.CODE_AT, target=stranger.merchant.id,
                                  value=_code(membership)).pack())  # fmt: skip
    assert both.last_answer()["text"] == "This button has expired."


async def test_a_code_from_someone_who_is_not_staff_gets_the_customer_answer(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=1)
    _customer, _cashier, membership = await _people(new_chat, shop)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    stranger: Chat = new_chat(first_name="Eve")
    await _member(stranger, await factories.merchant("Other"))

    for typed in (_code(membership), voucher.code):
        replies = await stranger.send(typed)
        shown = "\n".join(text_of(m) for m in replies)
        # The customer's answer to free text: nothing of the card the code belongs to.
        assert shown.startswith("I'm the card bot, so I can't pass messages to the shop.")
        assert "Olena" not in shown
        assert "cappuccino" not in shown
    # Forged counter buttons from the stranger change nothing either.
    for forged in (
        RedeemAction(voucher_id=voucher.id).pack(),
        TillAction(op=TillOp.OTHER_COUNT, target=membership.id).pack(),
        StampAction(membership_id=membership.id, count=1, nonce="x", override=True).pack(),
    ):
        await _forge(stranger, forged)
        assert stranger.last_answer()["text"] == "This button has expired."
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED
    assert (await Membership.get(id=membership.id)).balance == 0


async def test_stray_text_from_staff_gets_the_code_hint(new_chat: Any) -> None:
    shop = await factories.merchant()
    _customer, cashier, _membership = await _people(new_chat, shop)

    hint = await cashier.send("hello")
    assert text_of(hint[-1]) == (
        "That isn't a code. A card code looks like G7P3-NGVZ, a voucher code like K7QM-3XPD-9TRA."
    )
    # Almost a code, with a letter codes never use: echoed, with the rule.
    near = await cashier.send("G7P3-NGV0")
    assert text_of(near[-1]) == (
        "No card or voucher has the code G7P3-NGV0. Check it — codes never use 0, O, 1, I or L."
    )
    typo = await cashier.send("/redeem 1234")
    assert text_of(typo[-1]) == (
        "No voucher has the code 1234. A voucher code looks like K7QM-3XPD-9TRA."
    )


async def test_a_used_or_expired_voucher_scanned_says_why(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=1)
    _customer, cashier, membership = await _people(new_chat, shop)
    used = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await cashier.press(
        (await cashier.scan(f"v-{used.token}"))[0], RedeemAction(voucher_id=used.id).pack()
    )
    expired = (
        await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=factories.T0)
    ).vouchers[0]

    seen_used = (await cashier.scan(f"v-{used.token}"))[0]
    seen_expired = (await cashier.scan(f"v-{expired.token}"))[0]

    assert text_of(seen_used).splitlines()[-1].startswith("⛔ Already used on ")
    assert text_of(seen_expired).splitlines()[-1].startswith("⛔ Expired on ")
    assert buttons(seen_used) == buttons(seen_expired) == []


async def test_the_owner_turns_scan_adds_a_stamp_on_and_it_is_audited(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")
    manager: Chat = new_chat(first_name="Ivan")
    await _staff(owner, shop, StaffRole.OWNER)
    await _staff(manager, shop, StaffRole.MANAGER)

    menu = await shop_menu(owner)
    cards = (await owner.press_label(menu, "Cards and shop settings"))[-1]
    assert "Scanning adds 1 stamp at once: off" in text_of(cards).splitlines()
    await owner.press_label(cards, "Turn on: scan adds 1 stamp")

    assert "Scanning adds 1 stamp at once: on" in text_of(owner.current(cards)).splitlines()
    assert (await Merchant.get(id=shop.merchant.id)).scan_adds_stamp is True
    entry = await AuditEntry.get(action="shop.scan_adds_stamp")
    assert (entry.detail["old"], entry.detail["new"]) == (False, True)
    # A manager (no card settings) pressing a forged switch changes nothing.
    await manager.send("/admin")
    forged = CardSetAction(op=CardSetOp.SCAN_ADDS, merchant_id=shop.merchant.id)
    await _forge(manager, forged.pack())
    assert manager.last_answer()["text"] == "This button has expired."
    assert (await Merchant.get(id=shop.merchant.id)).scan_adds_stamp is True
    assert await AuditEntry.filter(action="shop.scan_adds_stamp").count() == 1
    assert await Staff.filter(merchant_id=shop.merchant.id).count() == 2


def test_the_scan_button_is_offered_only_over_https(
    bot_settings: Any, runtime: BotRuntime
) -> None:
    public = bot_settings.model_copy(
        update={"web": bot_settings.web.model_copy(update={"public_url": "https://x.example/"})}
    )
    with runtime.i18n.context(), runtime.i18n.use_locale("uk"):
        assert scanner_url(bot_settings) is None  # the tests' web app is plain http
        assert scanner_url(public) == "https://x.example/scanner?lang=uk"


def _scanner_update(person: Chat, data: str) -> dict[str, Any]:
    """What Telegram delivers when the 📷 Scan Mini App calls ``sendData``."""
    update = person.telegram.message_update(person.user, "")
    message = update["message"]
    message.pop("text", None)
    message.pop("entities", None)
    message["web_app_data"] = {"data": data, "button_text": "📷 Scan"}
    return update


async def test_the_scan_mini_app_hands_the_scanned_card_to_the_stamp_screen(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=4)
    customer, cashier, membership = await _people(new_chat, shop)
    stranger: Chat = new_chat(first_name="Eve")

    cashier.actions += 2  # the 📷 Scan button, and the scan in Telegram's popup
    screen = (await cashier._post(_scanner_update(cashier, f"m-{membership.public_token}")))[0]
    assert text_of(screen) == "Olena — 0 of 4 stamps"
    await cashier.press_label(screen, "+1 stamp")
    assert (await Membership.get(id=membership.id)).balance == 1

    # Any client can send any data: it is checked like a scan, and strangers learn nothing.
    junk = await cashier._post(_scanner_update(cashier, "https://example.com/?x=1"))
    assert text_of(junk[-1]) == "That QR code is not a customer's card or voucher."
    refused = await stranger._post(_scanner_update(stranger, f"m-{membership.public_token}"))
    assert text_of(refused[-1]) == "This link is meant for the shop's staff."
    assert (await Membership.get(id=membership.id)).balance == 1
    assert not customer.new_messages()[1:]  # only the one stamp was announced


async def test_the_scanner_page_opens_telegrams_qr_popup(webhook_url: str) -> None:
    base = webhook_url.removesuffix(WEBHOOK_PATH)
    async with aiohttp.ClientSession() as http, http.get(f"{base}/scanner?lang=uk") as page:
        html = await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert page.status == 200
    assert '<html lang="uk"' in html
    assert "showScanQrPopup" in html
    assert "sendData" in html
    assert "📷 Сканувати" in html
    assert "script-src 'nonce-" in policy
    assert "t\\.me\\/stampbot_test_bot\\?start=([mv]-" in html


async def test_the_fake_refuses_a_mini_app_button_without_https(
    runtime: BotRuntime, new_chat: Any
) -> None:
    cashier: Chat = new_chat(first_name="Taras")

    def keyboard(url: str) -> ReplyKeyboardMarkup:
        button = KeyboardButton(text="📷 Scan", web_app=WebAppInfo(url=url))
        return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True)

    with pytest.raises(TelegramBadRequest, match="Only HTTPS links are allowed"):
        await runtime.bot.send_message(
            cashier.user.id, "scan", reply_markup=keyboard("http://x.example/scanner")
        )
    sent = await runtime.bot.send_message(
        cashier.user.id, "scan", reply_markup=keyboard("https://x.example/scanner")
    )
    assert sent.text == "scan"


async def test_the_stamp_screen_speaks_the_cashiers_language(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=4)
    customer: Chat = new_chat(first_name="Olena")
    cashier: Chat = new_chat("uk", first_name="Тарас")
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)

    screen = (await cashier.scan(f"m-{membership.public_token}"))[0]
    assert text_of(screen) == "Olena — 0 з 4 штампів"
    assert [label for label, _ in buttons(screen)][:1] == ["+1 штамп"]
    await cashier.press_label(screen, "+2")
    assert text_of(cashier.current(screen)) == "✅ +2 для Olena · 2 з 4 штампів"
    hint = await cashier.send("привіт")
    assert text_of(hint[-1]).startswith("Це не код.")
