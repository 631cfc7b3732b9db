"""Shops' own Telegram bots: connecting a token from @BotFather, and a ``Bot`` per account.

Connecting asks Telegram who the token is (getMe, on the configured Bot API server), stores
the account (``loyalty.messenger_accounts``: the token sealed), then points the bot's webhook
at ``/tg/<account id>`` with a secret of its own and sets the customers' command menu on it.
The token never appears in a URL of ours: aiogram's token-in-the-path handler would put it in
every access log, so ``web.shop_bots`` finds the bot by the account id and checks the secret.

A refused token (malformed, unknown to Telegram, another shop's bot already) stores nothing.
Disconnecting deletes the webhook and marks the account disconnected; its customers keep
their memberships and are reached on the shared bot again (``bot_for_contact``).

In ``stampbot run`` without a public URL nothing can call a webhook: there ``polling`` is set
(``bot.shop_polling``) and connecting deletes the bot's webhook and starts polling it
instead; disconnecting stops that.

Every customer link of a shop opens its own bot while connected (``own_bot_username``), the
wallet passes' QR codes among them: connecting and disconnecting refresh the shop's passes
(``Wallets.shop_changed``, as a new name or place does), so a saved pass follows the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from pydantic import SecretStr

from bot.shop_accounts import ShopAccounts
from loyalty.messenger_accounts import (
    AccountTaken,
    BotTokenRefused,
    CredentialBox,
    MessengerUnavailable,
    connect_account,
    credential_of,
)
from models import MessengerAccount
from models.enums import Platform
from web.shop_bots import SHOP_WEBHOOK_PREFIX

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.utils.i18n import I18n

    from bot.config import TelegramSettings
    from bot.shop_polling import ShopBotPolling
    from loyalty.links import LinkSigner
    from wallets.service import Wallets

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who Telegram says a token is (getMe)."""

    id: int
    username: str


