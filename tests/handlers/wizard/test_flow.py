"""The campaign wizard, driven like a person would: real updates through the webhook, answers
read from the fake Bot API, campaigns and deliveries read from the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import BotRuntime
from bot.delivery import build_worker
from fakes.telegram import visible
from handlers.wizard.flow import wallet_channels
from loyalty.clock import utcnow
from loyalty.merchants import create_staff_invite
from models import Campaign, Delivery, Staff
from models.enums import CampaignStatus, DeliveryStatus, StaffRole
from tests import factories
from tests.chat import Chat, buttons, png_bytes, text_of, uploaded_file
from tests.wallets.test_service import Setup, member_with_both_passes, pass_signer_dir, setup

__all__ = ["pass_signer_dir", "setup"]  # the loopback wallets of the wallet tests


async def staff_chat(
    new_chat: Any, shop: factories.NewMerchant, role: StaffRole, name: str
) -> Chat:
    chat: Chat = new_chat(first_name=name)
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")
    return chat


async def customers(new_chat: Any, shop: factories.NewMerchant, count: int) -> list[Chat]:
    people = []
    for n in range(count):
        person: Chat = new_chat(first_name=f"Guest{n}")
        await person.send(f"/start j-{shop.card.join_token}")
        people.append(person)
    return people


async def open_wizard(owner: Chat) -> Any:
    await owner.send("/admin")
    return (await owner.send("📣 New campaign"))[-1]


async def write_campaign(owner: Chat, *, channels: tuple[str, ...] = ("Messenger",)) -> Any:
    """Card, everyone, a push text, no voucher, ``channels``, a message: up to the preview."""
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    await owner.press_label(audience, "Continue")
    voucher = (await owner.send("Coffee −20% today"))[-1]
    channel_step = (await owner.press_label(voucher, "No voucher"))[-1]
    for name in channels:
        await owner.press_label(owner.current(channel_step), name)
    await owner.press_label(owner.current(channel_step), "Continue")
    return await owner.send("Hello <friends>! Our autumn blend is here.")


async def schedule_in_three_days(owner: Chat, shop: factories.NewMerchant) -> Campaign:
    counts = (await write_campaign(owner))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    local = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo(shop.merchant.timezone))
    await owner.press_label(when, "Schedule")
    await owner.press_label((await owner.send(f"{local:%d.%m.%Y} 12:00"))[-1], "Confirm")
    return await Campaign.get(merchant_id=shop.merchant.id)


async def edit_to_send_now(owner: Chat, campaign: Campaign) -> Any:
    """Open the campaign's Edit, keep everything, choose Send now: the confirm screen."""
    detail = (await owner.press_label((await owner.send("/campaigns"))[-1], campaign.name))[-1]
    card_step = (await owner.press_label(detail, "Edit"))[-1]
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    push = (await owner.press_label(audience, "Continue"))[-1]
    voucher = (await owner.press_label(push, "Keep as it is"))[-1]
    channels = (await owner.press_label(voucher, "No voucher"))[-1]
    message = (await owner.press_label(channels, "Continue"))[-1]
    counts = (await owner.press_label(message, "Keep as it is"))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    confirm = (await owner.press_label(when, "Send now"))[-1]
    return confirm


async def deliver_all(runtime: BotRuntime) -> None:
    worker = build_worker(runtime.settings, runtime.bot, runtime.limiter, runtime.signer)
    for _ in range(5):
        await worker.tick()


