from __future__ import annotations

import io
from datetime import timedelta

import zxingcpp
from PIL import Image

from fakes.telegram import StoredMessage
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from loyalty.vouchers import redeem_voucher
from models import Membership, Voucher
from models.enums import RedeemVia, VoucherStatus
from tests import factories
from tests.chat import Chat, button, buttons, text_of


async def _with_voucher(chat: Chat) -> tuple[factories.NewMerchant, Voucher]:
    shop = await factories.merchant(stamps_needed=2)
    await chat.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    result = await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)
    return shop, result.vouchers[0]


async def _open_voucher(chat: Chat) -> StoredMessage:
    listing = (await chat.send("/vouchers"))[0]
    assert text_of(listing) == "Your vouchers — tap one to see its code:"
    return (await chat.press(listing, buttons(listing)[0][1]))[0]


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
    assert [label for label, _ in buttons(detail)] == [
        "✅ Use it now, at the till",
        "⬅️ My vouchers",
    ]


async def test_self_redeem_asks_first_then_redeems_exactly_once(chat: Chat) -> None:
    _, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)

    confirm = (await chat.press_label(detail, "Use it now"))[0]
    assert "Only do this at the till, in front of the staff" in text_of(confirm)
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED

    yes = button(confirm, "Yes, redeem it now")
    await chat.press(confirm, yes)
    done = chat.current(confirm)
    assert buttons(done) == []
    assert "✅ Free cappuccino redeemed at Kafe Lviv on" in text_of(done)
    assert "Show this message to the staff." in text_of(done)
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SELF)

    # A double tap: the second press was sent before the edit removed the button.
    await chat._post(chat.telegram.callback_update(chat.user, confirm, yes, check_button=False))
    assert "This voucher was already redeemed on" in text_of(chat.current(confirm))
    assert (await Voucher.get(id=voucher.id)).redeemed_at == stored.redeemed_at


async def test_cancelling_self_redeem_keeps_the_voucher(chat: Chat) -> None:
    _, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)
    confirm = (await chat.press_label(detail, "Use it now"))[0]

    await chat.press_label(confirm, "No, keep it")

    assert text_of(chat.current(confirm)) == "Not redeemed — the voucher stays on your card."
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED


async def test_a_voucher_redeemed_at_the_till_meanwhile_cannot_be_self_redeemed(
    chat: Chat,
) -> None:
    shop, voucher = await _with_voucher(chat)
    detail = await _open_voucher(chat)
    confirm = (await chat.press_label(detail, "Use it now"))[0]
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.CODE)

    await chat.press_label(confirm, "Yes, redeem it now")

    assert "This voucher was already redeemed on" in text_of(chat.current(confirm))
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
    assert "This voucher expired on" in text_of(chat.replies[-1])
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
    confirm = (await chat.press_label(await _open_voucher(chat), "Use it now"))[0]

    await chat.press_label(confirm, "Yes, redeem it now")

    assert (await WalletPass.get(id=wallet_pass.id)).update_tag > wallet_pass.update_tag
