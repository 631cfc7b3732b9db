"""The commands a WhatsApp business number lists in its chats (Meta's "conversational
components"): the customer menu Telegram shows, per number rather than per person.

WhatsApp keeps one list per number, so it is in the shop's default language (its people may
pick another in settings; the list cannot follow them). A tapped command arrives as the text
``/card`` and ``conversation.customer`` answers it as the button. The descriptions are
Telegram's menu strings except settings': email and birthday are Telegram's only, so there it
says what WhatsApp's settings hold. Meta refuses emoji in them; a translation that has one is
replaced by the English text (and logged) rather than sent to be refused, or cut.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import TYPE_CHECKING

from aiogram.utils.i18n import lazy_gettext as __

from handlers.command_menu import CUSTOMER_COMMANDS

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n
    from aiogram.utils.i18n.lazy_proxy import LazyProxy

__all__ = ["WHATSAPP_COMMANDS", "has_emoji", "number_commands"]

logger = logging.getLogger(__name__)

_TELEGRAM = dict(CUSTOMER_COMMANDS)
WHATSAPP_COMMANDS: tuple[tuple[str, LazyProxy], ...] = (
    ("card", _TELEGRAM["card"]),
    ("vouchers", _TELEGRAM["vouchers"]),
    ("settings", __("Language, offers, leaving a card")),
    ("help", _TELEGRAM["help"]),
)


def has_emoji(text: str) -> bool:
    """Pictographs, dingbats, symbols and emoji joiners: what Meta refuses here."""
    return any(
        ord(ch) >= 0x1F000
        or 0x2600 <= ord(ch) <= 0x27BF
        or ch in "\u200d\ufe0f"
        or unicodedata.category(ch) == "So"
        for ch in text
    )


def number_commands(i18n: I18n, language: str | None) -> list[tuple[str, str]]:
    """(name, description) of a number's commands in ``language`` (else the default)."""
    locale = language if language in i18n.available_locales else i18n.default_locale
    with i18n.context(), i18n.use_locale(locale):
        translated = [(name, str(text)) for name, text in WHATSAPP_COMMANDS]
    chosen = []
    for (name, text), (_, lazy) in zip(translated, WHATSAPP_COMMANDS, strict=True):
        if has_emoji(text):
            logger.warning("the %s description of /%s has an emoji: English sent", locale, name)
            text = str(lazy._args[0]) if lazy._args else name
        chosen.append((name, text))
    return chosen
