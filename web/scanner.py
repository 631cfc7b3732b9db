"""The cashier's in-Telegram scanner: a tiny Mini App page behind the ``📷 Scan`` button.

Telegram's own QR popup (``Telegram.WebApp.showScanQrPopup``) reads the customer's card or
voucher QR without leaving the chat; the page hands the ``m-…``/``v-…`` payload back with
``sendData``, and the bot treats it as the same scan the phone camera would have made (every
role and shop check happens there: a bad client can send any data). The page knows nothing
and holds nothing: the same for everyone, per language.
"""

from __future__ import annotations

import gettext
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram.utils.i18n import I18n
from aiohttp import web

from handlers.counter_menu import SCANNER_PATH
from locales import RIGHT_TO_LEFT, supported_language
from web.card_page import UsernameSource

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "web"


class ScannerPage:
    def __init__(self, i18n: I18n, bot_username: UsernameSource) -> None:
        self._i18n = i18n
        self._username = bot_username
        self._environments: dict[str, Environment] = {}

    def register(self, app: web.Application) -> None:
        app.router.add_get(SCANNER_PATH, self.handle)

    def _environment(self, language: str) -> Environment:
        if language not in self._environments:
            # Here, not at the top: jinja2 costs idle memory until someone opens the page.
            from jinja2 import Environment, FileSystemLoader, StrictUndefined

            env = Environment(
                loader=FileSystemLoader(TEMPLATES_DIR),
                autoescape=True,
                extensions=["jinja2.ext.i18n"],
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            translations = self._i18n.locales.get(language) or gettext.NullTranslations()
            env.install_gettext_translations(translations, newstyle=False)  # type: ignore[attr-defined]
            self._environments[language] = env
        return self._environments[language]

    async def handle(self, request: web.Request) -> web.Response:
        languages = tuple(self._i18n.available_locales)
        language = (
            supported_language(request.query.get("lang"), languages) or self._i18n.default_locale
        )
        username = await self._username()
        nonce = secrets.token_urlsafe(16)
        context: dict[str, Any] = {
            "language": language,
            "direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "nonce": nonce,
            "bot_username": username or "",
        }
        html = self._environment(language).get_template("scanner.html").render(context)
        headers = {
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}' https://telegram.org; "
                f"style-src 'nonce-{nonce}'; connect-src 'none'; base-uri 'none'; "
                "form-action 'none'"
            ),
            "Content-Language": language,
        }
        return web.Response(text=html, content_type="text/html", headers=headers)
