"""A campaign email end to end: composed from the database, written as the .eml a person opens,
its links followed over HTTP, its photo fetched once from the (fake) Bot API."""

from __future__ import annotations

import base64
import email
import email.policy
import io
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
import zxingcpp
from PIL import Image

from bot.app import BotRuntime
from bot.delivery import photo_store
from campaigns.composer import Composer
from campaigns.worker import DeliveryWorker
from channels.email import EmailChannel
from fakes.telegram import FakeTelegramAPI
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.links import Purpose
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, start_link
from loyalty.vouchers import issue_voucher
from models import Delivery, Membership, Voucher
from models.enums import Channel, VoucherSource
from tests import factories
from tests.campaigns.helpers import audience, started
from wallets.card_link import card_page_url

pytestmark = pytest.mark.usefixtures("fresh_state")

TEXT = "Autumn menu is here! Pumpkin latte this week only: https://cafe.example/menu."
MENU = "https://cafe.example/menu"


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 40), colour).save(out, format="PNG")
    return out.getvalue()


def _read(path: Path) -> EmailMessage:
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def _html(mail: EmailMessage) -> str:
    part = mail.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def _images(mail: EmailMessage) -> dict[str, bytes]:
    """cid → bytes of each inline image."""
    return {
        str(part["Content-ID"]).strip("<>"): part.get_content()
        for part in mail.walk()
        if part.get_content_maintype() == "image"
    }


async def _send(runtime: BotRuntime, telegram: FakeTelegramAPI, tmp_path: Path) -> dict[str, Path]:
    """Two members, the first with 7 stamps and a voucher; a campaign with a photo by email."""
    shop = await factories.merchant()
    people = await audience(shop, 2)
    first = await Membership.get(customer_id=people[0].id)
    await add_stamps(first.id, 5, merchant_id=shop.merchant.id)
    await add_stamps(first.id, 2, merchant_id=shop.merchant.id)
    await issue_voucher(
        first, shop.card, source=VoucherSource.MANUAL, title="Free croissant", validity_days=30
    )
    owner = telegram.add_user(880_001, "Marta")
    update = telegram.photo_update(owner, _png((200, 60, 20)))
    file_id = update["message"]["photo"][-1]["file_id"]
    await started(shop, Channel.EMAIL, text=TEXT, photo_file_id=file_id)
    channel = EmailChannel(
        None,
        mailbox_dir=tmp_path,
        renderer=runtime.email.renderer,
        from_address="hello@stamp.example",
    )
    composer = Composer(
        runtime.signer,
        supported=SUPPORTED,
        right_to_left=RIGHT_TO_LEFT,
        photos=photo_store(runtime.settings, runtime.bot),
        bot_username=runtime.settings.telegram.username,
    )
    worker = DeliveryWorker({"email": channel}, composer, lease=timedelta(seconds=60))
    await worker.tick()
    deliveries = await Delivery.filter(channel=Channel.EMAIL).order_by("customer_id")
    return {
        "first": tmp_path / f"{deliveries[0].id}.eml",
        "second": tmp_path / f"{deliveries[1].id}.eml",
    }


async def test_the_email_shows_the_members_card_vouchers_and_a_show_my_card_button(
    runtime: BotRuntime, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    files = await _send(runtime, telegram, tmp_path)
    mail = _read(files["first"])
    html = _html(mail)
    membership = await Membership.get(customer__email="p0@example.com")
    voucher = await Voucher.get_or_none(membership_id=membership.id)
    assert voucher is not None

    assert mail["From"].addresses[0].addr_spec == "hello@stamp.example"
    assert "Coffee card" in html
    assert "7/10 — 3 more stamps for Free cappuccino" in html
    assert html.count("border:2px solid #F59E0B;background-color:#F59E0B;") == 7
    assert "Free croissant — until" in html
    assert f">{voucher.code}</span>" in html
    card_url = card_page_url(runtime.signer, membership.id, membership.public_token)
    assert f'href="{card_url}"' in html
    assert ">Show my card</a>" in html
    assert ">View in your browser</a>" in html
    # The voucher's QR code is an inline image that a scanner reads as the voucher link.
    qr_cid = re.search(r'<img src="cid:([^"]+)" alt="QR code"', html)
    assert qr_cid is not None
    qr = Image.open(io.BytesIO(_images(mail)[qr_cid.group(1)]))
    expected = start_link(runtime.settings.telegram.username, LinkKind.VOUCHER, voucher.token)
    assert [code.text for code in zxingcpp.read_barcodes(qr)] == [expected]
    # The second member has no voucher: no voucher section, but their own card.
    other = _html(_read(files["second"]))
    assert "My vouchers" not in other
    assert "0/10 — 10 more stamps for Free cappuccino" in other


async def test_the_photo_is_fetched_once_and_reaches_email_and_card_page(
    runtime: BotRuntime, telegram: FakeTelegramAPI, tmp_path: Path, webhook_url: str
) -> None:
    before = len(telegram.calls("getFile"))
    files = await _send(runtime, telegram, tmp_path)
    photo = _png((200, 60, 20))

    for path in files.values():
        mail = _read(path)
        cid = re.search(r'<img src="cid:([^"]+)" alt="" width="552"', _html(mail))
        assert cid is not None
        assert _images(mail)[cid.group(1)] == photo
    membership = await Membership.get(customer__email="p0@example.com")
    url = card_page_url(runtime.signer, membership.id, membership.public_token)
    async with aiohttp.ClientSession() as http, http.get(url) as page:
        html = await page.text()
    shown = re.search(r'<img class="photo" src="data:image/png;base64,([^"]+)"', html)
    assert shown is not None
    assert base64.b64decode(shown.group(1)) == photo
    # Two emails and a page view: one download through the Bot API.
    assert len(telegram.calls("getFile")) == before + 1


async def test_a_plain_url_is_a_counted_link_in_the_email_and_a_link_on_the_card_page(
    runtime: BotRuntime, telegram: FakeTelegramAPI, tmp_path: Path, webhook_url: str
) -> None:
    files = await _send(runtime, telegram, tmp_path)
    html = _html(_read(files["first"]))
    link = re.search(r'<a href="([^"]+)"[^>]*>https://cafe.example/menu</a>\.', html)
    assert link is not None
    assert link.group(1).endswith("?u=" + quote(MENU, safe=""))
    assert "/e/c/" in link.group(1)

    async with aiohttp.ClientSession() as http:
        async with http.get(link.group(1), allow_redirects=False) as followed:
            assert (followed.status, followed.headers["Location"]) == (302, MENU)
        first = await Delivery.filter(channel=Channel.EMAIL).order_by("customer_id").first()
        assert first is not None
        assert first.clicked_at is not None
        # The card page links the same URL through the counter of the delivery that brought it.
        await Delivery.filter(id=first.id).update(clicked_at=None)
        membership = await Membership.get(customer__email="p0@example.com")
        url = card_page_url(runtime.signer, membership.id, membership.public_token)
        async with http.get(url) as page:
            on_page = re.search(
                r'<a href="([^"]+)" target="_blank">https://cafe.example/menu</a>\.',
                await page.text(),
            )
        assert on_page is not None
        assert on_page.group(1) == runtime.signer.url(Purpose.CLICK, first.id) + "?u=" + quote(
            MENU, safe=""
        )
        async with http.get(on_page.group(1), allow_redirects=False) as followed:
            assert (followed.status, followed.headers["Location"]) == (302, MENU)
    assert (await Delivery.get(id=first.id)).clicked_at is not None
