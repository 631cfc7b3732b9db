"""Builds the Telegram bot, its dispatcher and web app, and runs them (``stampbot run``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.delivery import build_email_channel, build_worker, photo_store, stop_on_signals
from bot.factory import (
    build_fsm_storage,
    build_link_signer,
    build_wallets,
    invite_ttl,
    webhook_secret,
)
from bot.telegram_retry import RetryAfterMiddleware
from channels.email import EmailChannel
from channels.ratelimit import MemoryRateLimiter, Rate, RateLimiter, RedisRateLimiter
from channels.telegram import TelegramChannel
from handlers import get_routers
from handlers.campaign_progress import CampaignProgress
from handlers.media import FileIdCache, MemoryFileIdCache, RedisFileIdCache
from handlers.middlewares import CustomerMiddleware, LocaleMiddleware, ThrottlingMiddleware
from handlers.notify import CustomerNotifier, send_expiry_reminders
from locales import SUPPORTED, compile_catalogs
from loyalty.links import LinkSigner
from loyalty.profile import ConfirmationLimits
from wallets.apple_registry import retire_overdue_passes
from wallets.service import Wallets
from web.app import WEBHOOK_PATH, build_web_app, web_runner

logger = logging.getLogger(__name__)

FLOOD_WARN_EVERY = 10.0
EXPIRY_NOTICE = timedelta(days=3)
REMINDER_INTERVAL = 600.0
# Voided passes wait a week for their devices (RETIRING_GRACE); an hour late is no matter.
WALLET_RETIRE_INTERVAL = 3600.0


@dataclass
class BotRuntime:
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    notifier: CustomerNotifier
    email: EmailChannel
    settings: Settings
    redis: Redis | None
    signer: LinkSigner
    limiter: RateLimiter
    progress: CampaignProgress
    wallets: Wallets


def build_i18n(settings: Settings, locales_dir: Path | None = None) -> I18n:
    compiled = compile_catalogs(locales_dir or settings.var_dir / "locales")
    default = settings.default_language if settings.default_language in SUPPORTED else "en"
    return I18n(path=compiled, default_locale=default, domain="messages")


def build_bot(settings: Settings, *, replies: bool = True) -> Bot:
    """The bot that answers people (``replies``: a 429 is waited out and sent again), or the
    delivery worker's, whose 429s go back to the outbox (see ``bot.telegram_retry``)."""
    if settings.bot_token is None:
        raise SystemExit("STAMPBOT_BOT_TOKEN is not set: get a token from @BotFather.")
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    if replies and settings.telegram_retry_attempts:
        session.middleware(
            RetryAfterMiddleware(
                max_wait=settings.telegram_retry_max_seconds,
                attempts=settings.telegram_retry_attempts,
            )
        )
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def telegram_username(bot: Bot, settings: Settings) -> str:
    """The bot's username as Telegram reports it (getMe): every t.me link and QR code points
    there. STAMPBOT_BOT_USERNAME only names the demo's offline bot; a real token decides.

    Asked once at start (aiogram keeps the answer for handlers' ``bot.me()``); a token
    Telegram refuses, or a Bot API that cannot be reached, stops the start with a clear
    message rather than printing links to some other bot."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    try:
        me = await bot.me()
    except TelegramUnauthorizedError:
        raise SystemExit(
            "Telegram refused STAMPBOT_BOT_TOKEN (getMe: Unauthorized): "
            "copy the token again from @BotFather."
        ) from None
    except TelegramAPIError as error:
        where = settings.telegram_api_url or "https://api.telegram.org"
        detail = error.message.replace(token, "***") if token else error.message
        raise SystemExit(f"could not ask {where} who this bot is (getMe: {detail})") from None
    if not me.username:
        raise SystemExit(
            "Telegram reports no username for this bot (getMe): set one with @BotFather."
        )
    if "bot_username" in settings.model_fields_set and settings.bot_username != me.username:
        logger.warning(
            "STAMPBOT_BOT_USERNAME=%s is ignored: this token is @%s's, links use that",
            settings.bot_username,
            me.username,
        )
    return me.username


@asynccontextmanager
async def bot_runtime(
    settings: Settings, *, locales_dir: Path | None = None
) -> AsyncIterator[BotRuntime]:
    """Bot, dispatcher with middlewares and routers, and the services handlers receive."""
    bot = build_bot(settings)
    try:
        username = await telegram_username(bot, settings)
    except BaseException:
        await bot.session.close()
        raise
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    limiter: RateLimiter = RedisRateLimiter(redis) if redis else MemoryRateLimiter()
    file_cache: FileIdCache = RedisFileIdCache(redis) if redis else MemoryFileIdCache()
    i18n = build_i18n(settings, locales_dir)
    signer = build_link_signer(settings)
    wallets = build_wallets(settings, signer, bot_username=username)
    notifier = CustomerNotifier(bot, i18n, wallets=wallets)
    email = build_email_channel(settings)
    flood = Rate(per_second=settings.flood_per_second, burst=settings.flood_burst)
    progress = CampaignProgress(bot, i18n, interval=settings.progress_interval_seconds)
    dispatcher = Dispatcher(
        storage=build_fsm_storage(settings),
        file_cache=file_cache,
        notifier=notifier,
        settings=settings,
        link_signer=signer,
        email_channel=email,
        # Wizard previews and tests go through the same adapter (and rate limit) as campaigns.
        telegram_channel=TelegramChannel(bot, limiter),
        progress=progress,
        staff_invite_ttl=invite_ttl(settings),
        wallets=wallets,
        email_limits=ConfirmationLimits(
            # The shared limiter: Redis in production, memory in the embedded default (its
            # buckets are swept by their own rates, so the slow ones survive the flood limit).
            limiter,
            limiter,
            address_interval=settings.email_confirm_address_interval_seconds,
            daily=settings.email_confirm_daily_limit,
            link_lifetime=timedelta(days=settings.email_confirm_ttl_days),
        ),
    )
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(ThrottlingMiddleware(limiter, i18n, flood, FLOOD_WARN_EVERY))
        observer.outer_middleware(CustomerMiddleware())
    LocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    try:
        yield BotRuntime(
            bot=bot,
            dispatcher=dispatcher,
            i18n=i18n,
            notifier=notifier,
            email=email,
            settings=settings,
            redis=redis,
            signer=signer,
            limiter=limiter,
            progress=progress,
            wallets=wallets,
        )
    finally:
        await progress.close()
        await wallets.close()
        await dispatcher.storage.close()
        await bot.session.close()
        if redis is not None:
            await redis.aclose()


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in every language we speak, plus the default for all others."""
    names = ("card", "vouchers", "settings", "help")
    for language in (None, *i18n.available_locales):
        with i18n.use_locale(language or i18n.default_locale):
            descriptions = (
                i18n.gettext("Show my card and QR code"),
                i18n.gettext("My vouchers"),
                i18n.gettext("Language, email, birthday, notifications"),
                i18n.gettext("What I can do"),
            )
        await bot.set_my_commands(
            [
                BotCommand(command=n, description=d)
                for n, d in zip(names, descriptions, strict=True)
            ],
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language,
        )


