"""The webhook of shops' own Viber bots: ``POST /viber/<account id>``.

The path names the account, never its token. Each account gets the shared bot's webhook
(``web.viber.ViberWebhook``) keyed with its own token: the signature must be the HMAC of the
body under that token, the replay guard and the customer conversation are the same, the
events carry the account (so a join through it binds the person's identity to it) and the
answers go out through that bot. Viber's one check of a new webhook URL (the ``webhook``
event, at connecting) is answered 200 by the same code.

Refusals are never a 5xx, so Viber is not told to retry what will not work: an unknown or
disconnected account is a 404 (as ``web.shop_bots`` answers Telegram), a token we can no
longer unseal a 403 (both ``web.shop_accounts``'s); the signature and the body are
``ViberWebhook``'s (403, 413, 400).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from pydantic import SecretStr

from models.enums import Platform
from web.shop_accounts import AccountWebhooks
from web.viber import Replies, ViberWebhook

if TYPE_CHECKING:
    from models import MessengerAccount

SHOP_VIBER_PREFIX = "/viber/"


class ShopViberService(Protocol):
    """What the webhook needs of shops' Viber bots (``bot.shop_vibers.ShopVibers``)."""

    def token_of(self, account: MessengerAccount) -> SecretStr:
        """The account's auth token; ``ValueError`` when it cannot be unsealed."""
        ...

    async def replies_for(self, account: MessengerAccount) -> Replies: ...


class ShopViberWebhooks(AccountWebhooks[ShopViberService, ViberWebhook]):
    """Callbacks of every shop's own Viber bot, each resolved by the account id in the path."""

    platform = Platform.VIBER
    credential = "Viber token"

    def register(self, app: web.Application) -> None:
        app.router.add_post(f"{SHOP_VIBER_PREFIX}{{account_id}}", self.handle)

    async def _build(self, account: MessengerAccount) -> ViberWebhook:
        return ViberWebhook(
            auth_token=self._accounts.token_of(account),
            conversation=self._conversation,
            replies=await self._accounts.replies_for(account),
            replay=self._replay(account.id),
            account=str(account.id),
        )
