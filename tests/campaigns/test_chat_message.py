"""U1: a campaign in the chat names its shop, mentions its gift and carries its buttons, and
"Stop offers from <shop>" stops that shop's offers — through the real worker, the Telegram
channel and the fake Bot API."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.app import BotRuntime
from bot.delivery import build_worker
from campaigns import chat_parts
from campaigns.composer import Composer
from campaigns.spec import CampaignSpec
from handlers.callbacks import CardAction, CardOp, OffersAction, OffersOp, VoucherAction, VoucherOp
from models import ChannelOptOut, Membership, Voucher
from models.enums import Channel
from tests import factories
from tests.campaigns.helpers import started
from tests.chat import Chat, button, buttons, text_of

TEXT = "Autumn menu is here! <i>Pumpkin latte</i> this week only."


async def _deliver(runtime: BotRuntime) -> None:
    worker = build_worker(runtime.settings, runtime.bot, runtime.limiter, runtime.signer)
    for _ in range(4):
        await worker.tick()


async def _members(new_chat: Any, shop: factories.NewMerchant, *names: str) -> list[Chat]:
    chats = []
    for name in names:
        person: Chat = new_chat(first_name=name)
        await person.send(f"/start j-{shop.card.join_token}")
        person.new_messages()
        chats.append(person)
    return chats


async def test_a_campaign_names_the_shop_shows_the_gift_and_stopping_it_sticks(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    dana, olena = await _members(new_chat, shop, "Dana", "Olena")
    await started(
        shop, Channel.TELEGRAM, text=TEXT, voucher_title="Free cookie", voucher_validity_days=14
    )

    await _deliver(runtime)

    [message] = dana.new_messages()
    membership = await Membership.get(card_id=shop.card.id, customer__first_name="Dana")
    voucher = await Voucher.get(membership_id=membership.id)
    assert voucher.expires_at is not None
    until = format_date(
        voucher.expires_at.astimezone(ZoneInfo(shop.merchant.timezone)), "medium", locale="en"
    )
    assert text_of(message).splitlines() == [
        "Kafe Lviv",
        "",
        "Autumn menu is here! Pumpkin latte this week only.",
        "",
        f"🎁 Your gift: Free cookie, until {until}",
    ]
    assert message.entities[0]["type"] == "bold"
    assert message.entities[0]["offset"] == 0
    assert buttons(message) == [
        ("🎟 Show the voucher", f"vch:show:{voucher.id}"),
        ("🪪 My card", f"card:show:{membership.id}"),
        ("Stop offers from Kafe Lviv", f"off:stop:{shop.merchant.id}"),
    ]
    assert all(len(data.encode()) <= 64 for _, data in buttons(message))
    assert len(olena.new_messages()) == 1

    [shown] = await dana.press_label(message, "Show the voucher")
    assert shown.photo is not None
    assert voucher.code in text_of(shown)

    stop = button(message, "Stop offers")
    [answer] = await dana.press(message, stop)

    assert text_of(answer) == (
        "You won't get offers from Kafe Lviv any more. Settings → Offers turns them back on."
    )
    rows = await ChannelOptOut.filter(customer_id=membership.customer_id).values_list(
        "merchant_id", "channel"
    )
    # Every channel the shop's offers come by, whichever messenger she pressed it in.
    assert sorted((m, str(c)) for m, c in rows) == [
        (shop.merchant.id, "email"),
        (shop.merchant.id, "telegram"),
        (shop.merchant.id, "viber"),
        (shop.merchant.id, "whatsapp"),
    ]
    # The used button leaves the message; [My card] and the voucher stay.
    assert [label for label, _ in buttons(dana.current(message))] == [
        "🎟 Show the voucher",
        "🪪 My card",
    ]
    # A double tap on the stale button: the same answer as a toast, nothing written twice.
    await dana._post(dana.telegram.callback_update(dana.user, message, stop, check_button=False))
    assert dana.last_answer()["text"] == "Offers from this shop are already off."
    assert dana.new_messages() == []
    assert await ChannelOptOut.filter(customer_id=membership.customer_id).count() == 4

    # The next campaign reaches Olena and skips Dana.
    await started(shop, Channel.TELEGRAM, text="Second news")
    await _deliver(runtime)
    assert dana.new_messages() == []
    [second] = olena.new_messages()
    assert "Second news" in text_of(second)
    assert [label for label, _ in buttons(second)] == [
        "🪪 My card",
        "Stop offers from Kafe Lviv",
    ]


async def test_forged_stop_buttons_change_nothing(new_chat: Any, runtime: BotRuntime) -> None:
    shop = await factories.merchant("Kafe Lviv")
    other = await factories.merchant("Bakery")
    [dana] = await _members(new_chat, shop, "Dana")
    card = dana.replies[0]

    for forged in (f"off:stop:{other.merchant.id}", "off:stop:999999", "off:stop:x"):
        await dana._post(
            dana.telegram.callback_update(dana.user, card, forged, check_button=False)
        )

    answers = [c.params.get("text") for c in dana.telegram.calls("answerCallbackQuery")[-3:]]
    assert answers[:2] == ["You are not on a card of this shop."] * 2
    assert await ChannelOptOut.all().count() == 0
    assert dana.new_messages() == []


def test_the_composers_button_data_is_the_bots_own() -> None:
    assert chat_parts.card_data(7) == CardAction(op=CardOp.SHOW, membership_id=7).pack()
    assert chat_parts.voucher_data(8) == VoucherAction(op=VoucherOp.SHOW, voucher_id=8).pack()
    stop = OffersAction(op=OffersOp.STOP, merchant_id=2**31 - 1).pack()
    assert chat_parts.stop_offers_data(2**31 - 1) == stop
    assert len(stop.encode()) <= 64
    assert chat_parts.preview_data() == OffersAction(op=OffersOp.PREVIEW).pack()


def test_the_owners_preview_has_the_same_header_gift_and_buttons() -> None:
    spec = CampaignSpec(
        card_id=1,
        channels=(Channel.TELEGRAM,),
        message_text=TEXT,
        voucher_title="Free cookie",
        voucher_validity_days=14,
    )

    preview = Composer.preview(
        spec,
        channel=Channel.TELEGRAM,
        address="1",
        language="uk",
        right_to_left=False,
        merchant_name="Kafe Lviv",
        timezone="Europe/Kyiv",
    )

    lines = preview.html.splitlines()
    assert lines[0] == "<b>\u2068Kafe Lviv\u2069</b>"
    assert lines[2] == TEXT
    assert lines[4].startswith("🎁 ")
    assert "Free cookie" in lines[4]
    assert "Your gift" not in lines[4]  # in Ukrainian
    labels = [[b.label for b in row] for row in preview.buttons]
    assert len(labels) == 2
    assert len(labels[1]) == 2
    assert {b.id for row in preview.buttons for b in row} == {chat_parts.preview_data()}
    email = Composer.preview(
        spec,
        channel=Channel.EMAIL,
        address="a@example.com",
        language="en",
        right_to_left=False,
        merchant_name="Kafe Lviv",
    )
    assert email.html == TEXT
    assert email.buttons == ()


async def test_a_preview_button_only_says_it_is_a_preview(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    [marta] = await _members(new_chat, shop, "Marta")

    await marta._post(
        marta.telegram.callback_update(
            marta.user, marta.replies[0], chat_parts.preview_data(), check_button=False
        )
    )

    assert marta.last_answer()["text"] == (
        "This is your preview: in your customers' chats this button works."
    )
    assert marta.new_messages() == []
    assert await ChannelOptOut.all().count() == 0
