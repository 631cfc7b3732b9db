"""The webhook of shops' own WhatsApp numbers: ``GET`` and ``POST /whatsapp/<account id>``.

The path names the account. ``GET`` is Meta's handshake, answered with ``hub.challenge`` when
``hub.verify_token`` is the one made for that account at connecting (compared as SHA-256
digests in constant time); ``POST`` is the shared number's webhook (``web.whatsapp``) keyed
with that account's app secret, the events carrying the account, the answers going out
through its number. An unknown or disconnected account is a 404, credentials we can no
longer unseal a 403; the rest is ``WhatsAppWebhook``'s (403, 413, 400).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from pydantic import SecretStr

from loyalty.messenger_accounts import secret_matches
from models.enums import Platform
from web.shop_accounts import AccountWebhooks
from web.whatsapp import CHALLENGE_LIMIT, Replies, WhatsAppWebhook

if TYPE_CHECKING:
    from models import MessengerAccount

logger = logging.getLogger(__name__)

SHOP_WHATSAPP_PREFIX = "/whatsapp/"


class ShopWhatsAppService(Protocol):
    """What the webhook needs of shops' numbers (``bot.shop_whatsapps.ShopWhatsApps``)."""

    def app_secret_of(self, account: MessengerAccount) -> SecretStr:
        """``ValueError`` when it cannot be unsealed."""
        ...

    async def replies_for(self, account: MessengerAccount) -> Replies: ...


class ShopWhatsAppWebhooks(AccountWebhooks[ShopWhatsAppService, WhatsAppWebhook]):
    """Notifications of every shop's own number, and Meta's handshake for each (``GET``):
    WhatsApp's webhook is set in the App Dashboard, so Meta checks it with the verify token."""

    platform = Platform.WHATSAPP
    credential = "WhatsApp credentials"

    def register(self, app: web.Application) -> None:
        path = f"{SHOP_WHATSAPP_PREFIX}{{account_id}}"
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.handle)

    async def verify(self, request: web.Request) -> web.StreamResponse:
        account = await self._account(request)
        if account is None:
            return web.Response(status=404, text="Not Found")
        query = request.query
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") != "subscribe"
            or not challenge
            or len(challenge) > CHALLENGE_LIMIT
            or not secret_matches(account, query.get("hub.verify_token", ""))
        ):
            logger.warning("WhatsApp verification of account %s with a wrong token", account.id)
            return web.Response(status=403, text="Forbidden")
        return web.Response(status=200, text=challenge, content_type="text/plain")

    async def _build(self, account: MessengerAccount) -> WhatsAppWebhook:
        return WhatsAppWebhook(
            app_secret=self._accounts.app_secret_of(account),
            # The handshake is answered above, against the stored digest.
            verify_token=SecretStr(""),
            conversation=self._conversation,
            replies=await self._accounts.replies_for(account),
            replay=self._replay(account.id),
            account=str(account.id),
        )
