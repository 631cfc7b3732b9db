"""The customer's card as a web page, ``/c/<token>``: the link on the back of the wallet pass
and behind the chat's one "Add to phone wallet" button, so the page shows the wallet badge the
phone can use (told from its User-Agent: Apple on an iPhone, iPad or Safari on a Mac, Google
on Android, both otherwise).

It shows what the bot shows in the chat (stamps, progress, usable vouchers with their QR and
code) plus the long text of the campaigns recently sent to this person on this card. The page
is personal, so it is never cached or indexed, sends no referrer, and runs no script at all.
"""

from __future__ import annotations

import base64
import gettext
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiohttp import web
from babel.dates import format_date
from markupsafe import Markup, escape

from campaigns.history import SentMessage, message_html, recent_messages
from locales import RIGHT_TO_LEFT, supported_language
from loyalty.clock import utcnow
from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner, Purpose
from loyalty.messenger_accounts import own_bot_username
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, customer_card
from wallets.card_link import CARD_PAGE_PATH, membership_for_card_page
from web.headers import private_page_headers
from web.passes import pass_download_url

# jinja2 and segno are imported where a page is made: idle memory in every web process, and
# many never show a card page.
if TYPE_CHECKING:
    from jinja2 import Environment

    from channels.photos import PhotoStore
    from models import Membership, Merchant

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "web"
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_DEFAULT_COLOURS = {"background": "#1F2937", "foreground": "#FFFFFF", "accent": "#F59E0B"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The email renderer inlines its styles (mail clients drop <style>); here the page's own
# stylesheet styles the same tags, so the CSP can refuse every style attribute. Only our own
# tags can carry one: text is escaped, so "<" in the output always opens a tag we wrote.
_STYLE_ATTRIBUTE = re.compile(r'(<[a-z]+[^<>]*?) style="[^"]*"')
_QR_SCALE = 5

UsernameSource = Callable[[], Awaitable[str | None]]
# The member's "Save to Google Wallet" link (made at Google on first use), None when off.
GoogleSaveLink = Callable[[CardView], Awaitable[str | None]]

_APPLE_DEVICE = re.compile(r"iPhone|iPad|iPod")
_OTHER_MAC_BROWSER = re.compile(r"Chrome|Chromium|CriOS|Firefox|FxiOS|Edg|OPR")


def wallet_platform(user_agent: str) -> str:
    """Which wallet badge the phone can use: "apple" (iPhone, iPad, Safari on a Mac: Wallet
    opens a .pkpass), "google" (Android) or "both" (anything else: we cannot tell)."""
    if "Android" in user_agent:
        return "google"
    if _APPLE_DEVICE.search(user_agent):
        return "apple"
    if "Macintosh" in user_agent and "Safari" in user_agent:
        return "both" if _OTHER_MAC_BROWSER.search(user_agent) else "apple"
    return "both"


def telegram_username(bot: Bot) -> UsernameSource:
    """The bot's username as Telegram reports it (cached by aiogram), None while unreachable."""

    async def username() -> str | None:
        try:
            return (await bot.me()).username
        except TelegramAPIError as exc:
            logger.warning("card page without voucher QR codes: getMe failed (%s)", exc)
            return None

    return username


def accept_languages(header: str) -> list[str]:
    """The ranges of an Accept-Language header, most preferred first (``q=0`` means never)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        code, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if code and code != "*" and quality > 0:
            ranked.append((-quality, position, code))
    return [code for _, _, code in sorted(ranked)]


def choose_language(
    *,
    asked: str | None,
    chosen: str | None,
    accept_language: str,
    fallback: str,
    available: Iterable[str],
) -> str:
    """``?lang=``, else the person's choice in the bot, else the browser's, else ``fallback``."""
    languages = tuple(available)
    for candidate in (asked, chosen, *accept_languages(accept_language)):
        if code := supported_language(candidate, languages):
            return code
    return fallback


def html_datetime(moment: datetime) -> str:
    """A valid HTML global date and time: UTC, whole seconds (HTML allows at most three
    fraction digits; ``isoformat`` writes six)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_type(data: bytes) -> str | None:
    for magic, kind in ((_PNG_MAGIC, "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif")):
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _colour(value: str | None, key: str) -> str:
    # Stored colours go into CSS, where HTML escaping protects nothing: only #RRGGBB passes.
    return value if value and _COLOUR.fullmatch(value) else _DEFAULT_COLOURS[key]


def _ltr(value: object) -> Markup:
    """A code, date or fraction kept left to right inside right-to-left text."""
    return Markup('<bdi class="ltr" dir="ltr">{}</bdi>').format(value)


def _isolate(value: object) -> Markup:
    """Text of either direction (a shop's name, a date) that must not reorder what is around it."""
    return Markup("<bdi>{}</bdi>").format(value)


def _fill(template: str, **values: object) -> Markup:
    """A translated ``{name}`` template filled in; the text and plain values are escaped."""
    return escape(template).format(**values)


def _qr_svg(link: str) -> Markup:
    import segno

    svg = segno.make(link, error="m").svg_inline(scale=_QR_SCALE, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup; the payload is our start link


def _campaign_html(message: SentMessage, *, click: str | None, right_to_left: bool) -> Markup:
    """The merchant's Telegram HTML as the email renderer makes it safe, minus inline styles.

    Links (plain URLs too, as the chat shows them) go through ``click``, the counter of the
    delivery that brought the message, so a click on the card page counts like one in the email.
    """
    html = message_html(message, click=click, right_to_left=right_to_left)
    # On str, not Markup: Markup would escape the tags the substitution puts back.
    return Markup(_STYLE_ATTRIBUTE.sub(r"\1", str(html)))  # noqa: S704 - allow-listed, escaped


@dataclass(frozen=True, slots=True)
class _Voucher:
    title: str
    code: str
    until: str | None
    qr: Markup | None


@dataclass(frozen=True, slots=True)
class _Message:
    date: str
    sent_at_iso: str
    html: Markup
    photo: str | None = None  # a data: URL (the page loads nothing from elsewhere)


class CardPage:
    """GET/HEAD ``/c/<token>``; a bad, forged or dead token gets a localized 404 and nothing."""

    def __init__(
        self,
        signer: LinkSigner,
        i18n: I18n,
        bot_username: UsernameSource,
        *,
        templates_dir: Path = TEMPLATES_DIR,
        photos: PhotoStore | None = None,
        apple_passes: bool = False,
        google_save: GoogleSaveLink | None = None,
    ) -> None:
        self._signer = signer
        self._apple = apple_passes
        self._google_save = google_save
        self._photos = photos
        self._i18n = i18n
        self._bot_username = bot_username
        self._templates_dir = templates_dir
        self._environments: dict[str, Environment] = {}

    def register(self, app: web.Application) -> None:
        app.router.add_get(CARD_PAGE_PATH + "{token}", self.handle)  # HEAD comes with GET

    def _environment(self, language: str) -> Environment:
        if language not in self._environments:
            from jinja2 import Environment, FileSystemLoader, StrictUndefined

            env = Environment(
                loader=FileSystemLoader(self._templates_dir),
                autoescape=True,
                extensions=["jinja2.ext.i18n"],
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            translations = self._i18n.locales.get(language) or gettext.NullTranslations()
            env.install_gettext_translations(translations, newstyle=False)  # type: ignore[attr-defined]
            env.filters.update(ltr=_ltr, isolate=_isolate, fill=_fill)
            self._environments[language] = env
        return self._environments[language]

    def _translations(self, language: str) -> gettext.NullTranslations:
        return self._i18n.locales.get(language) or gettext.NullTranslations()

    def _respond(
        self, language: str, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        nonce = secrets.token_urlsafe(16)
        html = (
            self._environment(language)
            .get_template(template)
            .render(
                context,
                language=language,
                direction="rtl" if language in RIGHT_TO_LEFT else "ltr",
                nonce=nonce,
            )
        )
        headers = {
            **private_page_headers(nonce, img_src="data:"),
            "Content-Language": language,
        }
        return web.Response(text=html, content_type="text/html", status=status, headers=headers)

    def _not_found(self, request: web.Request) -> web.Response:
        language = choose_language(
            asked=request.query.get("lang"),
            chosen=None,
            accept_language=request.headers.get("Accept-Language", ""),
            fallback=self._i18n.default_locale,
            available=self._i18n.available_locales,
        )
        title = self._translations(language).gettext("Link not valid")
        context = {"title": title, "colours": _DEFAULT_COLOURS}
        return self._respond(language, "card_missing.html", context, status=404)

    async def handle(self, request: web.Request) -> web.Response:
        membership = await membership_for_card_page(self._signer, request.match_info["token"])
        if membership is None or membership.customer.erased_at is not None:
            logger.info("card page refused: unknown, forged or dead token")
            return self._not_found(request)
        now = utcnow()
        try:
            card = await customer_card(membership.id, membership.customer_id, now=now)
        except MembershipNotFound:  # left or erased between the two reads
            return self._not_found(request)
        merchant: Merchant = membership.card.merchant
        language = choose_language(
            asked=request.query.get("lang"),
            chosen=membership.customer.language,
            accept_language=request.headers.get("Accept-Language", ""),
            fallback=supported_language(merchant.default_language, self._i18n.available_locales)
            or self._i18n.default_locale,
            available=self._i18n.available_locales,
        )
        context = await self._card_context(membership, card, merchant, language, now)
        context["wallet"] = await self._wallet(card, request.headers.get("User-Agent", ""))
        return self._respond(language, "card.html", context)

    async def _wallet(self, card: CardView, user_agent: str) -> dict[str, str | None]:
        """The badge(s) this phone can use: the Apple pass, the Google save link, or both."""
        platform = wallet_platform(user_agent)
        apple = google = None
        if self._apple and platform in {"apple", "both"}:
            apple = pass_download_url(self._signer, card.membership_id, card.token)
        if self._google_save is not None and platform in {"google", "both"}:
            google = await self._google_save(card)
        return {"apple": apple, "google": google}

    async def _card_context(
        self,
        membership: Membership,
        card: CardView,
        merchant: Merchant,
        language: str,
        now: datetime,
    ) -> dict[str, Any]:
        zone = ZoneInfo(merchant.timezone)

        def local_date(moment: datetime) -> str:
            return format_date(moment.astimezone(zone), "medium", locale=language)

        # The shop's own bot while connected: its voucher QR codes open it, as its join links.
        username = (
            await own_bot_username(merchant.id) or await self._bot_username()
            if card.vouchers
            else None
        )
        vouchers = [
            _Voucher(
                title=voucher.title,
                code=voucher.code,
                until=local_date(voucher.expires_at) if voucher.expires_at else None,
                qr=self._voucher_qr(username, voucher.token),
            )
            for voucher in card.vouchers
        ]
        sent = await recent_messages(membership.customer_id, card.card_id, now=now)
        rtl = language in RIGHT_TO_LEFT
        messages = [
            _Message(
                date=local_date(message.sent_at),
                sent_at_iso=html_datetime(message.sent_at),
                html=_campaign_html(
                    message,
                    click=(
                        self._signer.url(Purpose.CLICK, message.delivery_id)
                        if message.delivery_id is not None
                        else None
                    ),
                    right_to_left=rtl,
                ),
                photo=await self._photo(message.photo_file_id),
            )
            for message in sent
        ]
        logo = card.brand.logo_png
        return {
            "title": f"{card.card_name} · {card.brand.merchant_name}",
            "shop": card.brand.merchant_name,
            "card_name": card.card_name,
            "colours": {
                "background": _colour(card.brand.background, "background"),
                "foreground": _colour(card.brand.foreground, "foreground"),
                "accent": _colour(card.brand.accent, "accent"),
            },
            "logo": (
                "data:image/png;base64," + base64.b64encode(logo).decode()
                if logo and logo.startswith(_PNG_MAGIC)
                else None
            ),
            "stamps": [n < card.balance for n in range(card.stamps_needed)],
            "balance": card.balance,
            "needed": card.stamps_needed,
            "more": card.stamps_to_reward,
            "reward": card.reward_text,
            "vouchers": vouchers,
            "messages": messages,
        }

    async def _photo(self, file_id: str | None) -> str | None:
        """The campaign photo, downloaded once from Telegram and kept, inlined as data."""
        if self._photos is None or not file_id:
            return None
        data = await self._photos.get(file_id)
        kind = _image_type(data) if data else None
        if data is None or kind is None:
            return None
        return f"data:image/{kind};base64," + base64.b64encode(data).decode()

    @staticmethod
    def _voucher_qr(username: str | None, token: str) -> Markup | None:
        if not username:
            return None
        try:
            return _qr_svg(start_link(username, LinkKind.VOUCHER, token))
        except ValueError:
            logger.warning("no voucher QR code: %r is not a bot username", username)
            return None
