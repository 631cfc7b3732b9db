from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from bot.app import BotRuntime
from handlers.card_image import CardImage, stamp_centres
from loyalty.stamps import add_stamps
from models import Membership
from tests import factories
from tests.chat import Chat, buttons, png_size, text_of, uploaded_photo
from tests.factories import T0
from tests.fakes.telegram_api import FakeTelegramAPI


async def _joined(chat: Chat, **shop: int) -> tuple[factories.NewMerchant, Membership]:
    created = await factories.merchant(**shop)  # type: ignore[arg-type]
    await chat.send(f"/start j-{created.card.join_token}")
    return created, await Membership.get(card_id=created.card.id)


def _uploaded_png(telegram: FakeTelegramAPI) -> bytes:
    data = uploaded_photo(telegram.calls("sendPhoto")[-1])
    assert data is not None, "expected an upload, got a file_id"
    return data


async def test_the_card_image_shows_filled_and_empty_stamps_and_the_personal_qr(
    chat: Chat, telegram: FakeTelegramAPI
) -> None:
    shop, membership = await _joined(chat)
    await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, now=T0)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id, now=T0.replace(day=5))

    replies = await chat.send("/card")

    assert "7/10 — 3 more stamps for Free cappuccino" in text_of(replies[0])
    image = Image.open(io.BytesIO(_uploaded_png(telegram))).convert("RGB")
    spec = CardImage(
        merchant_name="Kafe Lviv",
        card_name="Coffee card",
        stamps_needed=10,
        balance=7,
        background=shop.merchant.background_color,
        foreground=shop.merchant.foreground_color,
        accent=shop.merchant.accent_color,
        qr_url=f"https://t.me/stampbot_test_bot?start=m-{membership.public_token}",
    )
    accent = tuple(int(shop.merchant.accent_color[i : i + 2], 16) for i in (1, 3, 5))
    filled = [image.getpixel(centre) == accent for centre in stamp_centres(spec)]
    assert filled == [True] * 7 + [False] * 3
    width, height = png_size(_uploaded_png(telegram))
    assert max(width, height) <= 1280
    # What the cashier's phone camera reads: the customer's own stamp link.
    decoded = [code.text for code in zxingcpp.read_barcodes(image)]
    assert decoded == [f"https://t.me/stampbot_test_bot?start=m-{membership.public_token}"]


async def test_an_unchanged_card_is_resent_by_file_id_and_a_changed_one_is_uploaded(
    chat: Chat, telegram: FakeTelegramAPI
) -> None:
    shop, membership = await _joined(chat)
    first = telegram.calls("sendPhoto")[-1]
    file_id = first.response["result"]["photo"][-1]["file_id"]  # type: ignore[index]

    await chat.send("/card")
    again = telegram.calls("sendPhoto")[-1]
    assert uploaded_photo(again) is None
    assert again.params["photo"] == file_id

    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=T0)
    await chat.send("/card")
    assert uploaded_photo(telegram.calls("sendPhoto")[-1]) is not None


async def test_a_forgotten_file_id_falls_back_to_uploading(
    chat: Chat, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    await _joined(chat)
    telegram.fail_with_error(
        "sendPhoto", 400, "Bad Request: wrong file identifier/HTTP URL specified"
    )

    replies = await chat.send("/card")

    assert replies[-1].photo is not None
    assert uploaded_photo(telegram.calls("sendPhoto")[-1]) is not None


async def test_card_shows_active_vouchers(chat: Chat) -> None:
    shop, membership = await _joined(chat, stamps_needed=3)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id)

    replies = await chat.send("/card")

    caption = text_of(replies[0])
    assert "1/3 — 2 more stamps for Free cappuccino" in caption
    assert "🎟 Ready to use:" in caption
    assert "• Free cappuccino — until" in caption
    assert buttons(replies[0])[0][0] == "🎟 My vouchers (1)"


async def test_someone_elses_card_button_is_expired(chat: Chat, new_chat: object) -> None:
    _, membership = await _joined(chat)
    stranger: Chat = new_chat(first_name="Eve")  # type: ignore[operator]
    await stranger.send("/start")
    listing = chat.replies[-1]
    forged = f"card:show:{membership.id}"
    message = stranger.telegram.sent_messages(stranger.user.id)[-1]

    await stranger._post(
        stranger.telegram.callback_update(stranger.user, message, forged, check_button=False)
    )

    assert stranger.last_answer()["text"] == "This button has expired."
    assert listing.photo is not None


async def test_card_command_without_cards_explains_how_to_join(chat: Chat) -> None:
    replies = await chat.send("/card")

    assert "Scan the QR code at a shop's counter to join its card." in text_of(replies[0])