async def set_menu(runtime: BotRuntime) -> None:
    """Every replica sets the same menu at start; when Telegram keeps refusing for now (a
    flood wait longer than we wait, many replicas restarting at once) the menu already set
    stays, and this replica serves anyway."""
    try:
        await set_commands(runtime.bot, runtime.i18n)
    except TelegramAPIError as error:
        logger.warning(
            "command menu not updated, the one set before stays: %s", error.message.splitlines()[0]
        )


async def _reminders(notifier: CustomerNotifier) -> None:
    while True:
        try:
            sent = await send_expiry_reminders(notifier, within=EXPIRY_NOTICE)
            if sent:
                logger.info("sent %d voucher expiry reminders", sent)
        except Exception:
            logger.exception("expiry reminders failed; trying again later")
        await asyncio.sleep(REMINDER_INTERVAL)


async def _retire_wallet_passes() -> None:
    """Every replica runs this; each overdue pass is claimed by one conditional UPDATE."""
    while True:
        try:
            retired = await retire_overdue_passes()
            if retired:
                logger.info(
                    "retired %d voided Apple Wallet passes after the grace period", retired
                )
        except Exception:
            logger.exception("retiring voided Apple Wallet passes failed; trying again later")
        await asyncio.sleep(WALLET_RETIRE_INTERVAL)


