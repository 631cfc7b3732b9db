"""The chat keyboard a cashier works with: what the counter needs, nothing of the back office.

Managers and owners get the shop keyboard of ``handlers.admin``; a cashier only stamps and
redeems, so their keyboard holds the counter's actions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __

if TYPE_CHECKING:
    from models import Staff

EXIT_BUTTON = __("🚪 Exit admin mode")


def cashier_keyboard(seat: Staff) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=str(EXIT_BUTTON))]]
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)
