"""A customer's whole life on Viber: the fake Viber posts signed callbacks byte for byte as
Viber does to our webhook, the real conversation answers, and the test reads what the person
got (the welcome in the HTTP response, the rest through send_message) and the rows."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.app import BotRuntime
from channels.viber.api import ViberApi
from conversation.customer import CustomerConversation
from fakes.telegram import visible
from fakes.viber import FakeViber, Received
from loyalty.tokens import LinkKind, payload
from loyalty.vouchers import issue_voucher
from models import ChannelOptOut, Customer, Identity, Membership, Voucher
from models.enums import Channel, Platform, RedeemVia, VoucherSource, VoucherStatus
from tests import factories
from tests.viber_fixtures import serving_viber_webhook

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def webhook(
    viber: FakeViber,
    viber_api: ViberApi,
    customer_conversation: CustomerConversation,
    redis_client: Redis,
) -> AsyncIterator[str]:
    async with serving_viber_webhook(viber, viber_api, customer_conversation, redis_client) as url:
        viber.webhook_url = url
        yield url


def _labels(received: Received) -> list[str]:
    board = received.keyboard or {}
    return [html.unescape(str(b["Text"])) for b in board.get("Buttons", ())]


def _body_of(received: Received, label: str) -> str:
    for button in (received.keyboard or {}).get("Buttons", ()):
        if label in html.unescape(str(button["Text"])):
            return str(button["ActionBody"])
    raise AssertionError(f"no button {label!r} in {_labels(received)}")


class Person:
    """One Viber user talking to the bot through the fake."""

    def __init__(self, viber: FakeViber, user_id: str) -> None:
        self.viber = viber
        self.id = user_id
        self.seen = 0

    def new(self) -> list[Received]:
        got = self.viber.received[self.id]
        fresh, self.seen = got[self.seen :], len(got)
        return fresh

    @property
    def last(self) -> Received:
        return self.viber.received[self.id][-1]

    async def says(self, text: str) -> list[Received]:
        result = await self.viber.user_says(self.id, text)
        assert result.status == 200, result.body
        return self.new()

    async def presses(self, label: str, on: Received | None = None) -> list[Received]:
        return await self.says(_body_of(on or self.last, label))


async def _fetch(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        if response.status == 200:
            assert (await response.read()).startswith(b"\x89PNG")
        return response.status


async def _viber_customer(user_id: str) -> Customer:
    identity = await Identity.get(platform=Platform.VIBER, external_id=user_id)
    return await Customer.get(id=identity.customer_id)


async def test_opening_the_join_link_welcomes_with_the_card_picture_and_its_buttons(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = viber.add_user("Olena", subscribed=False, language="uk")
    result = await viber.user_opens(olena, context=payload(LinkKind.JOIN, shop.card.join_token))
    assert result.status == 200
    welcome = result.json()
    # The one message Viber lets us send someone not subscribed yet: the card, in Ukrainian.
    assert welcome["type"] == "picture"
    assert visible(welcome["text"]).startswith("Вітаємо в Kafe Lviv!")
    labels = [html.unescape(b["Text"]) for b in welcome["keyboard"]["Buttons"]]
    assert "Налаштування" in labels
    [got] = viber.received[olena]
    assert got.via == "welcome"
    async with aiohttp.ClientSession() as http, http.get(welcome["media"]) as picture:
        assert picture.status == 200
        assert picture.content_type == "image/png"
        assert (await picture.read()).startswith(b"\x89PNG")
        assert picture.headers["Cache-Control"] == "private, no-store"
        forged = welcome["media"].replace("/card.png", "x/card.png")
        async with http.get(forged) as refused:
            assert refused.status == 404
    identity = await Identity.get(platform=Platform.VIBER, external_id=olena)
    assert identity.last_inbound_at is not None
    assert identity.reachable
    assert await Membership.filter(customer_id=identity.customer_id).count() == 1


async def test_opening_the_chat_without_a_link_or_writing_creates_nobody(
    viber: FakeViber, webhook: str
) -> None:
    stranger = viber.add_user("Dan", subscribed=False)
    result = await viber.user_opens(stranger)
    assert "Scan the QR code" in result.json()["text"]
    someone = Person(viber, viber.add_user("Ann"))
    [answer] = await someone.says("hello, are you open on Sunday?")
    assert "Scan the QR code" in visible(answer.text)
    assert await Identity.filter(platform=Platform.VIBER).count() == 0


async def test_a_member_sees_a_voucher_and_uses_it_at_the_counter(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = Person(viber, viber.add_user("Olena"))
    [card] = await olena.says(f"{payload(LinkKind.JOIN, shop.card.join_token)}")
    assert "Welcome to Kafe Lviv" in visible(card.text)
    customer = await _viber_customer(olena.id)
    membership = await Membership.get(customer_id=customer.id)
    voucher = await issue_voucher(
        membership, shop.card, source=VoucherSource.GOODWILL, title="Free cake", validity_days=30
    )
    # Typing anything: nobody reads the chat, it says, and shows the card with the voucher.
    note, card = await olena.says("card please")
    assert "can't pass messages to the shop" in visible(note.text)
    assert "Free cake" in visible(card.text)
    [shown] = await olena.presses("Free cake", on=card)
    assert f"Code: ```{voucher.code}```" in visible(shown.text)
    # The voucher comes as its picture, with the QR code the staff scan, while it is usable.
    assert shown.message["type"] == "picture"
    picture = str(shown.message["media"])
    assert await _fetch(picture) == 200
    [question] = await olena.presses("Use it now")
    assert "Only do this at the counter" in visible(question.text)
    [used] = await olena.presses("use it")
    assert "used at Kafe Lviv" in visible(used.text)
    assert await _fetch(picture) == 404
    assert await _fetch(picture.replace(".png", "x.png")) == 404
    redeemed = await Voucher.get(id=voucher.id)
    assert (redeemed.status, redeemed.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SELF)
    # The old confirm pressed again (a double tap): refused in words, nothing changes twice.
    [again] = await olena.presses("use it", on=question)
    assert "used at Kafe Lviv" in visible(again.text)
    assert (await Voucher.get(id=voucher.id)).redeemed_at == redeemed.redeemed_at


async def test_forged_and_other_peoples_ids_are_refused_and_show_the_cards(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    other = await factories.member(shop, telegram_id=4242)
    theirs = await issue_voucher(
        other, shop.card, source=VoucherSource.GOODWILL, title="Their cake", validity_days=30
    )
    olena = Person(viber, viber.add_user("Olena"))
    await olena.says(payload(LinkKind.JOIN, shop.card.join_token))
    for forged in (
        f"act:vch:show:{theirs.id}",
        f"act:vch:confirm:{theirs.id}",
        "act:card:show:99999999999",
        "act:set:toggle:1-telegram-off",
        "act:nonsense",
        "act:" + "x" * 300,
    ):
        expired, card = await olena.says(forged)
        assert expired.text == "This button has expired."
        assert "Coffee card" in visible(card.text)
    assert (await Voucher.get(id=theirs.id)).status == VoucherStatus.ISSUED
    assert await ChannelOptOut.all().count() == 0


async def test_settings_change_the_language_turn_viber_offers_off_and_erase_everything(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = Person(viber, viber.add_user("Olena"))
    await olena.says(payload(LinkKind.JOIN, shop.card.join_token))
    [menu] = await olena.presses("Settings")
    assert "Language: English" in visible(menu.text)
    assert "Kafe Lviv: on" in visible(menu.text)
    [languages] = await olena.presses("Language")
    assert "✅ English" in _labels(languages)
    saved, menu = await olena.presses("Українська")
    assert saved.text == "Мову збережено."
    assert "Мова: Українська" in visible(menu.text)
    customer = await _viber_customer(olena.id)
    assert (await Customer.get(id=customer.id)).language == "uk"

    await olena.presses("Пропозиції")
    turned, offers = await olena.presses("Kafe Lviv")
    assert turned.text == "Вимкнено."
    assert "Kafe Lviv: вимкнено" in [visible(label) for label in _labels(offers)]
    rows = await ChannelOptOut.filter(customer_id=customer.id).values_list("channel", flat=True)
    assert rows == [Channel.VIBER]

    await olena.presses("◀", on=offers)
    await olena.presses("🔒")
    [question] = await olena.presses("Видалити мої дані")
    assert "Цю дію не можна скасувати." in visible(question.text)
    [done] = await olena.presses("Так, видалити все")
    assert "видалено" in visible(done.text)
    assert await Identity.filter(customer_id=customer.id).count() == 0
    assert (await Customer.get(id=customer.id)).erased_at is not None


async def test_leaving_the_chat_marks_the_identity_unreachable_and_sends_nothing(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = Person(viber, viber.add_user("Olena"))
    await olena.says(payload(LinkKind.JOIN, shop.card.join_token))
    result = await viber.user_leaves(olena.id)
    assert result.status == 200
    assert olena.new() == []
    identity = await Identity.get(platform=Platform.VIBER, external_id=olena.id)
    assert not identity.reachable
    # Writing again makes them reachable again.
    await olena.says("hi")
    assert (await Identity.get(id=identity.id)).reachable


async def test_a_telegram_code_typed_in_viber_links_the_chat_to_the_same_card(
    viber: FakeViber, webhook: str, runtime: BotRuntime
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    membership = await factories.member(shop, telegram_id=5151)
    issued = await runtime.link_codes.issue(membership.customer_id, Platform.TELEGRAM)
    olena = Person(viber, viber.add_user("Olena"))
    done, card = await olena.says(issued.code.lower().replace("-", " "))
    assert visible(done.text) == "🔗 Done: this chat and your Telegram now share one membership."
    assert "Coffee card" in visible(card.text)
    identity = await Identity.get(platform=Platform.VIBER, external_id=olena.id)
    assert identity.customer_id == membership.customer_id
    assert identity.last_inbound_at is not None
    # Used once: the same code again is refused, and nothing changes.
    [refused] = await Person(viber, viber.add_user("Mallory")).says(issued.code)
    assert "This code doesn't work" in visible(refused.text)
    assert await Identity.filter(customer_id=membership.customer_id).count() == 2


async def test_viber_settings_show_a_code_that_viber_itself_refuses(
    viber: FakeViber, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = Person(viber, viber.add_user("Olena"))
    await olena.says(payload(LinkKind.JOIN, shop.card.join_token))
    await olena.presses("Settings")
    [shown] = await olena.presses("Link another messenger")
    text = visible(shown.text)
    assert "Send this code to our bot in Telegram / WhatsApp" in text
    code = text.split("Your code: ```", 1)[1].split("```", 1)[0]
    [same] = await olena.says(code)
    assert visible(same.text) == (
        "This code is for another messenger: send it to our bot in Telegram / WhatsApp."
    )
    # A new code replaces the shown one.
    [renewed] = await olena.presses("New code", on=shown)
    assert code not in visible(renewed.text)


async def test_a_typed_command_answers_as_its_button(viber: FakeViber, webhook: str) -> None:
    shop = await factories.merchant("Kafe Lviv")
    olena = viber.add_user("Olena", subscribed=False, language="uk")
    await viber.user_opens(olena, context=payload(LinkKind.JOIN, shop.card.join_token))
    person = Person(viber, olena)
    [welcome] = person.new()

    typed = await person.says(" /Settings ")
    pressed = await person.presses("Налаштування", on=welcome)
    assert [r.text for r in typed] == [r.text for r in pressed]
    assert "Мова: Українська" in visible(typed[0].text)
    unknown = await person.says("/stamps")
    assert unknown[0].text == "Я бот картки лояльності, тож не можу передати повідомлення закладу."