async def run_bot(settings: Settings, *, with_worker: bool = True, polling: bool = True) -> None:
    """Everything in one process (``stampbot run``): the bot (polling, or a webhook when a
    public URL is set), the web app (message links; the webhook) and a delivery worker.

    ``stampbot web`` is the same without the worker and without polling, so any number of web
    replicas can stand behind a load balancer while ``stampbot worker`` processes send.
    """
    async with bot_runtime(settings) as runtime, stop_on_signals() as stop:
        await set_menu(runtime)
        # One secret for all replicas: Telegram keeps only the last setWebhook's.
        secret = webhook_secret(settings) if settings.public_url else None
        runner = await _start_web(settings, runtime, secret)
        # Progress messages of campaigns followed before a restart carry on.
        runtime.progress.start()
        freeze_startup_heap()
        background = [
            asyncio.create_task(_reminders(runtime.notifier)),
            asyncio.create_task(_retire_wallet_passes()),
        ]
        delivery_bot = None
        if with_worker:
            delivery_bot = build_bot(settings, replies=False)
            worker = build_worker(
                settings, delivery_bot, runtime.limiter, runtime.signer, runtime.wallets
            )
            background.append(asyncio.create_task(worker.run(stop)))
        try:
            if secret is None and not polling:
                logger.warning(
                    "no STAMPBOT_PUBLIC_URL: serving message links only, no Telegram updates"
                )
                await stop.wait()
            elif secret is not None:
                url = f"{settings.base_url}{WEBHOOK_PATH}"
                await runtime.bot.set_webhook(
                    url,
                    secret_token=secret,
                    allowed_updates=runtime.dispatcher.resolve_used_update_types(),
                )
                logger.info("receiving updates by webhook at %s", url)
                await stop.wait()
            else:
                await runtime.bot.delete_webhook(drop_pending_updates=False)
                logger.info("long polling for updates")
                poller = asyncio.create_task(
                    runtime.dispatcher.start_polling(runtime.bot, handle_signals=False)
                )
                await stop.wait()
                try:
                    await runtime.dispatcher.stop_polling()
                except RuntimeError:
                    # Stopped while starting (an orchestrator's SIGTERM right after the
                    # start): the poller has not begun, so there is no polling to stop.
                    poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
        finally:
            stop.set()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if delivery_bot is not None:
                await delivery_bot.session.close()
            await runner.cleanup()


async def _start_web(settings: Settings, runtime: BotRuntime, secret: str | None) -> web.AppRunner:
    app = build_web_app(
        runtime.dispatcher,
        runtime.bot,
        webhook_secret=secret,
        signer=runtime.signer,
        i18n=runtime.i18n,
        # The PassKit web service: Wallet registers devices and fetches updated passes here.
        wallet_passes=runtime.wallets.passes,
        photos=photo_store(settings, runtime.bot),
    )
    runner = web_runner(app)  # token-free access log, slow clients cut off
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    logger.info("web app on %s:%d", settings.web_host, settings.web_port)
    return runner


def freeze_startup_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    Those passes then walk only what the work creates; in ``bench/broadcast.py`` this removed
    the 30-150 ms pauses that cost a worker at 1,000 messages/s about 2% of its throughput.
    """
    gc.collect()
    gc.freeze()


async def run_worker(settings: Settings) -> None:
    """Only the delivery worker: run as many of these as the platforms' limits allow."""
    bot = build_bot(settings, replies=False)
    try:
        username = await telegram_username(bot, settings)
    except BaseException:
        await bot.session.close()
        raise
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    limiter: RateLimiter = RedisRateLimiter(redis) if redis else MemoryRateLimiter()
    signer = build_link_signer(settings)
    wallets = build_wallets(settings, signer, bot_username=username)
    worker = build_worker(settings, bot, limiter, signer, wallets)
    freeze_startup_heap()
    logger.info("delivery worker %s started", worker.worker_id)
    try:
        async with stop_on_signals() as stop:
            await worker.run(stop)
    finally:
        await wallets.close()
        await bot.session.close()
        if redis is not None:
            await redis.aclose()
