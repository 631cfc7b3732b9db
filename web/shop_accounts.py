"""What the webhooks of shops' own accounts share: the account named by the path, and a webhook
of the shared bot's kind per account.

A shop's own Telegram bot (``web.shop_bots``), Viber bot (``web.shop_vibers``) and WhatsApp
number (``web.shop_whatsapps``) are called at ``<prefix><account id>``: the path names the
account, never a secret, since paths are what access logs and proxies write down. A segment
that is no database id, an unknown account and a disconnected one are all the same 404, so the
platform stops retrying and nobody learns which accounts exist.

Viber and WhatsApp reuse the shared bot's webhook class keyed with the account's own secret;
:class:`AccountWebhooks` keeps one per account while its sealed credential is unchanged, and
answers 403 when that credential can no longer be unsealed (the signing secret was rotated:
the owner connects again; nothing the platform could retry would help).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from aiohttp import web

from loyalty.messenger_accounts import active_account

if TYPE_CHECKING:
    from conversation.screen import Conversation
    from models import MessengerAccount
    from models.enums import Platform
    from web.replay import Replay

logger = logging.getLogger(__name__)

# Account ids are database ids: a path segment longer than this is no account of ours.
_MAX_ID_DIGITS = 12


def account_id_in(request: web.Request) -> int | None:
    """The account id the path names; None when the segment cannot be one of ours."""
    raw = request.match_info.get("account_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_ID_DIGITS):
        return None
    return int(raw)


async def account_in(request: web.Request, platform: Platform) -> MessengerAccount | None:
    """The connected account of ``platform`` the path names; None for any other segment."""
    account_id = account_id_in(request)
    return None if account_id is None else await active_account(account_id, platform)


class Webhook(Protocol):
    async def handle(self, request: web.Request) -> web.StreamResponse: ...


A = TypeVar("A")
W = TypeVar("W", bound=Webhook)


class AccountWebhooks(Generic[A, W]):
    """Calls to every shop account of one platform, each handled by that account's webhook.

    ``accounts`` is the platform's service (``bot.shop_vibers``, ``bot.shop_whatsapps``),
    ``replay`` makes an account's replay guard (its own key space). A subclass builds an
    account's webhook (``_build``); ``credential`` names what is sealed, for the log."""

    platform: ClassVar[Platform]
    credential: ClassVar[str]

    def __init__(
        self, accounts: A, conversation: Conversation, replay: Callable[[int], Replay]
    ) -> None:
        self._accounts = accounts
        self._conversation = conversation
        self._replay = replay
        # account id -> (the sealed credential it was made with, its webhook).
        self._webhooks: dict[int, tuple[str, W]] = {}

    async def _build(self, account: MessengerAccount) -> W:
        """The account's webhook; ``ValueError`` when its credential cannot be unsealed."""
        raise NotImplementedError

    async def _account(self, request: web.Request) -> MessengerAccount | None:
        """The connected account the path names; a disconnected one's webhook is dropped."""
        account_id = account_id_in(request)
        if account_id is None:
            return None
        account = await active_account(account_id, self.platform)
        if account is None:
            self._webhooks.pop(account_id, None)
        return account

    async def _webhook(self, account: MessengerAccount) -> W:
        kept = self._webhooks.get(account.id)
        if kept is not None and kept[0] == account.credential_encrypted:
            return kept[1]
        webhook = await self._build(account)
        self._webhooks[account.id] = (account.credential_encrypted, webhook)
        return webhook

    async def handle(self, request: web.Request) -> web.StreamResponse:
        account = await self._account(request)
        if account is None:
            return web.Response(status=404, text="Not Found")
        try:
            webhook = await self._webhook(account)
        except ValueError:
            logger.error("the %s of account %s cannot be unsealed", self.credential, account.id)
            return web.Response(status=403, text="Forbidden")
        return await webhook.handle(request)