async def test_the_owner_writes_previews_tests_and_sends_a_campaign(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    people = await customers(new_chat, shop, 2)

    card_step = await open_wizard(owner)
    assert "Which card is it for?" in text_of(card_step)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    assert "Now: everyone on the card — 2 people." in text_of(audience)
    await owner.press_label(audience, "Close: 2 stamps")
    assert "2 stamps or fewer from a reward — 0 people." in text_of(owner.current(audience))
    await owner.press_label(owner.current(audience), "Close: 2 stamps")
    push = (await owner.press_label(owner.current(audience), "Continue"))[-1]
    assert "up to 20 characters" in text_of(push)

    too_long = await owner.send("Autumn blend is here, come!")
    assert text_of(too_long[-1]).startswith("That is 27 characters; the lock screen shows 20.")
    accepted = await owner.send("Coffee −20% today")
    assert text_of(accepted[0]) == "✓ Push text: Coffee −20% today (17/20 characters)"
    voucher_step = accepted[-1]
    title_step = (await owner.press_label(voucher_step, "Add a voucher"))[-1]
    back = (await owner.press_label(title_step, "Back"))[-1]
    assert "Attach a voucher" in text_of(back)
    await owner.press_label(back, "Add a voucher")
    await owner.send("Free cookie")
    assert text_of((await owner.send("soon"))[-1]) == (
        "Please send a whole number of days from 1 to 3650."
    )
    days_step = owner.replies[-2]
    channel_step = (await owner.press_label(days_step, "14 days"))[-1]
    await owner.press_label(channel_step, "Continue")
    assert text_of(owner.replies[-1]) == "Switch on at least one channel."
    await owner.press_label(owner.current(channel_step), "Messenger")
    await owner.press_label(owner.current(channel_step), "Email")
    # This bot has neither APNs nor a Google Wallet issuer: the wallet push says why it is off.
    await owner.press_label(owner.current(channel_step), "Wallet card push")
    assert text_of(owner.replies[-1]) == (
        "Wallet card pushes are not set up for this bot: they need Apple Wallet (APNs) or "
        "Google Wallet in its settings."
    )
    assert [label for label, _ in buttons(owner.current(channel_step))][:3] == [
        "🚫 Wallet card push (not set up)",
        "✅ Email",
        "✅ Messenger",
    ]
    await owner.press_label(owner.current(channel_step), "Continue")

    preview = await owner.send("Hello <friends>! Our autumn blend is here.")
    texts = [text_of(m) for m in preview]
    # The chat rendition as customers get it: the shop on top, My card and Stop offers below.
    [chat_preview] = [m for m in preview if "autumn blend" in text_of(m)]
    assert text_of(chat_preview).startswith(
        "Kafe Lviv\n\nHello <friends>! Our autumn blend is here.\n\n🎁 Your gift: "
    )
    assert [label for label, _ in buttons(chat_preview)] == [
        "🎟 Show the voucher",
        "🪪 My card",
        "🔕 Stop offers from Kafe Lviv",
    ]
    email = uploaded_file(owner.telegram.calls("sendDocument")[-1], "document")
    assert "Hello &lt;friends&gt;! Our autumn blend is here." in email.data.decode()
    assert email.filename == "email-preview.html"
    assert not any(t.startswith("📱 On the lock screen") for t in texts)
    counts = preview[-1]
    assert text_of(counts).splitlines()[1:] == ["• Email: 0", "• Messenger: 2"]
    tested = await owner.press_label(counts, "Send a test to me")
    assert text_of(tested[-1]).startswith("Test: chat: sent, email: you have no confirmed address")
    when = (await owner.press_label(counts, "Continue"))[-1]
    confirm = (await owner.press_label(when, "Send now"))[-1]
    assert "Voucher: Free cookie, valid 14 days" in text_of(confirm)
    progress = (await owner.press_label(confirm, "Confirm"))[-1]
    assert "sending" in text_of(progress) or "scheduled" in text_of(progress)

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.push_text == "Coffee −20% today"
    assert campaign.voucher_title == "Free cookie"
    assert campaign.voucher_validity_days == 14
    assert sorted(campaign.channels) == ["email", "telegram"]
    await deliver_all(runtime)
    await runtime.progress.wait()
    for person in people:
        assert any(
            "Hello <friends>! Our autumn blend is here." in text_of(m)
            for m in person.new_messages()
        )
    final = owner.current(progress)
    assert text_of(final).startswith(f"📣 {campaign.name} — sent")
    assert "Messenger: 2 sent, 0 failed, 0 waiting, 0 skipped" in text_of(final)
    assert final.reply_markup is None


async def test_cancel_at_any_step_creates_nothing(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]

    cancelled = await owner.press_label(audience, "Cancel")

    assert text_of(cancelled[-1]) == "The campaign was not created. /admin opens the menu."
    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 0
    await owner.press_label(audience, "Continue")
    assert owner.last_answer()["text"] == "This button has expired."


async def test_a_scheduled_campaign_is_paused_and_resumed_from_the_list(new_chat: Any) -> None:
    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.MANAGER, "Marta")
    await customers(new_chat, shop, 1)
    counts = (await write_campaign(owner))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    ask = (await owner.press_label(when, "Schedule"))[-1]
    assert "(Europe/Kyiv)" in text_of(ask)

    assert text_of((await owner.send("31.02.2027 10:00"))[-1]).startswith("Please send the date")
    assert text_of((await owner.send("01.01.2020 10:00"))[-1]) == (
        "That time has already passed. Please send a time ahead."
    )
    local = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo("Europe/Kyiv"))
    confirm = (await owner.send(f"{local:%d.%m.%Y} 09:30"))[-1]
    done = (await owner.press_label(confirm, "Confirm"))[-1]

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at is not None
    scheduled_local = campaign.scheduled_at.astimezone(ZoneInfo("Europe/Kyiv"))
    assert (scheduled_local.date(), scheduled_local.hour, scheduled_local.minute) == (
        local.date(),
        9,
        30,
    )
    assert text_of(done).endswith("/campaigns shows it.")

    listing = (await owner.send("/campaigns"))[-1]
    assert f"• {campaign.name} — scheduled" in text_of(listing)
    detail = (await owner.press_label(listing, campaign.name))[-1]
    await owner.press_label(detail, "Pause")
    assert owner.last_answer()["text"] == "Paused. Resume whenever you like."
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.PAUSED
    detail = (await owner.press_label(listing, campaign.name))[-1]
    await owner.press_label(detail, "Resume")
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SCHEDULED
    await owner.press_label(detail, "Resume")
    assert owner.last_answer()["text"] == "Not possible now: the campaign is scheduled."


