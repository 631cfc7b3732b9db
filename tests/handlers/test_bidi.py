"""Right-to-left chats read in order: each test runs what the fake Bot API received through the
Unicode bidi algorithm (python-bidi) and checks the line as a Hebrew or Persian reader sees it.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from bidi import get_display  # type: ignore[import-untyped]  # python-bidi ships no types

from campaigns.service import create_campaign
from campaigns.spec import CampaignSpec
from handlers.texts import FSI, LRI, PDI
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from models import Membership, Voucher
from models.enums import Channel, StaffRole
from tests import factories
from tests.chat import Chat, button, raw_text_of, text_of

_CONTROLS = str.maketrans("", "", "\u2066\u2067\u2068\u2069\u200e\u200f")


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def shown(line: str) -> str:
    """The line as a screen lays it out from left to right, in an RTL paragraph."""
    display: str = get_display(line, base_dir="R")
    return display.translate(_CONTROLS)


def as_read_right_to_left(phrase: str) -> str:
    """How ``phrase`` (words that a right-to-left reader meets in this order) must appear on a
    screen: the words right to left, the letters of each RTL word right to left too."""
    words = [word[::-1] if _right_to_left(word) else word for word in phrase.split()]
    return " ".join(reversed(words))


def line_with(message: Any, needle: str) -> str:
    lines = [line for line in raw_text_of(message).splitlines() if needle in line]
    assert len(lines) == 1, raw_text_of(message)
    return lines[0]


async def _voucher_detail(chat: Chat, shop: factories.NewMerchant) -> tuple[Any, Voucher]:
    await chat.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)
    voucher = await Voucher.get(membership_id=membership.id)
    return (await chat.send("/vouchers"))[0], voucher  # one voucher: no list of one


@pytest.mark.parametrize(("language", "valid_until"), [("he", "בתוקף עד"), ("fa", "معتبر تا")])
async def test_a_date_inside_rtl_text_reads_day_month_year(
    new_chat: Any, language: str, valid_until: str
) -> None:
    shop = await factories.merchant(stamps_needed=1)
    chat: Chat = new_chat(language)
    detail, voucher = await _voucher_detail(chat, shop)
    assert voucher.expires_at is not None
    date = format_date(
        voucher.expires_at.astimezone(ZoneInfo(shop.merchant.timezone)), "medium", locale=language
    )

    line = line_with(detail, date)

    assert valid_until in line
    # e.g. "3 ביוני 2026" is on screen as "2026 ינויב 3": day, month, year from the right.
    assert as_read_right_to_left(date) in shown(line), shown(line)
    assert f"{FSI}{date}{PDI}" in line
    assert LRI not in line


async def test_a_default_campaign_name_keeps_its_order_in_a_hebrew_list(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat("he", first_name="Noa")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    default = "183_04.05.202614:19"
    own = "Sale 04.05 14:19"
    for name in (default, own):
        await create_campaign(
            shop.merchant.id,
            CampaignSpec(
                card_id=shop.card.id,
                channels=(Channel.TELEGRAM,),
                message_text="Hi there",
                name=name,
            ),
        )
    await owner.send("/admin")

    listing = (await owner.send("/campaigns"))[-1]

    rows = (listing.reply_markup or {})["inline_keyboard"]
    labels = [b["text"] for row in rows for b in row if b["callback_data"].startswith("cmp:show:")]
    # The generated name is not shown: the message's first line is, whole.
    assert not any(default in label for label in labels)
    assert any(label.startswith(f"{FSI}Hi there{PDI} · ") for label in labels)
    label = next(label for label in labels if own in label)
    assert label.startswith(f"{FSI}{own}{PDI}")
    assert own in shown(label), shown(label)


async def test_a_reversing_first_name_cannot_turn_the_cashiers_stamp_screen(
    new_chat: Any,
) -> None:
    shop = await factories.merchant(stamps_needed=4)
    # A right-to-left override, and a pop-isolate that would close our isolate early.
    customer: Chat = new_chat(first_name="\u2069\u202eOlena")
    cashier: Chat = new_chat(first_name="Taras")
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")

    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]

    text = raw_text_of(screen)
    assert "\u202e" not in text
    assert text.splitlines()[0] == f"{FSI}Olena{PDI} — 0 of 4 stamps"
    assert text_of(screen).splitlines() == ["Olena — 0 of 4 stamps"]
    await cashier.press(screen, button(screen, "+2"))
    done = raw_text_of(cashier.current(screen))
    assert "\u202e" not in done
    assert done == f"✅ +2 for {FSI}Olena{PDI} · 2 of 4 stamps"


async def test_plus_three_stays_plus_three_in_a_hebrew_chat(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=10)
    customer: Chat = new_chat("he", first_name="Noa")
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    cashier: Chat = new_chat(first_name="Taras")
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")
    customer.new_messages()
    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]

    await cashier.press(screen, button(screen, "+3"))

    told = customer.new_messages()
    first = raw_text_of(told[0]).splitlines()[0]
    assert "+3" in shown(first), shown(first)
    assert "3+" not in shown(first)
    assert f"{LRI}+3{PDI}" in first
    assert f"{FSI}Kafe Lviv{PDI}" in first
