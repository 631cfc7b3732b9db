"""A customer on WhatsApp: the fake Cloud API posts signed notifications as Meta does to our
webhook, the real conversation answers with session messages, and the test reads what the
person got (text, the card as an image by URL, reply buttons or a list) and the rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from redis.asyncio import Redis

from campaigns.chat_parts import stop_offers_data
from channels.whatsapp.api import WhatsAppApi
from conversation.customer import CustomerConversation
from conversation.links import MessengerLinks
from fakes.telegram import visible
from fakes.whatsapp import FakeWhatsApp, Received
from loyalty.profile import OFFER_CHANNELS
from loyalty.tokens import LinkKind
from models import ChannelOptOut, Customer, Identity, Membership
from models.enums import Platform
from tests import factories
from tests.whatsapp_fixtures import serving_whatsapp_webhook

pytestmark = pytest.mark.usefixtures("db")

DANA = "972541112233"


@pytest.fixture
async def webhook(
    whatsapp: FakeWhatsApp,
    whatsapp_api: WhatsAppApi,
    customer_conversation: CustomerConversation,
    redis_client: Redis,
) -> AsyncIterator[str]:
    async with serving_whatsapp_webhook(
        whatsapp, whatsapp_api, customer_conversation, redis_client
    ) as url:
        whatsapp.add_user(DANA, "Dana")
        yield url


class Person:
    def __init__(self, whatsapp: FakeWhatsApp, number: str) -> None:
        self.whatsapp = whatsapp
        self.number = number
        self.seen = 0

    def new(self) -> list[Received]:
        got = self.whatsapp.messages(self.number)
        fresh, self.seen = got[self.seen :], len(got)
        return fresh

    async def says(self, text: str) -> list[Received]:
        result = await self.whatsapp.user_says(self.number, text)
        assert result.status == 200, result.text
        return self.new()

    async def presses(self, title: str) -> list[Received]:
        """The reply button or list row whose title holds ``title``, of the last message
        that had any."""
        for received in reversed(self.whatsapp.messages(self.number)):
            interactive = received.interactive
            for action_id, shown in received.choices:
                if title in shown:
                    assert interactive is not None
                    kind = "list_reply" if interactive["type"] == "list" else "button_reply"
                    result = await self.whatsapp.user_presses(
                        self.number, action_id, shown, kind=kind
                    )
                    assert result.status == 200, result.text
                    return self.new()
        raise AssertionError(f"no choice {title!r}")


def _join_text(token: str) -> str:
    """What ``wa.me/<number>?text=…`` puts in the person's message field."""
    link = MessengerLinks(whatsapp_number="+972 50-123-4567").link(
        Platform.WHATSAPP, LinkKind.JOIN, token, sentence="Hi! Join me up: {code}"
    )
    assert link is not None
    parsed = urlparse(link)
    assert (parsed.netloc, parsed.path) == ("wa.me", "/972501234567")
    return parse_qs(parsed.query)["text"][0]


async def test_the_wa_me_text_joins_and_the_card_comes_as_its_picture_and_buttons(
    whatsapp: FakeWhatsApp, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    dana = Person(whatsapp, DANA)
    got = await dana.says(_join_text(shop.card.join_token))
    kinds = [received.type for received in got]
    assert kinds[0] == "image"
    assert "interactive" in kinds
    assert "Welcome to Kafe Lviv!" in visible(" ".join(r.text for r in got))
    async with aiohttp.ClientSession() as http, http.get(got[0].message["image"]["link"]) as pic:
        assert pic.status == 200
        assert (await pic.read()).startswith(b"\x89PNG")
    identity = await Identity.get(platform=Platform.WHATSAPP, external_id=DANA)
    assert identity.last_inbound_at is not None
    assert await Membership.filter(customer_id=identity.customer_id).count() == 1
    # Joining again says so, and makes no second membership.
    again = await dana.says(_join_text(shop.card.join_token))
    assert "already collecting stamps" in visible(" ".join(r.text for r in again))
    assert await Membership.filter(customer_id=identity.customer_id).count() == 1


async def test_the_language_list_and_the_stop_button_of_a_campaign(
    whatsapp: FakeWhatsApp, webhook: str
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    dana = Person(whatsapp, DANA)
    await dana.says(_join_text(shop.card.join_token))
    [menu] = await dana.presses("Settings")
    assert "Language: English" in visible(menu.text)
    [languages] = await dana.presses("Language")
    # Five languages and "Back" are more than WhatsApp's three reply buttons: a list.
    assert languages.interactive is not None
    assert languages.interactive["type"] == "list"
    saved, menu = await dana.presses("עברית")
    assert saved.text == "השפה נשמרה."
    customer = await Customer.get(
        id=(await Identity.get(platform=Platform.WHATSAPP, external_id=DANA)).customer_id
    )
    assert (await Customer.get(id=customer.id)).language == "he"

    # [Stop offers from …] under a campaign message: the same id as on Telegram.
    result = await whatsapp.user_presses(DANA, stop_offers_data(shop.merchant.id), "Stop")
    assert result.status == 200
    [stopped] = dana.new()
    assert "Kafe Lviv" in visible(stopped.text)
    channels = await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "channel", flat=True
    )
    assert sorted(channels) == sorted(OFFER_CHANNELS)
    # A shop they never joined cannot be silenced by them.
    other = await factories.merchant("Bakery")
    await whatsapp.user_presses(DANA, stop_offers_data(other.merchant.id), "Stop")
    assert await ChannelOptOut.filter(merchant_id=other.merchant.id).count() == 0


async def test_a_number_nobody_joined_with_gets_the_way_in_and_is_not_stored(
    whatsapp: FakeWhatsApp, webhook: str
) -> None:
    [answer] = await Person(whatsapp, DANA).says("שלום")
    assert "Scan the QR code" in answer.text
    assert await Identity.filter(platform=Platform.WHATSAPP).count() == 0


async def test_a_tapped_command_answers_as_its_button(
    whatsapp: FakeWhatsApp, webhook: str
) -> None:
    """WhatsApp sends a command from the number's list as the text "/card"."""
    shop = await factories.merchant("Kafe Lviv")
    dana = Person(whatsapp, DANA)
    joined = await dana.says(_join_text(shop.card.join_token))
    card = [(r.type, r.choices) for r in joined]

    typed = await dana.says("  /CARD ")
    assert [(r.type, r.choices) for r in typed] == card
    said = visible(" ".join(r.text for r in typed))
    assert "Kafe Lviv" in said
    assert "can't pass messages" not in said

    [menu] = await dana.says("/settings")
    assert "Language: English" in visible(menu.text)
    assert [r.text for r in await dana.presses("Settings")] == [menu.text]

    [vouchers] = await dana.says("/vouchers")
    assert visible(vouchers.text) == (
        "No vouchers yet. 10 more stamps on *Coffee card* and one is yours."
    )

    assert [(r.type, r.choices) for r in await dana.says("/help")] == card

    unknown = await dana.says("/stamps")
    assert unknown[0].text == "I'm the card bot, so I can't pass messages to the shop."
    assert [(r.type, r.choices) for r in unknown[1:]] == card


async def test_a_command_from_someone_without_a_card_shows_the_way_in(
    whatsapp: FakeWhatsApp, webhook: str
) -> None:
    dana = Person(whatsapp, DANA)
    for command in ("/card", "/vouchers", "/settings", "/help"):
        [answer] = await dana.says(command)
        assert "Scan the QR code" in answer.text
    assert await Identity.filter(platform=Platform.WHATSAPP).count() == 0
