"""A campaign's name as the owner reads it: "Autumn menu · 2 Dec", not ``1_02.12.202600:35``.

``campaigns.naming`` decides what the title is; this adds the date in the owner's language and
keeps names and dates whole inside right-to-left sentences.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton

from campaigns.naming import NAME_LIMIT, is_default, title_parts
from handlers.texts import current_locale, isolate, right_to_left, user_text


def short_date(moment: datetime, timezone: str) -> str:
    """Day and month in the shop's zone as the locale writes them: "2 Dec", "2 груд."."""
    local = moment.astimezone(ZoneInfo(timezone))
    text = format_skeleton("MMMd", local, locale=current_locale())
    return isolate(text) if right_to_left() else text


def campaign_title(
    name: str,
    message_html: str,
    created_at: datetime | None,
    timezone: str,
    *,
    html: bool = True,
    dated: bool = True,
) -> str:
    """The name to show: the owner's own, or the message's first line and the day it was made
    (``dated=False`` leaves the day out, for a list button that tells its own day).

    ``html=False`` for button labels (not escaped); either way names are isolated.
    """
    if not is_default(name):
        return user_text(name, html=html, limit=NAME_LIMIT)
    title, suffix = title_parts(name, message_html)
    shown = user_text((title if title is not None else _("Photo")) + suffix, html=html)
    if not dated or created_at is None:
        return shown
    return f"{shown} · {short_date(created_at, timezone)}"


__all__ = ["campaign_title", "short_date"]
