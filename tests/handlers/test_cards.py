from __future__ import annotations

import io
import json

import jwt
import zxingcpp
from PIL import Image

from bot.app import BotRuntime
from bot.config import Settings
from fakes.google_wallet import FakeGoogleWallet
from fakes.telegram import FakeTelegramAPI, StoredMessage
from loyalty.stamps import add_stamps
from models import GoogleWalletObject, Membership, Voucher, WalletPass
from render.card import CardImage, stamp_centres
from tests import factories
from tests.channels.apple_wallet.verify import pass_problems, unzip
from tests.chat import Chat, buttons, png_size, text_of, uploaded_file, uploaded_photo
from tests.factories import T0


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

    assert "7 of 10 stamps — 3 more for Free cappuccino" in text_of(replies[0])
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
    assert "1 of 3 stamps — 2 more for Free cappuccino" in caption
    assert "Ready to use:" in caption
    assert "• Free cappuccino — until" in caption
    # The ready voucher is a button of its own: one tap opens it.
    [voucher] = await Voucher.filter(membership_id=membership.id)
    assert buttons(replies[0])[0] == ("🎟 Free cappuccino", f"vch:show:{voucher.id}")


async def test_more_ready_vouchers_than_fit_get_one_list_button(chat: Chat) -> None:
    shop, membership = await _joined(chat, stamps_needed=1)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id)

    replies = await chat.send("/card")

    labels = [label for label, _ in buttons(replies[0])]
    assert labels[0] == "🎟 My vouchers (4)"
    assert not any(label == "🎟 Free cappuccino" for label in labels)


async def test_someone_elses_card_button_is_expired(chat: Chat, new_chat: object) -> None:
    _, membership = await _joined(chat)
    stranger: Chat = new_chat(first_name="Eve")  # type: ignore[operator]
    await stranger.send("/start")
    listing = chat.replies[0]
    forged = f"card:show:{membership.id}"
    message = stranger.telegram.sent_messages(stranger.user.id)[-1]

    await stranger._post(
        stranger.telegram.callback_update(stranger.user, message, forged, check_button=False)
    )

    assert stranger.last_answer()["text"] == "This button has expired."
    assert listing.photo is not None


async def test_a_left_cards_button_toasts_then_shows_my_cards_as_they_are(chat: Chat) -> None:
    from loyalty.memberships import leave_card

    _, left = await _joined(chat)
    kept = await factories.merchant("Tea House")
    await chat.send(f"/start j-{kept.card.join_token}")
    listing = (await chat.send("/card"))[-1]
    assert text_of(listing) == "Your cards:"
    await leave_card(left.id, customer_id=left.customer_id)

    shown = await chat.press(listing, f"card:show:{left.id}")

    assert chat.last_answer()["text"] == "This button has expired."
    # Not stuck on the toast (review U9): the card still held, since it is the only one.
    [card] = shown
    assert card.photo is not None
    assert "Tea House" in text_of(card)
    assert (await Membership.get(id=left.id)).balance == 0


async def test_card_command_without_cards_explains_how_to_join(chat: Chat) -> None:
    replies = await chat.send("/card")

    assert "Scan the QR code at a shop's counter to join its card." in text_of(replies[0])


# -- wallets ------------------------------------------------------------------------------------


async def _old_apple_button(chat: Chat, membership: Membership) -> list[StoredMessage]:
    """Cards sent before the card page took over carry "Add to Apple Wallet" (apw:<id>)."""
    update = chat.telegram.callback_update(
        chat.user, chat.replies[0], f"apw:{membership.id}", check_button=False
    )
    return await chat._post(update)


async def test_an_old_add_to_apple_wallet_button_still_sends_the_signed_pass(
    chat: Chat, telegram: FakeTelegramAPI, bot_settings: Settings
) -> None:
    _, membership = await _joined(chat, name="Kava & Co")  # type: ignore[arg-type]
    assert not any("Apple" in label for label, _ in buttons(chat.replies[0]))

    [sent] = await _old_apple_button(chat, membership)

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


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


async def _page(link: str, user_agent: str) -> str:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.get(link, headers={"User-Agent": user_agent}) as response,
    ):
        assert response.status == 200
        return await response.text()


def _badges(html: str) -> dict[str, str]:
    import re

    return {
        kind: href
        for kind, href in re.findall(r'<a class="badge (apple|google)" href="([^"]+)"', html)
    }


async def test_the_wallet_button_opens_the_card_page_with_the_phones_own_badge(
    chat: Chat, bot_settings: Settings
) -> None:
    import aiohttp

    await _joined(chat)
    [link] = [b["url"] for b in chat.replies[0].inline_buttons() if "url" in b]

    iphone = await _page(link, IPHONE)
    android = await _page(link, ANDROID)

    # Google is not configured here: the iPhone gets the Apple badge, Android nothing to add.
    assert set(_badges(iphone)) == {"apple"}
    assert "Add to Apple Wallet" in iphone
    assert _badges(android) == {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(html_unescape(_badges(iphone)["apple"])) as response,
    ):
        body = await response.read()
        assert response.headers["Content-Type"] == "application/vnd.apple.pkpass"
    assert pass_problems(body, bot_settings.apple_wallet_dir / "ca.pem") == []


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


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


