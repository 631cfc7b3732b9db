from __future__ import annotations

import pytest

from handlers.texts import LRI, PDI
from models import Customer, Identity
from tests import factories
from tests.chat import Chat, buttons, raw_text_of, text_of


@pytest.mark.parametrize(
    ("language_code", "locale", "vouchers_button"),
    [
        ("en", "en", "📲 Add to phone wallet"),
        ("uk", "uk", "📲"),
        ("he", "he", "📲"),
        ("iw", "he", "📲"),
        ("fa", "fa", "📲"),
        ("th", "th", "📲"),
        ("pt-br", "en", "📲 Add to phone wallet"),
        (None, "en", "📲 Add to phone wallet"),
    ],
)
async def test_the_bot_speaks_the_telegram_language(
    new_chat: object, language_code: str | None, locale: str, vouchers_button: str
) -> None:
    shop = await factories.merchant()
    chat: Chat = new_chat(language_code)  # type: ignore[operator]

    card = (await chat.send(f"/start j-{shop.card.join_token}"))[0]

    caption = text_of(card)
    english = "Show this QR at the counter" in caption
    assert english == (locale == "en")
    assert "Free cappuccino" in caption
    assert "Kafe Lviv" in caption
    assert buttons(card)[0][0].startswith(vouchers_button)
    # "10 stamps = …": the number keeps its place in right-to-left text.
    isolated = f"{LRI}10{PDI}"
    assert (isolated in raw_text_of(card)) == (locale in {"he", "fa"})
    assert "10" in caption


async def test_the_customers_choice_beats_the_telegram_language(new_chat: object) -> None:
    shop = await factories.merchant()
    chat: Chat = new_chat("en")  # type: ignore[operator]
    await chat.send(f"/start j-{shop.card.join_token}")
    identity = await Identity.get(external_id=str(chat.user.id))
    await Customer.filter(id=identity.customer_id).update(language="he")

    replies = await chat.send("/help")

    assert "/card" in text_of(replies[0])
    assert "show my card" not in text_of(replies[0])
    assert any("\u0590" <= ch <= "\u05ff" for ch in text_of(replies[0]))


async def test_voucher_codes_read_left_to_right_in_persian(new_chat: object) -> None:
    from loyalty.stamps import add_stamps
    from models import Membership

    shop = await factories.merchant(stamps_needed=1)
    chat: Chat = new_chat("fa")  # type: ignore[operator]
    await chat.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    detail = (await chat.send("/vouchers"))[0]  # one voucher: no list of one

    assert f"{LRI}{voucher.code}{PDI}" in raw_text_of(detail)
    assert any("\u0600" <= ch <= "\u06ff" for ch in text_of(detail))


@pytest.mark.parametrize("language", ["uk", "he", "fa", "th"])
async def test_settings_offers_and_the_free_text_answer_speak_every_language(
    new_chat: object, language: str
) -> None:
    shop = await factories.merchant()
    chat: Chat = new_chat(language)  # type: ignore[operator]
    await chat.send(f"/start j-{shop.card.join_token}")
    menu = (await chat.send("/settings"))[0]
    assert all(not label.isascii() for label, _ in buttons(menu)), buttons(menu)

    offers_button = buttons(menu)[3][1]
    assert offers_button == "set:notif:"
    await chat.press(menu, offers_button)
    offers = [label for label, _ in buttons(chat.current(menu))]

    # The shop's switch and the channel switches say their state in this language's words.
    assert offers[0].startswith("Kafe Lviv: ")
    assert all(not label.isascii() for label in offers), offers
    # The back arrow points the way this language reads.
    assert offers[-1].startswith("▶ " if language in {"he", "fa"} else "◀ ")
    answer = text_of((await chat.send("hello"))[0])
    assert not answer.isascii()
    assert "card bot" not in answer
