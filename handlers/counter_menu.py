"""The chat keyboard a cashier works with: what the counter needs, nothing of the back office.

Managers and owners get the shop keyboard of ``handlers.admin``; a cashier only stamps and
redeems, so their keyboard holds the counter's actions, and their screens say "Counter", not
"Admin" (``cashier_title``). Codes typed by staff work in any mode, so the keyboard needs no
way out of a mode either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from handlers.texts import current_locale, user_text

if TYPE_CHECKING:
    from bot.config import Settings
    from models import Staff

EXIT_BUTTON = __("🚪 Exit admin mode")
TYPE_CODE_BUTTON = __("⌨️ Type a code")
REDEEM_BUTTON = __("🎟 Redeem a voucher")
SCAN_BUTTON = __("📷 Scan")
# The Mini App page that scans inside Telegram (web/scanner.py serves it).
SCANNER_PATH = "/scanner"


def cashier_title(shop_name: str) -> str:
    """The heading of a cashier's entry screen: ``Counter · Kafe Lviv`` (bold)."""
    return _("<b>Counter · {shop}</b>").format(shop=user_text(shop_name))


def scanner_url(settings: Settings) -> str | None:
    """The scanner page's address in the person's language, only where Telegram opens Mini
    Apps: over HTTPS."""
    base = settings.web.base_url
    if not base.startswith("https://"):
        return None
    return f"{base}{SCANNER_PATH}?lang={current_locale()}"


def cashier_keyboard(seat: Staff, scanner: str | None = None) -> ReplyKeyboardMarkup:
    """``[⌨️ Type a code] [🎟 Redeem a voucher]``, and ``[📷 Scan]`` when the web app is public
    over HTTPS (``scanner``, see ``scanner_url``)."""
    rows = [[KeyboardButton(text=str(TYPE_CODE_BUTTON)), KeyboardButton(text=str(REDEEM_BUTTON))]]
    if scanner is not None:
        rows.insert(0, [KeyboardButton(text=str(SCAN_BUTTON), web_app=WebAppInfo(url=scanner))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)
