from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import zxingcpp
from babel.dates import format_time
from PIL import Image

from fakes.telegram import StoredMessage
from loyalty.clock import utcnow
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from loyalty.vouchers import redeem_voucher
from models import Membership, Merchant, Voucher
from models.enums import RedeemVia, StaffRole, VoucherStatus
from tests import factories
from tests.chat import Chat, button, buttons, text_of


async def _with_voucher(chat: Chat) -> tuple[factories.NewMerchant, Voucher]:
    shop = await factories.merchant(stamps_needed=2)
    await chat.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    result = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)
    return shop, result.vouchers[0]


async def _open_voucher(chat: Chat) -> StoredMessage:
    """With one voucher, /vouchers (and the keyboard's 🎟 Vouchers) skips the list of one."""
    [detail] = await chat.send("/vouchers")
    return detail


def _bot_sends(chat: Chat) -> int:
    return sum(len(chat.telegram.calls(m)) for m in ("sendMessage", "sendPhoto"))


async def test_voucher_detail_shows_title_code_qr_and_expiry(chat: Chat) -> None:
    _, voucher = await _with_voucher(chat)

    detail = await _open_voucher(chat)

    assert detail.photo is not None
    photo = chat.telegram.file_bytes(detail.photo[-1]["file_id"])
    decoded = [c.text for c in zxingcpp.read_barcodes(Image.open(io.BytesIO(photo)))]
    assert decoded == [f"https://t.me/stampbot_test_bot?start=v-{voucher.token}"]
    caption = text_of(detail)
    assert "Free cappuccino" in caption
    assert f"Code: {voucher.code}" in caption
    assert "Valid until" in caption
    assert "at the counter" in caption
    assert "till" not in caption
    assert [label for label, _ in buttons(detail)] == ["Use it now", "◀ My vouchers"]


async def test_self_redeem_from_the_card_is_three_taps_with_the_confirm_edited_in_place(
    chat: Chat, new_chat: object
) -> None:
    shop, voucher = await _with_voucher(chat)
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    owner.new_messages()
    [card] = await chat.send("🪪 My card")
    before = chat.actions

    [detail] = await chat.press_label(card, "🎟 Free cappuccino")
    assert detail.photo is not None
    sends = _bot_sends(chat)
    edits = len(chat.telegram.calls("editMessageCaption"))
    assert await chat.press_label(detail, "Use it now") == []
    # The confirm is the voucher message itself, edited: nothing new in the chat.
    assert _bot_sends(chat) == sends
    assert len(chat.telegram.calls("editMessageCaption")) == edits + 1
    confirm = chat.current(detail)
    assert "Only do this at the counter, in front of the staff" in text_of(confirm)
    assert [label for label, _ in buttons(confirm)] == [
        "✅ I'm at the counter — use it",
        "Not now",
    ]
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED

    yes = button(confirm, "I'm at the counter")
    await chat.press(confirm, yes)

    assert chat.actions - before == 3
    done = chat.current(detail)
    assert buttons(done) == []
    assert "✅ Free cappuccino used at Kafe Lviv on" in text_of(done)
    assert "Show this message to the staff." in text_of(done)
    assert chat.last_answer()["text"] == "Used ✅"
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SELF)
    # C8: the shop's owner hears it on their own phone, with the time.
    assert stored.redeemed_at is not None
    local = stored.redeemed_at.astimezone(ZoneInfo(shop.merchant.timezone))
    [told] = owner.new_messages()
    clock = format_time(local, "short", locale="en")  # 9:00 PM, with a narrow no-break space
    assert text_of(told) == f"Olena just used Free cappuccino themselves ({clock})."

    # A double tap: the second press was sent before the edit removed the button.
    await chat._post(chat.telegram.callback_update(chat.user, confirm, yes, check_button=False))
    assert chat.last_answer()["text"].startswith("This voucher was already used on")
    assert "✅ Free cappuccino used at Kafe Lviv on" in text_of(chat.current(detail))
    assert (await Voucher.get(id=voucher.id)).redeemed_at == stored.redeemed_at
    assert owner.new_messages() == []


