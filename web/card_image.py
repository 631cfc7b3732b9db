"""The card as a picture, ``/c/<token>/card.png``, and a voucher as one, ``/v/<token>.png``:
what Viber and WhatsApp show in the chat.

Telegram takes the card's PNG in the upload; Viber's ``picture`` messages and WhatsApp's
``image`` messages take only an address their servers fetch. So the picture the Telegram chat
shows (progress, brand, the member's QR code the staff scan) is served here, behind the same
signed card-page token, for those platforms to fetch: a forged, stale or left card gets a 404,
and the picture is never cached by anything but the platform that asked. A voucher's picture
carries the QR code the staff scan to use it, so its token is bound to the voucher's own
token and it is served only while the voucher can be used.

Drawing a card takes tens of milliseconds of CPU, so it runs off the event loop and the last
pictures drawn are kept by their content key (the balance is in it, so a new stamp is a new
picture); Viber fetches each picture once per message and WhatsApp once per send.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from aiohttp import web

from loyalty.clock import utcnow
from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner, Purpose
from loyalty.messenger_accounts import own_bot_username
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, VoucherView, customer_card, issued_voucher
from wallets.card_link import CARD_PAGE_PATH, card_page_url, membership_for_card_page
from web.card_page import UsernameSource

# render.card is imported where a picture is made: Pillow, zxing-cpp and the fonts cost idle memory
# in every web process, and many never draw one (a photo's Telegram file id is reused).
if TYPE_CHECKING:
    from render.card import CardImage, VoucherImage

__all__ = [
    "CARD_IMAGE_FILE",
    "VOUCHER_IMAGE_PATH",
    "CardImages",
    "card_image",
    "card_image_url",
    "voucher_image",
    "voucher_image_url",
]

logger = logging.getLogger(__name__)

CARD_IMAGE_FILE = "/card.png"
VOUCHER_IMAGE_PATH = "/v/"
_VOUCHER_ID_SCOPE = "voucher-image-id:"
_VOUCHER_SCOPE = "voucher-image:"
# Pictures kept drawn: a campaign to a few hundred people on Viber fetches each once.
_KEPT = 256


def card_image(card: CardView, bot_username: str) -> CardImage:
    """What the card's picture shows; its QR code is the member's link the staff scan."""
    from render.card import CardImage

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


def voucher_image(voucher: VoucherView, bot_username: str) -> VoucherImage:
    """What the voucher's picture shows; its QR code is the link the staff scan to use it."""
    from render.card import VoucherImage

    return VoucherImage(
        merchant_name=voucher.brand.merchant_name,
        title=voucher.title,
        code=voucher.code,
        background=voucher.brand.background,
        foreground=voucher.brand.foreground,
        accent=voucher.brand.accent,
        qr_url=start_link(bot_username, LinkKind.VOUCHER, voucher.token),
    )


def voucher_image_url(signer: LinkSigner, voucher: VoucherView) -> str:
    """``<id>.<tag over the id>.<tag over id and the voucher's token>``, as the card page's."""
    signed_id = signer.token(Purpose.VOUCHER_IMAGE, voucher.id, _VOUCHER_ID_SCOPE)
    bound = signer.token(Purpose.VOUCHER_IMAGE, voucher.id, _VOUCHER_SCOPE + voucher.token)
    return f"{signer.base_url}{VOUCHER_IMAGE_PATH}{signed_id}.{bound.partition('.')[2]}.png"


async def _usable_voucher(signer: LinkSigner, token: str) -> VoucherView | None:
    signed_id, _, bound_tag = token.rpartition(".")
    claimed = signer.verify(Purpose.VOUCHER_IMAGE, signed_id, _VOUCHER_ID_SCOPE)
    if claimed is None:
        return None
    voucher = await issued_voucher(claimed)
    if voucher is None:
        return None
    bound = f"{signed_id.partition('.')[0]}.{bound_tag}"
    if signer.verify(Purpose.VOUCHER_IMAGE, bound, _VOUCHER_SCOPE + voucher.token) != voucher.id:
        return None
    return voucher if voucher.usable(utcnow()) else None


class CardImages:
    """GET/HEAD ``/c/<token>/card.png``."""

    def __init__(self, signer: LinkSigner, bot_username: UsernameSource) -> None:
        self._signer = signer
        self._bot_username = bot_username
        self._drawn: OrderedDict[str, bytes] = OrderedDict()

    def register(self, app: web.Application) -> None:
        app.router.add_get(CARD_PAGE_PATH + "{token}" + CARD_IMAGE_FILE, self.handle)
        app.router.add_get(VOUCHER_IMAGE_PATH + "{token}.png", self.voucher)

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
        # The QR opens the shop's own bot while connected, as its join links do.
        username = await own_bot_username(card.merchant_id) or username
        return _png(await self._draw(card_image(card, username)))

    async def voucher(self, request: web.Request) -> web.Response:
        """GET/HEAD ``/v/<token>.png``: only a usable voucher's picture, for its own token."""
        found = await _usable_voucher(self._signer, request.match_info["token"])
        username = await self._bot_username()
        if found is None or not username:
            logger.info("voucher picture refused: unknown, forged, used or dead token")
            raise web.HTTPNotFound()
        username = await own_bot_username(found.merchant_id) or username
        return _png(await self._draw(voucher_image(found, username)))

    async def _draw(self, image: CardImage | VoucherImage) -> bytes:
        from render.card import CardImage, render_card, render_voucher

        key = image.cache_key()
        kept = self._drawn.get(key)
        if kept is not None:
            self._drawn.move_to_end(key)
            return kept
        if isinstance(image, CardImage):
            png = await asyncio.to_thread(render_card, image)
        else:
            png = await asyncio.to_thread(render_voucher, image)
        self._drawn[key] = png
        while len(self._drawn) > _KEPT:
            self._drawn.popitem(last=False)
        return png


def _png(body: bytes) -> web.Response:
    return web.Response(
        body=body,
        content_type="image/png",
        headers={
            "Cache-Control": "private, no-store",
            "X-Robots-Tag": "noindex, nofollow",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
