"""Linking messengers in Telegram: the code the settings show, and a code from Viber typed here."""

from __future__ import annotations

import re

import pytest

from bot.app import BotRuntime
from handlers.texts import LRI, PDI
from loyalty.customers import customer_for_identity
from loyalty.linking import LinkStatus
from loyalty.memberships import join
from loyalty.stamps import add_stamps
from models import Customer, Identity, Membership
from models.enums import MembershipStatus, Platform, StaffRole
from tests import factories
from tests.chat import Chat, buttons, raw_text_of, text_of
from tests.factories import T0
from tests.handlers.test_counter import _staff

# The code is typed in Viber or WhatsApp: this module's bot is on them (the settings and /link
# without them: tests/handlers/test_settings.py).
pytestmark = pytest.mark.usefixtures("other_messengers")

CODE = re.compile(r"[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}")
DOES_NOT_WORK = (
    "This code doesn't work: it may be mistyped, used already or older than 15 minutes. "
    "Get a new one in the other messenger: Settings → 🔗 Link another messenger."
)


async def _telegram_member(chat: Chat) -> factories.NewMerchant:
    shop = await factories.merchant()
    await chat.send(f"/start j-{shop.card.join_token}")
    return shop


async def _viber_member(shop: factories.NewMerchant, stamps: int) -> Customer:
    """Someone who joined the card in Viber and collected ``stamps`` there."""
    person = await customer_for_identity(Platform.VIBER, "viber-olena", first_name="Olena")
    membership = (await join(person, shop.card, now=T0)).membership
    await add_stamps(membership.id, stamps, merchant_id=shop.merchant.id, now=T0)
    return person


async def _owner_of(chat: Chat) -> int:
    identity = await Identity.get(platform=Platform.TELEGRAM, external_id=str(chat.user.id))
    return identity.customer_id


async def test_the_settings_show_a_code_that_links_viber_to_this_membership(
    chat: Chat, runtime: BotRuntime
) -> None:
    await _telegram_member(chat)
    menu = (await chat.send("/settings"))[0]

    assert await chat.press_label(menu, "Link another messenger") == []

    screen = chat.current(menu)
    lines = text_of(screen).splitlines()
    assert lines[0] == "🔗 Link another messenger"
    shown = CODE.search(lines[1])
    assert shown is not None
    assert lines[1] == f"Your code: {shown.group()}"
    assert lines[3:] == [
        "Open our bot in Viber or WhatsApp and send this code; it works for 15 minutes.",
        "Your cards, stamps and vouchers are then the same in both.",
    ]
    assert [label for label, _ in buttons(screen)] == ["🔄 New code", "◀ Back"]
    # What Viber's side does with the code shown: that account is now this customer's.
    outcome = await runtime.link_codes.redeem(shown.group(), Platform.VIBER, "viber-olena")
    assert (outcome.status, outcome.customer_id) == (LinkStatus.LINKED, await _owner_of(chat))


async def test_a_new_code_replaces_the_one_shown_before(chat: Chat, runtime: BotRuntime) -> None:
    await _telegram_member(chat)
    menu = (await chat.send("/settings"))[0]
    await chat.press_label(menu, "Link another messenger")
    first = CODE.search(text_of(chat.current(menu)))

    await chat.press_label(chat.current(menu), "New code")

    second = CODE.search(text_of(chat.current(menu)))
    assert first is not None
    assert second is not None
    assert first.group() != second.group()
    old = await runtime.link_codes.redeem(first.group(), Platform.VIBER, "viber-olena")
    assert old.status == LinkStatus.INVALID


