"""Localized wording shared by several conversations: dates, progress, refusals, bidi."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel import Locale
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import format_decimal

from locales import RIGHT_TO_LEFT
from loyalty import errors
from loyalty.views import VoucherView

# Unicode isolates: "left-to-right isolate" and "first-strong isolate", closed by "pop
# directional isolate". An isolated run is laid out on its own and cannot reorder the sentence
# around it, whichever direction that sentence has.
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
# Embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069): typed into a name, they
# could close our isolate early or reverse the rest of the screen, e.g. the cashier's stamp
# screen. Marks (U+200E/U+200F) and joiners stay: they cannot escape an isolate.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def current_locale() -> str:
    return get_i18n().current_locale


def right_to_left() -> bool:
    return current_locale() in RIGHT_TO_LEFT


def ltr(text: str) -> str:
    """Keep a left-to-right run (a code, 7/10, +3, an all-digit date) in order in RTL text.

    Only for runs without letters of an RTL script: a Hebrew or Persian date forced left to
    right reads scrambled (its day and year attach to the wrong side); those get ``isolate``.
    """
    if right_to_left():
        return f"{LRI}{text}{PDI}"
    return text


def isolate(text: str) -> str:
    """Text of either direction kept whole: its direction comes from its own first letter."""
    return f"{FSI}{text}{PDI}"


def without_bidi_controls(text: str) -> str:
    return _BIDI_CONTROLS.sub("", text)


def user_text(value: str | None, *, html: bool = True, limit: int | None = None) -> str:
    """A name someone typed (shop, card, reward, campaign, person), safe inside any sentence.

    Escaped for Telegram HTML first (``html=False`` for button labels), stripped of bidi
    controls, then isolated in every language, as the card page does with ``<bdi>``: a Latin
    name cannot turn a Hebrew line left to right, ``183_04.05.202614:19`` keeps its order, and
    U+202E cannot reverse what follows. ``limit`` cuts the name, never the closing isolate.
    """
    text = without_bidi_controls(value or "—")[:limit]
    return isolate(escape(text) if html else text)


def bold(value: str | None) -> str:
    """A user-supplied name in bold, escaped and isolated."""
    return f"<b>{user_text(value)}</b>"


def _dated(text: str) -> str:
    # In RTL languages Babel's date has RTL month names between digits: first-strong isolate.
    return isolate(text) if right_to_left() else text


def local_date(moment: datetime, timezone: str) -> str:
    return _dated(
        format_date(moment.astimezone(ZoneInfo(timezone)), "medium", locale=current_locale())
    )


def local_datetime(moment: datetime, timezone: str) -> str:
    """Date and time to the minute in the shop's time zone (seconds only add noise)."""
    local = moment.astimezone(ZoneInfo(timezone))
    locale = current_locale()
    day = format_date(local, "medium", locale=locale)
    return _dated(f"{day} {format_time(local, 'short', locale=locale)}")


def number(value: int | float) -> str:
    """A count with the locale's digit grouping: 1,234 · 1 234 (uk)."""
    return format_decimal(value, locale=current_locale())


def signed(value: float) -> str:
    """A change in percentage points with its sign, one decimal, as the locale writes it:
    ``+1.5``, ``+1,5`` (uk); kept as one left-to-right token so RTL does not show ``1.5+``."""
    return ltr(format_decimal(value, format="+#,##0.0;-#,##0.0", locale=current_locale()))


def plus(count: int) -> str:
    """``+3`` as one token: in RTL the sign would otherwise end up after the digits (``3+``)."""
    return ltr(f"+{number(count)}")


def and_list(items: Iterable[str]) -> str:
    """Items that all apply, joined as the locale joins a list: "a, b and c", "a، b و c"."""
    listed = list(items)
    return format_list(listed, locale=current_locale()) if listed else ""


def separated(items: Iterable[str]) -> str:
    """Items joined by the locale's list separator alone: ", ", Persian "، ", Thai " "."""
    middle: str = Locale.parse(current_locale()).list_patterns["standard"]["middle"]
    return middle.format("", "").join(items)


def arrows() -> tuple[str, str]:
    """The (back, forward) paging arrows: ◀ points back only where lines read left to right."""
    return ("▶", "◀") if right_to_left() else ("◀", "▶")


def back_label(to: str | None = None) -> str:
    """The one "back" button label everywhere: ``◀ Back`` or ``◀ <to>`` (the arrow points
    back in the reading direction, so ``▶`` in right-to-left languages)."""
    where = to if to is not None else _("Back")
    return f"{arrows()[0]} {where}"


