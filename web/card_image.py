"""The card as a picture, ``/c/<token>/card.png``: what Viber and WhatsApp show in the chat.

Telegram takes the card's PNG in the upload; Viber's ``picture`` messages and WhatsApp's
``image`` messages take only an address their servers fetch. So the picture the Telegram chat
shows (progress, brand, the member's QR code the staff scan) is served here, behind the same
signed card-page token, for those platforms to fetch: a forged, stale or left card gets a 404,
and the picture is never cached by anything but the platform that asked.

Drawing a card takes tens of milliseconds of CPU, so it runs off the event loop and the last
pictures drawn are kept by their content key (the balance is in it, so a new stamp is a new
picture); Viber fetches each picture once per message and WhatsApp once per send.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from aiohttp import web

from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, customer_card
from render.card import CardImage, render_card
from wallets.card_link import CARD_PAGE_PATH, card_page_url, membership_for_card_page
from web.card_page import UsernameSource

__all__ = ["CARD_IMAGE_FILE", "CardImages", "card_image", "card_image_url"]

logger = logging.getLogger(__name__)

CARD_IMAGE_FILE = "/card.png"
# Pictures kept drawn: a campaign to a few hundred people on Viber fetches each once.
_KEPT = 256


def card_image(card: CardView, bot_username: str) -> CardImage:
    """What the card's picture shows; its QR code is the member's link the staff scan."""
    return CardImage(
        merchant_name=card.brand.merchant_name,
        card_name=card.card_name,
        stamps_needed=card.stamps_needed,
        balance=card.balance,
        background=card.brand.background,
        foreground=card.brand.foreground,
        accent=card.brand.accent,
        qr_url=start_link(bot_username, LinkKind.MEMBERSHIP, card.token),
        logo_png=card.brand.logo_png,
    )


def card_image_url(signer: LinkSigner, card: CardView) -> str:
    return card_page_url(signer, card.membership_id, card.token) + CARD_IMAGE_FILE


class CardImages:
    """GET/HEAD ``/c/<token>/card.png``."""

    def __init__(self, signer: LinkSigner, bot_username: UsernameSource) -> None:
        self._signer = signer
        self._bot_username = bot_username
        self._drawn: OrderedDict[str, bytes] = OrderedDict()

    def register(self, app: web.Application) -> None:
        app.router.add_get(CARD_PAGE_PATH + "{token}" + CARD_IMAGE_FILE, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        membership = await membership_for_card_page(self._signer, request.match_info["token"])
        username = await self._bot_username()
        if membership is None or membership.customer.erased_at is not None or not username:
            logger.info("card picture refused: unknown, forged or dead token")
            raise web.HTTPNotFound()
        try:
            card = await customer_card(membership.id, membership.customer_id)
        except MembershipNotFound:
            raise web.HTTPNotFound() from None
        png = await self._draw(card_image(card, username))
        return web.Response(
            body=png,
            content_type="image/png",
            headers={
                "Cache-Control": "private, no-store",
                "X-Robots-Tag": "noindex, nofollow",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def _draw(self, image: CardImage) -> bytes:
        key = image.cache_key()
        png = self._drawn.get(key)
        if png is None:
            png = await asyncio.to_thread(render_card, image)
            self._drawn[key] = png
            while len(self._drawn) > _KEPT:
                self._drawn.popitem(last=False)
        else:
            self._drawn.move_to_end(key)
        return png
