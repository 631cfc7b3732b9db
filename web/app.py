"""The aiohttp app: Telegram's webhook, health check, PassKit service, links, the card page."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from loyalty.links import LinkSigner
from wallets.apple_passes import WEB_SERVICE_PREFIX, WalletPasses
from web.card_image import CardImages
from web.card_page import CardPage, GoogleSaveLink, telegram_username
from web.links import setup_link_routes
from web.ops import WEBHOOK_SECONDS, Check, setup_ops_routes
from web.passes import setup_wallet_routes
from web.passkit import passkit_app
from web.scanner import ScannerPage
from web.shop_bots import SHOP_WEBHOOK_PREFIX, ShopBotRequestHandler
from web.shop_vibers import ShopViberWebhooks
from web.shop_whatsapps import ShopWhatsAppWebhooks
from web.updates import MAX_UPDATE_BYTES, SECRET_HEADER, checked_update
from web.viber import ViberWebhook, setup_viber_routes
from web.whatsapp import WhatsAppWebhook, setup_whatsapp_routes

if TYPE_CHECKING:
    from channels.photos import PhotoStore
    from handlers.notice_queue import NoticeQueue
    from handlers.shop_bot import ShopBotService

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
# A client has this long to send a request's headers (from connecting, or from our previous
# answer on a kept-alive connection), and then this long to send its body. Telegram, Wallet and
# browsers need milliseconds; a client dribbling bytes to hold connections open is cut off.
HEADER_TIMEOUT = 15.0
BODY_TIMEOUT = 20.0
# After answering a request whose body did not all come (408, 413), aiohttp keeps reading and
# dropping it this long, so the client sees the answer rather than a reset; then it closes.
LINGER = 2.0
# A webhook call taking this long (seconds) is logged even when it succeeded.
SLOW_REQUEST = 1.0
# A path segment this long may be a link token; where no route names it, it is not logged.
_LONG_SEGMENT = re.compile(r"[^/]{16,}")


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's handler, but a body that is not a Telegram update is a 400, not a 500.

    Updates are processed before answering (not in the background), so a failure shows in the
    response and Telegram's retry covers it; the dispatcher's error router answers the user.
    """

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        """Compared as bytes: aiogram compares str, which raises on a non-ASCII header."""
        if not self.secret_token:
            return True
        sent = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(sent, self.secret_token.encode())

    async def handle(self, request: web.Request) -> web.Response:
        with WEBHOOK_SECONDS.time():
            return await self._handle(request)

    async def _handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            logger.warning("webhook call with a wrong secret from %s", request.remote)
            return web.Response(body="Unauthorized", status=401)
        update = await checked_update(request, bot)
        if update is None:
            return web.Response(body="Bad Request", status=400)
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    __call__ = handle


def _logged_path(request: BaseRequest) -> str:
    """The route a request matched (``/c/{token}``), never its path: paths carry link tokens.

    A request no route took is logged by its path with every long segment blanked out, so a
    mangled link (a token with a slash added) does not leak its token either.
    """
    route = request.match_info.route if isinstance(request, web.Request) else None
    resource = route.resource if route is not None else None
    if resource is not None:
        return resource.canonical
    return _LONG_SEGMENT.sub("…", request.rel_url.path)


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log line, with the route instead of the path and no query string;
    Telegram's webhook calls only when they failed or were slow."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        webhook = request.path == WEBHOOK_PATH or request.path.startswith(SHOP_WEBHOOK_PREFIX)
        if response.status < 400 and time < SLOW_REQUEST and webhook:
            # Telegram's webhook calls come hundreds a second and all look alike: only the ones
            # that failed or were slow say something (bench/webhook.py measures the saving).
            return
        self.logger.info(
            '%s "%s %s" %s %s %.3fs "%s"',
            request.remote or "-",
            request.method,
            _logged_path(request),
            response.status,
            response.body_length,
            time,
            request.headers.get("User-Agent", "-"),
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, except for requests its parser refused (a 400 to the client).

    Those are logged at INFO with the error's name only: garbage from a client is not our
    error, and the bytes aiohttp quotes from it may hold a link token.
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if isinstance(kwargs.get("exc_info"), HttpProcessingError):
            self.logger.log(
                min(level, logging.INFO),
                "refused a malformed request (%s)",
                type(kwargs["exc_info"]).__name__,
            )
            return
        super().log(level, msg, *args, **kwargs)


def body_timeout_middleware(timeout: float) -> Middleware:
    """Read every request body within ``timeout`` before any handler sees the request.

    Handlers then get the body from memory (``request.read()`` caches it). A client that stops
    sending halfway gets a 408 and the connection is closed.
    """

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(timeout):
                    await request.read()
            except TimeoutError:
                logger.info("request body not received within %.0f s", timeout)
                response = web.Response(status=408, text="Request Timeout")
                response.force_close()
                return response
            except RequestPayloadError as exc:  # broken chunked encoding or compression
                logger.info("unreadable request body: %s", type(exc).__name__)
                return web.Response(status=400, text="Bad Request")
        return await handler(request)

    return read_body_in_time


def web_runner(app: web.Application, *, header_timeout: float = HEADER_TIMEOUT) -> web.AppRunner:
    """The runner every ``web`` process serves ``app`` with.

    aiohttp has no header timeout of its own, but its keep-alive timer starts when a connection
    opens and again after each answer, and is not reset by incoming bytes: when it fires while
    the next request's headers are still incomplete, the connection is closed. Set to
    ``header_timeout`` it is both the idle and the header timeout.
    """
    return web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        keepalive_timeout=header_timeout,
        lingering_time=LINGER,
        logger=ServerLog(logging.getLogger("aiohttp.server")),
    )


