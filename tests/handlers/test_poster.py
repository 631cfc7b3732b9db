"""The counter poster from admin mode: what the owner receives, and who is refused."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import zxingcpp
from PIL import Image

from bot.app import BotRuntime
from conversation.links import MessengerLinks
from fakes.telegram import FakeTelegramAPI
from loyalty.merchants import CardSpec, create_card, create_staff_invite
from models import AuditEntry, Card, Merchant
from models.enums import CardState, StaffRole
from render.poster import Paper
from tests import factories
from tests.chat import Chat, buttons, shop_menu, text_of, uploaded_file

BOT = "stampbot_test_bot"


async def _staff(chat: Chat, shop: factories.NewMerchant, role: StaffRole) -> None:
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")


def _join_link(card: Card) -> str:
    return f"https://t.me/{BOT}?start=j-{card.join_token}"


def _documents(telegram: FakeTelegramAPI, since: int) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, caption) of every document the bot sent after call ``since``."""
    calls = telegram.calls("sendDocument")[since:]
    found = []
    for call in calls:
        upload = uploaded_file(call, "document")
        found.append((upload.filename or "", upload.data, str(call.params.get("caption", ""))))
    return found


def _pdf_qr_and_size(pdf: bytes, tmp_path: Path) -> tuple[list[str], str]:
    source = tmp_path / "poster.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(source)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-r", "120", "-png", "-singlefile", str(source), str(tmp_path / "p")],  # noqa: S607
        check=True,
        timeout=60,
    )
    with Image.open(tmp_path / "p.png") as page:
        return [code.text for code in zxingcpp.read_barcodes(page.convert("RGB"))], size


def _png_qr(png: bytes) -> tuple[list[str], tuple[int, int]]:
    with Image.open(BytesIO(png)) as image:
        return [code.text for code in zxingcpp.read_barcodes(image.convert("RGB"))], image.size


