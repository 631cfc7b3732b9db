"""The aiohttp app: Telegram's webhook, health check, PassKit service, links, the card page."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from channels.apple_wallet.passes import WEB_SERVICE_PREFIX, WalletPasses
from channels.apple_wallet.webservice import passkit_app
from channels.photos import PhotoStore
from handlers.card_page import CardPage, telegram_username
from handlers.http_links import setup_link_routes
from handlers.wallet_http import setup_wallet_routes
from loyalty.links import LinkSigner

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
MAX_UPDATE_BYTES = 1 << 20


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's handler, but a body that is not a Telegram update is a 400, not a 500.

    Updates are processed before answering (not in the background), so a failure shows in the
    response and Telegram's retry covers it; the dispatcher's error router answers the user.
    """

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            logger.warning("webhook call with a wrong secret from %s", request.remote)
            return web.Response(body="Unauthorized", status=401)
        try:
            body = await request.read()
            if len(body) > MAX_UPDATE_BYTES:
                raise ValueError("update too large")
            payload: Any = json.loads(body)
            update = Update.model_validate(payload, context={"bot": bot})
        except (ValueError, ValidationError, UnicodeDecodeError) as exc:
            logger.warning("rejected a malformed webhook update: %s", type(exc).__name__)
            return web.Response(body="Bad Request", status=400)
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    __call__ = handle


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_web_app(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    webhook_secret: str | None,
    signer: LinkSigner | None = None,
    i18n: I18n | None = None,
    wallet_passes: WalletPasses | None = None,
    photos: PhotoStore | None = None,
    **data: Any,
) -> web.Application:
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_get("/healthz", _health)
    setup_wallet_routes(app, signer=signer, passes=wallet_passes)
    if wallet_passes is not None:
        app.add_subapp(WEB_SERVICE_PREFIX, passkit_app(wallet_passes))
    if signer is not None and i18n is not None:
        setup_link_routes(app, signer, i18n)
        CardPage(signer, i18n, telegram_username(bot), photos=photos).register(app)
    if webhook_secret is not None:
        CheckedRequestHandler(
            dispatcher=dispatcher,
            bot=bot,
            secret_token=webhook_secret,
            handle_in_background=False,
            **data,
        ).register(app, path=WEBHOOK_PATH)
    return app
