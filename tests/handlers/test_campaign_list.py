"""The owner after composing: the campaign list and page, the progress message with 📊 Results,
and the results digests a day and a week later, driven through the webhook like a person."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_skeleton

from bot.app import BotRuntime
from bot.delivery import build_worker
from campaigns.service import create_campaign, schedule
from campaigns.spec import CampaignSpec
from campaigns.stats import CampaignStats, ChannelStats, GroupOutcome
from handlers.campaign_progress import CampaignDigests
from handlers.campaign_texts import stats_lines
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from models import Campaign, Membership
from models.enums import CampaignStatus, Channel, StaffRole
from tests import factories
from tests.chat import Chat, button, buttons, text_of
from tests.handlers.test_texts import i18n
from tests.handlers.wizard.test_flow import customers, deliver_all, staff_chat

__all__ = ["i18n"]  # the compiled catalogs of the wording tests

MESSAGE = "<b>Autumn menu</b>\nPumpkin latte is back, and so are we."


async def draft(shop: factories.NewMerchant, **changes: Any) -> Campaign:
    spec = CampaignSpec(
        card_id=shop.card.id, channels=(Channel.TELEGRAM, Channel.EMAIL), message_text=MESSAGE
    )
    return await create_campaign(shop.merchant.id, replace(spec, **changes))


def shown(message: Any) -> list[str]:
    """The campaigns the list shows: its buttons that open one."""
    return [label for label, data in buttons(message) if data.startswith("cmp:show:")]


async def open_page(owner: Chat, campaign: Campaign) -> Any:
    listing = (await owner.send("/campaigns"))[-1]
    show = f"cmp:show:{campaign.merchant_id}:{campaign.id}:"
    await owner.press(listing, next(d for _, d in buttons(listing) if d.startswith(show)))
    return owner.current(listing)


async def forge(chat: Chat, message: Any, data: str) -> list[Any]:
    return await chat._post(
        chat.telegram.callback_update(chat.user, message, data, check_button=False)
    )


async def sent_campaign(
    new_chat: Any, runtime: BotRuntime, *, language: str = "en"
) -> tuple[factories.NewMerchant, Chat, Campaign, Any]:
    """A shop with two customers; its owner sends a draft from its page: the progress message,
    finished."""
    shop = await factories.merchant()
    owner = await staff_chat(
        lambda **named: new_chat(language, **named), shop, StaffRole.OWNER, "Marta"
    )
    await customers(new_chat, shop, 2)
    campaign = await draft(shop)
    await owner.send("/admin")
    page = await open_page(owner, campaign)
    started = await owner.press_label(page, "🚀")
    [progress] = [m for m in started if text_of(m).startswith("📣")]
    await deliver_all(runtime)
    await runtime.progress.wait()
    return shop, owner, await Campaign.get(id=campaign.id), owner.current(progress)


async def test_results_on_the_finished_progress_message_is_one_tap_to_the_statistics(
    new_chat: Any, runtime: BotRuntime
) -> None:
    _shop, owner, campaign, progress = await sent_campaign(new_chat, runtime)
    assert campaign.status == CampaignStatus.DONE
    assert text_of(progress).startswith("📣 Autumn menu · ")
    assert text_of(progress).splitlines()[0].endswith("— sent")
    assert "/campaigns shows its statistics." not in text_of(progress)
    assert [label for label, _ in buttons(progress)] == ["📊 Results"]

    owner.actions = 0
    results = await owner.press_label(progress, "📊 Results")

    assert owner.actions == 1  # today 3: /admin, 📋 Campaigns, the campaign
    [page] = results
    text = text_of(page)
    assert text.startswith("📣 Autumn menu · ")
    assert "To: everyone on the card" in text
    assert ": 2 of 2 sent; opens and clicks: not measured in Telegram" in text
    assert "Email: 0 of 2 sent, 0 opened, 0 clicked" in text
    assert "  not sent: 2 have no email" in text
    assert "Within 7 days: 0 of 2 came back (visits: 0); vouchers redeemed: 0" in text
    assert owner.current(progress).shown_text == progress.shown_text  # the report stays
    labels = [label for label, _ in buttons(page)]
    assert "◀ All campaigns" in labels
    assert "Chart" in labels


async def test_the_starting_status_shows_until_the_first_message_goes_out(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    campaign = await draft(shop, channels=(Channel.TELEGRAM,))
    await owner.send("/admin")
    page = await open_page(owner, campaign)

    started = await owner.press_label(page, "Send now")

    [progress] = [m for m in started if text_of(m).startswith("📣")]
    assert text_of(progress).splitlines()[0] == f"📣 Autumn menu · {short(campaign)} — starting…"
    # The page it was sent from is redrawn: no Send now any more, and the same word.
    redrawn = owner.current(page)
    assert text_of(redrawn).splitlines()[0].endswith("— starting…")
    assert "Send now" not in [label for label, _ in buttons(redrawn)]
    assert "⏹ Stop sending" in [label for label, _ in buttons(progress)]
    await deliver_all(runtime)
    await runtime.progress.wait()
    assert text_of(owner.current(progress)).splitlines()[0].endswith("— sent")


def short(campaign: Campaign) -> str:
    local = campaign.created_at.astimezone(ZoneInfo("Europe/Kyiv"))
    return format_skeleton("MMMd", local, locale="en")


async def test_the_digests_come_once_a_day_and_a_week_after_in_the_followers_language(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop, owner, campaign, _ = await sent_campaign(new_chat, runtime, language="uk")
    assert campaign.finished_at is not None
    finished = campaign.finished_at
    membership = await Membership.filter(card_id=shop.card.id).order_by("id").first()
    assert membership is not None
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id, now=utcnow())
    # Two worker processes, each posting the digests it claims.
    workers = [
        build_worker(
            runtime.settings,
            runtime.bot,
            runtime.limiter,
            runtime.signer,
            digests=CampaignDigests(runtime.bot, runtime.i18n),
        )
        for _ in range(2)
    ]
    owner.new_messages()

    async def both_at(moment: Any) -> list[Any]:
        await asyncio.gather(*(worker.send_digests(moment) for worker in workers))
        return owner.new_messages()

    assert await both_at(finished + timedelta(hours=23, minutes=59)) == []
    [day] = await both_at(finished + timedelta(hours=24, minutes=1))
    assert await both_at(finished + timedelta(hours=30)) == []
    assert await both_at(finished + timedelta(days=6, hours=23)) == []
    [week] = await both_at(finished + timedelta(days=7, minutes=1))
    assert await both_at(finished + timedelta(days=7, hours=12)) == []
    assert await both_at(finished + timedelta(days=30)) == []

    assert text_of(day).startswith("Через день після надсилання. Autumn menu · ")
    assert text_of(day).endswith(
        ": 2 людини отримали, 1 людина повернулася, 0 ваучерів використано."
    )
    assert text_of(week).startswith("Через тиждень після надсилання. Autumn menu · ")
    assert [label for label, _ in buttons(day)] == ["📊 Докладніше"]
    assert (await Campaign.get(id=campaign.id)).digests_sent == 2

    owner.actions = 0
    [page] = await owner.press_label(week, "Докладніше")
    assert owner.actions == 1
    assert text_of(page).startswith("📣 Autumn menu · ")
    assert "Кому: " in text_of(page)


async def test_a_worker_that_missed_the_day_sends_only_the_week_digest(
    new_chat: Any, runtime: BotRuntime
) -> None:
    _shop, owner, campaign, _ = await sent_campaign(new_chat, runtime)
    assert campaign.finished_at is not None
    worker = build_worker(
        runtime.settings,
        runtime.bot,
        runtime.limiter,
        runtime.signer,
        digests=CampaignDigests(runtime.bot, runtime.i18n),
    )
    owner.new_messages()

    await worker.send_digests(campaign.finished_at + timedelta(days=7, hours=2))
    await worker.send_digests(campaign.finished_at + timedelta(days=7, hours=3))

    [week] = owner.new_messages()
    assert text_of(week).startswith("A week after sending. Autumn menu · ")
    assert text_of(week).endswith(": 2 got it, 0 came back, 0 vouchers used.")


async def test_stale_forged_and_strangers_results_buttons_change_nothing(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop, owner, campaign, progress = await sent_campaign(new_chat, runtime)
    results = button(progress, "Results")
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    other = await factories.merchant("Other shop")
    stranger = await staff_chat(new_chat, other, StaffRole.OWNER, "Bob")
    for chat in (cashier, stranger):
        before = len(chat.telegram.sent_messages(owner.user.id))
        assert await forge(chat, chat.replies[-1], results) == []
        assert chat.last_answer()["text"] == "This button has expired."
        assert len(chat.telegram.sent_messages(owner.user.id)) == before
    # Bob's own shop id with Marta's campaign: unknown there.
    forged = f"cmp:results:{other.merchant.id}:{campaign.id}:0:all"
    assert await forge(stranger, stranger.replies[-1], forged) == []
    assert stranger.last_answer()["text"] == "This campaign no longer exists."
    for data in (f"cmp:results:{shop.merchant.id}:99999:0:all", "cmp:results:x:1:0:all"):
        assert await forge(owner, progress, data) == []

    page = (await owner.press_label(progress, "Results"))[-1]
    await owner.press_label(page, "Delete")
    confirm = owner.current(page)
    assert [label for label, _ in buttons(confirm)] == ["Yes, delete it", "No, keep it"]
    await owner.press_label(confirm, "Yes, delete it")
    assert text_of(owner.current(page)).endswith("was deleted.")
    assert await owner.press_label(progress, "Results") == []
    assert owner.last_answer()["text"] == "This campaign no longer exists."
    assert not await Campaign.exists(id=campaign.id)


async def test_the_list_shows_each_campaign_once_and_filters_by_status(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    drafted = await draft(shop)
    named = await draft(shop, name="Loyal regulars")
    await schedule(named, at=utcnow() + timedelta(days=2))
    await owner.send("/admin")

    listing = (await owner.send("/campaigns"))[-1]

    assert "Showing: all campaigns" in text_of(listing)
    assert drafted.name not in text_of(listing)
    labels = shown(listing)
    assert len(labels) == 2
    assert labels[0].startswith("Loyal regulars · scheduled for ")
    assert labels[1] == "Autumn menu · draft"
    assert "• " not in text_of(listing)
    filters = [label for label, data in buttons(listing) if data.startswith("cmp:list:")]
    assert filters == ["Scheduled", "Drafts", "Sent", "Paused"]
    await owner.press_label(listing, "Drafts")
    drafts = owner.current(listing)
    assert "Showing: drafts" in text_of(drafts)
    assert shown(drafts) == ["Autumn menu · draft"]
    assert "Drafts" not in [label for label, _ in buttons(drafts)]
    await owner.press_label(drafts, "Scheduled")
    assert [s.split(" · ")[0] for s in shown(owner.current(listing))] == ["Loyal regulars"]

    # The list becomes the page and the page the list again: still one message.
    before = len(owner.replies)
    await owner.press_label(owner.current(listing), "Loyal regulars")
    page = owner.current(listing)
    assert text_of(page).startswith("📣 Loyal regulars — scheduled")
    assert "To: everyone on the card" in text_of(page)
    await owner.press_label(page, "All campaigns")
    assert "Showing: scheduled" in text_of(owner.current(listing))
    assert len(owner.new_messages()) == 0
    assert len(owner.replies) == before


async def test_stop_asks_with_a_way_out_and_the_page_is_redrawn(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    campaign = await schedule(await draft(shop), at=utcnow() + timedelta(days=2))
    await owner.send("/admin")
    page = await open_page(owner, campaign)
    assert "⏹ Stop sending" in [label for label, _ in buttons(page)]

    await owner.press_label(page, "Stop sending")
    ask = owner.current(page)
    assert text_of(ask).startswith("Stop Autumn menu · ")
    await owner.press_label(ask, "No, keep it")
    kept = owner.current(page)
    assert text_of(kept).splitlines()[0].endswith("— scheduled")
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.SCHEDULED

    await owner.press_label(kept, "Stop sending")
    await owner.press_label(owner.current(page), "Yes, stop sending")
    stopped = owner.current(page)
    assert owner.last_answer()["text"] == "Stopped. Nothing more will be sent."
    assert text_of(stopped).splitlines()[0].endswith("— cancelled")
    assert "⏹ Stop sending" not in [label for label, _ in buttons(stopped)]
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.CANCELLED


async def test_rename_takes_a_typed_name_and_refuses_a_bad_one(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    campaign = await draft(shop)
    await owner.send("/admin")
    page = await open_page(owner, campaign)
    await owner.press_label(page, "Rename")
    await owner.press_label(owner.current(page), "Back")  # changed my mind: the page again
    assert text_of(owner.current(page)).startswith("📣 Autumn menu · ")
    await owner.send("Not a name")
    assert (await Campaign.get(id=campaign.id)).name == campaign.name

    await owner.press_label(owner.current(page), "Rename")
    assert "up to 60 characters" in text_of(owner.current(page))
    await owner.send("📊 Dashboard")  # the admin keyboard still works, and is no name
    assert (await Campaign.get(id=campaign.id)).name == campaign.name
    refused = await owner.send("x" * 61)
    assert text_of(refused[-1]).startswith("A campaign name is one line of up to 60 characters.")
    assert (await Campaign.get(id=campaign.id)).name == campaign.name
    renamed = await owner.send("  Pumpkin   week ")

    assert text_of(owner.current(page)) == "Renamed to Pumpkin week."
    assert owner.current(page).inline_buttons() == []
    assert text_of(renamed[-1]).startswith("📣 Pumpkin week — draft")
    assert (await Campaign.get(id=campaign.id)).name == "Pumpkin week"
    # Not in the rename any more: the next text is no name.
    assert "Pumpkin" not in text_of((await owner.send("Another"))[-1])
    assert (await Campaign.get(id=campaign.id)).name == "Pumpkin week"


async def test_a_copy_is_named_as_a_copy(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    campaign = await draft(shop)
    await owner.send("/admin")
    page = await open_page(owner, campaign)

    copied = await owner.press_label(page, "Copy")

    assert any(text_of(m).startswith("Copied as Autumn menu (copy) · ") for m in copied)
    copy = await Campaign.filter(merchant_id=shop.merchant.id).exclude(id=campaign.id).get()
    assert copy.name == f"{campaign.name} (copy)"


def test_statistics_say_why_not_sent_and_compare_with_the_holdout(i18n: I18n) -> None:
    email = ChannelStats(
        "email", targeted=4, sent=1, opened=1, skipped=Counter(no_address=2, not_verified=1)
    )
    chat = ChannelStats("telegram", targeted=3, sent=3, failed=Counter(bot_blocked=1))
    stats = CampaignStats(
        campaign_id=1,
        channels={"telegram": chat, "email": email},
        reached=GroupOutcome(people=10, visitors=3, visits=4, redeemed=1),
        holdout=GroupOutcome(people=20, visitors=2, visits=2, redeemed=0),
        window=timedelta(days=7),
    )
    with i18n.use_locale("en"):
        lines = stats_lines(stats)

    assert lines[0].endswith(": 3 of 3 sent; opens and clicks: not measured in Telegram")
    assert "0 opened" not in lines[0]
    assert lines[1] == "  not delivered: 1 blocked the bot"
    assert lines[2] == "<b>Email</b>: 1 of 4 sent, 1 opened, 0 clicked"
    assert lines[3] == "  not sent: 2 have no email, 1 hasn't confirmed theirs"
    assert lines[-1] == (
        "Compared with 20 people who didn't get it: 10% came back without it, 30% with it "
        "(+20.0 points)"
    )
    with i18n.use_locale("uk"):
        ukrainian = stats_lines(stats)
    assert ukrainian[3] == "  не надіслано: 2 не мають email, 1 не підтвердила свою"


async def test_stop_from_the_progress_message_asks_below_it_and_the_report_stays(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 1)
    campaign = await draft(shop, channels=(Channel.TELEGRAM,))
    await owner.send("/admin")
    started = await owner.press_label(await open_page(owner, campaign), "🚀")
    [progress] = [m for m in started if text_of(m).startswith("📣")]

    [ask] = await owner.press_label(progress, "Stop sending")
    assert [label for label, _ in buttons(ask)] == ["Yes, stop sending", "No, keep it"]
    assert "⏹ Stop sending" in [label for label, _ in buttons(owner.current(progress))]
    await owner.press_label(ask, "Yes, stop sending")

    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.CANCELLED
    assert text_of(owner.current(ask)).splitlines()[0].endswith("— cancelled")
    await runtime.progress.wait()
    final = owner.current(progress)
    assert text_of(final).splitlines()[0].endswith("— cancelled")
    assert [label for label, _ in buttons(final)] == ["📊 Results"]
