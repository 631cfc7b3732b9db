"""The web side of the wallets: each card's logo, which Google Wallet fetches for the pass.

Google takes a loyalty class's logo as a public URL and downloads it itself; the image is the
square badge the Apple pass uses as its icon (the merchant's logo, or their initial on their
colours). Public on purpose: it shows nothing a pass on a phone does not.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from campaigns.wallets import LOGO_PATH
from channels.apple_wallet.images import pass_images
from models import Card

logger = logging.getLogger(__name__)

_CARD_ID = re.compile(r"\d{1,9}")
# The biggest square Apple size; Google scales it down for the pass header.
LOGO_FILE = "icon@3x.png"


async def card_logo(request: web.Request) -> web.Response:
    card_id = request.match_info["card_id"]
    if not _CARD_ID.fullmatch(card_id):
        raise web.HTTPNotFound()
    card = await Card.get_or_none(id=int(card_id)).select_related("merchant")
    if card is None:
        logger.info("wallet logo for an unknown card %s", card_id)
        raise web.HTTPNotFound()
    merchant = card.merchant
    images = pass_images(
        merchant.name,
        merchant.background_color,
        merchant.foreground_color,
        merchant.accent_color,
        merchant.logo_png,
    )
    return web.Response(
        body=images[LOGO_FILE],
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def setup_wallet_routes(app: web.Application) -> None:
    app.router.add_get(LOGO_PATH + "{card_id}.png", card_logo)
