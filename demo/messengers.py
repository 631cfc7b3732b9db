"""Two more customers of the demo: one on Viber, one on WhatsApp, through loopback fakes.

The fakes post signed callbacks to the same web app the product runs (its Viber and WhatsApp
webhooks, mounted from the runtime as in production), and the demo prints what each phone
shows: the card as a picture with its buttons, a tap on a button, a setting changed.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from conversation.links import MessengerLinks
from fakes.telegram import visible
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from loyalty.tokens import LinkKind
from models.enums import Platform

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings

VIBER_URI = "cafedemo"
WHATSAPP_NUMBER = "15550783881"
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Fakes:
    viber: FakeViber
    whatsapp: FakeWhatsApp


@asynccontextmanager
async def messenger_fakes(settings: Settings) -> AsyncIterator[tuple[Settings, Fakes]]:
    """A fake Viber and a fake WhatsApp, and ``settings`` pointed at them."""
    async with AsyncExitStack() as stack:
        viber = await stack.enter_async_context(FakeViber(name="Café Demo"))
        whatsapp = await stack.enter_async_context(
            FakeWhatsApp(display_phone_number=WHATSAPP_NUMBER)
        )
        pointed = settings.model_copy(
            update={
                "viber": settings.viber.model_copy(
                    update={
                        "auth_token": SecretStr(viber.auth_token),
                        "uri": VIBER_URI,
                        "name": "Café Demo",
                        "api_url": viber.api_url,
                    }
                ),
                "whatsapp": settings.whatsapp.model_copy(
                    update={
                        "access_token": SecretStr(whatsapp.access_token),
                        "phone_number_id": whatsapp.phone_number_id,
                        "number": WHATSAPP_NUMBER,
                        "app_secret": SecretStr(whatsapp.app_secret),
                        "verify_token": SecretStr(secrets.token_urlsafe(16)),
                        "api_url": whatsapp.base_url,
                    }
                ),
            }
        )
        yield pointed, Fakes(viber, whatsapp)


def _lines(text: str) -> Iterator[str]:
    yield from visible(_TAG.sub("", text)).splitlines()


async def messenger_demo(
    fakes: Fakes,
    base_url: str,
    join_token: str,
    say: Callable[[str], None],
) -> None:
    """Olek joins on Viber and switches the bot to Ukrainian; Miri joins on WhatsApp."""
    links = MessengerLinks(viber_uri=VIBER_URI, whatsapp_number=WHATSAPP_NUMBER)
    viber, whatsapp = fakes.viber, fakes.whatsapp
    viber.webhook_url = f"{base_url}/viber/webhook"
    whatsapp.webhook_url = f"{base_url}/whatsapp/webhook"

    join = links.link(Platform.VIBER, LinkKind.JOIN, join_token)
    say(f"   Olek scans the poster's Viber code: {join}")
    olek = viber.add_user("Olek", subscribed=False, language="en")
    opened = await viber.user_opens(olek, context=f"j-{join_token}")
    _show_viber(opened.json(), say)
    settings = _viber_press(viber, olek, "Settings")
    say("Olek taps [Settings]")
    await viber.user_says(olek, settings)
    _show_viber(viber.received[olek][-1].message, say)
    await viber.user_says(olek, _viber_press(viber, olek, "Language"))
    say("Olek taps [Language] → [Українська]")
    await viber.user_says(olek, _viber_press(viber, olek, "Українська"))
    for received in viber.received[olek][-2:]:
        _show_viber(received.message, say)

    say("")
    wa_join = links.link(Platform.WHATSAPP, LinkKind.JOIN, join_token, sentence="Hi! Join: {code}")
    say(f"   Miri taps the shop's WhatsApp link: {wa_join}")
    miri = whatsapp.add_user("972541112233", "Miri")
    say("Miri: Hi! Join: j-…")
    await whatsapp.user_says(miri, f"Hi! Join: j-{join_token}")
    for got in whatsapp.messages(miri):
        _show_whatsapp(got.type, got.message, got.text, got.choices, say)


def _viber_press(viber: FakeViber, user_id: str, label: str) -> str:
    board = viber.received[user_id][-1].keyboard or {}
    for button in board.get("Buttons", ()):
        if label in html.unescape(str(button["Text"])):
            return str(button["ActionBody"])
    raise RuntimeError(f"no [{label}] on Olek's screen")


def _show_viber(message: dict[str, Any], say: Callable[[str], None]) -> None:
    prefix = "   viber: "
    if message.get("type") == "picture":
        say(f"{prefix}[picture {message['media'].rsplit('/', 1)[-1]}]")
        prefix = "          "
    for line in _lines(str(message.get("text", ""))):
        say(f"{prefix}{line}")
        prefix = "          "
    buttons = (message.get("keyboard") or {}).get("Buttons", ())
    labels = [f"[{visible(html.unescape(str(b['Text'])))}]" for b in buttons]
    if labels:
        say("          " + " ".join(labels))


def _show_whatsapp(
    kind: str,
    message: dict[str, Any],
    text: str,
    choices: list[tuple[str, str]],
    say: Callable[[str], None],
) -> None:
    prefix = "   whatsapp: "
    if kind == "image":
        say(f"{prefix}[image {message['image']['link'].rsplit('/', 1)[-1]}]")
        prefix = "             "
    for line in _lines(text):
        say(f"{prefix}{line}")
        prefix = "             "
    if choices:
        say("             " + " ".join(f"[{visible(title)}]" for _, title in choices))
