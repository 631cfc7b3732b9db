"""🎴 Cards in admin mode: owners create and change cards, pause, resume and retire them, and
set the shop's colours and logo; every change is previewed as the card image, saved only on
Save, audited, and reaches the wallet passes. That everyone else, and forged buttons, change
nothing is in tests/security/test_staff_and_shops.py."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image

from bot.app import BotRuntime
from fakes.apns import FakeAPNs
from fakes.google_wallet import FakeGoogleWallet
from fakes.telegram import StoredMessage
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from loyalty.views import customer_card
from loyalty.vouchers import redeem_voucher
from models import AuditEntry, Card, Membership, Merchant, Voucher, WalletPass
from models.enums import CardState, RedeemVia, StaffRole, VoucherStatus
from tests import factories
from tests.chat import Chat, buttons, png_bytes, shop_menu, text_of, uploaded_photo
from wallets.apple_registry import register_device


async def _staff(new_chat: Any, shop: factories.NewMerchant, role: StaffRole, name: str) -> Chat:
    chat: Chat = new_chat(first_name=name)
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")
    return chat


async def _cards_screen(owner: Chat) -> StoredMessage:
    menu = await shop_menu(owner)
    return (await owner.press_label(menu, "Cards"))[-1]


async def _card_screen(owner: Chat, name: str = "Coffee card") -> StoredMessage:
    return (await owner.press_label(await _cards_screen(owner), name))[-1]


def _forge(chat: Chat, message: StoredMessage, data: str) -> dict[str, Any]:
    return chat.telegram.callback_update(chat.user, message, data, check_button=False)


def _photos(chat: Chat) -> list[bytes]:
    calls = [
        c
        for c in chat.telegram.calls("sendPhoto")
        if str(c.params["chat_id"]) == str(chat.user.id)
    ]
    return [data for c in calls if (data := uploaded_photo(c)) is not None]


async def test_only_owners_see_the_cards_button(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    manager = await _staff(new_chat, shop, StaffRole.MANAGER, "Ivan")
    assert "Cards and shop settings" in [label for label, _ in buttons(await shop_menu(owner))]
    assert "Cards and shop settings" not in [
        label for label, _ in buttons(await shop_menu(manager))
    ]


async def test_the_owner_changes_the_reward_after_seeing_the_new_card(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    screen = await _card_screen(owner)
    assert text_of(screen).splitlines() == [
        "🎴 Coffee card · active",
        "Name: Coffee card",
        "Stamps needed: 10",
        "Reward: Free cappuccino",
        "Voucher validity: 30 days",
        "Cooldown between stamps: none",
        "Most stamps per visit: 5",
        "Receipt amount at stamping: not asked",
        "A stamp can be taken back for 10 min.",
    ]
    question = (await owner.press_label(screen, "Reward"))[-1]
    assert "Reward of Coffee card is now Free cappuccino." in text_of(question)

    preview = (await owner.send("Free croissant"))[-1]
    assert preview.photo is not None
    assert text_of(preview).splitlines() == [
        "Preview — nothing is saved yet.",
        "Reward: Free cappuccino → Free croissant",
    ]
    assert Image.open(io.BytesIO(_photos(owner)[-1])).width == 1280
    assert (await Card.get(id=shop.card.id)).reward_text == "Free cappuccino"

    saved = (await owner.press_label(preview, "Save"))[-1]
    assert text_of(saved) == "Saved: Reward of Coffee card is now Free croissant."
    assert (await Card.get(id=shop.card.id)).reward_text == "Free croissant"
    entry = await AuditEntry.get(merchant_id=shop.merchant.id, action="card.edit")
    assert entry.detail == {
        "card_id": shop.card.id,
        "field": "reward",
        "old": "Free cappuccino",
        "new": "Free croissant",
    }
    # The same Save again finds no draft: it changes nothing more.
    await owner.press(preview, next(d for t, d in buttons(preview) if "Save" in t))
    assert owner.last_answer()["text"] == "This button has expired."
    assert await AuditEntry.filter(action="card.edit").count() == 1


async def test_out_of_range_values_are_refused_and_change_nothing(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _card_screen(owner), "Stamps needed")
    photos = len(_photos(owner))
    for typed in ("0", "101", "ten", "99999999999"):
        answer = (await owner.send(typed))[-1]
        assert text_of(answer) == (
            "Stamps needed: please send a whole number from 1 to 100. Nothing was changed."
        )
    await owner.press_label(await _card_screen(owner), "Name")
    answer = (await owner.send("x" * 121))[-1]
    assert text_of(answer) == "Name: please send 1 to 120 characters. Nothing was changed."
    assert len(_photos(owner)) == photos
    card = await Card.get(id=shop.card.id)
    assert (card.stamps_needed, card.name) == (10, "Coffee card")
    assert (
        not await AuditEntry.exclude(action="staff.join")
        .filter(merchant_id=shop.merchant.id)
        .exists()
    )


async def test_cancel_after_the_preview_keeps_the_card_as_it_was(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _card_screen(owner), "Cooldown")
    preview = (await owner.send("15"))[-1]
    assert "Cooldown between stamps: none → 15 minutes" in text_of(preview)
    done = (await owner.press_label(preview, "Cancel"))[-1]
    assert text_of(done) == "Cancelled. Nothing was changed."
    assert (await Card.get(id=shop.card.id)).stamp_cooldown_seconds == 0
    await owner.press(preview, next(d for t, d in buttons(preview) if "Save" in t))
    assert owner.last_answer()["text"] == "This button has expired."
    assert (await Card.get(id=shop.card.id)).stamp_cooldown_seconds == 0


async def test_a_new_card_with_every_question_but_the_name_skipped(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    guest: Chat = new_chat(first_name="Olena")
    step = (await owner.press_label(await _cards_screen(owner), "New card"))[-1]
    assert text_of(step).startswith("New card, step 1 of 6: Name")
    step = (await owner.send("Tea card"))[-1]
    assert text_of(step).startswith("New card, step 2 of 6: Stamps needed")
    step = (await owner.send("8"))[-1]
    for _ in range(4):
        step = (await owner.press_label(step, "Skip"))[-1]
    assert text_of(step).splitlines() == [
        "Preview — nothing is saved yet.",
        "A new card:",
        "Name: Tea card",
        "Stamps needed: 8",
        "Reward: A free treat",
        "Voucher validity: 30 days",
        "Cooldown between stamps: 5 minutes",
        "Most stamps per visit: 3",
    ]
    assert await Card.filter(merchant_id=shop.merchant.id).count() == 1
    saved = (await owner.press_label(step, "Save"))[-1]
    card = await Card.get(merchant_id=shop.merchant.id, name="Tea card")
    assert (card.stamps_needed, card.reward_text, card.stamp_cooldown_seconds) == (
        8,
        "A free treat",
        300,
    )
    assert (card.voucher_validity_days, card.max_stamps_per_call) == (30, 3)
    link = f"https://t.me/stampbot_test_bot?start=j-{card.join_token}"
    assert text_of(saved) == f"Saved: Tea card is ready. Its join link:\n{link}"
    entry = await AuditEntry.get(action="card.create")
    assert entry.detail["new"]["stamps"] == 8  # type: ignore[index]
    joined = await guest.send(f"/start j-{card.join_token}")
    assert "8 stamps = " in text_of(joined[0])  # the new card's welcome


async def test_pause_resume_and_retire_answer_the_join_link_and_keep_vouchers(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=1)
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    member: Chat = new_chat(first_name="Olena")
    newcomer: Chat = new_chat(first_name="Taras")
    await member.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    stamped = await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)
    voucher = stamped.vouchers[0]

    warning = (await owner.press_label(await _card_screen(owner), "Pause"))[-1]
    assert "Coffee card is your only active card" in text_of(warning)
    assert (await Card.get(id=shop.card.id)).state == CardState.ACTIVE
    paused = (await owner.press_label(warning, "Pause anyway"))[-1]
    assert text_of(paused).startswith("Coffee card is paused.")
    card = await Card.get(id=shop.card.id)
    assert (card.state, card.active) == (CardState.PAUSED, False)
    answer = (await newcomer.send(f"/start j-{shop.card.join_token}"))[-1]
    assert text_of(answer) == (
        "This card is paused: the shop is not taking new members right now. "
        "Please try again later."
    )

    resumed = (await owner.press_label(paused, "Resume"))[-1]
    assert text_of(resumed).startswith("Coffee card is active again")
    assert (await Card.get(id=shop.card.id)).active is True

    ask = (await owner.press_label(resumed, "Retire"))[-1]
    assert text_of(ask).startswith("Retire Coffee card for good?")
    assert (await Card.get(id=shop.card.id)).state == CardState.ACTIVE
    retired = (await owner.press_label(ask, "Yes, retire for good"))[-1]
    assert "This card has ended. Its members keep their vouchers." in text_of(retired)
    assert [label for label, _ in buttons(retired)] == ["◀ All cards"]
    answer = (await newcomer.send(f"/start j-{shop.card.join_token}"))[-1]
    assert text_of(answer) == (
        "This card has ended: the shop no longer runs it. Vouchers you hold still work."
    )
    assert not await Membership.filter(card_id=shop.card.id).exclude(id=membership.id).exists()

    # Retired is final: a resume or an edit pressed from an old screen changes nothing.
    for old in (
        f"cset:resume:{shop.merchant.id}:{shop.card.id}:",
        f"cset:field:{shop.merchant.id}:{shop.card.id}:reward",
    ):
        await owner._post(_forge(owner, retired, old))
        assert owner.last_answer()["text"] == "This button has expired."
    assert (await Card.get(id=shop.card.id)).state == CardState.RETIRED
    # The member's voucher still works at the till.
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.SCAN)
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.REDEEMED
    actions = (
        await AuditEntry.exclude(action="staff.join")
        .filter(merchant_id=shop.merchant.id)
        .order_by("id")
    )
    assert [(a.action, a.detail["new"]) for a in actions] == [
        ("card.pause", "paused"),
        ("card.resume", "active"),
        ("card.retire", "retired"),
    ]


async def test_colours_from_the_palette_and_typed_with_refusals(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    colours = (await owner.press_label(await _cards_screen(owner), "Colours"))[-1]
    assert len(buttons(colours)) == 9  # eight combinations and Cancel

    for typed, refusal in (
        ("#12345 #FFFFFF", "Please send two or three colours as #RRGGBB"),
        ("red blue", "Please send two or three colours as #RRGGBB"),
        ("#777777 #888888", "The text colour is too close to the background (contrast 1.3:1"),
    ):
        answer = (await owner.send(typed))[-1]
        assert text_of(answer).startswith(refusal), text_of(answer)
    merchant = await Merchant.get(id=shop.merchant.id)
    assert merchant.background_color == "#1F2937"

    preview = (await owner.send("#fdf6e3 #3b2f2f"))[-1]
    assert "Colours: #1F2937 #FFFFFF #F59E0B → #FDF6E3 #3B2F2F #F59E0B" in text_of(preview)
    image = Image.open(io.BytesIO(_photos(owner)[-1])).convert("RGB")
    assert (0xFD, 0xF6, 0xE3) in {colour for _, colour in image.getcolors(1 << 20) or []}
    await owner.press_label(preview, "Save")
    merchant = await Merchant.get(id=shop.merchant.id)
    assert (merchant.background_color, merchant.foreground_color) == ("#FDF6E3", "#3B2F2F")

    colours = (await owner.press_label(await _cards_screen(owner), "Colours"))[-1]
    preview = (await owner.press_label(colours, "#14532D"))[-1]
    await owner.press_label(preview, "Save")
    assert (await Merchant.get(id=shop.merchant.id)).background_color == "#14532D"
    entries = await AuditEntry.filter(action="shop.colours").order_by("id")
    assert [e.detail["new"] for e in entries] == [
        ["#FDF6E3", "#3B2F2F", "#F59E0B"],
        ["#14532D", "#FFFFFF", "#FACC15"],
    ]


def _transparent_png(width: int, height: int) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_a_logo_as_a_file_keeps_its_transparency_and_is_resized(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _cards_screen(owner), "Logo")
    update = owner.telegram.document_update(
        owner.user, _transparent_png(1200, 800), file_name="logo.png"
    )
    preview = (await owner._post(update))[-1]
    assert text_of(preview).splitlines()[-1] == "A new logo for Kafe Lviv."
    assert (await Merchant.get(id=shop.merchant.id)).logo_png is None
    await owner.press_label(preview, "Save")
    stored = (await Merchant.get(id=shop.merchant.id)).logo_png
    assert stored is not None
    logo = Image.open(io.BytesIO(stored))
    assert (logo.format, logo.mode, logo.size) == ("PNG", "RGBA", (480, 320))
    assert logo.getpixel((0, 0))[3] == 0  # type: ignore[index]
    entry = await AuditEntry.get(action="shop.logo")
    assert entry.detail["old"] is None
    assert entry.detail["new"]["bytes"] == len(stored)  # type: ignore[index]


async def test_a_logo_as_a_photo(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _cards_screen(owner), "Logo")
    preview = (await owner._post(owner.telegram.photo_update(owner.user, png_bytes(300, 300))))[-1]
    await owner.press_label(preview, "Save")
    stored = (await Merchant.get(id=shop.merchant.id)).logo_png
    assert stored is not None
    assert Image.open(io.BytesIO(stored)).size == (300, 300)


async def test_a_file_that_is_not_an_image_and_a_huge_file_are_refused(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _cards_screen(owner), "Logo")
    update = owner.telegram.document_update(owner.user, b"%PDF-1.7 not a logo", file_name="a.pdf")
    answer = (await owner._post(update))[-1]
    assert text_of(answer).startswith("This is not an image I can read.")

    downloads = len(owner.telegram.calls("getFile"))
    huge = _transparent_png(64, 64) + b"\0" * (20 * 1024 * 1024)
    update = owner.telegram.document_update(owner.user, huge, file_name="huge.png")
    answer = (await owner._post(update))[-1]
    assert text_of(answer).startswith("This file is over 20 MB")
    assert len(owner.telegram.calls("getFile")) == downloads  # not even asked for
    answer = (await owner.send("here it comes"))[-1]
    assert text_of(answer).startswith("This is not an image I can read.")
    assert (await Merchant.get(id=shop.merchant.id)).logo_png is None
    assert (
        not await AuditEntry.exclude(action="staff.join")
        .filter(merchant_id=shop.merchant.id)
        .exists()
    )


async def _saved_to_google(runtime: BotRuntime, membership: Membership) -> None:
    """What the card page does for an Android phone: the member's Google object is made."""
    card = await customer_card(membership.id, membership.customer_id)
    assert await runtime.wallets.google_save_url(card) is not None