async def test_a_code_from_viber_typed_here_joins_the_two_cards(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop = await _telegram_member(chat)
    telegram_customer = await _owner_of(chat)
    await add_stamps(
        (await Membership.get(customer_id=telegram_customer)).id,
        2,
        merchant_id=shop.merchant.id,
        now=T0,
    )
    viber = await _viber_member(shop, stamps=3)
    issued = await runtime.link_codes.issue(viber.id, Platform.VIBER)

    replies = await chat.send(issued.code.lower().replace("-", " "))

    assert [text_of(m) for m in replies] == [
        "🔗 Done: this chat and your Viber now share one membership.\n"
        "\n"
        "Your cards:\n"
        "• Coffee card · Kafe Lviv · 5 of 10 stamps"
    ]
    assert await _owner_of(chat) == viber.id
    memberships = await Membership.filter(customer_id=viber.id, status=MembershipStatus.ACTIVE)
    assert [m.balance for m in memberships] == [5]
    # This chat is that membership now: /card shows the joined stamps.
    card = await chat.send("/card")
    assert "5 of 10 stamps" in text_of(card[0])


async def test_link_with_a_code_and_the_answers_to_wrong_ones(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop = await factories.merchant()
    viber = await _viber_member(shop, stamps=1)
    issued = await runtime.link_codes.issue(viber.id, Platform.VIBER)

    wrong = await chat.send("/link ZZZ-ZZZ-ZZ2")
    linked = await chat.send(f"/link {issued.code}")
    again = await chat.send(f"/link {issued.code}")

    assert [text_of(m) for m in wrong] == [DOES_NOT_WORK]
    assert [text_of(m) for m in linked] == [
        "🔗 Done: this chat and your Viber now share one membership.\n"
        "\n"
        "Your cards:\n"
        "• Coffee card · Kafe Lviv · 1 of 10 stamps"
    ]
    assert [text_of(m) for m in again] == [DOES_NOT_WORK]  # single use
    assert await _owner_of(chat) == viber.id


async def test_a_telegram_code_typed_in_telegram_is_refused(
    chat: Chat, new_chat: object, runtime: BotRuntime
) -> None:
    await _telegram_member(chat)
    menu = (await chat.send("/settings"))[0]
    await chat.press_label(menu, "Link another messenger")
    shown = CODE.search(text_of(chat.current(menu)))
    assert shown is not None

    replies = await chat.send(shown.group())

    assert [text_of(m) for m in replies] == [
        "This code is for another messenger: open our bot in Viber or WhatsApp and send it there."
    ]
    assert await Identity.all().count() == 1


async def test_too_many_wrong_codes_are_refused_for_a_while(chat: Chat) -> None:
    await _telegram_member(chat)
    for _ in range(5):
        assert [text_of(m) for m in await chat.send("ZZZ-ZZZ-ZZ2")] == [DOES_NOT_WORK]

    replies = await chat.send("ZZZ-ZZZ-ZZ3")

    assert re.fullmatch(
        r"Too many wrong codes\. Please try again in \d+ minutes?\.", text_of(replies[0])
    )


async def test_a_code_typed_while_a_form_asks_for_something_else_is_not_taken(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop = await _telegram_member(chat)
    viber = await _viber_member(shop, stamps=1)
    issued = await runtime.link_codes.issue(viber.id, Platform.VIBER)
    menu = (await chat.send("/settings"))[0]
    await chat.press_label(menu, "Birthday")

    replies = await chat.send(issued.code)

    assert "🔗" not in text_of(replies[0])
    assert await _owner_of(chat) != viber.id


async def test_a_word_is_not_taken_for_a_code(chat: Chat) -> None:
    await _telegram_member(chat)

    replies = await chat.send("breakfast")

    assert [text_of(m) for m in replies] == [
        "I'm the card bot, so I can't pass messages to the shop."
    ]


async def test_in_hebrew_the_code_reads_left_to_right(new_chat: object) -> None:
    chat: Chat = new_chat("he")  # type: ignore[operator]
    await _telegram_member(chat)
    menu = (await chat.send("/settings"))[0]

    await chat.press(menu, "set:link:")

    shown = CODE.search(text_of(chat.current(menu)))
    assert shown is not None
    assert text_of(chat.current(menu)).splitlines()[1] == f"הקוד שלך: {shown.group()}"
    assert f"{LRI}{shown.group()}{PDI}" in raw_text_of(chat.current(menu))


async def test_the_till_history_shows_the_stamps_that_came_with_the_other_messenger(
    new_chat: object, runtime: BotRuntime
) -> None:
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    shop = await _telegram_member(customer)
    telegram_card = await Membership.get(customer_id=await _owner_of(customer))
    await add_stamps(telegram_card.id, 2, merchant_id=shop.merchant.id, now=T0)
    viber = await _viber_member(shop, stamps=1)
    issued = await runtime.link_codes.issue(viber.id, Platform.VIBER)
    await customer.send(issued.code)
    await _staff(cashier, shop, StaffRole.CASHIER)
    kept = await Membership.get(customer_id=viber.id, status=MembershipStatus.ACTIVE)

    screen = (await cashier.send(f"/start m-{kept.public_token}"))[0]
    lookup = (await cashier.press_label(screen, "Customer"))[0]

    lines = text_of(lookup).splitlines()
    assert lines[1].startswith("3 of 10 stamps")
    assert any(line.endswith("🔗 cards joined (+2)") for line in lines), lines
    # The Telegram card's own QR was retired with it: scanning it finds nobody.
    stale = (await cashier.send(f"/start m-{telegram_card.public_token}"))[0]
    assert "Olena" not in text_of(stale)
