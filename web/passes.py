"""The web side of the wallets: the pass download link, and each card's logo for Google.

``/c/<token>/pass.pkpass`` serves the customer's signed pass under the card page's own token
(private to them, dead once they are erased), with Apple's media type, so Safari on an iPhone
offers "Add to Apple Wallet" straight away.

Google takes a loyalty class's logo as a public URL and downloads it itself; the image is the
square badge the Apple pass uses as its icon (the merchant's logo, or their initial on their
colours). Public on purpose: it shows nothing a pass on a phone does not.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from loyalty.links import LinkSigner
from wallets.apple_passes import MEDIA_TYPE, WalletPasses
from wallets.card_link import CARD_PAGE_PATH, card_page_url, membership_for_card_page
from wallets.service import LOGO_PATH, card_logo_png

logger = logging.getLogger(__name__)

_CARD_ID = re.compile(r"\d{1,9}")


async def card_logo(request: web.Request) -> web.Response:
    card_id = request.match_info["card_id"]
    if not _CARD_ID.fullmatch(card_id):
        raise web.HTTPNotFound()
    logo = await card_logo_png(int(card_id))
    if logo is None:
        logger.info("wallet logo for an unknown card %s", card_id)
        raise web.HTTPNotFound()
    return web.Response(
        body=logo,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=3600"},
    )


PASS_FILE = "/pass.pkpass"


def pass_download_url(signer: LinkSigner, membership_id: int, public_token: str) -> str:
    return card_page_url(signer, membership_id, public_token) + PASS_FILE


class PassDownload:
    def __init__(self, signer: LinkSigner, passes: WalletPasses) -> None:
        self._signer = signer
        self._passes = passes

    async def handle(self, request: web.Request) -> web.Response:
        membership = await membership_for_card_page(self._signer, request.match_info["token"])
        if membership is None:
            logger.info("pass download refused: unknown or expired token")
            raise web.HTTPNotFound()
        issued = await self._passes.issue(membership.id)
        return web.Response(
            body=issued.pkpass,
            content_type=MEDIA_TYPE,
            headers={
                "Cache-Control": "private, no-store",
                "Content-Disposition": 'attachment; filename="card.pkpass"',
                "Last-Modified": issued.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
                "Referrer-Policy": "no-referrer",
                "X-Robots-Tag": "noindex",
            },
        )


def setup_wallet_routes(
    app: web.Application, *, signer: LinkSigner | None = None, passes: WalletPasses | None = None
) -> None:
    app.router.add_get(LOGO_PATH + "{card_id}.png", card_logo)
    if signer is not None and passes is not None:
        download = PassDownload(signer, passes)
        app.router.add_get(CARD_PAGE_PATH + "{token}" + PASS_FILE, download.handle)
