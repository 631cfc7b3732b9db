"""The web side of message links: open pixel, click redirect, unsubscribe, email confirmation.

Each route checks its signed token first; a bad token is a 404 and changes nothing.
"""

from __future__ import annotations

import base64
import functools
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.utils.i18n import I18n
from aiohttp import web

from campaigns.tracking import recipient_of, record_click, record_open, unsubscribe
from locales import RIGHT_TO_LEFT, supported_language
from loyalty.customers import chosen_language
from loyalty.links import LinkSigner, Purpose
from loyalty.profile import confirm_email
from web.headers import private_page_headers

if TYPE_CHECKING:
    import jinja2

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
SIGNER_KEY = web.AppKey("link_signer", LinkSigner)
I18N_KEY = web.AppKey("i18n", I18n)


@functools.cache
def _pages() -> jinja2.Environment:
    """Made on the first page: jinja2 costs idle memory, and most processes show none."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "web"), autoescape=True, enable_async=False
    )


def _page(
    request: web.Request, language: str, title: str, message: str, *,
    action: str | None = None, button: str | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    nonce = secrets.token_urlsafe(16)
    html = _pages().get_template("page.html").render(
        language=language, rtl=language in RIGHT_TO_LEFT, title=title, message=message,
        action=action, button=button, nonce=nonce,
    )  # fmt: skip
    # The unsubscribe form posts back to this same address, and nowhere else.
    headers = private_page_headers(nonce, form_action="'self'" if action else "'none'")
    headers["Content-Language"] = language
    return web.Response(text=html, content_type="text/html", status=status, headers=headers)


async def _language(request: web.Request, customer_id: int | None) -> str:
    i18n = request.app[I18N_KEY]
    chosen = await chosen_language(customer_id) if customer_id else None
    if chosen is not None and chosen in i18n.available_locales:
        return chosen
    for part in request.headers.get("Accept-Language", "").split(","):
        if code := supported_language(part.split(";")[0], i18n.available_locales):
            return code
    return i18n.default_locale


async def open_pixel(request: web.Request) -> web.Response:
    delivery_id = request.app[SIGNER_KEY].verify(Purpose.OPEN, request.match_info["token"])
    if delivery_id is None:
        raise web.HTTPNotFound()
    await record_open(delivery_id)
    return web.Response(
        body=PIXEL, content_type="image/gif", headers={"Cache-Control": "no-store, private"}
    )


async def click(request: web.Request) -> web.Response:
    delivery_id = request.app[SIGNER_KEY].verify(Purpose.CLICK, request.match_info["token"])
    target = request.query.get("u", "")
    if delivery_id is None or not await record_click(delivery_id, target):
        logger.info("refused a click link (bad token or a target not in the campaign)")
        raise web.HTTPNotFound()
    raise web.HTTPFound(target)


async def unsubscribe_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    delivery_id = request.app[SIGNER_KEY].verify(Purpose.UNSUBSCRIBE, token)
    if delivery_id is None:
        raise web.HTTPNotFound()
    customer_id = await recipient_of(delivery_id)
    if customer_id is None:  # erased with its customer: no page that offers to unsubscribe
        raise web.HTTPNotFound()
    language = await _language(request, customer_id)
    i18n = request.app[I18N_KEY]
    if request.method == "POST":
        # RFC 8058: the mailbox provider POSTs "List-Unsubscribe=One-Click" with no cookies.
        shop = await unsubscribe(delivery_id)
        if shop is None:
            raise web.HTTPNotFound()
        with i18n.use_locale(language):
            title = i18n.gettext("Unsubscribed")
            text = i18n.gettext("You will get no more emails from {shop}.").format(shop=shop)
        return _page(request, language, title, text)
    with i18n.use_locale(language):
        title = i18n.gettext("Unsubscribe")
        text = i18n.gettext(
            "Stop getting emails from this shop? Your stamps and vouchers stay as they are."
        )
        button = i18n.gettext("Yes, unsubscribe")
    return _page(request, language, title, text, action=str(request.rel_url.path), button=button)


async def confirm_email_link(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    signer = request.app[SIGNER_KEY]
    confirmed = await confirm_email(token, signer, until=request.query.get("until"))
    language = await _language(request, confirmed)
    i18n = request.app[I18N_KEY]
    with i18n.use_locale(language):
        if confirmed is None:
            title = i18n.gettext("Link not valid")
            text = i18n.gettext(
                "This confirmation link is not valid any more. Set your email again in the bot."
            )
            return _page(request, language, title, text, status=404)
        title = i18n.gettext("Email confirmed")
        text = i18n.gettext("Thank you! Your email address is confirmed.")
    return _page(request, language, title, text)


def setup_link_routes(app: web.Application, signer: LinkSigner, i18n: I18n) -> None:
    app[SIGNER_KEY] = signer
    app[I18N_KEY] = i18n
    app.router.add_get(r"/e/o/{token}.gif", open_pixel)
    app.router.add_get("/e/c/{token}", click)
    app.router.add_get("/e/u/{token}", unsubscribe_page)
    app.router.add_post("/e/u/{token}", unsubscribe_page)
    app.router.add_get("/e/v/{token}", confirm_email_link)