async def test_a_saved_change_reaches_apple_and_google_wallet(
    new_chat: Any, runtime: BotRuntime, apns: FakeAPNs, google_wallet: FakeGoogleWallet
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    member: Chat = new_chat(first_name="Olena")
    await member.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    await _saved_to_google(runtime, membership)
    issued = await runtime.wallets.apple_pass(membership.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(wallet_pass, "iphone-of-olena", apns.add_device())
    tag = wallet_pass.update_tag
    before = len(google_wallet.api_requests("PATCH"))

    await owner.press_label(await _card_screen(owner), "Reward")
    preview = (await owner.send("Free croissant"))[-1]
    assert apns.pushes == []  # nothing moves before Save
    saved = (await owner.press_label(preview, "Save"))[-1]

    assert text_of(saved).endswith("1 wallet pass updated.")
    assert [push.payload for push in apns.pushes] == [{}]
    assert (await WalletPass.get(id=wallet_pass.id)).update_tag > tag
    patches = google_wallet.api_requests("PATCH")[before:]
    assert {p.path.split("/")[-2] for p in patches} == {"loyaltyClass", "loyaltyObject"}
    google_object = next(iter(google_wallet.objects.values()))
    assert "Free croissant" in str(google_object)


async def test_new_colours_reach_every_pass_of_the_shop(
    new_chat: Any, runtime: BotRuntime, apns: FakeAPNs, google_wallet: FakeGoogleWallet
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    member: Chat = new_chat(first_name="Olena")
    await member.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    await _saved_to_google(runtime, membership)
    issued = await runtime.wallets.apple_pass(membership.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(wallet_pass, "iphone-of-olena", apns.add_device())

    colours = (await owner.press_label(await _cards_screen(owner), "Colours"))[-1]
    preview = (await owner.press_label(colours, "#1E3A8A"))[-1]
    await owner.press_label(preview, "Save")

    assert len(apns.pushes) == 1
    classes = [p for p in google_wallet.api_requests("PATCH") if "loyaltyClass" in p.path]
    assert classes
    assert classes[-1].body["hexBackgroundColor"].upper() == "#1E3A8A"


async def test_cancel_mid_question_is_a_command_not_a_value(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _card_screen(owner), "Name")
    answer = (await owner.send("/cancel"))[-1]
    assert text_of(answer).startswith("Cancelled.")
    await owner.send("Tea card")
    assert not _photos(owner)
    assert (await Card.get(id=shop.card.id)).name == "Coffee card"


async def test_the_owners_language_is_used_throughout(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat("uk", first_name="Marta")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    menu = await shop_menu(owner)
    cards = (await owner.press_label(menu, "Картки"))[-1]
    screen = (await owner.press_label(cards, "Coffee card"))[-1]
    assert "Потрібно штампів: 10" in text_of(screen)
    await owner.press_label(screen, "Потрібно штампів")
    answer = (await owner.send("500"))[-1]
    assert text_of(answer) == (
        "Потрібно штампів: надішли ціле число від 1 до 100. Нічого не змінено."
    )


async def test_a_huge_file_without_a_size_is_refused_when_telegram_refuses_it(
    new_chat: Any,
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.press_label(await _cards_screen(owner), "Logo")
    huge = _transparent_png(64, 64) + b"\0" * (20 * 1024 * 1024)
    update = owner.telegram.document_update(owner.user, huge, file_name="huge.png")
    del update["message"]["document"]["file_size"]  # the field is optional in the Bot API
    answer = (await owner._post(update))[-1]
    assert text_of(answer).startswith("This file is over 20 MB")
    assert (await Merchant.get(id=shop.merchant.id)).logo_png is None


async def test_the_owner_switches_receipt_amounts_on_and_the_cashier_is_asked(
    new_chat: Any,
) -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other shop")
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    cashier = await _staff(new_chat, shop, StaffRole.CASHIER, "Ivan")
    member = await factories.member(shop, telegram_id=880_901)
    screen = await _card_screen(owner)

    await owner.press_label(screen, "Ask for receipt amounts")
    switched = owner.current(screen)  # the card's screen, edited in place

    assert "Receipt amount at stamping: asked" in text_of(switched)
    assert "🧾 Stop asking for receipt amounts" in [label for label, _ in buttons(switched)]
    assert (await Card.get(id=shop.card.id)).asks_receipt_amount is True
    entry = await AuditEntry.get(action="card.edit")
    assert (entry.detail["field"], entry.detail["old"], entry.detail["new"]) == (
        "asks_receipt_amount", False, True,
    )  # fmt: skip
    stamp_screen = (await cashier.send(f"/start m-{member.public_token}"))[0]
    asked = (await cashier.press_label(stamp_screen, "+1"))[-1]
    assert text_of(asked).startswith("🧾 What did the receipt come to")

    # A cashier's forged press, and the owner's press naming another shop's card, change nothing.
    for chat, data in (
        (cashier, f"cset:receipt:{shop.merchant.id}:{shop.card.id}:"),
        (owner, f"cset:receipt:{shop.merchant.id}:{other.card.id}:"),
        (owner, f"cset:receipt:{other.merchant.id}:{other.card.id}:"),
    ):
        await chat._post(_forge(chat, switched, data))
        assert chat.last_answer()["text"] == "This button has expired."
    assert (await Card.get(id=shop.card.id)).asks_receipt_amount is True
    assert (await Card.get(id=other.card.id)).asks_receipt_amount is False
    assert await AuditEntry.filter(action="card.edit").count() == 1


async def test_the_owner_steps_the_undo_window_and_others_cannot(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    manager = await _staff(new_chat, shop, StaffRole.MANAGER, "Ivan")
    screen = await _card_screen(owner)

    await owner.press_label(screen, "Undo window: 10 min")
    await owner.press_label(owner.current(screen), "Undo window: 30 min")

    assert "A stamp can be taken back for 60 min." in text_of(owner.current(screen))
    assert (await Card.get(id=shop.card.id)).undo_window_seconds == 3600
    edits = await AuditEntry.filter(action="card.edit").order_by("id")
    assert [(e.detail["old"], e.detail["new"]) for e in edits] == [(600, 1800), (1800, 3600)]
    await owner.press_label(owner.current(screen), "Undo window: 60 min")
    assert (await Card.get(id=shop.card.id)).undo_window_seconds == 120  # round to the shortest
    await manager._post(
        _forge(manager, owner.current(screen), f"cset:undo:{shop.merchant.id}:{shop.card.id}:")
    )
    assert manager.last_answer()["text"] == "This button has expired."
    assert (await Card.get(id=shop.card.id)).undo_window_seconds == 120