def build_web_app(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    webhook_secret: str | None,
    signer: LinkSigner | None = None,
    i18n: I18n | None = None,
    wallet_passes: WalletPasses | None = None,
    photos: PhotoStore | None = None,
    google_save: GoogleSaveLink | None = None,
    body_timeout: float = BODY_TIMEOUT,
    checks: Mapping[str, Check] | None = None,
    refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    viber: ViberWebhook | None = None,
    whatsapp: WhatsAppWebhook | None = None,
    shop_bots: ShopBotService | None = None,
    shop_vibers: ShopViberWebhooks | None = None,
    shop_whatsapps: ShopWhatsAppWebhooks | None = None,
    notices: NoticeQueue | None = None,
    **data: Any,
) -> web.Application:
    """``notices``: the customer notices the handlers left to send after their answers; when
    the app stops, it waits for them a few seconds (and logs how many were left)."""
    app = web.Application(
        client_max_size=MAX_UPDATE_BYTES, middlewares=[body_timeout_middleware(body_timeout)]
    )
    if notices is not None:
        queue = notices

        async def send_pending_notices(app: web.Application) -> None:
            # On cleanup, not on shutdown: aiohttp signals shutdown before the requests still
            # being answered finish, and those may put notices too.
            await queue.settle()

        app.on_cleanup.append(send_pending_notices)
    setup_ops_routes(app, checks=checks, refresh=refresh_metrics)
    setup_wallet_routes(app, signer=signer, passes=wallet_passes)
    if wallet_passes is not None:
        app.add_subapp(WEB_SERVICE_PREFIX, passkit_app(wallet_passes))
    if signer is not None and i18n is not None:
        setup_link_routes(app, signer, i18n)
        CardPage(
            signer,
            i18n,
            telegram_username(bot),
            photos=photos,
            apple_passes=wallet_passes is not None,
            google_save=google_save,
        ).register(app)
        CardImages(signer, telegram_username(bot)).register(app)
        ScannerPage(i18n, telegram_username(bot)).register(app)
    # The other messengers' webhooks check their own signatures (web.viber, web.whatsapp).
    if viber is not None:
        setup_viber_routes(app, viber)
    if whatsapp is not None:
        setup_whatsapp_routes(app, whatsapp)
    if shop_vibers is not None:
        # Shops' own Viber bots on /viber/<account id>, after the shared bot's /viber/webhook.
        shop_vibers.register(app)
    if shop_whatsapps is not None:
        # And their own WhatsApp numbers on /whatsapp/<account id>.
        shop_whatsapps.register(app)
    if webhook_secret is not None:
        CheckedRequestHandler(
            dispatcher=dispatcher,
            bot=bot,
            secret_token=webhook_secret,
            handle_in_background=False,
            **data,
        ).register(app, path=WEBHOOK_PATH)
        if shop_bots is not None:
            # Shops' own bots: the same dispatcher, each on /tg/<account id> (web.shop_bots).
            ShopBotRequestHandler(dispatcher, shop_bots, **data).register(app)
    return app