def close_label() -> str:
    """The one "close" button label everywhere (the same mark as every dismissal)."""
    return "✖ " + _("Close")


def state_label(name: str, on: bool) -> str:
    """A switch says its state in words ("Email: on"), not with a bell a screen reader reads
    aloud as "bell with cancellation stroke" (review U8)."""
    return _("{name}: on").format(name=name) if on else _("{name}: off").format(name=name)


def picked_label(name: str, picked: bool) -> str:
    """A choice among several: "✅ Email" when picked, plain "Email" when not (review U8)."""
    return f"✅ {name}" if picked else name


def stamps_of(balance: int, needed: int) -> str:
    """ "3 of 10 stamps" for text (a screen reader reads "3/10" as "3 slash 10"); the card
    image keeps 3/10."""
    return ngettext("{count} of {total} stamp", "{count} of {total} stamps", needed).format(
        count=ltr(number(balance)), total=ltr(number(needed))
    )


def voucher_line(voucher: VoucherView) -> str:
    title = bold(voucher.title)
    if voucher.expires_at is None:
        return title
    return _("{title} — until {date}").format(
        title=title, date=local_date(voucher.expires_at, voucher.brand.timezone)
    )


def code(text: str) -> str:
    return ltr(f"<code>{escape(text)}</code>")


def refusal(error: errors.LoyaltyError, timezone: str = "UTC") -> str:
    """The customer-facing sentence for a refused action."""
    if isinstance(error, errors.VoucherAlreadyRedeemed):
        return _("This voucher was already redeemed on {when}.").format(
            when=local_datetime(error.redeemed_at, timezone)
        )
    if isinstance(error, errors.VoucherExpired):
        return _("This voucher expired on {when}.").format(
            when=local_date(error.expired_at, timezone)
        )
    if isinstance(error, errors.VoucherVoid):
        return _("This voucher was cancelled by the shop.")
    if isinstance(error, errors.VoucherNotFound):
        return _("I can't find this voucher any more.")
    if isinstance(error, errors.CardPaused):
        return _(
            "This card is paused: the shop is not taking new members right now. "
            "Please try again later."
        )
    if isinstance(error, errors.CardEnded):
        return _("This card has ended: the shop no longer runs it. Vouchers you hold still work.")
    if isinstance(error, errors.CardNotFound):
        return _(
            "This card link is unknown or no longer active. Ask the shop for a fresh QR code."
        )
    if isinstance(error, errors.MembershipNotFound | errors.MembershipNotActive):
        return _("You are not on this card any more.")
    if isinstance(error, errors.InvalidEmail):
        return _("That doesn't look like an email address. Please send it as name@example.com.")
    if isinstance(error, errors.ConfirmationThrottled):
        if error.daily:
            hours = max(1, math.ceil(error.retry_after / 3600))
            return ngettext(
                "That is enough confirmation emails for today. Please try again in {hours} hour.",
                "That is enough confirmation emails for today. Please try again in {hours} hours.",
                hours,
            ).format(hours=hours)
        minutes = max(1, math.ceil(error.retry_after / 60))
        return ngettext(
            "A confirmation email went to this address a moment ago. Please check your inbox "
            "(and spam folder), or try again in {minutes} minute.",
            "A confirmation email went to this address a moment ago. Please check your inbox "
            "(and spam folder), or try again in {minutes} minutes.",
            minutes,
        ).format(minutes=minutes)
    if isinstance(error, errors.InvalidBirthday):
        return _("Please send the date as DD.MM or DD.MM.YYYY, for example 24.11 or 24.11.1990.")
    if isinstance(error, errors.StampCooldown):
        return _("Already stamped at {last}; the next stamp is possible from {next}.").format(
            last=ltr(format_time(error.last_stamp_at.astimezone(ZoneInfo(timezone)), "short",
                                 locale=current_locale())),
            next=ltr(format_time(error.retry_at.astimezone(ZoneInfo(timezone)), "short",
                                 locale=current_locale())),
        )  # fmt: skip
    if isinstance(error, errors.InviteRevoked):
        return _("This invite link was withdrawn by the shop. Ask them for a new one.")
    if isinstance(error, errors.InviteInvalid):
        return _("This invite link is unknown, expired or already used.")
    if isinstance(error, errors.CustomerErased):
        return _("Your data was erased. Scan a shop's QR code to start again.")
    return _("Sorry, that did not work.")


def button_expired() -> str:
    return _("This button has expired.")
