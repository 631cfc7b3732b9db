from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
import zxingcpp
from PIL import Image

from bot.app import BotRuntime
from bot.config import Settings
from fakes.google_wallet import FakeGoogleWallet
from fakes.telegram import FakeTelegramAPI, StoredMessage
from loyalty.stamps import add_stamps
from models import GoogleWalletObject, Membership, WalletPass
from render.card import CardImage, stamp_centres
from tests import factories
from tests.channels.apple_wallet.verify import pass_problems, unzip
from tests.chat import Chat, buttons, png_size, text_of, uploaded_file, uploaded_photo
from tests.factories import T0
from tests.google_wallet_fixtures import google_channel


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


# -- wallets ------------------------------------------------------------------------------------


async def test_add_to_apple_wallet_sends_the_signed_pass_as_a_file(
    chat: Chat, telegram: FakeTelegramAPI, bot_settings: Settings
) -> None:
    _, membership = await _joined(chat, name="Kava & Co")  # type: ignore[arg-type]
    card = chat.replies[-1]

    [sent] = await chat.press_label(card, "Add to Apple Wallet")

    assert sent.document is not None
    assert sent.document["file_name"] == "Coffee card.pkpass"
    assert "add Coffee card to Apple Wallet" in text_of(sent)
    upload = uploaded_file(telegram.calls("sendDocument")[-1], "document")
    # Checked with openssl against the demo root the runtime made under var/apple_wallet/.
    assert pass_problems(upload.data, bot_settings.apple_wallet_dir / "ca.pem") == []
    document = json.loads(unzip(upload.data)["pass.json"])
    wallet_pass = await WalletPass.get(membership_id=membership.id)
    assert document["serialNumber"] == wallet_pass.serial_number
    assert document["barcodes"][0]["message"].endswith(f"start=m-{membership.public_token}")
    assert document["organizationName"] == "Kava & Co"


async def test_the_pass_download_link_serves_the_same_signed_pass(
    chat: Chat, telegram: FakeTelegramAPI, bot_settings: Settings
) -> None:
    import re

    import aiohttp

    await _joined(chat)
    [sent] = await chat.press_label(chat.replies[-1], "Add to Apple Wallet")
    found = re.search(r"Or open this link in Safari: (\S+/pass\.pkpass)", text_of(sent))
    assert found is not None, text_of(sent)
    link = found.group(1)

    async with aiohttp.ClientSession() as http:
        async with http.get(link) as response:
            status, headers, body = response.status, response.headers, await response.read()
        forged = link.replace("/c/", "/c/x", 1)
        async with http.get(forged) as refused:
            refused_status = refused.status

    assert status == 200
    assert headers["Content-Type"] == "application/vnd.apple.pkpass"
    assert headers["Cache-Control"] == "private, no-store"
    assert pass_problems(body, bot_settings.apple_wallet_dir / "ca.pem") == []
    assert refused_status == 404


async def test_someone_elses_or_a_forged_wallet_button_is_expired(
    chat: Chat, new_chat: object, telegram: FakeTelegramAPI
) -> None:
    _, membership = await _joined(chat)
    stranger: Chat = new_chat(first_name="Eve")  # type: ignore[operator]
    await stranger.send("/start")
    message = telegram.sent_messages(stranger.user.id)[-1]
    documents = len(telegram.calls("sendDocument"))

    for forged in (f"apw:{membership.id}", "apw:not-a-number", "apw:" + "9" * 60):
        await stranger._post(
            telegram.callback_update(stranger.user, message, forged, check_button=False)
        )
        assert stranger.last_answer()["text"] == "This button has expired."

    assert len(telegram.calls("sendDocument")) == documents
    assert await WalletPass.all().count() == 0


@pytest.fixture
async def google_wallet(runtime: BotRuntime, tmp_path: Path) -> AsyncIterator[FakeGoogleWallet]:
    """Google Wallet configured for the running bot (the fake Google), for one test."""
    # The bot signs its token requests with the wall clock; so must the fake check them.
    async with FakeGoogleWallet(clock=time.time) as google:
        channel = google_channel(google, tmp_path)
        runtime.wallets.google = channel
        try:
            yield google
        finally:
            runtime.wallets.google = None
            await channel.close()


def _url_buttons(message: StoredMessage) -> dict[str, str]:
    return {b["text"]: b["url"] for b in message.inline_buttons() if "url" in b}


async def test_with_google_wallet_the_card_links_to_the_members_saved_object(
    chat: Chat, google_wallet: FakeGoogleWallet
) -> None:
    _, membership = await _joined(chat)
    card = chat.replies[-1]

    link = _url_buttons(card)["Save to Google Wallet"]

    assert link.startswith("https://pay.google.com/gp/v/save/")
    claims = jwt.decode(link.rsplit("/", 1)[1], options={"verify_signature": False})
    stored = await GoogleWalletObject.get(membership_id=membership.id)
    assert claims["payload"]["loyaltyObjects"][0]["id"] == stored.object_id
    assert google_wallet.objects[stored.object_id]["accountName"] == "Olena"
    again = await chat.send("/card")
    assert _url_buttons(again[-1])["Save to Google Wallet"].startswith("https://pay.google.com/")


async def test_without_google_wallet_there_is_no_google_button(chat: Chat) -> None:
    await _joined(chat)

    replies = await chat.send("/card")

    assert _url_buttons(replies[-1]) == {}
    assert [label for label, _ in buttons(replies[-1])][-1] == "Add to Apple Wallet"
