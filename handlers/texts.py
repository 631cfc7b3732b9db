"""Localized wording shared by several conversations: dates, progress, refusals, bidi."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, format_time

from locales import RIGHT_TO_LEFT
from loyalty import errors
from loyalty.views import CardView, VoucherView

# Unicode "left-to-right isolate" … "pop directional isolate": keeps codes, fractions and dates
# in reading order inside Hebrew or Persian sentences without disturbing the sentence around.
LRI, PDI = "\u2066", "\u2069"


def current_locale() -> str:
    return get_i18n().current_locale


def ltr(text: str) -> str:
    """Isolate a left-to-right run (a code, 7/10, a date) when the language reads right to left."""
    if current_locale() in RIGHT_TO_LEFT:
        return f"{LRI}{text}{PDI}"
    return text


def local_date(moment: datetime, timezone: str) -> str:
    return ltr(
        format_date(moment.astimezone(ZoneInfo(timezone)), "medium", locale=current_locale())
    )


def local_datetime(moment: datetime, timezone: str) -> str:
    """Date and time to the minute in the shop's time zone (seconds only add noise)."""
    local = moment.astimezone(ZoneInfo(timezone))
    locale = current_locale()
    day = format_date(local, "medium", locale=locale)
    return ltr(f"{day} {format_time(local, 'short', locale=locale)}")


def progress_line(card: CardView) -> str:
    fraction = ltr(f"{card.balance}/{card.stamps_needed}")
    more = card.stamps_to_reward
    return ngettext(
        "{fraction} — {count} more stamp for {reward}",
        "{fraction} — {count} more stamps for {reward}",
        more,
    ).format(fraction=fraction, count=more, reward=f"<b>{escape(card.reward_text)}</b>")


def voucher_line(voucher: VoucherView) -> str:
    title = f"<b>{escape(voucher.title)}</b>"
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
    if isinstance(error, errors.InviteInvalid):
        return _("This invite link is unknown, expired or already used.")
    if isinstance(error, errors.CustomerErased):
        return _("Your data was erased. Scan a shop's QR code to start again.")
    return _("Sorry, that did not work.")


def button_expired() -> str:
    return _("This button has expired.")
