"""What nobody else answers: free text, replies to a campaign, unknown commands, /help."""

from __future__ import annotations

from collections import deque
from typing import Any

from channels.base import DeliveryResult
from models import Merchant
from models.enums import Channel
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, started, worker
from tests.chat import Chat, buttons, text_of

CANNOT_PASS = "I'm the card bot, so I can't pass messages to the shop."
HELP = [
    "I keep your stamp cards and vouchers.",
    "",
    "/card — my card and QR",
    "/vouchers — my rewards, and how to use them",
    "/settings — language, email, offers",
    "Add the card to Apple/Google Wallet: open /card → 📲",
]


async def _joined(chat: Chat, name: str = "Kafe Lviv", phone: str | None = None) -> Any:
    shop = await factories.merchant(name)
    if phone is not None:
        await Merchant.filter(id=shop.merchant.id).update(phone=phone)
    card = (await chat.send(f"/start j-{shop.card.join_token}"))[0]
    return shop, card


async def test_free_text_says_no_one_reads_it_and_offers_the_card_and_vouchers(
    chat: Chat,
) -> None:
    await _joined(chat)
    chat.actions = 0

    replies = await chat.send("hi, how many stamps do I have?")

    assert [text_of(m) for m in replies] == [CANNOT_PASS]
    assert [label for label, _ in buttons(replies[0])] == ["🪪 My card", "🎟 Vouchers"]
    card = await chat.press_label(replies[0], "My card")
    assert card[0].photo is not None
    assert chat.actions == 2  # the question, then one tap to the card
    assert "Coffee card" in text_of(card[0])
    vouchers = await chat.press_label(replies[0], "Vouchers")
    assert text_of(vouchers[0]).startswith("No vouchers yet.")


async def test_the_shops_phone_is_a_button_that_sends_the_number(chat: Chat) -> None:
    await _joined(chat, phone="+380 44 123 45 67")

    answer = (await chat.send("Are you open on Sunday?"))[0]
    assert [label for label, _ in buttons(answer)] == [
        "🪪 My card",
        "🎟 Vouchers",
        "📞 Kafe Lviv",
    ]
    # Telegram refuses tel: links in URL buttons; the number comes as a message, where the
    # app makes it a tap-to-call link.
    chat.actions = 1
    number = await chat.press_label(answer, "Kafe Lviv")
    assert chat.actions == 2  # the question, then one tap to the shop's number

    assert [text_of(m) for m in number] == ["Kafe Lviv: +380 44 123 45 67"]


async def test_a_reply_to_a_campaign_offers_that_shops_phone_only(chat: Chat) -> None:
    await _joined(chat, "Kafe Lviv", phone="+380 44 000 00 01")
    bakery, bakery_card = await _joined(chat, "Bakery", phone="+380 44 000 00 02")
    # The bakery's campaign message, as the Telegram channel records what it sent.
    await started(bakery, Channel.TELEGRAM)
    telegram = ScriptedChannel("telegram")
    telegram.script[str(chat.user.id)] = deque(
        [DeliveryResult.delivered(external_id=f"1,{bakery_card.message_id}")]
    )
    await worker(telegram).tick()

    replies = await chat._post(
        chat.telegram.message_update(chat.user, "open on Sunday?", reply_to=bakery_card)
    )

    assert text_of(replies[0]) == CANNOT_PASS
    assert [label for label, _ in buttons(replies[0])][2:] == ["📞 Bakery"]
    # Not a reply: every joined shop with a phone.
    plain = (await chat.send("hello"))[0]
    assert [label for label, _ in buttons(plain)][2:] == ["📞 Bakery", "📞 Kafe Lviv"]


async def test_a_forged_phone_button_for_a_shop_never_joined_tells_nothing(chat: Chat) -> None:
    _, card = await _joined(chat)
    florist = await factories.merchant("Florist")
    await Merchant.filter(id=florist.merchant.id).update(phone="+380 99 999 99 99")

    replies = await chat._post(
        chat.telegram.callback_update(
            chat.user, card, f"tel:{florist.merchant.id}", check_button=False
        )
    )

    assert replies == []
    assert chat.last_answer()["text"] == "This button has expired."


async def test_help_answers_the_customers_questions_without_internals(chat: Chat) -> None:
    replies = await chat.send("/help")

    assert text_of(replies[0]).splitlines() == HELP
    assert "/start" not in text_of(replies[0])


async def test_an_unknown_command_is_not_understood_and_gets_the_help(chat: Chat) -> None:
    replies = await chat.send("/newshop")

    assert text_of(replies[0]).splitlines() == ["Sorry, I didn't understand that.", "", *HELP]