def _url_buttons(message: StoredMessage) -> dict[str, str]:
    return {b["text"]: b["url"] for b in message.inline_buttons() if "url" in b}


async def test_with_google_wallet_the_card_page_links_to_the_members_saved_object(
    chat: Chat, google_wallet: FakeGoogleWallet
) -> None:
    _, membership = await _joined(chat)
    page = _url_buttons(chat.replies[0])["📲 Add to phone wallet"]

    android = _badges(await _page(page, ANDROID))
    desktop = _badges(await _page(page, "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    iphone = _badges(await _page(page, IPHONE))

    assert set(android) == {"google"}
    assert set(desktop) == {"apple", "google"}
    assert set(iphone) == {"apple"}
    link = html_unescape(android["google"])

    assert link.startswith("https://pay.google.com/gp/v/save/")
    claims = jwt.decode(link.rsplit("/", 1)[1], options={"verify_signature": False})
    stored = await GoogleWalletObject.get(membership_id=membership.id)
    assert claims["payload"]["loyaltyObjects"][0]["id"] == stored.object_id
    assert google_wallet.objects[stored.object_id]["accountName"] == "Olena"
    again = _badges(await _page(page, ANDROID))
    assert html_unescape(again["google"]).startswith("https://pay.google.com/")
    assert await GoogleWalletObject.filter(membership_id=membership.id).count() == 1


async def test_the_chat_has_one_wallet_button_whatever_is_configured(chat: Chat) -> None:
    await _joined(chat)

    replies = await chat.send("/card")

    assert list(_url_buttons(replies[-1])) == ["📲 Add to phone wallet"]
    assert not any("Google" in label or "Apple" in label for label, _ in buttons(replies[-1]))


async def test_each_card_shows_its_own_usable_vouchers_soonest_to_expire_first(
    chat: Chat,
) -> None:
    """A card and its vouchers are read in one go: each card's vouchers stay its own, in their
    order, and an expired or used one is on no screen."""
    from datetime import timedelta

    from loyalty.clock import utcnow
    from loyalty.vouchers import issue_voucher
    from models.enums import VoucherSource, VoucherStatus

    kafe, at_kafe = await _joined(chat)
    tea = await factories.merchant("Tea House")
    await chat.send(f"/start j-{tea.card.join_token}")
    at_tea = await Membership.get(card_id=tea.card.id)
    now = utcnow()

    async def issue(membership: Membership, title: str, days: int | None, **at: object) -> Voucher:
        card = kafe.card if membership.id == at_kafe.id else tea.card
        return await issue_voucher(
            membership, card, source=VoucherSource.MANUAL, title=title, validity_days=days,
            **at,  # type: ignore[arg-type]
        )  # fmt: skip

    await issue(at_kafe, "Free cake", 30)
    await issue(at_kafe, "Free tea", 5)
    await issue(at_kafe, "Old muffin", 10, now=now - timedelta(days=20))
    used = await issue(at_kafe, "Used bagel", 30)
    await Voucher.filter(id=used.id).update(status=VoucherStatus.REDEEMED, redeemed_at=now)
    await issue(at_tea, "Forever scone", None)

    [listing] = await chat.send("/vouchers")
    # The card joined last first (neither visited yet), each card's soonest to expire first.
    assert [label for label, _ in buttons(listing)] == [
        "🎟 Forever scone · Tea House",
        "🎟 Free tea · Kafe Lviv",
        "🎟 Free cake · Kafe Lviv",
    ]
    [cards] = await chat.send("/card")
    [kafe_card] = await chat.press_label(cards, "Kafe Lviv")
    caption = text_of(kafe_card)
    ready = caption.split("Ready to use:")[1].split("Show this QR")[0]
    assert [line.split(" — ")[0] for line in ready.split("\n") if line] == [
        "• Free tea",
        "• Free cake",
    ]
    [tea_card] = await chat.press_label(cards, "Tea House")
    assert "• Forever scone" in text_of(tea_card)
    assert "Free tea" not in text_of(tea_card)


async def test_an_older_card_without_a_till_code_gets_one_on_its_first_view(chat: Chat) -> None:
    _, membership = await _joined(chat)
    await Membership.filter(id=membership.id).update(counter_code=None)

    [card] = await chat.send("/card")

    made = (await Membership.get(id=membership.id)).counter_code
    assert made
    assert f"(or say code {made})" in text_of(card)
    [again] = await chat.send("/card")
    assert (await Membership.get(id=membership.id)).counter_code == made
    assert f"(or say code {made})" in text_of(again)
