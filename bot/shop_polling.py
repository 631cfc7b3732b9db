"""Shops' own Telegram bots in ``stampbot run`` without a public URL: long polling, one per bot.

Without a public URL there is no webhook Telegram could call (setWebhook wants a public
https address): the shared bot is polled (``bot.app``), and so is every connected shop bot,
each by a task of its own that feeds the shared bot's dispatcher, like ``web.shop_bots`` does
with a webhook call: the update, the shop's ``Bot`` (handlers answer with the ``bot`` they are
given) and ``messenger_account``.

Why not aiogram's ``Dispatcher.start_polling(shared, *shop_bots)``: its bots are fixed when it
starts, while owners connect and disconnect bots as it runs; and its keyword data is one for
every bot, while each shop bot's updates must carry their own account (the handlers and
``CustomerMiddleware`` know the shop by it). So a task per account, on aiogram's public
``getUpdates`` and ``feed_update``: started for every connected bot when polling starts, for
a bot connected meanwhile at connecting (``ShopBots.connect``), stopped at disconnecting.

Sound because polling is one process's: only ``run`` polls (``web`` never does), and the
handlers that connect and disconnect run in that very process. One limit remains: a bot
connected while polling has no webhook, so a deployment moved to a public URL later reaches
it only once its owner connects it again (its webhook secret is stored hashed, so it cannot
be set anew without them).

Each bot's updates are handled one after another, in order (a shop's chats are few); a stop
lets the update being handled finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.utils.backoff import Backoff, BackoffConfig

from models import MessengerAccount
from models.enums import AccountStatus, Platform

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.types import Update

logger = logging.getLogger(__name__)

POLL_SECONDS = 30
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=1.6, jitter=0.1)


class ShopBotPolling:
    """One long-polling task per connected shop bot, feeding ``dispatcher``.

    ``bot_for`` is ``ShopBots.bot_for`` (the account's ``Bot``, kept per token);
    ``allowed_updates`` the dispatcher's, as for the shared bot."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot_for: Callable[[MessengerAccount], Bot],
        *,
        allowed_updates: Sequence[str] | None = None,
        poll_seconds: int = POLL_SECONDS,
        backoff: BackoffConfig = BACKOFF,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot_for = bot_for
        self._allowed = list(allowed_updates) if allowed_updates is not None else None
        self._poll_seconds = poll_seconds
        self._backoff = backoff
        self._polls: dict[int, asyncio.Task[None]] = {}
        # Updates being handled: a stop waits for them instead of cutting them off.
        self._handling: set[asyncio.Task[None]] = set()

    def polling(self) -> set[int]:
        """The accounts being polled now."""
        return {account_id for account_id, task in self._polls.items() if not task.done()}

    async def start_connected(self) -> int:
        """Poll every shop bot connected now; how many."""
        accounts = await MessengerAccount.filter(
            platform=Platform.TELEGRAM, status=AccountStatus.ACTIVE
        ).order_by("id")
        started = 0
        for account in accounts:
            try:
                await self.follow(account)
            except ValueError:
                # Sealed under another key (the signing secret was rotated): its owner
                # connects it again; the others poll.
                logger.error("the token of account %s cannot be unsealed", account.id)
                continue
            started += 1
        return started

    async def follow(self, account: MessengerAccount) -> None:
        """Poll this account's bot from now on (its earlier poll, a replaced token's, ends)."""
        bot = self._bot_for(account)
        await self.stop(account.id)
        self._polls[account.id] = asyncio.create_task(
            self._poll(account, bot), name=f"shop-bot-poll-{account.id}"
        )

    async def stop(self, account_id: int) -> None:
        """No more polling for this account (disconnected); the update in hand finishes."""
        task = self._polls.pop(account_id, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def close(self) -> None:
        for account_id in list(self._polls):
            await self.stop(account_id)
        if self._handling:
            await asyncio.gather(*self._handling, return_exceptions=True)

    async def _poll(self, account: MessengerAccount, bot: Bot) -> None:
        # getUpdates is refused while a webhook is set (one from a deployment with a public
        # URL): polling is how this process hears the bot, so the webhook goes.
        try:
            await bot.delete_webhook(drop_pending_updates=False)
        except TelegramUnauthorizedError:
            logger.warning("shop bot of account %s: Telegram refuses its token", account.id)
            return
        except TelegramAPIError as error:
            logger.info("deleteWebhook of account %s's bot failed: %s", account.id, error.message)
        logger.info("long polling the shop bot of account %s", account.id)
        backoff = Backoff(config=self._backoff)
        ask = GetUpdates(timeout=self._poll_seconds, allowed_updates=self._allowed)
        # The session's own timeout plus the long poll's: a quiet poll is not a timeout.
        wait = int(bot.session.timeout + self._poll_seconds)
        while True:
            try:
                updates = await bot(ask, request_timeout=wait)
            except TelegramUnauthorizedError:
                # Revoked at @BotFather: nothing to wait for until the owner connects anew.
                logger.warning("shop bot of account %s: Telegram refuses its token", account.id)
                return
            except (TelegramAPIError, OSError, TimeoutError) as error:
                logger.warning(
                    "getUpdates of account %s's bot failed (%s); again in %.1f s",
                    account.id,
                    type(error).__name__,
                    backoff.next_delay,
                )
                await backoff.asleep()
                continue
            backoff.reset()
            for update in updates:
                ask.offset = update.update_id + 1
                handling = asyncio.create_task(self._handle(bot, update, account))
                self._handling.add(handling)
                handling.add_done_callback(self._handling.discard)
                await asyncio.shield(handling)

    async def _handle(self, bot: Bot, update: Update, account: MessengerAccount) -> None:
        """As the webhook does: a method a handler returns is called; a failure is logged and
        the next update comes (the update is confirmed either way, as aiogram's polling)."""
        try:
            result: Any = await self._dispatcher.feed_update(
                bot, update, messenger_account=account
            )
            if isinstance(result, TelegramMethod):
                await bot(result)
        except Exception:
            logger.exception("update %s of account %s's bot failed", update.update_id, account.id)
