"""The webhook of shops' own Viber bots: ``POST /viber/<account id>``.

The path names the account, never its token. Each account gets the shared bot's webhook
(``web.viber.ViberWebhook``) keyed with its own token: the signature must be the HMAC of the
body under that token, the replay guard and the customer conversation are the same, the
events carry the account (so a join through it binds the person's identity to it) and the
answers go out through that bot. Viber's one check of a new webhook URL (the ``webhook``
event, at connecting) is answered 200 by the same code.

Refusals are never a 5xx, so Viber is not told to retry what will not work: an unknown or
disconnected account is a 404 (as ``web.shop_bots`` answers Telegram), a token we can no
longer unseal a 403; the signature and the body are ``ViberWebhook``'s (403, 413, 400).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from pydantic import SecretStr

from conversation.screen import Conversation
from loyalty.messenger_accounts import active_account
from models.enums import Platform
from web.replay import Replay
from web.viber import Replies, ViberWebhook

if TYPE_CHECKING:
    from models import MessengerAccount

logger = logging.getLogger(__name__)

SHOP_VIBER_PREFIX = "/viber/"
# Account ids are database ids: a path segment longer than this is no account of ours.
_MAX_ID_DIGITS = 12


class ShopViberService(Protocol):
    """What the webhook needs of shops' Viber bots (``bot.shop_vibers.ShopVibers``)."""

    def token_of(self, account: MessengerAccount) -> SecretStr:
        """The account's auth token; ``ValueError`` when it cannot be unsealed."""
        ...

    async def replies_for(self, account: MessengerAccount) -> Replies: ...


class ShopViberWebhooks:
    """Callbacks of every shop's own Viber bot, each resolved by the account id in the path.

    ``replay`` makes an account's replay guard (its own key space)."""

    def __init__(
        self,
        accounts: ShopViberService,
        conversation: Conversation,
        replay: Callable[[int], Replay],
    ) -> None:
        self._accounts = accounts
        self._conversation = conversation
        self._replay = replay
        # account id -> (the sealed token it was made with, its webhook).
        self._webhooks: dict[int, tuple[str, ViberWebhook]] = {}

    def register(self, app: web.Application) -> None:
        app.router.add_post(f"{SHOP_VIBER_PREFIX}{{account_id}}", self.handle)

    async def _webhook(self, account: MessengerAccount) -> ViberWebhook:
        kept = self._webhooks.get(account.id)
        if kept is not None and kept[0] == account.credential_encrypted:
            return kept[1]
        webhook = ViberWebhook(
            auth_token=self._accounts.token_of(account),
            conversation=self._conversation,
            replies=await self._accounts.replies_for(account),
            replay=self._replay(account.id),
            account=str(account.id),
        )
        self._webhooks[account.id] = (account.credential_encrypted, webhook)
        return webhook

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info.get("account_id", "")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_ID_DIGITS):
            return web.Response(status=404, text="Not Found")
        account = await active_account(int(raw), Platform.VIBER)
        if account is None:
            self._webhooks.pop(int(raw), None)
            return web.Response(status=404, text="Not Found")
        try:
            webhook = await self._webhook(account)
        except ValueError:
            # Sealed under another key (the signing secret was rotated): the owner connects
            # the bot again; nothing Viber could retry would help.
            logger.error("the Viber token of account %s cannot be unsealed", account.id)
            return web.Response(status=403, text="Forbidden")
        return await webhook.handle(request)
