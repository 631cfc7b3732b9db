from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import BotRuntime
from loyalty.merchants import create_staff_invite
from models import Customer, Identity, Membership
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, buttons, keyboard, text_of
from wallets.card_link import card_page_url

CUSTOMER_KEYBOARD = {
    "keyboard": [[{"text": "🪪 My card"}, {"text": "🎟 Vouchers"}]],
    "resize_keyboard": True,
    "is_persistent": True,
}


def shortcut_keyboards(chat: Chat) -> list[object]:
    return [m.sent_reply_markup for m in chat.replies if m.sent_reply_markup == CUSTOMER_KEYBOARD]


async def test_joining_by_qr_takes_two_actions_and_says_what_the_chat_brings(
    chat: Chat, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")

    replies = await chat.scan(f"j-{shop.card.join_token}")

    assert chat.actions == 2  # the camera scan and START
    card, note = replies
    assert card.photo is not None
    membership = await Membership.get(card_id=shop.card.id)
    assert membership.counter_code
    assert text_of(card).splitlines() == [
        "Welcome to Kafe Lviv! 🎉",
        "10 stamps = Free cappuccino. You have 0.",
        f"Show this QR at the counter (or say code {membership.counter_code}).",
        "You'll get your stamps and the odd offer here — turn offers off any time in Settings.",
    ]
    assert [e["type"] for e in card.caption_entities] == ["bold", "code"]  # reward, code
    # One wallet button that opens the card page (it knows the phone); no .pkpass in the chat.
    assert [label for label, _ in buttons(card)] == ["📲 Add to phone wallet", "Settings"]
    [wallet] = [b["url"] for b in card.inline_buttons() if "url" in b]
    assert wallet == card_page_url(runtime.signer, membership.id, membership.public_token)
    # The persistent keyboard comes with the welcome, on a message of its own.
    assert note.sent_reply_markup == CUSTOMER_KEYBOARD
    assert "My card" in text_of(note)
    identity = await Identity.get(external_id=str(chat.user.id))
    customer = await Customer.get(id=identity.customer_id)
    assert (customer.first_name, identity.language_code) == ("Olena", "en")
    assert await Membership.filter(customer_id=customer.id, card_id=shop.card.id).count() == 1


async def test_seeing_the_card_again_later_is_one_tap_of_the_keyboard(chat: Chat) -> None:
    shop = await factories.merchant("Kafe Lviv")
    await chat.scan(f"j-{shop.card.join_token}")
    before = chat.actions

    replies = await chat.send("🪪 My card")

    assert chat.actions - before == 1
    [card] = replies
    assert card.photo is not None
    assert "0 of 10 stamps — 10 more for Free cappuccino" in text_of(card)
    assert "/" not in text_of(card).splitlines()[1]  # "3 of 10", never "3/10" in words


async def test_the_keyboard_note_comes_once_and_a_menu_start_brings_the_card_alone(
    chat: Chat,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    joined = await chat.scan(f"j-{shop.card.join_token}")
    assert keyboard(joined[-1]) == [["🪪 My card", "🎟 Vouchers"]]
    # Telegram's menu sends /start: the card, and no second copy of the keyboard's note.
    again = await chat.send("/start")
    assert [m.photo is not None for m in again] == [True]
    # A QR scanned once more: the card again, still one message.
    rescanned = await chat.scan(f"j-{shop.card.join_token}")
    assert len(rescanned) == 1


async def test_the_keyboard_buttons_work_in_another_language_and_inside_a_settings_question(
    new_chat: object,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    chat: Chat = new_chat("uk")  # type: ignore[operator]
    await chat.send(f"/start j-{shop.card.join_token}")
    ukrainian = chat.replies[-1].sent_reply_markup
    assert ukrainian is not None
    assert ukrainian["keyboard"][0][0]["text"] != "🪪 My card"
    # Asked for an email, the person taps "My card" instead: the card, not "bad email".
    await chat._post(
        chat.telegram.callback_update(chat.user, chat.replies[0], "set:email", check_button=False)
    )

    replies = await chat.send(ukrainian["keyboard"][0][0]["text"])
    assert replies[-1].photo is not None
    vouchers = await chat.send("🎟 Vouchers")  # the English text, from before a language change
    assert "Coffee card" in text_of(vouchers[-1])  # "no vouchers yet" (in Ukrainian)
    customer = await Customer.get(id=(await Membership.get(card_id=shop.card.id)).customer_id)
    assert customer.email is None


async def test_staff_in_admin_mode_keep_their_own_keyboard_when_they_join(
    new_chat: object,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await owner.send(f"/start i-{invite.token}")
    await owner.send("/admin")

    replies = await owner.send(f"/start j-{shop.card.join_token}")

    assert replies[0].photo is not None
    assert shortcut_keyboards(owner) == []


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