async def test_the_owner_gets_the_a5_poster_as_pdf_and_png_with_the_join_qr(
    new_chat: object, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    await _staff(owner, shop, StaffRole.OWNER)
    menu = await shop_menu(owner)
    assert "Counter poster, PDF to print" in [label for label, _ in buttons(menu)]
    before = len(telegram.calls("sendDocument"))

    # One card: straight to the paper size.
    ask = (await owner.press_label(menu, "Counter poster"))[-1]
    assert text_of(ask) == "Which paper size for the poster of Coffee card?"
    assert [label for label, _ in buttons(ask)] == ["A5 · 148 × 210 mm", "A4 · 210 × 297 mm"]
    sent = await owner.press_label(ask, "A5")

    documents = _documents(telegram, before)
    assert [name for name, _, _ in documents] == [
        "Coffee card poster A5.pdf",
        "Coffee card poster A5.png",
    ]
    (_, pdf, _), (_, png, _) = documents
    assert len(sent) == 2
    assert text_of(sent[0]).splitlines() == [
        "🖨 Counter poster for Coffee card, A5 (148 × 210 mm).",
        "Print the PDF at actual size, without scaling. The poster is in English.",
    ]
    assert text_of(sent[1]) == "The same poster as a picture, 300 dpi."
    link = _join_link(shop.card)
    codes, size = _pdf_qr_and_size(pdf, tmp_path)
    assert codes == [link]
    assert "419.53 x 595.28 pts" in size
    assert _png_qr(png) == ([link], Paper.A5.pixels)
    assert len(sent) == 2
    assert "upload_document" in {action for _, action in telegram.chat_actions}

    entry = await AuditEntry.exclude(action="staff.join").get(merchant_id=shop.merchant.id)
    assert entry.action == "poster.print"
    assert entry.detail == {"card_id": shop.card.id, "paper": "A5"}
    assert entry.actor_telegram_id == owner.user.id


async def test_a_manager_picks_one_of_several_cards_and_a_paused_one_is_noted(
    new_chat: object, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    tea = await create_card(
        shop.merchant, CardSpec(name="Tea card", stamps_needed=6, reward_text="Free tea")
    )
    tea.state, tea.active = CardState.PAUSED, False
    await tea.save()
    gone = await create_card(
        shop.merchant, CardSpec(name="Old card", stamps_needed=6, reward_text="Old reward")
    )
    gone.state, gone.active = CardState.RETIRED, False
    await gone.save()
    manager: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    await _staff(manager, shop, StaffRole.MANAGER)
    menu = await shop_menu(manager)
    before = len(telegram.calls("sendDocument"))

    pick = (await manager.press_label(menu, "Counter poster"))[-1]
    assert text_of(pick) == "Which card is the poster for?"
    # A retired card's link only says the card has ended: no poster for it.
    assert [label for label, _ in buttons(pick)] == ["Coffee card", "Tea card (paused)"]
    ask = (await manager.press_label(pick, "Tea card"))[-1]
    await manager.press_label(ask, "A4")

    (name, pdf, caption), (_, png, _) = _documents(telegram, before)
    assert name == "Tea card poster A4.pdf"
    assert "⏸ This card is paused" in caption
    codes, size = _pdf_qr_and_size(pdf, tmp_path)
    assert codes == [_join_link(tea)]
    assert "595.28 x 841.89 pts" in size
    assert _png_qr(png) == ([_join_link(tea)], Paper.A4.pixels)
    forged = f"pst:{shop.merchant.id}:{gone.id}:A4"
    await manager._post(
        manager.telegram.callback_update(manager.user, pick, forged, check_button=False)
    )
    assert manager.last_answer()["text"] == "This button has expired."
    assert len(telegram.calls("sendDocument")) == before + 2
    entries = await AuditEntry.filter(merchant_id=shop.merchant.id, action="poster.print")
    assert [e.detail for e in entries] == [{"card_id": tea.id, "paper": "A4"}]


async def test_the_poster_speaks_the_shops_language_and_the_caption_the_staffs(
    new_chat: object, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant("קפה הפינה")
    await Merchant.filter(id=shop.merchant.id).update(default_language="he")
    owner: Chat = new_chat("uk", first_name="Marta")  # type: ignore[operator]
    await _staff(owner, shop, StaffRole.OWNER)
    menu = await shop_menu(owner)
    before = len(telegram.calls("sendDocument"))
    ask = (await owner.press(menu, f"adm:poster:{shop.merchant.id}:"))[-1]
    await owner.press(ask, buttons(ask)[0][1])

    (_, _, caption), (_, png, _) = _documents(telegram, before)
    assert "עברית" in caption  # the poster's language, named in the staff member's caption
    assert _png_qr(png)[0] == [_join_link(shop.card)]


async def test_another_shops_card_or_a_made_up_size_sends_nothing(
    new_chat: object, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B")
    owner: Chat = new_chat(first_name="Ann")  # type: ignore[operator]
    await _staff(owner, shop, StaffRole.OWNER)
    menu = await shop_menu(owner)
    before = len(telegram.calls("sendDocument"))

    for forged in (
        # Not staff at B at all.
        f"pst:{other.merchant.id}:{other.card.id}:A5",
        f"adm:poster:{other.merchant.id}:",
        # B's card under A's own shop id.
        f"pst:{shop.merchant.id}:{other.card.id}:A5",
        f"pst:{shop.merchant.id}:{other.card.id}:",
        # A's card at a size we do not print, and an id out of any column's range.
        f"pst:{shop.merchant.id}:{shop.card.id}:A3",
        f"pst:{shop.merchant.id}:{shop.card.id}:../../etc",
    ):
        replies = await owner._post(
            owner.telegram.callback_update(owner.user, menu, forged, check_button=False)
        )
        assert owner.last_answer()["text"] == "This button has expired.", forged
        assert replies == [], forged
    assert len(telegram.calls("sendDocument")) == before
    assert await AuditEntry.filter(action="poster.print").count() == 0


async def test_the_counter_qr_lists_the_viber_and_whatsapp_join_links_where_the_bot_is(
    new_chat: object, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    await _staff(owner, shop, StaffRole.OWNER)
    before = runtime.dispatcher.workflow_data["messenger_links"]
    runtime.dispatcher.workflow_data["messenger_links"] = MessengerLinks(
        telegram_username=BOT, viber_uri="kafelviv", whatsapp_number="+380 44 123 4567"
    )
    try:
        await shop_menu(owner)
        qr = (await owner.send("🖨 Counter QR"))[-1]
    finally:
        runtime.dispatcher.workflow_data["messenger_links"] = before
    token = shop.card.join_token
    lines = text_of(qr).splitlines()
    assert f"On Viber: viber://pa?chatURI=kafelviv&context=j-{token}" in lines
    assert (
        "On WhatsApp: https://wa.me/380441234567?text="
        f"Hello%21%20I%27d%20like%20to%20join%20the%20card%3A%20j-{token}"
    ) in lines
    # Without them (this test run's own bot is on Telegram only), none.
    again = text_of((await owner.send("🖨 Counter QR"))[-1])
    assert "On Viber" not in again
    assert "On WhatsApp" not in again
