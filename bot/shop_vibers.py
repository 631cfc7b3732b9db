"""Shops' own Viber bots: connecting an auth token from partners.viber.com, and a client each.

Connecting asks Viber who the token is (``get_account_info``: status 2 is a token Viber does
not know), stores the account (``loyalty.messenger_accounts``: the token sealed, the account
id Viber gives as ``external_id`` and its chat URI as ``username``), then points the bot's
one webhook at ``/viber/<account id>`` (``web.shop_vibers``). Viber calls that URL once,
signed with the token, before it agrees; so the account is stored, active, before it is set,
and removed again when Viber refuses. The token is never in a URL of ours.

Viber user ids are the bot's own. Disconnecting removes the webhook (``set_webhook`` with an
empty URL, Viber's way) and marks the account disconnected; the people who came through it
keep their cards but cannot be written to on Viber any more, not even by the shared bot, so
their identities there are marked unreachable (they are reached on their other messengers,
by email, on their wallet pass). Connecting the same bot again makes them reachable again; a
different bot leaves them unreachable (its ids are not theirs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.shop_accounts import ChatAccounts
from channels.viber.api import Status, ViberApi, ViberUnavailable
from channels.viber.render import Sender
from channels.viber.replies import ViberReplies
from loyalty.messenger_accounts import (
    AccountTaken,
    BotTokenRefused,
    CredentialBox,
    MessengerUnavailable,
    connect_account,
    credential_of,
)
from models import Merchant, MessengerAccount
from models.enums import Platform
from web.shop_vibers import SHOP_VIBER_PREFIX

if TYPE_CHECKING:
    from bot.config import ViberSettings
    from loyalty.links import LinkSigner

logger = logging.getLogger(__name__)

# Viber shows the sender's name over every message: 28 characters at most.
SENDER_NAME_LIMIT = 28


@dataclass(frozen=True, slots=True)
class ViberBotIdentity:
    """Who Viber says a token is (``get_account_info``)."""

    id: str
    uri: str
    name: str


@dataclass(frozen=True, slots=True)
class ViberClient:
    """One shop bot's client and the sender name its messages carry (the shop's name)."""

    api: ViberApi
    sender: Sender


class ShopVibers(ChatAccounts[ViberClient, ViberReplies]):
    """Verifies, connects and disconnects shops' Viber bots, and keeps one client each.

    ``api_url`` is Viber's (the shared bot's setting; tests point it at the fake)."""

    platform = Platform.VIBER
    path_prefix = SHOP_VIBER_PREFIX
    credential = "Viber token"

    def __init__(self, viber: ViberSettings, box: CredentialBox, signer: LinkSigner) -> None:
        super().__init__(box, signer, _close_client)
        self.api_url = viber.api_url
        self._shared = viber.auth_token

    def _api(self, token: SecretStr) -> ViberApi:
        return ViberApi(token, base_url=self.api_url)

    async def client_for(self, account: MessengerAccount) -> ViberClient:
        """The account's client (made on first use, kept while its token stays the same);
        ``ValueError`` when the token cannot be unsealed."""
        kept = self._clients.kept(account)
        if kept is not None:
            return kept
        api = self._api(credential_of(account, self._box))
        shop = await Merchant.get_or_none(id=account.merchant_id)
        name = (shop.name if shop is not None else "") or account.username or "Viber"
        return self._clients.keep(account, ViberClient(api, Sender(name[:SENDER_NAME_LIMIT])))

    _client = client_for

    def token_of(self, account: MessengerAccount) -> SecretStr:
        """The account's auth token (its callbacks' signature key); ``ValueError`` when it
        cannot be unsealed."""
        return credential_of(account, self._box)

    async def replies_for(self, account: MessengerAccount) -> ViberReplies:
        """Answers in the account's chats, through its client, under the shop's name."""
        client = await self.client_for(account)
        return ViberReplies(client.api, client.sender)

    async def verify(self, token: SecretStr) -> ViberBotIdentity:
        """``get_account_info`` with the token; :class:`BotTokenRefused` on status 2, else
        :class:`MessengerUnavailable` when Viber cannot be asked."""
        api = self._api(token)
        try:
            reply = await api.get_account_info()
        except ViberUnavailable as error:
            logger.warning("get_account_info for a shop's Viber bot failed: %s", error.reason)
            raise MessengerUnavailable() from None
        finally:
            await api.close()
        if reply.status == Status.INVALID_AUTH_TOKEN:
            raise BotTokenRefused()
        body = reply.body or {}
        account_id, uri = body.get("id"), body.get("uri")
        if not reply.ok or not isinstance(account_id, str) or not account_id:
            logger.warning("get_account_info refused: %s %s", reply.status, reply.status_message)
            raise MessengerUnavailable()
        name = body.get("name")
        return ViberBotIdentity(
            account_id[:64],
            uri if isinstance(uri, str) else "",
            name if isinstance(name, str) else "",
        )

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount:
        """Verify, store, set the webhook. Refusals (``LoyaltyError``) leave the shop as it
        was; a webhook Viber refuses undoes the connecting."""
        if self._shared is not None and self._shared.get_secret_value() == (
            token.get_secret_value()
        ):
            raise AccountTaken()  # the shared bot itself: its webhook is everybody's
        me = await self.verify(token)
        before = await self._previous(merchant_id)
        connected = await connect_account(
            merchant_id,
            Platform.VIBER,
            token,
            external_id=me.id,
            username=me.uri or None,
            box=self._box,
        )
        account = connected.account
        client = await self.client_for(account)
        url = self.webhook_url(account)
        try:
            reply = await client.api.set_webhook(url)
        except ViberUnavailable as error:
            logger.warning("set_webhook for shop %s's Viber bot failed: %s", merchant_id, error)
            await self._undo(account, before)
            raise MessengerUnavailable() from None
        if not reply.ok:
            logger.warning(
                "Viber refused shop %s's webhook: %s %s",
                merchant_id,
                reply.status,
                reply.status_message,
            )
            await self._undo(account, before)
            raise MessengerUnavailable()
        if before is not None and not await self._people_follow(account, before):
            await self._let_go(before)  # another bot: the old one's webhook is not ours
        logger.info("shop %s connected its own Viber bot (account %s)", merchant_id, account.id)
        return account

    async def _let_go(self, replaced: MessengerAccount) -> None:
        """The shop's previous bot, replaced by another: Viber stops calling us for it."""
        try:
            api = self._api(credential_of(replaced, self._box))
        except ValueError:
            return
        try:
            await api.set_webhook("")
        except ViberUnavailable as error:
            logger.info("removing a replaced Viber bot's webhook failed: %s", error.reason)
        finally:
            await api.close()

    async def _unhook(self, account: MessengerAccount) -> None:
        """Remove the webhook (best effort: a revoked token cannot)."""
        try:
            await (await self.client_for(account)).api.set_webhook("")
        except (ViberUnavailable, ValueError) as error:
            logger.info("removing shop %s's Viber webhook failed: %s", account.merchant_id, error)


async def _close_client(client: ViberClient) -> None:
    await client.api.close()