async def test_editing_a_scheduled_campaign_keeps_what_is_not_changed(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    campaign = await schedule_in_three_days(owner, shop)

    confirm = await edit_to_send_now(owner, campaign)
    await owner.press_label(confirm, "Confirm")

    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 1
    edited = await Campaign.get(id=campaign.id)
    assert edited.message_text == campaign.message_text
    assert edited.push_text == "Coffee −20% today"
    assert edited.scheduled_at is not None
    assert edited.scheduled_at <= utcnow()


async def test_a_cashier_cannot_create_or_reach_campaigns(new_chat: Any) -> None:
    shop = await factories.merchant()
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    counts = (await write_campaign(owner))[-1]
    await owner.press_label((await owner.press_label(counts, "Continue"))[-1], "Send now")
    await cashier.send("/admin")
    keyboard = cashier.replies[-2].sent_reply_markup or {}
    assert [b["text"] for row in keyboard.get("keyboard", []) for b in row] == [
        "🚪 Exit admin mode"
    ]

    refused = await cashier.send("/newcampaign")
    assert text_of(refused[-1]) == "Only the owner or a manager can create campaigns."
    assert text_of((await cashier.send("/campaigns"))[-1]) == (
        "Only the owner or a manager can see campaigns."
    )
    menu = cashier.replies[-1]
    for forged in ("wz:card:" + str(shop.card.id), f"adm:new:{shop.merchant.id}:"):
        await cashier._post(
            cashier.telegram.callback_update(cashier.user, menu, forged, check_button=False)
        )
        assert cashier.last_answer()["text"] == "This button has expired."
    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 0


async def test_a_manager_cannot_reach_another_shops_campaigns(new_chat: Any) -> None:
    shop_a = await factories.merchant("A")
    shop_b = await factories.merchant("B")
    manager_a = await staff_chat(new_chat, shop_a, StaffRole.MANAGER, "Ann")
    owner_b = await staff_chat(new_chat, shop_b, StaffRole.OWNER, "Bob")
    counts = (await write_campaign(owner_b))[-1]
    when = (await owner_b.press_label(counts, "Continue"))[-1]
    await owner_b.press_label((await owner_b.press_label(when, "Send now"))[-1], "Confirm")
    campaign_b = await Campaign.get(merchant_id=shop_b.merchant.id)
    await manager_a.send("/admin")
    menu = (await manager_a.send("/campaigns"))[-1]

    for forged in (
        f"cmp:del_ok:{shop_b.merchant.id}:{campaign_b.id}:0:all",
        f"cmp:show:{shop_b.merchant.id}:{campaign_b.id}:0:all",
        f"cmp:cancel_ok:{shop_a.merchant.id}:{campaign_b.id}:0:all",
        f"cmp:csv:{shop_a.merchant.id}:{campaign_b.id}:0:all",
        f"cmp:list:{shop_b.merchant.id}:0:0:all",
    ):
        await manager_a._post(
            manager_a.telegram.callback_update(manager_a.user, menu, forged, check_button=False)
        )
        assert manager_a.last_answer()["text"] == "This button has expired."
    card_step = (await manager_a.send("📣 New campaign"))[-1]
    await manager_a._post(
        manager_a.telegram.callback_update(
            manager_a.user, card_step, f"wz:card:{shop_b.card.id}", check_button=False
        )
    )
    assert text_of(manager_a.replies[-1]) == "This button has expired."
    assert (await Campaign.get(id=campaign_b.id)).status != CampaignStatus.CANCELLED
    assert await Campaign.filter(merchant_id=shop_a.merchant.id).count() == 0


async def test_the_list_pages_filters_and_searches(new_chat: Any) -> None:
    from campaigns.service import create_campaign, pause, send_now
    from campaigns.spec import CampaignSpec
    from models.enums import Channel

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    for n in range(7):
        campaign = await create_campaign(
            shop.merchant.id,
            CampaignSpec(
                card_id=shop.card.id,
                channels=(Channel.TELEGRAM,),
                message_text="Hi",
                name=f"{'Spring' if n == 3 else 'Weekly'} {n}",
            ),
        )
        if n == 5:
            await pause(await send_now(campaign))
    await owner.send("/admin")

    listing = (await owner.send("/campaigns"))[-1]
    assert len([line for line in text_of(listing).splitlines() if line.startswith("• ")]) == 5
    assert "Page 1 of 2" in text_of(listing)
    await owner.press_label(listing, "▶")
    page_two = owner.current(listing)
    assert "Page 2 of 2" in text_of(page_two)
    assert "• Weekly 0 — draft" in text_of(page_two)
    await owner.press_label(page_two, "Suspended")
    suspended = owner.current(listing)
    assert [line for line in text_of(suspended).splitlines() if line.startswith("• ")] == [
        "• Weekly 5 — paused"
    ]
    await owner.press_label(suspended, "Suspended")  # the same filter again: nothing breaks
    found = (await owner.send("/campaigns spring"))[-1]
    assert [line for line in text_of(found).splitlines() if line.startswith("• ")] == [
        "• Spring 3 — draft"
    ]
    today = utcnow().astimezone(ZoneInfo(shop.merchant.timezone))
    by_date = (await owner.send(f"/campaigns {today:%d.%m}"))[-1]
    assert "Page 1 of 2" in text_of(by_date)
    nothing = (await owner.send("/campaigns 01.01.2001"))[-1]
    assert "None here yet." in text_of(nothing)


async def test_statistics_come_as_text_chart_and_csv(new_chat: Any, runtime: BotRuntime) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    counts = (await write_campaign(owner))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    await owner.press_label((await owner.press_label(when, "Send now"))[-1], "Confirm")
    await deliver_all(runtime)
    await runtime.progress.wait()
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert await Delivery.filter(campaign_id=campaign.id, status=DeliveryStatus.SENT).count() == 2

    detail = (await owner.press_label((await owner.send("/campaigns"))[-1], campaign.name))[-1]
    assert "Messenger: 2 of 2 sent, 0 opened, 0 clicked" in text_of(detail)
    chart = (await owner.press_label(detail, "Chart"))[-1]
    png = uploaded_file(owner.telegram.calls("sendPhoto")[-1], "photo").data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "deliveries and visits per day" in text_of(chart)
    await owner.press_label(detail, "CSV")
    document = uploaded_file(owner.telegram.calls("sendDocument")[-1], "document")
    assert (document.filename or "").endswith(".csv")
    rows = document.data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Date,Sent")
    assert any(row.startswith("Messenger,") for row in rows)


async def test_exit_leaves_admin_mode(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await open_wizard(owner)

    left = await owner.send("/exit")

    assert text_of(left[-1]) == "Back to customer mode. /admin opens the admin menu again."
    assert left[-1].sent_reply_markup == {"remove_keyboard": True}
    assert text_of((await owner.send("📣 New campaign"))[-1]) == (
        "Open admin mode with /admin first."
    )
    seat = await Staff.get(telegram_user_id=owner.user.id)
    assert seat.active


async def test_a_photo_with_a_formatted_caption_becomes_the_message(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    guest = (await customers(new_chat, shop, 1))[0]
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    await owner.press_label(audience, "Continue")
    voucher = (await owner.send("Autumn menu"))[-1]
    channel_step = (await owner.press_label(voucher, "No voucher"))[-1]
    await owner.press_label(owner.current(channel_step), "Messenger")
    await owner.press_label(owner.current(channel_step), "Continue")

    photo = png_bytes(640, 480)
    waiting = await owner._post(owner.telegram.photo_update(owner.user, photo))
    assert text_of(waiting[-1]) == "Got the photo. Now send the text that goes with it."
    preview = await owner._post(
        owner.telegram.photo_update(
            owner.user,
            photo,
            caption="New menu today",
            caption_entities=[{"type": "bold", "offset": 0, "length": 8}],
        )
    )

    shown = [m for m in preview if m.photo]
    assert len(shown) == 1
    assert visible(shown[0].caption or "") == "Kafe Lviv\n\nNew menu today"
    assert [e["type"] for e in shown[0].caption_entities] == ["bold", "bold"]  # shop, "New menu"
    when = (await owner.press_label(preview[-1], "Continue"))[-1]
    await owner.press_label((await owner.press_label(when, "Send now"))[-1], "Confirm")
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.message_text == "<b>New menu</b> today"
    assert campaign.photo_file_id is not None
    await deliver_all(runtime)
    received = [m for m in guest.new_messages() if m.photo]
    assert [visible(m.caption or "") for m in received] == ["Kafe Lviv\n\nNew menu today"]
    sizes = received[0].photo or []
    assert owner.telegram.file_bytes(sizes[-1]["file_id"]) == photo


async def test_scanning_a_customer_mid_wizard_stamps_and_the_wizard_waits(new_chat: Any) -> None:
    from models import Membership

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    membership = await Membership.get(card_id=shop.card.id)
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    await owner.press_label(audience, "Continue")

    screen = (await owner.send(f"/start m-{membership.public_token}"))[-1]
    await owner.press_label(screen, "+1")
    accepted = await owner.send("Coffee −20% today")

    assert (await Membership.get(id=membership.id)).balance == 1
    assert text_of(accepted[0]) == "✓ Push text: Coffee −20% today (17/20 characters)"


async def test_confirming_an_edit_of_a_campaign_stopped_meanwhile_changes_nothing(
    new_chat: Any,
) -> None:
    from campaigns.service import cancel

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    campaign = await schedule_in_three_days(owner, shop)
    confirm = await edit_to_send_now(owner, campaign)
    await cancel(await Campaign.get(id=campaign.id))  # another manager stopped it

    refused = await owner.press_label(confirm, "Confirm")
    await owner.press_label(confirm, "Confirm")

    assert text_of(refused[-1]) == (
        "This campaign is cancelled now, so it can no longer be changed. /campaigns shows it."
    )
    assert owner.last_answer()["text"] == "This button has expired."
    stopped = await Campaign.get(id=campaign.id)
    assert stopped.status == CampaignStatus.CANCELLED
    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 1


async def test_another_replica_sees_the_wizard_where_it_stopped(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from aiogram.fsm.storage.base import StorageKey

    from bot.factory import build_fsm_storage

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    await owner.press_label(audience, "Continue")

    # A storage built from the same settings, as a restarted process or another replica has.
    replica = build_fsm_storage(runtime.settings)
    key = StorageKey(bot_id=runtime.bot.id, chat_id=owner.user.id, user_id=owner.user.id)
    try:
        state = await replica.get_state(key)
        data = await replica.get_data(key)
    finally:
        await replica.close()

    assert state == "CampaignWizard:push"
    assert data["admin_merchant_id"] == shop.merchant.id
    assert data["campaign_draft"]["card_id"] == shop.card.id


async def test_a_scheduled_campaign_posts_its_progress_when_it_starts(
    new_chat: Any, runtime: BotRuntime
) -> None:
    import asyncio

    from campaigns.service import send_now

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    counts = (await write_campaign(owner))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    local = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(shop.merchant.timezone))
    await owner.press_label(when, "Schedule")
    await owner.press_label((await owner.send(f"{local:%d.%m.%Y} 08:00"))[-1], "Confirm")
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    await asyncio.sleep(0.5)  # the watch runs a few times: nothing is posted before the start
    assert not [m for m in owner.new_messages() if text_of(m).startswith("📣")]

    await send_now(campaign)  # the time has come
    await deliver_all(runtime)
    async with asyncio.timeout(5):
        posted = await owner.telegram.wait_for_message(
            owner.user.id, lambda m: text_of(m).startswith("📣")
        )
    await runtime.progress.wait()

    final = owner.current(posted)
    assert text_of(final).startswith(f"📣 {campaign.name} — sent")
    assert "Messenger: 2 sent, 0 failed, 0 waiting, 0 skipped" in text_of(final)


async def test_the_push_limit_is_the_configured_one(
    new_chat: Any, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wizard's services are built once, from the settings (STAMPBOT_PUSH_TEXT_LIMIT).
    wizard = runtime.dispatcher["wizard"]
    assert wizard.push_limit == runtime.settings.campaigns.push_text_limit == 20
    monkeypatch.setitem(runtime.dispatcher.workflow_data, "wizard", replace(wizard, push_limit=12))
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    card_step = await open_wizard(owner)
    audience = (await owner.press_label(card_step, "Coffee card"))[-1]
    push = (await owner.press_label(audience, "Continue"))[-1]
    refused = await owner.send("Coffee −20% today")
    accepted = await owner.send("Latte −20%")

    assert "up to 12 characters" in text_of(push)
    assert text_of(refused[-1]).startswith("That is 17 characters; the lock screen shows 12.")
    assert text_of(accepted[0]) == "✓ Push text: Latte −20% (10/12 characters)"


async def test_a_test_to_myself_goes_to_my_confirmed_email_too(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from loyalty.profile import set_confirmed_email

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send(f"/start j-{shop.card.join_token}")  # the owner is a customer as well
    await set_confirmed_email(owner.user.id, "marta@example.com")
    mailbox = runtime.settings.var_dir / "mail"
    before = set(mailbox.glob("*.eml")) if mailbox.exists() else set()

    counts = (await write_campaign(owner, channels=("Email",)))[-1]
    tested = await owner.press_label(counts, "Send a test to me")

    assert text_of(tested[-1]) == "Test: email to marta@example.com: sent."
    [written] = set(mailbox.glob("*.eml")) - before
    mail = written.read_text()
    assert "To: marta@example.com" in mail
    assert "Our autumn blend is here." in mail


async def test_after_a_restart_another_process_finishes_the_progress_message(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from handlers.campaign_progress import CampaignProgress

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    counts = (await write_campaign(owner))[-1]
    when = (await owner.press_label(counts, "Continue"))[-1]
    confirm = (await owner.press_label(when, "Send now"))[-1]
    progress = (await owner.press_label(confirm, "Confirm"))[-1]
    await runtime.progress.close()  # the process that posted it goes away

    await deliver_all(runtime)
    successor = CampaignProgress(runtime.bot, runtime.i18n, interval=0.2)
    await successor.wait()

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    final = owner.current(progress)
    assert text_of(final).startswith(f"📣 {campaign.name} — sent")
    assert "Messenger: 2 sent, 0 failed, 0 waiting, 0 skipped" in text_of(final)
    assert campaign.progress_chat_id is None  # followed to the end, then let go


async def test_editing_keeps_the_holdout_and_the_channel_step_sets_the_fallback_order(
    new_chat: Any,
) -> None:
    from campaigns.service import create_campaign, schedule
    from campaigns.spec import CampaignSpec
    from models.enums import Channel, DeliveryPolicy

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    made = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id,
            channels=(Channel.TELEGRAM, Channel.EMAIL),
            message_text="Hello",
            push_text="Coffee −20% today",
            policy=DeliveryPolicy.FIRST_REACHABLE,
            holdout_percent=20,
        ),
    )
    campaign = await schedule(made, at=utcnow() + timedelta(days=3))

    confirm = await edit_to_send_now(owner, campaign)
    await owner.press_label(confirm, "Confirm")

    edited = await Campaign.get(id=campaign.id)
    assert edited.holdout_percent == 20
    # Switched on messenger first, but the step lists email above it: email is tried first.
    assert edited.channel_order == ["email", "telegram"]


async def test_the_wallet_reach_counts_a_member_with_both_passes_once(
    new_chat: Any, setup: Setup, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This bot pushes to both wallets (the loopback APNs and Google Wallet of the wallet tests).
    monkeypatch.setattr(runtime.wallets, "apns", setup.wallets.apns)
    monkeypatch.setattr(runtime.wallets, "google", setup.wallets.google)
    # The wizard learnt at start which wallets this bot pushes to: as a bot started so would.
    wizard = replace(
        runtime.dispatcher["wizard"], wallet_channels=wallet_channels(runtime.wallets)
    )
    monkeypatch.setitem(runtime.dispatcher.workflow_data, "wizard", wizard)
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await member_with_both_passes(setup, shop)

    preview = await write_campaign(owner, channels=("Wallet card push", "Messenger"))

    assert "📱 On the lock screen: Kafe Lviv — Coffee −20% today" in [text_of(m) for m in preview]
    assert text_of(preview[-1]).splitlines()[1:] == ["• Wallet card push: 1", "• Messenger: 1"]
    when = (await owner.press_label(preview[-1], "Continue"))[-1]
    await owner.press_label((await owner.press_label(when, "Send now"))[-1], "Confirm")
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert sorted(campaign.channels) == ["apple_wallet", "google_wallet", "telegram"]
