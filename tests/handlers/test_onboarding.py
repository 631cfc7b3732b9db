"""Getting started: an operator creates a shop in the chat, and its owner's first /admin walks
through name, time zone (from a location), language and the first card."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.config import Settings
from fakes.telegram import FakeTelegramAPI
from loyalty.merchants import create_staff_invite
from models import AuditEntry, Card, Membership, Merchant, Staff, StaffInvite
from models.enums import StaffRole
from tests import factories
from tests.chat import (
    Chat,
    StoredMessage,
    button,
    buttons,
    invite_payload,
    keyboard,
    png_size,
    text_of,
    uploaded_photo,
)

INVITE = re.compile(r"https://t\.me/stampbot_test_bot\?start=(i-[\w-]+)")


def _location_update(chat: Chat, latitude: float, longitude: float) -> dict[str, Any]:
    """A location message as Telegram sends it (📎 → Location): no text, a ``location``."""
    update = chat.telegram.message_update(chat.user, "location")
    message = update["message"]
    del message["text"]
    message.pop("entities", None)
    message["location"] = {"latitude": latitude, "longitude": longitude}
    return update


async def _send_location(chat: Chat, latitude: float, longitude: float) -> list[StoredMessage]:
    return await chat._post(_location_update(chat, latitude, longitude))


async def _become(chat: Chat, merchant: Merchant, role: StaffRole) -> None:
    invite = await create_staff_invite(merchant, role, ttl=timedelta(hours=1), created_by=None)
    await chat.send(f"/start i-{invite.token}")


async def _actions(merchant_id: int) -> list[str]:
    rows = (
        await AuditEntry.exclude(action="staff.join")
        .filter(merchant_id=merchant_id)
        .order_by("id")
    )
    return [row.action for row in rows]


@pytest.fixture
def operator(new_chat: Any, bot_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Chat:
    chat: Chat = new_chat(first_name="Oren")
    monkeypatch.setattr(bot_settings.telegram, "operators", [chat.user.id])
    return chat


async def test_an_operator_creates_a_shop_and_its_owner_sets_it_up(
    operator: Chat, new_chat: Any
) -> None:
    asked = await operator.send("/newshop")
    assert text_of(asked[0]) == "What is the new shop called? Send its name, or /cancel."
    created = await operator.send("Kafe Shalom")

    merchant = await Merchant.get(name="Kafe Shalom")
    assert merchant.onboarded_at is None
    assert text_of(created[0]).startswith(
        f"Shop Kafe Shalom (#{merchant.id}) is created, with the card Stamp card."
    )
    link = INVITE.search(text_of(created[0]))
    assert link is not None
    shop_create = await AuditEntry.get(merchant_id=merchant.id, action="shop.create")
    assert shop_create.actor_telegram_id == operator.user.id
    assert shop_create.staff_id is None

    owner: Chat = new_chat(first_name="Dana")
    await owner.send(f"/start {link.group(1)}")
    welcome, name_step = await owner.send("/admin")
    assert text_of(welcome).startswith("Welcome to Kafe Shalom! Four quick steps")
    assert text_of(name_step).startswith("Step 1 of 4 · Name")
    assert [label for label, _ in buttons(name_step)] == ["Keep Kafe Shalom", "Skip set-up"]

    saved, place, zone_step = await owner.send("  Café   Shalom ")
    assert place.sent_reply_markup is not None
    assert place.sent_reply_markup["keyboard"] == [
        [{"text": "📍 Send the shop's location", "request_location": True}]
    ]
    assert text_of(saved) == "Saved: the shop is now Café Shalom."
    assert text_of(zone_step).startswith("Step 2 of 4 · Time zone\nNow: UTC.")
    assert "Asia/Jerusalem" in [label for label, _ in buttons(zone_step)]

    located, language_step = await _send_location(owner, 32.0853, 34.7818)
    assert text_of(located) == "Location saved. Time zone: Asia/Jerusalem, the zone of that place."
    assert text_of(language_step).startswith("Step 3 of 4 · Language")
    card_step = (await owner.press_label(language_step, "עברית"))[0]
    assert text_of(card_step).startswith(
        "Step 4 of 4 · Your first card\nCard: Stamp card, 10 stamps for A free treat"
    )
    ask_name = (await owner.press_label(card_step, "Change name"))[0]
    assert text_of(ask_name) == "What is the card called? Send its name."
    ask_stamps = (await owner.send("Coffee card"))[0]
    assert text_of(ask_stamps).startswith("How many stamps does a reward take?")
    refused = (await owner.send("0"))[0]
    assert text_of(refused) == "Please send a number from 1 to 100."
    await owner.send("8")
    done = await owner.send("Free coffee")

    assert text_of(done[0]).splitlines() == [
        "All set.",
        "Shop: Café Shalom",
        "Time zone: Asia/Jerusalem",
        "Language: עברית",
        "Location: saved, wallet cards show near the shop.",
        "Card: Coffee card, 8 stamps for Free coffee",
    ]
    assert text_of(done[1]).startswith("You're the owner of Café Shalom. 3 steps to start:")
    assert len(done) == 2
    merchant = await Merchant.get(id=merchant.id)
    assert (merchant.name, merchant.timezone, merchant.default_language) == (
        "Café Shalom", "Asia/Jerusalem", "he",
    )  # fmt: skip
    assert (merchant.latitude, merchant.longitude) == (32.0853, 34.7818)
    assert merchant.onboarded_at is not None
    card = await Card.get(merchant_id=merchant.id)
    assert (card.name, card.stamps_needed, card.reward_text) == ("Coffee card", 8, "Free coffee")
    assert await _actions(merchant.id) == [
        "shop.create", "shop.rename", "shop.location", "shop.timezone", "shop.language",
        "card.edit",
    ]  # fmt: skip
    edit = await AuditEntry.get(merchant_id=merchant.id, action="card.edit")
    owner_seat = await Staff.get(telegram_user_id=owner.user.id)
    assert edit.staff_id == owner_seat.id
    assert edit.detail["changes"]["stamps_needed"] == {"old": 10, "new": 8}  # type: ignore[index]

    # Set up once: the next /admin is the menu, and an old button of the set-up has expired.
    again = await owner.send("/admin")
    assert text_of(again[0]).startswith("Admin · Café Shalom\nThis week: 0 stamps")
    stale = f"onb:keep:{merchant.id}:card"
    await owner._post(owner.telegram.callback_update(owner.user, card_step, stale,
                                                     check_button=False))  # fmt: skip
    assert owner.last_answer()["text"] == "This button has expired."
    assert (
        await AuditEntry.exclude(action="staff.join").filter(merchant_id=merchant.id).count() == 6
    )


async def test_newshop_takes_the_name_as_argument(operator: Chat) -> None:
    replies = await operator.send("/newshop Bäckerei Sonne")

    assert text_of(replies[0]).startswith("Shop Bäckerei Sonne (#")
    assert await Merchant.filter(name="Bäckerei Sonne").count() == 1
    assert await Card.filter(merchant__name="Bäckerei Sonne").count() == 1


async def test_newshop_is_an_unknown_command_for_anyone_but_an_operator(
    chat: Chat, new_chat: Any
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    await _become(owner, shop.merchant, StaffRole.OWNER)

    for person in (chat, owner):
        for command in ("/newshop", "/newshop Evil Corp"):
            replies = await person.send(command)
            assert text_of(replies[0]).startswith("Sorry, I didn't understand that."), command

    assert await Merchant.all().count() == 1
    assert await AuditEntry.filter(action="shop.create").count() == 0


async def test_a_bad_zone_and_an_impossible_location_are_refused_and_change_nothing(
    new_chat: Any,
) -> None:
    shop = await factories.merchant("Kafe Lviv", timezone="Europe/Kyiv", onboarded=False)
    owner: Chat = new_chat(first_name="Marta")
    await _become(owner, shop.merchant, StaffRole.OWNER)
    name_step = (await owner.send("/admin"))[-1]
    zone_step = (await owner.press_label(name_step, "Keep Kafe Lviv"))[-1]

    refused = await owner.send("Mars/Olympus")
    assert text_of(refused[0]) == (
        "I don't know the time zone Mars/Olympus. Type it as in the IANA list, e.g. "
        "Europe/Lisbon, or pick one of the buttons."
    )
    for latitude, longitude in ((91.0, 30.0), (50.0, -180.5)):
        off_map = await _send_location(owner, latitude, longitude)
        assert text_of(off_map[0]) == (
            "That location is not on the map. Please send the shop's location again."
        )
    merchant = await Merchant.get(id=shop.merchant.id)
    assert merchant.timezone == "Europe/Kyiv"
    assert (merchant.latitude, merchant.longitude) == (None, None)
    assert await _actions(merchant.id) == []

    other = (await owner.press_label(zone_step, "Other…"))[0]
    assert text_of(other).startswith("Type the zone's name as in the IANA list")
    saved = await owner.send("europe/lisbon")
    assert text_of(saved[0]) == "Saved: time zone Europe/Lisbon."
    assert text_of(saved[1]).startswith("Step 3 of 4 · Language")
    assert (await Merchant.get(id=merchant.id)).timezone == "Europe/Lisbon"
    # The zone step is over: its buttons have expired.
    await owner.press(zone_step, button(zone_step, "Asia/Bangkok"))
    assert owner.last_answer()["text"] == "This button has expired."
    assert (await Merchant.get(id=merchant.id)).timezone == "Europe/Lisbon"


async def test_managers_and_cashiers_go_straight_to_the_menu(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv", onboarded=False)
    for role in (StaffRole.MANAGER, StaffRole.CASHIER):
        person: Chat = new_chat(first_name="Taras")
        await _become(person, shop.merchant, role)

        replies = await person.send("/admin")

        # A cashier works at the counter: no "admin" in what they see.
        heading = "Counter · Kafe Lviv" if role == StaffRole.CASHIER else "Admin · Kafe Lviv"
        assert text_of(replies[-1]).startswith(heading), role
    assert (await Merchant.get(id=shop.merchant.id)).onboarded_at is None


async def test_skip_ends_the_set_up_at_once_and_forged_buttons_change_nothing(
    new_chat: Any,
) -> None:
    shop = await factories.merchant("Kafe Lviv", onboarded=False)
    other = await factories.merchant("Other shop", onboarded=False)
    owner: Chat = new_chat(first_name="Marta")
    manager: Chat = new_chat(first_name="Taras")
    await _become(owner, shop.merchant, StaffRole.OWNER)
    await _become(manager, shop.merchant, StaffRole.MANAGER)
    name_step = (await owner.send("/admin"))[-1]

    # A manager pressing the owner's button, and the owner forging another shop's button.
    await manager._post(
        manager.telegram.callback_update(
            manager.user, name_step, f"onb:lang:{shop.merchant.id}:he", check_button=False
        )
    )
    assert manager.last_answer()["text"] == "This button has expired."
    for forged in (f"onb:skip:{other.merchant.id}:", f"onb:lang:{shop.merchant.id}:he",
                   f"onb:keep:{shop.merchant.id}:card"):  # fmt: skip
        await owner._post(
            owner.telegram.callback_update(owner.user, name_step, forged, check_button=False)
        )
        assert owner.last_answer()["text"] == "This button has expired.", forged
    assert (await Merchant.get(id=shop.merchant.id)).default_language == "en"
    assert (await Merchant.get(id=other.merchant.id)).onboarded_at is None

    skipped = await owner.press_label(name_step, "Skip set-up")

    assert text_of(skipped[0]) == "Set-up skipped. The shop keeps its settings as they are."
    assert text_of(skipped[1]).startswith("You're the owner of Kafe Lviv. 3 steps to start:")
    assert (await Merchant.get(id=shop.merchant.id)).onboarded_at is not None
    assert await _actions(shop.merchant.id) == []
    stale = f"onb:keep:{shop.merchant.id}:name"
    await owner._post(owner.telegram.callback_update(owner.user, name_step, stale,
                                                     check_button=False))  # fmt: skip
    assert owner.last_answer()["text"] == "This button has expired."
    assert text_of((await owner.send("Renamed?"))[0]) != "Saved: the shop is now Renamed?."
    assert (await Merchant.get(id=shop.merchant.id)).name == "Kafe Lviv"


async def test_a_location_without_a_zone_on_the_map_takes_the_nearest_and_says_so(
    new_chat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoZones:
        def timezone_at(self, *, lng: float, lat: float) -> None:
            return None

    monkeypatch.setattr("loyalty.shop_settings._finder", NoZones)
    shop = await factories.merchant("Kafe Lviv", timezone="UTC", onboarded=False)
    owner: Chat = new_chat(first_name="Marta")
    await _become(owner, shop.merchant, StaffRole.OWNER)
    name_step = (await owner.send("/admin"))[-1]
    await owner.press_label(name_step, "Keep Kafe Lviv")

    guessed, _place, zone_again = await _send_location(owner, 31.0, 33.0)

    assert text_of(guessed) == (
        "Location saved. I could not read the zone of that exact place, so I took the nearest "
        "I know: Asia/Jerusalem. Pick another below if it is wrong."
    )
    assert text_of(zone_again).startswith("Step 2 of 4 · Time zone\nNow: Asia/Jerusalem.")
    merchant = await Merchant.get(id=shop.merchant.id)
    assert (merchant.latitude, merchant.longitude, merchant.timezone) == (
        31.0, 33.0, "Asia/Jerusalem",
    )  # fmt: skip
    language_step = (await owner.press_label(zone_again, "Keep Asia/Jerusalem"))[0]
    assert text_of(language_step).startswith("Step 3 of 4 · Language")


async def test_the_first_run_ends_with_a_checklist_whose_buttons_do_each_step(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    """O1: counter QR, a cashier's invite and the owner's own card, each one tap away."""
    shop = await factories.merchant("Kafe Lviv", onboarded=False)
    owner: Chat = new_chat(first_name="Marta")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.scan(f"i-{invite.token}")
    name_step = (await owner.send("/admin"))[-1]
    # /admin set the owner's own command menu, in place of the customers' one.
    menu = [c["command"] for c in telegram.menu_for(owner.user.id, "en")]
    assert menu == [
        "card", "vouchers", "settings", "help", "admin", "redeem", "newcampaign", "campaigns",
    ]  # fmt: skip
    checklist = (await owner.press_label(name_step, "Skip set-up"))[-1]

    assert text_of(checklist).splitlines() == [
        "You're the owner of Kafe Lviv. 3 steps to start:",
        "1. Print your counter QR: customers scan it to join.",
        "2. Add your cashier: they scan an invite QR from your phone.",
        "3. Try it: scan your own card, as your customers will.",
        "",
        "/admin opens the shop menu any time.",
    ]
    assert [label for label, _ in buttons(checklist)] == [
        "🖨 Get counter QR", "➕ Invite a cashier", "Join my own card", "⚙️ Shop menu",
    ]  # fmt: skip

    before = len(telegram.calls("sendPhoto"))
    qr = (await owner.press_label(checklist, "Get counter QR"))[-1]
    sent = telegram.calls("sendPhoto")[before]
    photo = uploaded_photo(sent)
    assert photo is not None
    assert png_size(photo) == (1748, 2480)  # A5 at 300 dpi
    assert (owner.user.id, "upload_photo") in telegram.chat_actions
    join = f"https://t.me/stampbot_test_bot?start=j-{shop.card.join_token}"
    assert f"Or send them this link: {join}" in text_of(qr)
    assert [label for label, _ in buttons(qr)] == ["PDF to print, A5", "PDF to print, A4"]

    invite_photo = (await owner.press_label(checklist, "Invite a cashier"))[-1]
    pending = await StaffInvite.get(merchant_id=shop.merchant.id, role=StaffRole.CASHIER)
    assert invite_payload(invite_photo) == f"i-{pending.token}"
    assert text_of(invite_photo).startswith("Invite for a new cashier at Kafe Lviv.")

    joined = await owner.press_label(checklist, "Join my own card")
    assert "Welcome to Kafe Lviv! 🎉" in [text_of(m).split("\n")[0] for m in joined]
    assert await Membership.filter(card_id=shop.card.id).count() == 1

    home = (await owner.press_label(checklist, "Shop menu"))[-1]
    assert text_of(home).startswith("Admin · Kafe Lviv\nThis week: 0 stamps")
    assert ["🖨 Counter QR", "🔎 Find a customer"] in keyboard(home)
    # Every button of the checklist re-checks the seat: a stranger forging one changes nothing.
    stranger: Chat = new_chat(first_name="Petro")
    invites = await StaffInvite.filter(merchant_id=shop.merchant.id).count()
    for forged in (f"adm:invite:{shop.merchant.id}:owner", f"adm:joinown:{shop.merchant.id}:",
                   f"adm:qr:{shop.merchant.id}:"):  # fmt: skip
        await stranger._post(
            stranger.telegram.callback_update(stranger.user, checklist, forged, check_button=False)
        )
        assert stranger.last_answer()["text"] == "This button has expired.", forged
    assert await StaffInvite.filter(merchant_id=shop.merchant.id).count() == invites
    assert await Membership.filter(card_id=shop.card.id).count() == 1


async def test_a_reissued_owner_link_withdraws_the_operators_earlier_one(new_chat: Any) -> None:
    from loyalty.shop_settings import reissue_owner_invite

    shop = await factories.merchant("Kafe Lviv", onboarded=False)
    _, first = await reissue_owner_invite(shop.merchant.id, ttl=timedelta(hours=1))
    _, second = await reissue_owner_invite(shop.merchant.id, ttl=timedelta(hours=1))
    late: Chat = new_chat(first_name="Ivan")
    owner: Chat = new_chat(first_name="Marta")

    refused = await late.scan(f"i-{first.token}")
    joined = await owner.scan(f"i-{second.token}")

    assert text_of(refused[0]) == (
        "This invite link was withdrawn by the shop. Ask them for a new one."
    )
    assert "You are now owner at Kafe Lviv." in text_of(joined[0])
    assert await Staff.filter(merchant_id=shop.merchant.id).count() == 1
