"""The dashboard and the exports, driven through the webhook: what the owner reads, the chart
and the CSV files the fake Bot API received, and the refusals of every other seat."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from campaigns.exports import safe_cell
from campaigns.service import create_campaign
from campaigns.spec import CampaignSpec
from loyalty.clock import utcnow
from loyalty.memberships import join
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from models import (
    AuditEntry,
    Campaign,
    ChannelOptOut,
    Delivery,
    GoogleWalletObject,
    Membership,
    PassRegistration,
    StampEvent,
    WalletPass,
)
from models.enums import CampaignStatus, Channel, DeliveryStatus, LedgerKind, StaffRole
from tests import factories
from tests.chat import Chat, buttons, png_size, shop_menu, text_of, uploaded_file


async def staff_chat(new_chat: Any, shop: factories.NewMerchant, role: StaffRole) -> Chat:
    chat: Chat = new_chat(first_name=role.value.title())
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")
    return chat


def csv_rows(chat: Chat) -> list[list[str]]:
    document = uploaded_file(chat.telegram.calls("sendDocument")[-1], "document")
    assert document.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    return list(csv.reader(io.StringIO(document.data.decode("utf-8-sig"))))


async def forged(chat: Chat, data: str) -> dict[str, Any]:
    await chat._post(
        chat.telegram.callback_update(chat.user, chat.replies[-1], data, check_button=False)
    )
    return chat.last_answer()


async def _shop_with_a_week() -> tuple[factories.NewMerchant, Campaign]:
    """A: joined now, 2 stamps (one visit, receipt 4.50) an hour after a campaign message;
    B: joined in May, a visit 40 days ago; C: joined in May, a stamp that was taken back."""
    shop = await factories.merchant("Kafe Lviv", stamps_needed=2)
    now = utcnow()
    a = (await join(await factories.customer(2001, "Anna"), shop.card)).membership
    b = await factories.member(shop, 2002)
    c = await factories.member(shop, 2003)
    await Membership.filter(id__in=(b.id, c.id)).update(joined_at=factories.T0)
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text="Hi", name="Autumn"
        ),
    )
    campaign.status = CampaignStatus.SENDING
    campaign.started_at = now - timedelta(minutes=3)
    await campaign.save()
    await Delivery.create(
        campaign_id=campaign.id,
        customer_id=a.customer_id,
        channel=Channel.TELEGRAM,
        status=DeliveryStatus.SENT,
        sent_at=now - timedelta(minutes=3),
    )
    await add_stamps(a.id, 2, merchant_id=shop.merchant.id, now=now - timedelta(minutes=2))
    await StampEvent.filter(membership_id=a.id, kind=LedgerKind.STAMP).update(amount_minor=450)
    await add_stamps(b.id, 1, merchant_id=shop.merchant.id, now=now - timedelta(days=40))
    await add_stamps(c.id, 1, merchant_id=shop.merchant.id, now=now - timedelta(minutes=2))
    stamp = await StampEvent.get(membership_id=c.id, kind=LedgerKind.STAMP)
    await StampEvent.create(
        membership_id=c.id,
        card_id=shop.card.id,
        kind=LedgerKind.UNDO,
        delta=-1,
        balance_after=0,
        reverses_id=stamp.id,
        created_at=now - timedelta(minutes=1),
    )
    return shop, campaign


async def test_the_owner_reads_the_week_switches_to_all_time_and_gets_chart_and_csv(
    new_chat: Any,
) -> None:
    shop, _ = await _shop_with_a_week()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER)
    menu = await shop_menu(owner)
    assert "Dashboard" in [label for label, _ in buttons(menu)]

    board = (await owner.press_label(menu, "Dashboard"))[-1]
    lines = text_of(board).splitlines()
    assert lines[0] == "Dashboard · Kafe Lviv"
    assert lines[1].startswith("This week: ")
    assert lines[3:] == [
        "👥 Members: 3 (1 new)",
        "☕ Visits: 1 · stamps: 2",
        "💰 Receipts recorded: $4.50",
        "🎁 Vouchers: 1 issued, 0 redeemed",
        "📣 Campaigns: 1 sending, 0 scheduled",
        "📈 Visits after a campaign: 1 (within 7 days of the message)",
        "💰 Their value: $4.50 (receipt amounts of 1 visit)",
    ]
    assert [label for label, _ in buttons(board)] == [
        "✅ This week",
        "Last 30 days",
        "All time",
        "📈 Chart",
        "⬇️ CSV",
        "👥 Export members",
    ]

    await owner.press_label(board, "All time")
    every = text_of(owner.current(board)).splitlines()
    assert every[1].startswith("All time: ")
    assert every[3:5] == ["👥 Members: 3 (3 new)", "☕ Visits: 2 · stamps: 3"]

    await owner.press_label(owner.current(board), "Chart")
    png = uploaded_file(owner.telegram.calls("sendPhoto")[-1], "photo").data
    assert png_size(png) == (1280, 720)
    assert text_of(owner.replies[-1]) == "All time: visits and stamps per day"

    await owner.press_label(owner.current(board), "CSV")
    rows = csv_rows(owner)
    summary = dict(row for row in rows[1:16] if len(row) == 2)
    assert summary["Members"] == "3"
    assert summary["New members"] == "3"
    assert summary["Visits"] == "2"
    assert summary["Stamps"] == "3"
    assert summary["Receipts recorded"] == "4.50"
    assert summary["Visits after a campaign"] == "1"
    assert summary["Currency"] == "USD"
    days = rows[rows.index(["Date", "Visits", "Stamps", "New members"]) + 1 :]
    assert sum(int(day[1]) for day in days) == 2
    assert sum(int(day[2]) for day in days) == 3


async def test_a_manager_sees_the_dashboard_but_not_the_member_export(new_chat: Any) -> None:
    shop = await factories.merchant()
    manager = await staff_chat(new_chat, shop, StaffRole.MANAGER)
    await manager.send("/admin")
    board = (await manager.send("/dashboard"))[-1]
    assert text_of(board).startswith("Dashboard · Kafe Lviv")
    assert "👥 Export members" not in [label for label, _ in buttons(board)]

    documents = len(manager.telegram.calls("sendDocument"))
    answer = await forged(manager, f"dsh:members:{shop.merchant.id}:week")
    assert answer["text"] == "Only the owner can export the member list."
    assert answer["show_alert"] in (True, "true")
    assert len(manager.telegram.calls("sendDocument")) == documents
    assert await AuditEntry.filter(action="export.members").count() == 0


async def test_the_member_export_keeps_to_what_the_shop_may_know(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER)
    sly = await factories.customer(3001, '=HYPERLINK("http://evil.example","click")')
    sly.email, sly.email_verified = "sly@example.com", True
    await sly.save()
    quiet = await factories.customer(3002, "Quiet")
    quiet.email, quiet.email_verified = "quiet@example.com", True
    await quiet.save()
    unconfirmed = await factories.customer(3003, "Unconfirmed")
    unconfirmed.email = "maybe@example.com"
    await unconfirmed.save()
    for person in (sly, quiet, unconfirmed):
        await join(person, shop.card)
    await ChannelOptOut.create(
        customer_id=quiet.id, merchant_id=shop.merchant.id, channel=Channel.EMAIL
    )
    sly_card = await Membership.get(customer_id=sly.id)
    wallet = await WalletPass.create(
        membership_id=sly_card.id, serial_number="s-1", authentication_token="t" * 32,
        updated_at=utcnow(),
    )  # fmt: skip
    await PassRegistration.create(
        wallet_pass_id=wallet.id, device_library_identifier="device", push_token="push"
    )
    quiet_card = await Membership.get(customer_id=quiet.id)
    await GoogleWalletObject.create(membership_id=quiet_card.id, object_id="issuer.quiet")
    left = await factories.member(shop, 3004)
    await Membership.filter(id=left.id).update(status="left")

    board = (await owner.press_label(await shop_menu(owner), "Dashboard"))[-1]
    await owner.press_label(board, "Export members")

    rows = csv_rows(owner)
    assert rows[0] == [
        "Customer ID",
        "Name",
        "Card",
        "Joined",
        "Stamps",
        "Visits",
        "Last visit",
        "Vouchers held",
        "Reachable on",
        "Email (confirmed)",
    ]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert set(by_id) == {sly.id, quiet.id, unconfirmed.id}  # who left is not in it
    assert by_id[sly.id][1] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert by_id[sly.id][8:] == ["Telegram chat, Email, Apple Wallet", "sly@example.com"]
    assert by_id[quiet.id][8:] == ["Telegram chat, Google Wallet", ""]
    assert by_id[unconfirmed.id][8:] == ["Telegram chat", ""]
    assert "3 members." in text_of(owner.replies[-1])
    entry = await AuditEntry.get(action="export.members")
    assert entry.merchant_id == shop.merchant.id
    assert entry.detail == {"rows": 3, "truncated": False}


async def test_a_campaign_is_exported_per_recipient_from_its_page(new_chat: Any) -> None:
    shop, campaign = await _shop_with_a_week()
    other = await factories.merchant("Other")
    foreign = await create_campaign(
        other.merchant.id,
        CampaignSpec(card_id=other.card.id, channels=(Channel.EMAIL,), message_text="x"),
    )
    b = await Membership.filter(card_id=shop.card.id, customer__first_name="Olena").first()
    assert b is not None
    b_customer = await b.customer
    b_customer.first_name = "+380 Bohdan"
    await b_customer.save()
    await Delivery.create(
        campaign_id=campaign.id,
        customer_id=b.customer_id,
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        reason="mailbox_unavailable",
    )
    manager = await staff_chat(new_chat, shop, StaffRole.MANAGER)
    await manager.send("/admin")
    listing = (await manager.send("/campaigns"))[-1]
    await manager.press_label(listing, "Autumn")
    detail = manager.current(listing)  # the list becomes the campaign's page
    await manager.press_label(detail, "Export")

    rows = csv_rows(manager)
    assert rows[0] == [
        "Customer ID",
        "Name",
        "Channel",
        "Status",
        "Reason",
        "Sent",
        "Opened",
        "Clicked",
    ]
    assert [row[1:5] for row in rows[1:]] == [
        ["Anna", "Telegram chat", "sent", ""],
        ["'+380 Bohdan", "Email", "failed", "mailbox unavailable"],
    ]
    assert rows[1][5].startswith(str(utcnow().year))  # sent, in the shop's zone
    assert rows[2][5] == ""
    assert "@" not in "".join(cell for row in rows for cell in row)
    assert "Autumn: 2 messages, one row each." in text_of(manager.replies[-1])
    entry = await AuditEntry.get(action="export.deliveries")
    assert entry.detail == {"campaign_id": campaign.id, "rows": 2, "truncated": False}

    answer = await forged(manager, f"cmp:export:{shop.merchant.id}:{foreign.id}:0:all")
    assert answer["text"] == "This button has expired."
    answer = await forged(manager, f"cmp:export:{other.merchant.id}:{foreign.id}:0:all")
    assert answer["text"] == "This button has expired."
    assert await AuditEntry.filter(action="export.deliveries").count() == 1


def test_formula_cells_are_kept_as_text() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "ok", "", -5)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
        -5,
    ]


async def test_in_hebrew_the_figures_money_and_chart_read_right_to_left(new_chat: Any) -> None:
    from babel.numbers import format_currency
    from PIL import Image

    from models import Merchant
    from render.chart import BAR_COLOUR, PLOT_BOX

    shop, _ = await _shop_with_a_week()
    await Merchant.filter(id=shop.merchant.id).update(currency="ILS")
    owner: Chat = new_chat("he", first_name="Noa")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    menu = await shop_menu(owner)
    board = (await owner.press_label(menu, "לוח בקרה"))[-1]

    text = text_of(board)
    assert text.splitlines()[0] == "לוח בקרה · Kafe Lviv"
    assert "👥 חברים: 3 (1 חדשים)" in text
    assert f"💰 סכומי קבלות שנרשמו: {format_currency(4.5, 'ILS', locale='he')}" in text

    await owner.press_label(board, "📈")
    png = uploaded_file(owner.telegram.calls("sendPhoto")[-1], "photo").data
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = image.load()
    assert pixels is not None
    legend = [x for x in range(image.width) if pixels[x, 124] == BAR_COLOUR]
    assert max(legend) == PLOT_BOX[2]  # the legend starts at the right edge


def test_the_week_starts_where_the_locale_says() -> None:
    from datetime import UTC, datetime

    from campaigns.dashboard import Period, period_start
    from handlers.dashboard import first_week_day

    assert [first_week_day(code) for code in ("uk", "en", "he", "fa", "th", "xx")] == [
        0,
        6,
        6,
        5,
        6,
        0,
    ]
    wednesday = datetime(2026, 12, 2, 12, tzinfo=UTC)

    def start(day: int) -> datetime:
        return period_start(
            Period.WEEK, timezone="Asia/Tehran", first_week_day=day, now=wednesday, since=wednesday
        )

    # Local midnight in Tehran (UTC+3:30) of Monday 30 Nov, Sunday 29, Saturday 28.
    assert start(0) == datetime(2026, 11, 29, 20, 30, tzinfo=UTC)
    assert start(6) == datetime(2026, 11, 28, 20, 30, tzinfo=UTC)
    assert start(5) == datetime(2026, 11, 27, 20, 30, tzinfo=UTC)
