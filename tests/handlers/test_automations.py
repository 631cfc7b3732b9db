"""🤖 Automations in the admin chat, driven like a person would: recipes tuned, tested and
switched on, customers reached by the scheduler and the delivery worker, chains sent as YAML
(refused on their line, or saved), exported and imported back, switched off and on. Cashiers
and forged buttons are refused in tests/security/test_staff_and_shops.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from automations.engine import Scheduler
from automations.triggers import scan
from bot.app import BotRuntime
from fakes.telegram import StoredMessage
from handlers.automations import AutoAction, AutoOp
from loyalty.clock import utcnow
from loyalty.merchants import create_staff_invite
from models import Automation, Campaign, Delivery, Enrollment, Membership, Merchant
from models.enums import DeliveryStatus, StaffRole
from tests import factories
from tests.chat import (
    Chat,
    buttons,
    png_size,
    shop_menu,
    text_of,
    uploaded_file,
    uploaded_photo,
)
from tests.handlers.wizard.test_flow import customers, deliver_all, staff_chat

CHAIN = """\
name: Coffee nudge
trigger: {kind: inactive, days: 20}
steps:
  - id: hello
    send: {channels: [telegram], text: Come back for a coffee}
  - id: pause
    wait: {days: 2}
"""


async def shop_without_quiet_hours() -> factories.NewMerchant:
    """The scheduler runs on the real clock here; quiet hours would hold every send."""
    shop = await factories.merchant("Kafe Lviv")
    await Merchant.filter(id=shop.merchant.id).update(quiet_from_minute=0, quiet_until_minute=0)
    return shop


async def automations_list(owner: Chat) -> StoredMessage:
    """/admin (the shop home), then "More…" and its Automations button."""
    menu = await shop_menu(owner)
    return (await owner.press_label(menu, "Automations"))[-1]


async def tap(chat: Chat, message: StoredMessage, label: str) -> StoredMessage:
    """Press a button; the screen it leads to (a new message, or the same one edited)."""
    fresh = await chat.press_label(message, label)
    return fresh[-1] if fresh else chat.current(message)


async def run_automations() -> None:
    now = utcnow()
    await scan(now)
    await Scheduler("test").run_until_idle(now)


def forge(chat: Chat, message: StoredMessage, data: AutoAction) -> dict[str, Any]:
    return chat.telegram.callback_update(chat.user, message, data.pack(), check_button=False)


async def send_file(chat: Chat, data: bytes, name: str) -> list[StoredMessage]:
    chat.actions += 1
    return await chat._post(chat.telegram.document_update(chat.user, data, file_name=name))


async def test_the_owner_tunes_tests_and_switches_on_a_win_back_that_reaches_a_lapsed_customer(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    (guest,) = await customers(new_chat, shop, 1)
    owner.actions = 0  # from here: the owner's taps and messages to switch it on
    listing = await automations_list(owner)
    assert "Automations" in text_of(listing)
    assert "Win-back after 30 days" in [label for label, _data in buttons(listing)]

    screen = await tap(owner, listing, "Win-back after 30 days")
    assert screen.message_id == listing.message_id  # edited in place
    assert "We miss you at Kafe Lviv!" in text_of(owner.current(screen))
    await owner.press_label(owner.current(screen), "Starts: no visit for 30 days")
    assert "Starts: no visit for 45 days" in [
        label for label, _data in buttons(owner.current(screen))
    ]
    ask = (await owner.press_label(owner.current(screen), "Voucher:"))[-1]
    assert "voucher's name" in text_of(ask)
    tuned = (await owner.send("Free cookie"))[-1]
    assert "Voucher: Free cookie" in [label for label, _data in buttons(tuned)]

    test = await owner.press_label(tuned, "Send a test to me")
    assert "We miss you at Kafe Lviv!" in text_of(test[0])
    assert text_of(test[-1]) == "Test: above is what customers get in the chat."
    assert await Automation.all().count() == 0  # nothing stored by tuning or testing

    switched = await tap(owner, tuned, "Switch on")
    assert "Status: on" in text_of(owner.current(switched))
    made = await Automation.get(merchant_id=shop.merchant.id)
    assert (made.enabled, made.recipe) == (True, "win_back_30")
    assert made.chain["trigger"] == {"kind": "inactive", "days": 45}
    # /admin, More…, Automations, the recipe, two settings, the voucher's name, the test,
    # Switch on.
    assert owner.actions <= 9

    member = await Membership.get(customer__identities__external_id=str(guest.user.id))
    await Membership.filter(id=member.id).update(last_visit_at=utcnow() - timedelta(days=50))
    await run_automations()
    await deliver_all(runtime)
    got = [text_of(m) for m in guest.new_messages()]
    assert any("We miss you at Kafe Lviv!" in t for t in got), got
    assert "Free cookie" in "\n".join(got)
    sent = await Delivery.filter(customer_id=member.customer_id, status=DeliveryStatus.SENT)
    assert [d.channel for d in sent] == ["telegram"]


async def test_the_welcome_series_greets_a_customer_who_joins(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    owner.actions = 0
    screen = await tap(owner, await automations_list(owner), "Welcome series")
    await owner.press_label(owner.current(screen), "Switch on")
    assert owner.actions <= 5  # /admin, More…, Automations, the recipe, Switch on
    # A second tap on the same Switch on (a double tap) makes no second automation.
    again = AutoAction(op=AutoOp.CREATE, merchant_id=shop.merchant.id, recipe="welcome")
    await owner._post(forge(owner, screen, again))
    assert owner.last_answer()["text"] == "This button has expired."
    assert await Automation.all().count() == 1
    (guest,) = await customers(new_chat, shop, 1)
    guest.new_messages()
    await run_automations()
    await deliver_all(runtime)
    got = [text_of(m) for m in guest.new_messages()]
    # Campaign and automation messages open with the shop's name, then the text.
    assert any("\n\nWelcome to Kafe Lviv!" in t for t in got), got


async def test_a_yaml_chain_is_refused_on_its_line_then_saved(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    wrong = CHAIN.replace("wait: {days: 2}", "wait: {days: 400}")
    refused = (await owner.send(wrong))[-1]
    assert text_of(refused).splitlines() == [
        "Not saved. Please fix:",
        "• Line 7: a wait lasts from 1 minute to 365 days",
    ]
    assert await Automation.all().count() == 0
    unknown = CHAIN.replace("    send:", "    sned:")
    refused = (await owner.send(unknown))[-1]
    assert "Line 5: unknown field 'sned'" in text_of(refused)
    saved = await owner.send(CHAIN)
    assert text_of(saved[0]).startswith("Saved: Coffee nudge — When no visit for 20 days")
    assert "Status: off" in text_of(saved[-1])
    made = await Automation.get(merchant_id=shop.merchant.id)
    assert (made.name, made.enabled, made.recipe) == ("Coffee nudge", False, None)


async def test_export_then_import_round_trips_through_the_chat(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    screen = (await owner.send(CHAIN))[-1]
    await owner.press_label(screen, "Export as YAML")
    call = owner.telegram.calls("sendDocument")[-1]
    exported = uploaded_file(call, "document")
    name = exported.filename or ""
    assert name.endswith(".yaml")
    again = await send_file(owner, exported.data, name)
    assert text_of(again[0]).startswith("Saved: Coffee nudge")
    first, second = await Automation.filter(merchant_id=shop.merchant.id).order_by("id")
    assert first.chain == second.chain


async def test_switching_off_and_back_on_offers_resume_or_skip(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    screen = (await owner.send(CHAIN))[-1]
    await owner.press_label(screen, "Switch on")
    assert (await Automation.get()).enabled
    await owner.press_label(owner.current(screen), "Switch off")
    assert "Status: off" in text_of(owner.current(screen))
    await owner.press_label(owner.current(screen), "skip missed messages")
    made = await Automation.get()
    assert (made.enabled, made.resume_mode) == (True, "skip")
    stats = await owner.press_label(owner.current(screen), "Statistics")
    assert "Enrolled: 0 · waiting: 0 · finished: 0" in text_of(stats[0])
    chart = uploaded_photo(owner.telegram.calls("sendPhoto")[-1])
    assert chart is not None
    assert png_size(chart) == (1280, 720)
    csv = uploaded_file(owner.telegram.calls("sendDocument")[-1], "document")
    assert csv.data.decode("utf-8-sig").splitlines()[0].startswith("Step,Kind,Fired")


async def test_a_manager_deletes_an_automation_after_confirming(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    manager = await staff_chat(new_chat, shop, StaffRole.MANAGER, "Oksana")
    await manager.send("/admin")
    screen = (await manager.send(CHAIN))[-1]
    ask = await tap(manager, screen, "Delete")
    assert text_of(ask).startswith("Delete Coffee nudge?")
    assert await Automation.all().count() == 1  # asking deletes nothing
    done = await tap(manager, ask, "Yes, delete it")
    assert text_of(done).startswith("Coffee nudge was deleted.")
    assert await Automation.all().count() == 0


async def test_a_yaml_file_with_a_problem_is_refused_on_its_line(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await owner.send("/admin")
    looping = CHAIN + "    next: hello\n"
    refused = (await send_file(owner, looping.encode(), "loop.yml"))[-1]
    assert text_of(refused).splitlines() == [
        "Not saved. Please fix:",
        "• Line 4: the steps go round in a circle: hello → pause → hello",
    ]
    assert await Automation.all().count() == 0


async def test_a_command_while_typing_a_setting_is_not_taken_as_the_text(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    screen = await tap(owner, await automations_list(owner), "Slow-day promotion")
    await owner.press_label(screen, "Change the message")
    campaigns = (await owner.send("/campaigns"))[-1]
    assert text_of(campaigns).startswith("Campaigns")
    typed = (await owner.send("Rainy Tuesday? Come in for tea."))[-1]
    assert "Rainy Tuesday? Come in for tea." in text_of(typed)
    assert "/campaigns" not in text_of(typed)


async def test_a_switched_on_recipe_is_re_tuned_in_place_and_people_on_their_way_go_on(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    screen = await tap(owner, await automations_list(owner), "Welcome series")
    switched = owner.current(await tap(owner, owner.current(screen), "Switch on"))
    made = await Automation.get(merchant_id=shop.merchant.id)
    await customers(new_chat, shop, 1)
    await run_automations()  # the welcome goes out; the pause waits 3 days
    waiting = await Enrollment.get(automation_id=made.id)
    assert (waiting.status, waiting.step) == ("waiting", "visited")

    tuning = owner.current(await tap(owner, switched, "Change settings"))
    assert "💾 Save changes" in [label for label, _data in buttons(tuning)]
    assert "🚀 Switch on" not in [label for label, _data in buttons(tuning)]
    await owner.press_label(tuning, "Nudge after: 3 days")  # → 5 days
    await owner.press_label(owner.current(tuning), "Change the message")
    edited = (await owner.send("Hello from the new Kafe Lviv!"))[-1]
    saved = owner.current(await tap(owner, edited, "Save changes"))
    assert "Status: on" in text_of(saved)
    assert owner.last_answer()["text"] == "Saved."

    again = await Automation.get(id=made.id)
    assert again.enabled
    assert again.tuning is not None
    assert again.tuning["text"] == "Hello from the new Kafe Lviv!"
    assert again.tuning["days"] == 5
    assert again.chain["steps"][1]["wait"]["days"] == 5
    welcome = await Campaign.get(automation_id=made.id, automation_step="welcome")
    assert welcome.message_text == "Hello from the new Kafe Lviv!"
    # The guest is still where they were: same enrolment, same step.
    assert await Enrollment.filter(automation_id=made.id).count() == 1
    assert (await Enrollment.get(id=waiting.id)).step == "visited"
    assert await Automation.filter(merchant_id=shop.merchant.id).count() == 1

    # The Save of that screen again (a double tap): expired, nothing changes.
    await owner._post(forge(owner, edited, AutoAction(
        op=AutoOp.SAVE, merchant_id=shop.merchant.id, automation_id=made.id,
        recipe="welcome",
    )))  # fmt: skip
    assert owner.last_answer()["text"] == "This button has expired."


async def test_a_ukrainian_owner_reads_the_chains_problems_in_ukrainian(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat("uk", first_name="Marta")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    await owner.send("/admin")
    wrong = CHAIN.replace("wait: {days: 2}", "wait: {days: 400}").replace("send:", "sned:")
    refused = text_of((await owner.send(wrong))[-1]).splitlines()
    english = ("Not saved", "unknown field", "a wait lasts")
    assert not [line for line in refused if any(word in line for word in english)], refused
    # The field the owner typed stays as typed, on its line.
    assert any(line.startswith("• ") and "5" in line and "sned" in line for line in refused)
    assert await Automation.all().count() == 0