class ShopBots(ShopAccounts["Bot"]):
    """Verifies, connects and disconnects shops' bots, and keeps one ``Bot`` per account.

    ``signer`` gives the public base URL the webhooks point at (the links' base: the same web
    app). ``allowed_updates`` is the dispatcher's (set once it is built), like the shared
    bot's webhook.
    """

    platform = Platform.TELEGRAM
    path_prefix = SHOP_WEBHOOK_PREFIX

    def __init__(
        self,
        telegram: TelegramSettings,
        box: CredentialBox,
        signer: LinkSigner,
        i18n: I18n,
        *,
        allowed_updates: Sequence[str] | None = None,
        replies: bool = True,
        linking: bool = False,
        wallets: Wallets | None = None,
    ) -> None:
        super().__init__(box, signer, _close_bot)
        self._telegram = telegram
        # As ``bot.factory.build_bot``: answers wait out a 429, a delivery worker's bots not.
        self._replies = replies
        self._i18n = i18n
        # The shared bot's menu has /link when Viber or WhatsApp is there: so has a shop's.
        self.linking = linking
        # The passes to refresh when the bot their QR codes open changes (None: a worker's).
        self._wallets = wallets
        # Set while ``stampbot run`` long-polls (no public URL): bots are polled, not called.
        self.polling: ShopBotPolling | None = None
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None

    def _make_bot(self, token: SecretStr) -> Bot:
        from bot.factory import build_bot

        return build_bot(self._telegram, replies=self._replies, token=token)

    def bot_for(self, account: MessengerAccount) -> Bot:
        """The account's bot (made on first use, kept while its token stays the same)."""
        kept = self._clients.kept(account)
        if kept is not None:
            return kept
        return self._clients.keep(account, self._make_bot(credential_of(account, self._box)))

    async def bot_of_account(self, account_id: int | None) -> Bot | None:
        """The bot of a connected account; None for the shared bot or a disconnected one."""
        account = await self._active(account_id)
        return self.bot_for(account) if account is not None else None

    async def verify(self, token: SecretStr) -> BotIdentity:
        """getMe with the token; :class:`BotTokenRefused` on a 401, else
        :class:`MessengerUnavailable` when Telegram cannot be asked."""
        bot = self._make_bot(token)
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise BotTokenRefused() from None
        except (TelegramAPIError, OSError, TimeoutError) as error:
            logger.warning("getMe for a shop's bot failed: %s", type(error).__name__)
            raise MessengerUnavailable() from None
        finally:
            await bot.session.close()
        if not me.is_bot or not me.username:
            raise BotTokenRefused()
        return BotIdentity(me.id, me.username)

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount:
        """Verify, store, set the webhook and the menu. Refusals (``LoyaltyError``) leave the
        shop as it was; a webhook Telegram refuses undoes the connecting."""
        me = await self.verify(token)
        shared = self._telegram.token
        if shared is not None and shared.get_secret_value().split(":", 1)[0] == str(me.id):
            raise AccountTaken()  # the shared bot itself: its webhook is everybody's
        before = await self._previous(merchant_id)
        connected = await connect_account(
            merchant_id,
            Platform.TELEGRAM,
            token,
            external_id=str(me.id),
            username=me.username,
            box=self._box,
        )
        account = connected.account
        bot = self.bot_for(account)
        url = self.webhook_url(account)
        try:
            if self.polling is not None:
                # Polled (see the module's docstring): a webhook would refuse getUpdates.
                await bot.delete_webhook(drop_pending_updates=True)
            else:
                await bot.set_webhook(
                    url,
                    secret_token=connected.webhook_secret.get_secret_value(),
                    allowed_updates=self.allowed_updates,
                    drop_pending_updates=True,
                )
        except TelegramAPIError as error:
            logger.warning("the webhook of shop %s's bot failed: %s", merchant_id, error.message)
            await self._undo(account, before)
            raise MessengerUnavailable() from None
        await self._set_menu(bot)
        if self.polling is not None:
            await self.polling.follow(account)
        if before is not None and before.external_id != account.external_id:
            await self._let_go(before)
        logger.info("shop %s connected its own Telegram bot (account %s)", merchant_id, account.id)
        await self._passes_follow(merchant_id)
        return account

    async def _passes_follow(self, merchant_id: int) -> None:
        """The shop's wallet passes open the bot now connected (or the shared one again)."""
        if self._wallets is None:
            return
        told = await self._wallets.shop_changed(merchant_id)
        if told:
            logger.info("shop %s's bot changed: %d wallet passes updated", merchant_id, told)

    async def _let_go(self, replaced: MessengerAccount) -> None:
        """The shop's previous bot, replaced by another: Telegram stops calling us for it (its
        secret is no longer ours anyway, so its calls would be refused)."""
        try:
            bot = self._make_bot(credential_of(replaced, self._box))
        except ValueError:
            return
        try:
            await bot.delete_webhook()
        except TelegramAPIError as error:
            logger.info("deleteWebhook of a replaced shop bot failed: %s", error.message)
        finally:
            await bot.session.close()

    async def _set_menu(self, bot: Bot) -> None:
        """The customers' command menu, in every language, on the shop's bot too; a refusal
        leaves the bot without a menu, not unconnected."""
        from bot.app import set_commands

        try:
            await set_commands(bot, self._i18n, linking=self.linking)
        except TelegramAPIError as error:
            logger.warning("the command menu of a shop's bot was not set: %s", error.message)

    async def _unhook(self, account: MessengerAccount) -> None:
        """Stop polling it, delete the webhook (best effort: a revoked token cannot)."""
        if self.polling is not None:
            await self.polling.stop(account.id)
        try:
            await self.bot_for(account).delete_webhook()
        except (TelegramAPIError, ValueError) as error:
            logger.info("deleteWebhook of shop %s's bot failed: %s", account.merchant_id, error)

    async def _disconnected(self, account: MessengerAccount) -> None:
        """Its customers are reached on the shared bot again, and so are its passes' QR codes."""
        await self._passes_follow(account.merchant_id)


async def _close_bot(bot: Bot) -> None:
    await bot.session.close()
