from __future__ import annotations

import pytest

from models import Customer, Identity, Membership
from tests import factories
from tests.chat import Chat, buttons, text_of


async def test_joining_by_qr_link_shows_the_card_with_photo_and_progress(chat: Chat) -> None:
    shop = await factories.merchant("Kafe Lviv")

    replies = await chat.send(f"/start j-{shop.card.join_token}")

    assert len(replies) == 1
    card = replies[0]
    assert card.photo is not None
    caption = text_of(card)
    assert "Welcome to Coffee card at Kafe Lviv!" in caption
    assert "0/10 — 10 more stamps for Free cappuccino" in caption
    assert "Show this QR code at the counter" in caption
    # Google Wallet is not configured in these tests: no "Save to Google Wallet" link.
    assert [label for label, _ in buttons(card)] == [
        "🎟 My vouchers",
        "⚙️ Settings",
        "Add to Apple Wallet",
    ]
    identity = await Identity.get(external_id=str(chat.user.id))
    customer = await Customer.get(id=identity.customer_id)
    assert (customer.first_name, identity.language_code) == ("Olena", "en")
    assert await Membership.filter(customer_id=customer.id, card_id=shop.card.id).count() == 1


async def test_joining_twice_keeps_one_membership_and_says_so(chat: Chat) -> None:
    shop = await factories.merchant()
    await chat.send(f"/start j-{shop.card.join_token}")

    replies = await chat.send(f"/start j-{shop.card.join_token}")

    assert "You are already collecting stamps on Coffee card." in text_of(replies[0])
    assert await Membership.all().count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        "garbage",
        "j-unknowntokenunknowntoken",
        "x" * 64,
        "j-",
        "%00%ff",
        "j-" + "A" * 22,
        "🙂🙂🙂",
        "v-" + "B" * 22,
    ],
)
async def test_unknown_or_garbage_payloads_get_a_friendly_answer_and_change_nothing(
    chat: Chat, payload: str
) -> None:
    await factories.merchant()

    replies = await chat.send(f"/start {payload}")

    assert len(replies) == 1
    assert replies[0].photo is None
    friendly = ("I don't recognise this link", "unknown or no longer active", "shop's staff")
    assert any(phrase in text_of(replies[0]) for phrase in friendly)
    assert await Customer.all().count() == 0
    assert await Membership.all().count() == 0


async def test_start_without_payload_lists_my_cards_or_explains_how_to_join(
    new_chat: object,
) -> None:
    first = await factories.merchant("Kafe Lviv")
    second = await factories.merchant("Bakery")
    chat: Chat = new_chat()  # type: ignore[operator]

    newcomer = await chat.send("/start")
    assert "Scan the QR code at a shop's counter" in text_of(newcomer[0])

    await chat.send(f"/start j-{first.card.join_token}")
    await chat.send(f"/start j-{second.card.join_token}")
    listing = await chat.send("/start")

    assert text_of(listing[0]) == "Your cards:"
    assert sorted(label for label, _ in buttons(listing[0])) == [
        "Coffee card · Bakery",
        "Coffee card · Kafe Lviv",
    ]
