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

from channels.viber.api import Status, ViberApi, ViberUnavailable
from channels.viber.render import Sender
from channels.viber.replies import ViberReplies
from loyalty.messenger_accounts import (
    AccountTaken,
    BotTokenRefused,
    CredentialBox,
    MessengerUnavailable,
    active_account,
    active_account_of,
    connect_account,
    credential_of,
    disconnect_account,
    forget_account,
    set_reachable_through,
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


def shop_viber_path(account_id: int) -> str:
    """Where Viber posts a shop bot's callbacks: the account's id, never its token."""
    return f"{SHOP_VIBER_PREFIX}{account_id}"


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


class ShopVibers:
    """Verifies, connects and disconnects shops' Viber bots, and keeps one client each.

    ``api_url`` is Viber's (the shared bot's setting; tests point it at the fake)."""

    def __init__(self, viber: ViberSettings, box: CredentialBox, signer: LinkSigner) -> None:
        self.api_url = viber.api_url
        self._shared = viber.auth_token
        self._box = box
        self._signer = signer
        # account id -> (the sealed token it was made with, the client).
        self._clients: dict[int, tuple[str, ViberClient]] = {}
        self._retired: list[ViberApi] = []

    def _api(self, token: SecretStr) -> ViberApi:
        return ViberApi(token, base_url=self.api_url)

    async def client_for(self, account: MessengerAccount) -> ViberClient:
        """The account's client (made on first use, kept while its token stays the same);
        ``ValueError`` when the token cannot be unsealed."""
        kept = self._clients.get(account.id)
        if kept is not None and kept[0] == account.credential_encrypted:
            return kept[1]
        api = self._api(credential_of(account, self._box))
        shop = await Merchant.get_or_none(id=account.merchant_id)
        name = (shop.name if shop is not None else "") or account.username or "Viber"
        client = ViberClient(api, Sender(name[:SENDER_NAME_LIMIT]))
        if kept is not None:
            self._retired.append(kept[1].api)
        self._clients[account.id] = (account.credential_encrypted, client)
        return client

    def token_of(self, account: MessengerAccount) -> SecretStr:
        """The account's auth token (its callbacks' signature key); ``ValueError`` when it
        cannot be unsealed."""
        return credential_of(account, self._box)

    async def replies_for(self, account: MessengerAccount) -> ViberReplies:
        """Answers in the account's chats, through its client, under the shop's name."""
        client = await self.client_for(account)
        return ViberReplies(client.api, client.sender)

    async def replies_of(self, account_id: int, merchant_id: int) -> ViberReplies | None:
        """How a notice of shop ``merchant_id`` reaches a person who came through account
        ``account_id``: its bot while connected and the shop's; None otherwise (the shared
        bot cannot write to an id of another bot)."""
        account = await active_account(account_id, Platform.VIBER)
        if account is None or account.merchant_id != merchant_id:
            return None
        try:
            return await self.replies_for(account)
        except ValueError:
            logger.error("the Viber token of account %s cannot be unsealed", account.id)
            return None

    async def client_of_account(self, account_id: int | None) -> ViberClient | None:
        """The client of a connected Viber account; None for the shared bot or a
        disconnected one."""
        if account_id is None:
            return None
        account = await active_account(account_id, Platform.VIBER)
        if account is None:
            return None
        try:
            return await self.client_for(account)
        except ValueError:
            logger.error("the Viber token of account %s cannot be unsealed", account.id)
            return None

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
        before = await MessengerAccount.get_or_none(
            merchant_id=merchant_id, platform=Platform.VIBER
        )
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
        url = f"{self._signer.base_url.rstrip('/')}{shop_viber_path(account.id)}"
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
        if before is not None:
            # The same bot again: its people are ours to write to again; another bot: the
            # people of the old one are not its people (Viber ids are per bot).
            same = before.external_id == account.external_id
            await set_reachable_through(account.id, Platform.VIBER, reachable=same)
            if not same:
                await self._let_go(before)
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

    async def _undo(self, account: MessengerAccount, before: MessengerAccount | None) -> None:
        await self.forget(account.id)
        if before is None:
            await forget_account(account.id)
        else:
            await before.save()  # the row as it was (its old token and status)

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None:
        """Remove the webhook (best effort: a revoked token cannot), mark the account
        disconnected and its people unreachable on Viber; the account, or None when the shop
        had none connected."""
        account = await active_account_of(merchant_id, Platform.VIBER)
        if account is None:
            return None
        try:
            await (await self.client_for(account)).api.set_webhook("")
        except (ViberUnavailable, ValueError) as error:
            logger.info("removing shop %s's Viber webhook failed: %s", merchant_id, error)
        gone = await disconnect_account(merchant_id, Platform.VIBER)
        if gone is not None:
            await set_reachable_through(account.id, Platform.VIBER, reachable=False)
        await self.forget(account.id)
        return gone

    async def forget(self, account_id: int) -> None:
        kept = self._clients.pop(account_id, None)
        if kept is not None:
            self._retired.append(kept[1].api)

    async def close(self) -> None:
        for api in [*(kept[1].api for kept in self._clients.values()), *self._retired]:
            await api.close()
        self._clients.clear()
        self._retired.clear()
