"""The campaign wizard, driven like a person would: real updates through the webhook, answers
read from the fake Bot API, campaigns and deliveries read from the database.

The quick path is the message, then one summary with everything filled in; every option is one
Change button away from it. Action counts follow the chat review's Summary table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import BotRuntime
from bot.delivery import build_worker
from fakes.telegram import visible
from handlers.wizard.flow import wallet_channels, wizard_services
from loyalty.clock import utcnow
from loyalty.merchants import create_staff_invite
from models import Campaign, Delivery, Staff
from models.enums import CampaignStatus, DeliveryPolicy, DeliveryStatus, StaffRole
from tests import factories
from tests.chat import Chat, button, buttons, png_bytes, text_of
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


async def write_campaign(owner: Chat, text: str = "Autumn menu is here!\nCome and taste.") -> Any:
    """/admin, 📣 New campaign, the message: the summary screen (the last message)."""
    await owner.send("/admin")
    prompt = (await owner.send("📣 New campaign"))[-1]
    assert "Send me the message" in text_of(prompt)
    return (await owner.send(text))[-1]


async def send_it(owner: Chat, summary: Any) -> Any:
    await owner.press_label(summary, "Send to")
    return await owner.press_label(owner.current(summary), "Yes, send")


def labels(message: Any) -> list[str]:
    # Babel writes "10:00 AM" with a narrow no-break space.
    return [label.replace("\u202f", " ") for label, _ in buttons(message)]


async def deliver_all(runtime: BotRuntime) -> None:
    worker = build_worker(runtime.settings, runtime.bot, runtime.limiter, runtime.signer)
    for _ in range(5):
        await worker.tick()


async def press_forged(chat: Chat, message: Any, data: str) -> None:
    """A button not (or no longer) on the message: a double tap, a stale or forged one."""
    await chat._post(chat.telegram.callback_update(chat.user, message, data, check_button=False))


def detail_button(listing: Any, campaign: Campaign) -> str:
    prefix = f"cmp:show:{campaign.merchant_id}:{campaign.id}:"
    [data] = [data for _, data in buttons(listing) if data.startswith(prefix)]
    return data


async def test_a_campaign_goes_out_in_four_actions_after_admin(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    people = await customers(new_chat, shop, 2)
    await owner.send("/admin")
    owner.actions = 0

    await owner.send("📣 New campaign")
    shown = await owner.send("Autumn menu is here!\nCome and taste it.")
    # One copy of the chat message as customers get it (the shop first), then the summary.
    assert [text_of(m) for m in shown[:-1]] == [
        "Kafe Lviv\n\nAutumn menu is here!\nCome and taste it."
    ]
    summary = shown[-1]
    assert text_of(summary).splitlines() == [
        "Ready to send — Kafe Lviv",
        "To: everyone on the card · 2 people",
        "Via: Telegram chat 2",
        "⚠️ Email reaches nobody yet — 0 customers have confirmed an email.",
        "Lock-screen line: “Autumn menu is here!”",
        "Gift voucher: none",
        "Comparison group: off",
    ]
    assert labels(summary) == [
        "🚀 Send to 2 people now",
        "🕒 Schedule",
        "Audience",
        "Channels",
        "Add voucher",
        "Lock-screen line",
        "Message",
        "More options",
        "Send me a test",
        "✖ Discard",
    ]
    await owner.press_label(summary, "Send to 2 people")
    ask = owner.current(summary)
    assert text_of(ask) == "Send to 2 people now? This can't be undone."
    assert labels(ask) == ["Yes, send", "Not yet"]
    yes, not_yet = button(ask, "Yes, send"), button(ask, "Not yet")
    done = await owner.press(ask, yes)

    assert owner.actions == 4
    assert text_of(owner.current(summary)).startswith("🚀 Autumn menu is here! · ")
    assert text_of(owner.current(summary)).endswith(": sending to 2 people.")
    # The double tap: the same Yes again, sent before the edit took the button away.
    await press_forged(owner, summary, yes)
    assert owner.last_answer()["text"] == "This button has expired."
    # A stale button of the summary after the send.
    await press_forged(owner, summary, not_yet)
    assert owner.last_answer()["text"] == "This button has expired."
    [campaign] = await Campaign.filter(merchant_id=shop.merchant.id)
    assert campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)
    assert campaign.channels == ["telegram"]
    assert campaign.push_text == "Autumn menu is here!"
    assert campaign.name.startswith(f"{shop.card.id}_")  # the stored default stays the spec's
    await deliver_all(runtime)
    await runtime.progress.wait()
    assert await Delivery.filter(campaign_id=campaign.id, status=DeliveryStatus.SENT).count() == 2
    for person in people:
        assert "Kafe Lviv\n\nAutumn menu is here!\nCome and taste it." in [
            text_of(m) for m in person.new_messages()
        ]
    assert any(text_of(m).startswith("📣") for m in done + owner.new_messages())


async def test_scheduling_takes_five_actions_with_time_buttons(new_chat: Any) -> None:
    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.MANAGER, "Marta")
    await customers(new_chat, shop, 1)
    await owner.send("/admin")
    owner.actions = 0
    await owner.send("📣 New campaign")
    summary = (await owner.send("Autumn menu"))[-1]

    await owner.press_label(summary, "Schedule")
    slots = owner.current(summary)
    assert text_of(slots) == "When should it go out? Times are Kyiv time."
    assert "Tomorrow 10:00 AM" in labels(slots)
    assert "Other time…" in labels(slots)
    await owner.press_label(slots, "Tomorrow")
    confirm = owner.current(summary)
    [schedule_label] = [label for label in labels(confirm) if label.startswith("🕒 Schedule for")]
    assert schedule_label.endswith(", 10:00 AM")
    assert "(Kyiv time)" in text_of(confirm)
    await owner.press_label(confirm, "Schedule for")

    assert owner.actions == 5
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at is not None
    local = campaign.scheduled_at.astimezone(ZoneInfo("Europe/Kyiv"))
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo("Europe/Kyiv")).date()
    assert (local.date(), local.hour, local.minute) == (tomorrow, 10, 0)
    assert "is scheduled for" in text_of(owner.current(summary))
    assert await Delivery.filter(campaign_id=campaign.id).count() == 0


async def test_other_time_is_typed_and_bad_times_are_refused(new_chat: Any) -> None:
    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Schedule")
    # A forged slot (a time not offered) changes nothing.
    await press_forged(owner, summary, "wz:days:12345")
    assert text_of(owner.current(summary)).startswith("When should it go out?")
    await owner.press_label(owner.current(summary), "Other time")
    assert "Kyiv time" in text_of(owner.current(summary))

    assert text_of((await owner.send("31.02.2027 10:00"))[-1]).startswith("Please send the date")
    assert text_of((await owner.send("01.01.2020 10:00"))[-1]) == (
        "That time has already passed. Please send a time ahead."
    )
    local = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo("Europe/Kyiv"))
    confirm = (await owner.send(f"{local:%d.%m.%Y} 09:30"))[-1]
    await owner.press_label(confirm, "Schedule for")

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at is not None
    at = campaign.scheduled_at.astimezone(ZoneInfo("Europe/Kyiv"))
    assert (at.date(), at.hour, at.minute) == (local.date(), 9, 30)


async def scheduled_campaign(shop: factories.NewMerchant, owner: Chat, days: int = 3) -> Campaign:
    from campaigns.service import create_campaign, schedule
    from campaigns.spec import CampaignSpec
    from models.enums import Channel

    made = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id,
            channels=(Channel.TELEGRAM, Channel.EMAIL),
            message_text="Autumn menu is here!",
            push_text="Coffee −20% today",
            policy=DeliveryPolicy.FIRST_REACHABLE,
            holdout_percent=20,
            channel_order=(Channel.EMAIL, Channel.TELEGRAM),
        ),
    )
    return await schedule(made, at=utcnow() + timedelta(days=days))


async def test_changing_a_scheduled_time_takes_four_actions(new_chat: Any) -> None:
    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    campaign = await scheduled_campaign(shop, owner)
    owner.actions = 0

    listing = (await owner.send("/campaigns"))[-1]
    await owner.press(listing, detail_button(listing, campaign))
    detail = owner.current(listing)  # the page is drawn in place of the list
    await owner.press_label(detail, "Change time")
    slots = owner.current(detail)
    assert "Times are Kyiv time." in text_of(slots)
    tomorrow = button(slots, "Tomorrow")
    await owner.press(slots, tomorrow)

    assert owner.actions == 4
    moved = await Campaign.get(id=campaign.id)
    assert moved.status == CampaignStatus.SCHEDULED
    assert moved.scheduled_at is not None
    local = moved.scheduled_at.astimezone(ZoneInfo("Europe/Kyiv"))
    assert (local.hour, local.minute) == (10, 0)
    assert "now goes out" in text_of(owner.current(detail))
    # The slot again (a double tap) or a cashier's forged Change time: nothing more happens.
    await press_forged(owner, detail, tomorrow)
    assert owner.last_answer()["text"] == "This button has expired."


async def test_a_cashier_or_a_stranger_cannot_change_the_time(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    campaign = await scheduled_campaign(shop, owner)
    before = campaign.scheduled_at
    stranger: Chat = new_chat(first_name="Eve")
    await stranger.send("/start")
    for person in (cashier, stranger):
        menu = (await person.send("/help"))[-1]
        await press_forged(person, menu, f"cmp:time:{shop.merchant.id}:{campaign.id}:0:all")
        assert person.last_answer()["text"] == "This button has expired."
    assert (await Campaign.get(id=campaign.id)).scheduled_at == before


async def test_edit_opens_the_summary_and_keeps_what_is_not_changed(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    campaign = await scheduled_campaign(shop, owner)

    listing = (await owner.send("/campaigns"))[-1]
    await owner.press(listing, detail_button(listing, campaign))
    detail = owner.current(listing)  # the page is drawn in place of the list
    summary = (await owner.press_label(detail, "Edit"))[-1]
    assert text_of(summary).startswith("Editing “Autumn menu is here! · ")
    assert "Someone on several channels gets it once only, trying Email → Telegram chat." in (
        text_of(summary)
    )
    assert "Comparison group: 20% get nothing, to measure the effect" in text_of(summary)
    assert "Change time" in labels(summary)
    await owner.press_label(summary, "Schedule for")
    await owner.press_label(owner.current(summary), "Schedule for")

    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 1
    edited = await Campaign.get(id=campaign.id)
    assert edited.status == CampaignStatus.SCHEDULED
    assert edited.scheduled_at == campaign.scheduled_at
    assert edited.holdout_percent == 20
    assert edited.channel_order == ["email", "telegram"]
    assert edited.push_text == "Coffee −20% today"


async def test_every_option_is_one_change_away(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    summary = await write_campaign(owner)

    # Audience: a filter with its usual number, then a custom one (bad numbers refused).
    await owner.press_label(summary, "Audience")
    audience = owner.current(summary)
    assert text_of(audience).startswith("Who gets it? Tap to narrow down")
    await owner.press_label(audience, "Off · Lapsed: no visit for 30 days")
    assert "no visit for 30 days — 0 people." in text_of(owner.current(summary))
    await owner.press_label(owner.current(summary), "On · Lapsed: no visit for 30 days")
    await owner.press(owner.current(summary), "wz:skip:inactive_days")
    assert "No visit for how many days?" in text_of(owner.current(summary))
    for bad in ("0", "abc", "9999"):
        assert text_of((await owner.send(bad))[-1]) == (
            "Please send a whole number from 1 to 3,650."
        )
    screen = (await owner.send("1"))[-1]
    assert "On · Lapsed: no visit for 1 day" in labels(screen)
    await owner.press(screen, "wz:skip:birthday_within_days")
    assert text_of((await owner.send("91"))[-1]).startswith("Please send a whole number")
    screen = (await owner.send("14"))[-1]
    assert "On · Birthday in the next 14 days" in labels(screen)
    await owner.press_label(screen, "On · Birthday in the next 14 days")
    await owner.press_label(owner.current(screen), "On · Lapsed: no visit for 1 day")
    await owner.press_label(owner.current(screen), "Back")
    summary = owner.current(screen)
    assert "To: everyone on the card · 2 people" in text_of(summary)

    # Channels: each with its count.
    await owner.press_label(summary, "Channels")
    channels = owner.current(summary)
    assert labels(channels)[:2] == ["Off · Email · 0 people", "On · Telegram chat · 2 people"]
    await owner.press_label(channels, "Telegram chat")
    assert text_of(owner.replies[-1]) == "Keep at least one channel on."
    await owner.press_label(owner.current(channels), "Email")
    await owner.press_label(owner.current(channels), "Back")
    assert "Via: Email 0 · Telegram chat 2" in text_of(owner.current(summary))
    # With email on, the summary says what the email's subject will be (not silently).
    assert "Email subject: “Autumn menu is here!”" in text_of(owner.current(summary))

    # Voucher: a title, then the days (the card's own validity offered).
    await owner.press_label(owner.current(summary), "Add voucher")
    days = (await owner.send("Free cookie"))[-1]
    assert "30 days (as the card)" in labels(days)
    await owner.press_label(days, "14 days")
    summary = owner.current(days)
    assert "Gift voucher: Free cookie, valid 14 days" in text_of(summary)

    # Lock-screen line: too long refused, then my own.
    await owner.press_label(summary, "Lock-screen line")
    assert text_of((await owner.send("Autumn blend is here, come!"))[-1]).startswith(
        "That is 27 characters; the lock screen shows 20."
    )
    summary = (await owner.send("Coffee −20% today"))[-1]
    assert "Lock-screen line: “Coffee −20% today”" in text_of(summary)
    assert "Email subject: “Coffee −20% today”" in text_of(summary)

    # More options: a comparison group, once only and its order, a name.
    await owner.press_label(summary, "More options")
    more = owner.current(summary)
    await owner.press_label(more, "10%")
    await owner.press_label(owner.current(more), "Once only")
    await owner.press_label(owner.current(more), "Try Telegram chat earlier")
    assert "once only, trying Telegram chat → Email" in text_of(owner.current(more))
    await owner.press_label(owner.current(more), "Other %")
    assert text_of((await owner.send("60"))[-1]) == "Please send a whole number from 1 to 50."
    summary = (await owner.send("25"))[-1]
    await owner.press_label(summary, "More options")
    await owner.press_label(owner.current(summary), "Rename")
    summary = (await owner.send("Autumn menu"))[-1]
    assert "Comparison group: 25% get nothing, to measure the effect" in text_of(summary)

    # The message itself.
    await owner.press_label(summary, "Message")
    summary = (await owner.send("Pumpkin latte is back"))[-1]
    await send_it(owner, summary)

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.name == "Autumn menu"
    assert campaign.message_text == "Pumpkin latte is back"
    assert campaign.push_text == "Coffee −20% today"
    assert campaign.audience_filters == {}
    assert campaign.voucher_title == "Free cookie"
    assert campaign.voucher_validity_days == 14
    assert campaign.holdout_percent == 25
    assert campaign.delivery_policy == DeliveryPolicy.FIRST_REACHABLE
    assert campaign.channel_order == ["telegram", "email"]
    assert campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


async def test_discard_keeps_a_draft_and_discard_it_throws_it_away(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    summary = await write_campaign(owner)

    await owner.press_label(summary, "Discard")

    kept = owner.current(summary)
    assert text_of(kept) == "Saved as a draft. /campaigns → Drafts to finish it."
    [draft] = await Campaign.filter(merchant_id=shop.merchant.id)
    assert draft.status == CampaignStatus.DRAFT
    assert draft.message_text == "Autumn menu is here!\nCome and taste."
    await press_forged(owner, summary, "wz:now:")  # the summary's old button
    assert owner.last_answer()["text"] == "This button has expired."
    # A stranger pressing the Discard it of this chat's message changes nothing.
    stranger: Chat = new_chat(first_name="Eve")
    await press_forged(stranger, kept, button(kept, "Discard it"))
    assert await Campaign.filter(id=draft.id).exists()
    await owner.press_label(kept, "Discard it")
    assert text_of(owner.current(kept)) == "Discarded. /admin opens the menu."
    assert not await Campaign.filter(id=draft.id).exists()


async def test_exit_keeps_the_draft(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await write_campaign(owner)

    left = await owner.send("/exit")

    assert text_of(left[-1]) == "Back to customer mode. /admin opens the admin menu again."
    assert text_of((await owner.send("📣 New campaign"))[-1]) == (
        "Open admin mode with /admin first."
    )
    [draft] = await Campaign.filter(merchant_id=shop.merchant.id)
    assert draft.status == CampaignStatus.DRAFT
    assert (await Staff.get(telegram_user_id=owner.user.id)).active


async def test_a_summary_left_behind_closes_at_its_first_tap_and_says_where_the_draft_is(
    new_chat: Any,
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    summary = await write_campaign(owner)
    await owner.send("/exit")

    await owner.press_label(summary, "Audience")

    assert owner.last_answer()["text"] == "This button has expired."
    left = owner.current(summary)
    assert text_of(left) == (
        "This campaign screen has closed. Drafts are kept in /campaigns → Drafts; "
        "/newcampaign starts a new one."
    )
    assert buttons(left) == []
    [draft] = await Campaign.filter(merchant_id=shop.merchant.id)
    assert (draft.status, draft.audience_filters) == (CampaignStatus.DRAFT, {})


async def test_a_manager_cannot_pick_another_shops_card(new_chat: Any) -> None:
    from loyalty.merchants import CardSpec, create_card

    shop_a = await factories.merchant("A")
    shop_b = await factories.merchant("B")
    await create_card(
        shop_a.merchant, CardSpec(name="Tea card", stamps_needed=6, reward_text="Free tea")
    )
    manager = await staff_chat(new_chat, shop_a, StaffRole.MANAGER, "Ann")
    await manager.send("/admin")
    card_step = (await manager.send("📣 New campaign"))[-1]
    assert text_of(card_step) == "New campaign\nWhich card is it for?"

    await press_forged(manager, card_step, f"wz:card:{shop_b.card.id}")

    assert text_of(manager.replies[-1]) == "This button has expired."
    await manager.press_label(card_step, "Tea card")
    summary = (await manager.send("Green tea week"))[-1]
    assert "Card: Tea card" in text_of(summary)
    assert "Card" in labels(summary)


async def test_send_me_a_test_asks_for_a_test_email_and_uses_it(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Channels")
    await owner.press_label(owner.current(summary), "Email")
    await owner.press_label(owner.current(summary), "Back")

    report = (await owner.press_label(owner.current(summary), "Send me a test"))[-1]
    assert text_of(report) == "Test: chat: sent, email: you have no test address yet."
    await owner.press_label(report, "Set my test email")
    assert text_of((await owner.send("not an address"))[-1]).startswith(
        "That doesn't look like an email address."
    )
    assert (await Staff.get(telegram_user_id=owner.user.id)).test_email is None
    answered = await owner.send("Marta@Example.com")
    assert text_of(answered[0]).startswith("Your tests go to Marta@example.com now.")
    assert (await Staff.get(telegram_user_id=owner.user.id)).test_email == "Marta@example.com"
    mailbox = runtime.settings.var_dir / "mail"
    before = set(mailbox.glob("*.eml")) if mailbox.exists() else set()

    report = (await owner.press_label(answered[-1], "Send me a test"))[-1]

    assert text_of(report) == "Test: chat: sent, email to Marta@example.com: sent."
    [written] = set(mailbox.glob("*.eml")) - before
    assert "Come and taste." in written.read_text()


async def test_a_photo_with_a_formatted_caption_becomes_the_message(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    guest = (await customers(new_chat, shop, 1))[0]
    await owner.send("/admin")
    await owner.send("📣 New campaign")

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
    # As customers get it: the shop's name first, then the caption with its bold kept.
    assert visible(shown[0].caption or "") == "Kafe Lviv\n\nNew menu today"
    caption = shown[0].caption or ""
    bold = [
        caption[e["offset"] : e["offset"] + e["length"]]
        for e in shown[0].caption_entities
        if e["type"] == "bold"
    ]
    assert "New menu" in bold
    await send_it(owner, preview[-1])
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.message_text == "<b>New menu</b> today"
    assert campaign.photo_file_id is not None
    await deliver_all(runtime)
    received = [m for m in guest.new_messages() if m.photo]
    assert [visible(m.caption or "") for m in received] == ["Kafe Lviv\n\nNew menu today"]


async def test_scanning_a_customer_mid_wizard_stamps_and_the_wizard_waits(new_chat: Any) -> None:
    from models import Membership

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    membership = await Membership.get(card_id=shop.card.id)
    await owner.send("/admin")
    await owner.send("📣 New campaign")

    screen = (await owner.send(f"/start m-{membership.public_token}"))[-1]
    await owner.press_label(screen, "+1")
    summary = (await owner.send("Autumn menu"))[-1]

    assert (await Membership.get(id=membership.id)).balance == 1
    assert text_of(summary).startswith("Ready to send")


async def test_another_replica_sees_the_wizard_where_it_stopped(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from aiogram.fsm.storage.base import StorageKey

    from bot.factory import build_fsm_storage

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await write_campaign(owner)

    # A storage built from the same settings, as a restarted process or another replica has.
    replica = build_fsm_storage(runtime.settings)
    key = StorageKey(bot_id=runtime.bot.id, chat_id=owner.user.id, user_id=owner.user.id)
    try:
        state = await replica.get_state(key)
        data = await replica.get_data(key)
    finally:
        await replica.close()

    assert state == "CampaignWizard:summary"
    assert data["admin_merchant_id"] == shop.merchant.id
    assert data["campaign_draft"]["card_id"] == shop.card.id


async def test_the_push_limit_is_the_configured_one(
    new_chat: Any, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wizard's services are built once, from the settings (STAMPBOT_PUSH_TEXT_LIMIT).
    wizard = runtime.dispatcher["wizard"]
    assert wizard.push_limit == runtime.settings.campaigns.push_text_limit == 20
    monkeypatch.setitem(runtime.dispatcher.workflow_data, "wizard", replace(wizard, push_limit=12))
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    # The default line is the first line cut to 12 characters as the lock screen counts them.
    summary = await write_campaign(owner, "Family 👨‍👩‍👧 coffee day")
    assert "Lock-screen line: “Family 👨‍👩‍👧 cof”" in text_of(summary)
    await owner.press_label(summary, "Lock-screen line")
    assert "max 12 characters" in text_of(owner.current(summary))
    refused = await owner.send("Coffee −20% today")
    assert text_of(refused[-1]).startswith("That is 17 characters; the lock screen shows 12.")


async def test_a_scheduled_campaign_posts_its_progress_when_it_starts(
    new_chat: Any, runtime: BotRuntime
) -> None:
    import asyncio

    from campaigns.service import send_now

    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Schedule")
    await owner.press_label(owner.current(summary), "Tomorrow")
    await owner.press_label(owner.current(summary), "Schedule for")
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
    assert "sent" in text_of(owner.current(posted))


async def test_both_wallets_are_shown_apart_and_the_test_updates_my_own_pass(
    new_chat: Any, setup: Setup, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.views import customer_card
    from models import Customer, Membership, WalletPass
    from wallets.apple_registry import register_device

    # This bot pushes to both wallets (the loopback APNs and Google Wallet of the wallet tests).
    monkeypatch.setattr(runtime.wallets, "apns", setup.wallets.apns)
    monkeypatch.setattr(runtime.wallets, "google", setup.wallets.google)
    # The wizard learnt at start which wallets this bot pushes to: as a bot started so would.
    built = runtime.dispatcher["wizard"]
    wizard = wizard_services(
        built.push_limit, runtime.wallets, built.telegram_channel, built.email_channel
    )
    assert wizard.wallet_channels == wallet_channels(runtime.wallets)
    monkeypatch.setitem(runtime.dispatcher.workflow_data, "wizard", wizard)
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await member_with_both_passes(setup, shop)
    await owner.send(f"/start j-{shop.card.join_token}")  # the owner holds the card too
    me = await Customer.get(identities__external_id=str(owner.user.id))
    mine = await Membership.get(card_id=shop.card.id, customer=me)
    issued = await setup.wallets.apple_pass(mine.id)
    my_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(my_pass, "device-mine", setup.apns.add_device())
    await setup.wallets.google_save_url(await customer_card(mine.id, mine.customer_id))

    summary = await write_campaign(owner)

    assert "Via: Apple Wallet 2 · Google Wallet 2 · Telegram chat 2" in text_of(summary)
    assert "Someone on several channels gets it on each of their channels." in text_of(summary)
    await owner.press_label(summary, "Channels")
    assert labels(owner.current(summary))[:2] == [
        "On · Apple Wallet · 2 people",
        "On · Google Wallet · 2 people",
    ]
    await owner.press_label(owner.current(summary), "Back")
    report = (await owner.press_label(owner.current(summary), "Send me a test"))[-1]
    assert text_of(report) == (
        "Test: chat: sent, your wallet pass: updated, your wallet pass: updated."
    )
    await my_pass.refresh_from_db()
    assert "Autumn menu is here!" in str(my_pass.campaign_message)
    await send_it(owner, summary)
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert sorted(campaign.channels) == ["apple_wallet", "google_wallet", "telegram"]


async def test_birthdays_in_the_next_days_count_day_and_month_in_the_shops_zone(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from models import Customer

    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    people = await customers(new_chat, shop, 3)
    today = utcnow().astimezone(ZoneInfo("Europe/Kyiv"))
    for person, ahead in zip(people, (0, 5, 40), strict=True):
        day = today + timedelta(days=ahead)
        await Customer.filter(identities__external_id=str(person.user.id)).update(
            birth_day=day.day, birth_month=day.month
        )
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Audience")
    await owner.press(owner.current(summary), "wz:skip:birthday_within_days")
    screen = (await owner.send("14"))[-1]

    assert "birthday in the next 14 days — 2 people." in text_of(screen)
    await owner.press_label(screen, "Back")
    assert "To: birthday in the next 14 days · 2 people" in text_of(owner.current(screen))
    await send_it(owner, owner.current(screen))
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.audience_filters == {"birthday_within_days": 14}
    await deliver_all(runtime)
    assert await Delivery.filter(campaign_id=campaign.id).count() == 2


async def test_stamps_to_reward_takes_my_number_and_birthdays_this_month_count(
    new_chat: Any, runtime: BotRuntime
) -> None:
    from models import Customer, Membership

    shop = await factories.merchant(timezone="Europe/Kyiv", stamps_needed=10)
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    people = await customers(new_chat, shop, 3)
    # 9, 7 and 2 of 10 stamps: 1, 3 and 8 stamps from the reward.
    for person, balance in zip(people, (9, 7, 2), strict=True):
        customer = await Customer.get(identities__external_id=str(person.user.id))
        await Membership.filter(card_id=shop.card.id, customer=customer).update(balance=balance)
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Audience")
    audience = owner.current(summary)
    # The usual number first: 2 or fewer stamps away reaches only the 9 of 10.
    await owner.press_label(audience, "Off · Close: 2 stamps or fewer to a reward")
    assert "2 stamps or fewer from a reward — 1 person." in text_of(owner.current(audience))
    # My own number: 3 reaches the 7 of 10 too; out of range is refused and changes nothing.
    await owner.press(owner.current(audience), "wz:skip:close_to_reward")
    assert "At most how many stamps from a reward?" in text_of(owner.current(audience))
    for bad in ("0", "101", "three"):
        assert text_of((await owner.send(bad))[-1]) == "Please send a whole number from 1 to 100."
    screen = (await owner.send("3"))[-1]
    assert "On · Close: 3 stamps or fewer to a reward" in labels(screen)
    assert "3 stamps or fewer from a reward — 2 people." in text_of(screen)
    # Birthday this month, on top: only the one born this month (in the shop's zone) of them.
    today = utcnow().astimezone(ZoneInfo("Europe/Kyiv"))
    other_month = today.month % 12 + 1
    for person, month in zip(people, (today.month, other_month, today.month), strict=True):
        await Customer.filter(identities__external_id=str(person.user.id)).update(
            birth_day=1, birth_month=month
        )
    await owner.press_label(screen, "Off · Birthday this month")
    screen = owner.current(screen)
    assert "On · Birthday this month" in labels(screen)
    assert "— 1 person." in text_of(screen)
    await owner.press_label(screen, "Back")
    await send_it(owner, owner.current(screen))

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.audience_filters == {"close_to_reward": 3, "birthday_this_month": True}
    await deliver_all(runtime)
    [delivered] = await Delivery.filter(campaign_id=campaign.id).prefetch_related("customer")
    first = await Customer.get(identities__external_id=str(people[0].user.id))
    assert delivered.customer_id == first.id


async def test_the_comparison_group_is_off_5_10_or_my_own_share(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    summary = await write_campaign(owner)
    await owner.press_label(summary, "More options")
    more = owner.current(summary)
    assert labels(more)[:4] == ["✅ off", "5%", "10%", "Other %"]
    await owner.press_label(more, "5%")
    assert labels(owner.current(more))[:4] == ["off", "✅ 5%", "10%", "Other %"]
    assert "Comparison group: 5% get nothing" in text_of(owner.current(more))
    await owner.press_label(owner.current(more), "Other %")
    for bad in ("0", "51", "half"):
        assert text_of((await owner.send(bad))[-1]) == "Please send a whole number from 1 to 50."
    summary = (await owner.send("15"))[-1]
    assert "Comparison group: 15% get nothing, to measure the effect" in text_of(summary)
    await owner.press_label(summary, "More options")
    assert labels(owner.current(summary))[:4] == ["off", "5%", "10%", "✅ Other %"]
    await owner.press_label(owner.current(summary), "off")
    await owner.press_label(owner.current(summary), "Back")
    assert "Comparison group: off" in text_of(owner.current(summary))
    await send_it(owner, owner.current(summary))
    assert (await Campaign.get(merchant_id=shop.merchant.id)).holdout_percent == 0


async def test_two_taps_at_once_on_schedule_or_send_act_once(
    new_chat: Any, runtime: BotRuntime
) -> None:
    import asyncio

    shop = await factories.merchant(timezone="Europe/Kyiv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Schedule")
    await owner.press_label(owner.current(summary), "Tomorrow")
    confirm = owner.current(summary)
    yes = button(confirm, "Schedule for")

    # A quick double tap: both updates reach the bot before either has answered.
    await asyncio.gather(*(press_forged(owner, confirm, yes) for _ in range(2)))

    [campaign] = await Campaign.filter(merchant_id=shop.merchant.id)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert "is scheduled for" in text_of(owner.current(summary))
    scheduled = [m for m in owner.new_messages() if "is scheduled for" in text_of(m)]
    assert scheduled == []  # the confirm itself became the note: no second note below it

    # The same for Send now, on a second campaign.
    summary = await write_campaign(owner, "Second offer")
    await owner.press_label(summary, "Send to")
    ask = owner.current(summary)
    yes = button(ask, "Yes, send")
    await asyncio.gather(*(press_forged(owner, ask, yes) for _ in range(2)))
    # (No wait for the progress watch: the scheduled campaign's watch runs until it starts.)
    await deliver_all(runtime)
    [second] = await Campaign.filter(merchant_id=shop.merchant.id, message_text="Second offer")
    assert await Delivery.filter(campaign_id=second.id).count() == 2
    assert await Campaign.filter(merchant_id=shop.merchant.id).count() == 2


async def test_viber_and_whatsapp_are_paid_channels_the_owner_switches_on(
    new_chat: Any, runtime: BotRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot with a Viber and a WhatsApp account offers both with their reach, says the
    messenger charges for them, and leaves them off until the owner switches them on; with
    WhatsApp on, the approved template is one more option."""
    from loyalty.customers import customer_for_identity
    from loyalty.memberships import join
    from models.enums import Channel, Platform

    built = runtime.dispatcher["wizard"]
    wizard = replace(built, paid_chats=(Channel.VIBER, Channel.WHATSAPP))
    monkeypatch.setitem(runtime.dispatcher.workflow_data, "wizard", wizard)
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    for n in range(2):
        person = await customer_for_identity(Platform.VIBER, f"viber-user-{n}==")
        await join(person, shop.card)
    person = await customer_for_identity(Platform.WHATSAPP, "972501234567")
    await join(person, shop.card)

    summary = await write_campaign(owner)
    # Not switched on by default (they reach people, and a free channel would be).
    assert "Via: Telegram chat 1\n" in text_of(summary)
    assert "Viber" not in text_of(summary)
    await owner.press_label(summary, "Channels")
    channels = owner.current(summary)
    assert labels(channels)[:4] == [
        "Off · Email · 0 people",
        "On · Telegram chat · 1 person",
        "Off · Viber chat · 2 people",
        "Off · WhatsApp chat · 1 person",
    ]
    assert (
        "Viber chat and WhatsApp chat: the messenger charges the shop for each message a bot "
        "starts, so these are off unless you switch them on."
    ) in text_of(channels)
    await owner.press_label(channels, "Viber chat")
    await owner.press_label(owner.current(channels), "WhatsApp chat")
    await owner.press_label(owner.current(channels), "Back")
    summary = owner.current(channels)
    assert "Via: Telegram chat 1 · Viber chat 2 · WhatsApp chat 1" in text_of(summary)

    await owner.press_label(summary, "More options")
    more = owner.current(summary)
    assert "No WhatsApp template: people who have not written in 24 hours are skipped there." in (
        text_of(more)
    )
    await owner.press_label(more, "WhatsApp template")
    assert text_of((await owner.send("Autumn Offer!"))[-1]).startswith(
        "A template name is lower-case Latin letters"
    )
    more = (await owner.send("autumn_offer"))[-1]
    assert (
        "WhatsApp template for people who have not written in 24 hours: autumn_offer"
        in text_of(more)
    )
    await owner.press_label(more, "Back")
    await send_it(owner, owner.current(more))

    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert sorted(campaign.channels) == ["telegram", "viber", "whatsapp"]
    assert campaign.whatsapp_template == "autumn_offer"
