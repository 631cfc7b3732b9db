"""The fixed words of the wallet passes, in every language the bot speaks.

Apple and Google both want every language inside the pass (Apple: one ``pass.strings`` per
``.lproj``; Google: ``LocalizedString`` values), because the phone, not we, picks the language
at display time. So the texts are rendered here once per supported language from the same
gettext catalogs as the chat, without an aiogram ``I18n`` (the pass is also built by the web
app and the campaign worker). No database access: callers pass what the pass shows.

Merchant-supplied names put inside a sentence are wrapped in first-strong isolates (U+2068 …
U+2069), so a Latin reward inside a Hebrew sentence, or a Hebrew shop inside an English one,
keeps its own direction and does not drag the punctuation around.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from io import BytesIO

from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from locales import DOMAIN, LOCALES_DIR, SUPPORTED

__all__ = ["PassTexts", "isolate", "pass_languages"]

FSI = "\u2068"
PDI = "\u2069"


def isolate(text: str) -> str:
    """``text`` as a first-strong isolate: it keeps its direction inside any sentence."""
    return f"{FSI}{text}{PDI}"


def pass_languages(first: str) -> tuple[str, ...]:
    """Every supported language, the member's own first (it is also the pass's default)."""
    lead = first if first in SUPPORTED else "en"
    return (lead, *(language for language in SUPPORTED if language != lead))


@lru_cache(maxsize=len(SUPPORTED))
def _translations(language: str) -> gettext.NullTranslations:
    """The catalog compiled in memory: the ``.po`` is the only source, nothing goes stale."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


class PassTexts:
    """The pass's words in one language; values that carry data come out filled in."""

    def __init__(self, language: str) -> None:
        self.language = language if language in SUPPORTED else "en"
        self._catalog = _translations(self.language)

    def _(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self._catalog.ngettext(singular, plural, count)

    # -- labels ------------------------------------------------------------------------------

    @property
    def card(self) -> str:
        return self._("Card")

    @property
    def stamps(self) -> str:
        return self._("Stamps")

    @property
    def reward(self) -> str:
        return self._("Reward")

    @property
    def vouchers(self) -> str:
        return self._("Vouchers")

    @property
    def news(self) -> str:
        return self._("News")

    @property
    def card_online(self) -> str:
        return self._("Your card online")

    @property
    def how_it_works(self) -> str:
        return self._("How it works")

    # -- values ------------------------------------------------------------------------------

    def progress(self, to_go: int, reward: str) -> str:
        """What is left to the reward ("3 more stamps for …"), or that it is ready."""
        if to_go <= 0:
            return self._("Ready: {reward}").format(reward=isolate(reward))
        return self.ngettext(
            "{count} more stamp for {reward}", "{count} more stamps for {reward}", to_go
        ).format(count=to_go, reward=isolate(reward))

    def voucher_list(self, titles: Sequence[str]) -> str:
        if not titles:
            return self._("None")
        listed = format_list([isolate(title) for title in titles], locale=self.language)
        return f"{len(titles)}: {listed}"

    def no_news(self, shop: str) -> str:
        """The news field before the first campaign: never an empty back field."""
        return self._("News from {shop} will show up here.").format(shop=isolate(shop))

    def how(self, stamps_needed: int, reward: str) -> str:
        return self.ngettext(
            "Show the QR code at the counter to collect stamps. {count} stamp: {reward}.",
            "Show the QR code at the counter to collect stamps. {count} stamps: {reward}.",
            stamps_needed,
        ).format(count=stamps_needed, reward=isolate(reward))

    def description(self, card: str, shop: str) -> str:
        return self._("{card} at {shop}").format(card=isolate(card), shop=isolate(shop))

    def nearby(self, shop: str) -> str:
        """The lock-screen line when the phone is near the shop."""
        return self._("{shop} is nearby — show your card").format(shop=isolate(shop))

    def till_code(self, code: str) -> str:
        return self._("Code for the counter: {code}").format(code=isolate(code))

    def voucher_code(self, code: str, until: date | None) -> str:
        """A voucher's code, and its last day in the shop's calendar when it has one."""
        text = self._("Code: {code}").format(code=isolate(code))
        if until is None:
            return text
        day = isolate(format_date(until, "medium", locale=self.language))
        return self._("{code_line} · valid until {date}").format(code_line=text, date=day)
