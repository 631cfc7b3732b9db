"""What every service of shops' own accounts shares: a client per account, and the bookkeeping
of connecting and disconnecting one.

``bot.shop_bots`` (Telegram), ``bot.shop_vibers`` and ``bot.shop_whatsapps`` each verify a
credential their own way (getMe, ``get_account_info``, a Graph API GET of the number) and point
(or cannot point) a webhook at us their own way; those stay theirs. What is the same must stay
the same in all three, because a slip in any of them leaks a session or writes with a token
the owner has replaced:

- a client is made from the sealed credential on first use and kept while that credential is
  unchanged; the owner's new token makes a new client, and the old one is retired, its session
  closed only at ``close`` (a request in flight on it may still finish);
- a connecting that the platform refuses after the row was stored puts the row back as it was;
- disconnecting finds the connected account, lets the platform go (best effort), marks the
  account disconnected and forgets its client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from loyalty.messenger_accounts import (
    active_account,
    active_account_of,
    disconnect_account,
    forget_account,
    set_reachable_through,
)
from models import MessengerAccount

if TYPE_CHECKING:
    from loyalty.links import LinkSigner
    from loyalty.messenger_accounts import CredentialBox
    from models.enums import Platform

logger = logging.getLogger(__name__)

C = TypeVar("C")
T = TypeVar("T")


class AccountClients(Generic[C]):
    """One client per account id, kept while the account's sealed credential is the one it
    was made with. ``close_client`` closes a client's session (at ``close`` only)."""

    def __init__(self, close_client: Callable[[C], Awaitable[None]]) -> None:
        self._close_client = close_client
        # account id -> (the sealed credential it was made with, the client).
        self._kept: dict[int, tuple[str, C]] = {}
        # Clients replaced or forgotten: closed at ``close``.
        self._retired: list[C] = []

    def kept(self, account: MessengerAccount) -> C | None:
        """The account's client, unless there is none yet or its credential has changed."""
        kept = self._kept.get(account.id)
        if kept is not None and kept[0] == account.credential_encrypted:
            return kept[1]
        return None

    def keep(self, account: MessengerAccount, client: C) -> C:
        """``client`` is the account's from now on; the one it replaces is retired."""
        self.forget(account.id)
        self._kept[account.id] = (account.credential_encrypted, client)
        return client

    def forget(self, account_id: int) -> None:
        kept = self._kept.pop(account_id, None)
        if kept is not None:
            self._retired.append(kept[1])

    async def close(self) -> None:
        """Close every client at once: aiogram waits 250 ms after closing a bot's session (for
        its TLS connections), so one after another a process with 30 shops' bots took 8 s to
        stop, and one with a few hundred would outlast an orchestrator's grace period. A
        client that fails to close is logged; the others are closed all the same."""
        clients = [*(kept[1] for kept in self._kept.values()), *self._retired]
        self._kept.clear()
        self._retired.clear()
        closed = await asyncio.gather(
            *(self._close_client(client) for client in clients), return_exceptions=True
        )
        for outcome in closed:
            if isinstance(outcome, Exception):
                logger.warning("closing a shop account's client failed", exc_info=outcome)


