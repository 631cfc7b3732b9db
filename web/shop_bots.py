"""The webhook of shops' own Telegram bots: ``POST /tg/<account id>``.

aiogram's multi-bot handler (``TokenBasedRequestHandler``) finds the bot by the token in the
path, and a path is what every access log and proxy writes down. Here the path names the
account, the bot is the account's (``bot.shop_bots``), and the
``X-Telegram-Bot-Api-Secret-Token`` header must be that account's secret (compared as SHA-256
digests in constant time). The update goes to the shared bot's dispatcher, with the bot it
came through (handlers answer with the ``bot`` they are given) and ``messenger_account``.

Refusals are never a 5xx, so Telegram is not told to retry what will not work: an unknown or
disconnected account is a 404, a missing or wrong secret a 401, a token we can no longer
unseal a 403, a body that is no update a 400.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.webhook.aiohttp_server import BaseRequestHandler
from aiohttp import web

from loyalty.messenger_accounts import secret_matches
from models.enums import Platform
from web.ops import WEBHOOK_SECONDS
from web.shop_accounts import account_in
from web.updates import SECRET_HEADER, checked_update

if TYPE_CHECKING:
    from handlers.shop_bot import ShopBotService

logger = logging.getLogger(__name__)

SHOP_WEBHOOK_PREFIX = "/tg/"


class ShopBotRequestHandler(BaseRequestHandler):
    """Updates of every shop's own bot, each resolved by the account id in the path."""

    def __init__(self, dispatcher: Dispatcher, shop_bots: ShopBotService, **data: Any) -> None:
        super().__init__(dispatcher=dispatcher, handle_in_background=False, **data)
        self.shop_bots = shop_bots

    def register(self, app: web.Application, /, path: str = "", **kwargs: Any) -> None:
        # No shutdown hook: the bots' sessions are the runtime's (ShopBots.close).
        app.router.add_route("POST", f"{SHOP_WEBHOOK_PREFIX}{{account_id}}", self.handle)

    async def close(self) -> None:
        """Nothing of its own to close (see ``register``)."""

    async def resolve_bot(self, request: web.Request) -> Bot:
        raise NotImplementedError("shop bots are resolved with their account in handle()")

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        raise NotImplementedError("the secret is the account's, checked in handle()")

    async def handle(self, request: web.Request) -> web.Response:
        with WEBHOOK_SECONDS.time():
            return await self._handle(request)

    async def _handle(self, request: web.Request) -> web.Response:
        account = await account_in(request, Platform.TELEGRAM)
        if account is None:
            return web.Response(body="Not Found", status=404)
        sent = request.headers.get(SECRET_HEADER, "")
        if not sent or not secret_matches(account, sent):
            logger.warning(
                "shop bot webhook call for account %s with a wrong secret from %s",
                account.id,
                request.remote,
            )
            return web.Response(body="Unauthorized", status=401)
        try:
            bot = self.shop_bots.bot_for(account)
        except ValueError:
            # Sealed under another key (the signing secret was rotated): the owner connects
            # the bot again; nothing Telegram could retry would help.
            logger.error("the token of account %s cannot be unsealed", account.id)
            return web.Response(body="Forbidden", status=403)
        update = await checked_update(request, bot)
        if update is None:
            return web.Response(body="Bad Request", status=400)
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, messenger_account=account, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    __call__ = handle