async def test_not_now_puts_the_voucher_back_as_it_was(chat: Chat) -> None:
    _, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)
    await chat.press_label(detail, "Use it now")

    await chat.press_label(chat.current(detail), "Not now")

    back = chat.current(detail)
    assert chat.last_answer()["text"] == "Not used — the voucher stays on your card."
    assert [label for label, _ in buttons(back)] == ["Use it now", "◀ My vouchers"]
    assert "Only do this" not in text_of(back)
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED


async def test_a_voucher_redeemed_at_the_counter_meanwhile_cannot_be_used_again(
    chat: Chat,
) -> None:
    shop, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)
    await chat.press_label(detail, "Use it now")
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.CODE)

    await chat.press_label(chat.current(detail), "I'm at the counter")

    assert chat.last_answer()["text"].startswith("This voucher was already used on")
    assert buttons(chat.current(detail)) == []
    assert (await Voucher.get(id=voucher.id)).redeemed_via == RedeemVia.CODE


async def test_another_customers_voucher_id_in_forged_callback_data_is_expired(
    chat: Chat, new_chat: object
) -> None:
    _, voucher = await _with_voucher(chat)
    thief: Chat = new_chat(first_name="Eve")  # type: ignore[operator]
    shop_b = await factories.merchant("Other")
    await thief.send(f"/start j-{shop_b.card.join_token}")
    card_message = thief.replies[-1]

    for op in ("show", "redeem", "confirm"):
        update = thief.telegram.callback_update(
            thief.user, card_message, f"vch:{op}:{voucher.id}", check_button=False
        )
        await thief._post(update)
        assert thief.last_answer()["text"] == "This button has expired."

    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED


async def test_expired_vouchers_are_not_listed_and_cannot_be_used(chat: Chat) -> None:
    _, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)
    await Voucher.filter(id=voucher.id).update(expires_at=utcnow() - timedelta(minutes=1))

    await chat.press_label(detail, "Use it now")
    assert chat.last_answer()["text"].startswith("This voucher expired on")
    assert "This voucher expired on" in text_of(chat.current(detail))
    assert buttons(chat.current(detail)) == []
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED
    listing = (await chat.send("/vouchers"))[0]
    assert "No vouchers yet." in text_of(listing)


async def test_no_vouchers_yet_says_how_many_stamps_are_missing(chat: Chat) -> None:
    shop = await factories.merchant(stamps_needed=5)
    await chat.send(f"/start j-{shop.card.join_token}")

    replies = await chat.send("/vouchers")

    assert text_of(replies[0]) == (
        "No vouchers yet. 5 more stamps on Coffee card and one is yours."
    )


async def test_self_redeem_takes_the_voucher_off_the_wallet_pass(chat: Chat) -> None:
    from models import WalletPass
    from wallets.apple_registry import ensure_wallet_pass

    _, voucher = await _with_voucher(chat)
    wallet_pass = await ensure_wallet_pass(voucher.membership_id)
    detail = await _open_voucher(chat)
    await chat.press_label(detail, "Use it now")

    await chat.press_label(chat.current(detail), "I'm at the counter")

    assert (await WalletPass.get(id=wallet_pass.id)).update_tag > wallet_pass.update_tag


async def test_the_shop_hears_of_a_self_redeem_in_its_own_language(
    chat: Chat, new_chat: object
) -> None:
    shop, _voucher = await _with_voucher(chat)
    await Merchant.filter(id=shop.merchant.id).update(default_language="uk")
    manager: Chat = new_chat(first_name="Ihor")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    for person, role in ((manager, StaffRole.MANAGER), (cashier, StaffRole.CASHIER)):
        invite = await create_staff_invite(
            shop.merchant, role, ttl=timedelta(hours=1), created_by=None
        )
        await person.send(f"/start i-{invite.token}")
        person.new_messages()
    detail = await _open_voucher(chat)
    await chat.press_label(detail, "Use it now")

    await chat.press_label(chat.current(detail), "I'm at the counter")

    [told] = manager.new_messages()
    assert text_of(told).startswith("Olena щойно")
    assert "Free cappuccino" in text_of(told)
    # Owners and managers hear it; the bot cannot know which cashier is on duty.
    assert cashier.new_messages() == []