class ShopAccounts(Generic[C]):
    """The base of one platform's service: its ``platform`` and its clients.

    A subclass says how to let the platform go when an account is disconnected
    (``_unhook``) and what follows (``_disconnected``); both default to nothing."""

    platform: ClassVar[Platform]
    # Where the platform calls us: ``<prefix><account id>`` (``web.shop_accounts``).
    path_prefix: ClassVar[str]

    def __init__(
        self,
        box: CredentialBox,
        signer: LinkSigner,
        close_client: Callable[[C], Awaitable[None]],
    ) -> None:
        self._box = box
        # The public base URL the webhooks point at (the links' base: the same web app).
        self._signer = signer
        self._clients: AccountClients[C] = AccountClients(close_client)

    def webhook_url(self, account: MessengerAccount) -> str:
        """Where the platform calls us for the account: its id, never its token or secret."""
        return f"{self._signer.base_url.rstrip('/')}{self.path_prefix}{account.id}"

    async def _previous(self, merchant_id: int) -> MessengerAccount | None:
        """The shop's row before connecting (any status): what ``_undo`` puts back, and whose
        ``external_id`` says whether the same bot or number is connected again."""
        return await MessengerAccount.get_or_none(merchant_id=merchant_id, platform=self.platform)

    async def _undo(self, account: MessengerAccount, before: MessengerAccount | None) -> None:
        """The platform refused after the row was stored: the shop is left as it was."""
        self.forget(account.id)
        if before is None:
            await forget_account(account.id)
        else:
            await before.save()  # the row as it was (its old token and status)

    async def _active(self, account_id: int | None) -> MessengerAccount | None:
        """The connected account of this platform with that id; None for the shared one."""
        if account_id is None:
            return None
        return await active_account(account_id, self.platform)

    async def _unhook(self, account: MessengerAccount) -> None:
        """Before the account is marked disconnected: the platform stops calling us."""

    async def _disconnected(self, account: MessengerAccount) -> None:
        """After the account was marked disconnected (and its client forgotten)."""

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None:
        """Let the platform go (best effort), mark the account disconnected; the account, or
        None when the shop had none connected."""
        account = await active_account_of(merchant_id, self.platform)
        if account is None:
            return None
        await self._unhook(account)
        gone = await disconnect_account(merchant_id, self.platform)
        self.forget(account.id)
        if gone is not None:
            await self._disconnected(account)
        return gone

    def forget(self, account_id: int) -> None:
        self._clients.forget(account_id)

    async def close(self) -> None:
        await self._clients.close()


R = TypeVar("R")


class ChatAccounts(ShopAccounts[C], Generic[C, R]):
    """Viber's and WhatsApp's: user ids are the bot's or number's own, so a notice to a person
    who came through an account goes through that account's client or not at all (the shared
    one cannot write to them). ``credential`` names what is sealed, for the log."""

    credential: ClassVar[str]

    async def _client(self, account: MessengerAccount) -> C:
        """The account's client; ``ValueError`` when its credential cannot be unsealed."""
        raise NotImplementedError

    async def replies_for(self, account: MessengerAccount) -> R:
        """Answers in the account's chats, through its client."""
        raise NotImplementedError

    async def _people_follow(
        self, account: MessengerAccount, before: MessengerAccount | None
    ) -> bool:
        """After connecting over an earlier row: the same bot or number again makes its people
        ours to write to again; another one leaves them unreachable (its ids are not theirs).
        True when it was the same one."""
        if before is None:
            return False
        same = before.external_id == account.external_id
        await set_reachable_through(account.id, self.platform, reachable=same)
        return same

    async def _disconnected(self, account: MessengerAccount) -> None:
        """Its people cannot be written to on this platform any more, not even by the shared
        bot or number: they are reached on their other messengers, by email, on their pass."""
        await set_reachable_through(account.id, self.platform, reachable=False)

    async def replies_of(self, account_id: int, merchant_id: int) -> R | None:
        """How a notice of shop ``merchant_id`` reaches a person who came through account
        ``account_id``: its client while connected and the shop's; None otherwise."""
        account = await self._active(account_id)
        if account is None or account.merchant_id != merchant_id:
            return None
        return await self._unsealed(account, self.replies_for)

    async def client_of_account(self, account_id: int | None) -> C | None:
        """The client of a connected account; None for the shared one or a disconnected one."""
        account = await self._active(account_id)
        return None if account is None else await self._unsealed(account, self._client)

    async def _unsealed(
        self, account: MessengerAccount, use: Callable[[MessengerAccount], Awaitable[T]]
    ) -> T | None:
        """``use(account)``; None, logged, when its credential cannot be unsealed (sealed under
        a signing secret since rotated: the owner connects it again)."""
        try:
            return await use(account)
        except ValueError:
            logger.error("the %s of account %s cannot be unsealed", self.credential, account.id)
            return None
