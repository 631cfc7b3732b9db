"""The long-running commands on one runtime: ``stampbot run``, ``web`` and ``worker``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Literal

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n
from aiohttp import web

from automations.engine import Scheduler, run_scheduler
from bot.config import Settings
from bot.delivery import build_worker, photo_store, stop_on_signals
from bot.factory import (
    BotRuntime,
    bot_runtime,
    build_bot,
    credential_key,
    database,
    webhook_secret,
)
from bot.shop_bots import ShopBots
from bot.shop_polling import ShopBotPolling
from campaigns.metrics import refresh as refresh_metrics
from campaigns.worker import DeliveryWorker
from handlers.campaign_progress import CampaignDigests
from handlers.command_menu import customer_commands
from handlers.notify import CustomerNotifier, send_expiry_reminders
from loyalty.messenger_accounts import CredentialBox
from models.db import database_answers, schema_is_current
from wallets.apple_registry import retire_overdue_passes
from web.app import WEBHOOK_PATH, build_web_app, web_runner
from web.ops import Check, metrics_app

logger = logging.getLogger(__name__)

EXPIRY_NOTICE = timedelta(days=3)
REMINDER_INTERVAL = 600.0
# Voided passes wait a week for their devices (RETIRING_GRACE); an hour late is no matter.
WALLET_RETIRE_INTERVAL = 3600.0

Command = Literal["run", "web", "worker"]


async def serve(settings: Settings, command: Command) -> None:
    """The migrated database, then one runtime, whatever the command; until SIGTERM/SIGINT.

    ``run`` is everything in one process: the bot (polling, or a webhook when a public URL is
    set), the web app (message links; the webhook) and a delivery worker. ``web`` is the same
    without the worker and without polling, so any number of web replicas can stand behind a
    load balancer while ``worker`` processes send.
    """
    async with database(settings), bot_runtime(settings) as runtime, stop_on_signals() as stop:
        if command == "worker":
            await run_worker(runtime, stop)
        else:
            run = command == "run"
            await run_bot(runtime, stop, with_worker=run, polling=run)


async def set_commands(bot: Bot, i18n: I18n, *, linking: bool = False) -> None:
    """The command menu in every language we speak, plus the default for all others; with
    ``/link`` when the deployment is on Viber or WhatsApp too (``linking``).

    Staff get a list of their own per chat (``handlers.command_menu``), set as their seats
    change; this one is everybody else's."""
    for language in (None, *i18n.available_locales):
        with i18n.context(), i18n.use_locale(language or i18n.default_locale):
            commands = customer_commands(linking=linking)
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )


async def set_menu(runtime: BotRuntime) -> None:
    """Every replica sets the same menu at start; when Telegram keeps refusing for now (a
    flood wait longer than we wait, many replicas restarting at once) the menu already set
    stays, and this replica serves anyway."""
    try:
        await set_commands(runtime.bot, runtime.i18n, linking=runtime.linking)
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


async def _automations(worker: DeliveryWorker, stop: asyncio.Event) -> None:
    """The automation scheduler beside the delivery worker: it writes delivery rows, the
    worker sends them. Its enrolment leases last as long as the worker's row leases
    (``STAMPBOT_DELIVERY_LEASE_SECONDS``), so a killed worker's enrolments are taken over
    when its rows are, not two minutes later whatever the setting."""
    await run_scheduler(Scheduler(worker.worker_id, lease=worker.lease), stop)


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


async def run_bot(
    runtime: BotRuntime, stop: asyncio.Event, *, with_worker: bool, polling: bool
) -> None:
    """The bot and the web app (``run`` and ``web``), with a delivery worker when asked."""
    settings = runtime.settings
    await set_menu(runtime)
    # One secret for all replicas: Telegram keeps only the last setWebhook's.
    secret = webhook_secret(settings) if settings.web.public_url else None
    runner = await _start_web(runtime, secret)
    # Progress messages of campaigns followed before a restart carry on.
    runtime.progress.start()
    delivery = _delivery_worker(runtime) if with_worker else contextlib.nullcontext(None)
    async with delivery as worker:
        freeze_startup_heap()
        background = [
            asyncio.create_task(_reminders(runtime.notifier)),
            asyncio.create_task(_retire_wallet_passes()),
        ]
        if worker is not None:
            background.append(asyncio.create_task(worker.run(stop)))
            background.append(asyncio.create_task(_automations(worker, stop)))
        try:
            await _receive_updates(runtime, stop, secret, polling=polling)
        finally:
            stop.set()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runner.cleanup()


async def _receive_updates(
    runtime: BotRuntime, stop: asyncio.Event, secret: str | None, *, polling: bool
) -> None:
    """By webhook when there is a public URL, else by long polling (``run``) or not at all
    (``web`` without a public URL serves message links only); returns once ``stop`` is set."""
    bot, dispatcher = runtime.bot, runtime.dispatcher
    if secret is None and not polling:
        logger.warning("no STAMPBOT_PUBLIC_URL: serving message links only, no Telegram updates")
        await stop.wait()
    elif secret is not None:
        url = f"{runtime.settings.web.base_url}{WEBHOOK_PATH}"
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types()
        )
        logger.info("receiving updates by webhook at %s", url)
        await stop.wait()
    else:
        await bot.delete_webhook(drop_pending_updates=False)
        logger.info("long polling for updates")
        poller = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        shops = await _poll_shop_bots(runtime)
        await stop.wait()
        try:
            await dispatcher.stop_polling()
        except RuntimeError:
            # Stopped while starting (an orchestrator's SIGTERM right after the start): the
            # poller has not begun, so there is no polling to stop.
            poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        if shops is not None:
            if runtime.shop_bots is not None:
                runtime.shop_bots.polling = None
            await shops.close()


async def _poll_shop_bots(runtime: BotRuntime) -> ShopBotPolling | None:
    """Shops' own bots are polled too, those connected now and those connected meanwhile
    (``bot.shop_polling`` says why a task each rather than ``start_polling(*bots)``)."""
    if runtime.shop_bots is None:
        return None
    shops = ShopBotPolling(
        runtime.dispatcher,
        runtime.shop_bots.bot_for,
        allowed_updates=runtime.dispatcher.resolve_used_update_types(),
    )
    runtime.shop_bots.polling = shops
    started = await shops.start_connected()
    if started:
        logger.info("long polling %d shop bots", started)
    return shops


def readiness_checks(runtime: BotRuntime) -> dict[str, Check]:
    """What ``/readyz`` asks: the database answers and is fully migrated, Redis answers."""
    checks: dict[str, Check] = {"database": database_answers, "migrations": schema_is_current}
    if runtime.redis is not None:
        redis = runtime.redis

        async def redis_answers() -> bool:
            return bool(await redis.ping())

        checks["redis"] = redis_answers
    return checks


@asynccontextmanager
async def _worker_metrics(runtime: BotRuntime) -> AsyncIterator[None]:
    """A worker's /healthz and /metrics on ``STAMPBOT_DELIVERY_METRICS_PORT``, when set."""
    port = runtime.settings.delivery.metrics_port
    if port is None:
        yield
        return
    runner = web.AppRunner(metrics_app(refresh_metrics))
    await runner.setup()
    await web.TCPSite(runner, runtime.settings.web.host, port).start()
    logger.info("worker metrics on %s:%d", runtime.settings.web.host, port)
    try:
        yield
    finally:
        await runner.cleanup()


async def _start_web(runtime: BotRuntime, secret: str | None) -> web.AppRunner:
    from bot.messengers import messenger_webhooks

    web_settings = runtime.settings.web
    messengers = messenger_webhooks(runtime)
    app = build_web_app(
        runtime.dispatcher,
        runtime.bot,
        webhook_secret=secret,
        signer=runtime.signer,
        i18n=runtime.i18n,
        # The PassKit web service: Wallet registers devices and fetches updated passes here.
        wallet_passes=runtime.wallets.passes,
        photos=photo_store(runtime.settings, runtime.bot),
        # The card page's "Save to Google Wallet" badge (None while Google is not configured).
        google_save=runtime.wallets.google_save_url,
        checks=readiness_checks(runtime),
        refresh_metrics=refresh_metrics,
        viber=messengers.viber,
        whatsapp=messengers.whatsapp,
        # Shops' own bots on /tg/<account id>, served whenever the shared bot's webhook is.
        shop_bots=runtime.shop_bots,
        shop_vibers=messengers.shop_vibers,
        shop_whatsapps=messengers.shop_whatsapps,
        notices=runtime.notices,
    )
    runner = web_runner(app)  # token-free access log, slow clients cut off
    await runner.setup()
    await web.TCPSite(runner, web_settings.host, web_settings.port).start()
    logger.info("web app on %s:%d", web_settings.host, web_settings.port)
    return runner


@asynccontextmanager
async def _delivery_worker(runtime: BotRuntime) -> AsyncIterator[DeliveryWorker]:
    """A worker on the runtime's limiter, links, wallets and email, with a bot of its own: its
    429s go back to the outbox instead of being waited out (see ``bot.telegram_retry``)."""
    bot = build_bot(runtime.settings.telegram, replies=False)
    shop_bots = ShopBots(
        runtime.settings.telegram,
        CredentialBox(credential_key(runtime.settings)),
        runtime.signer,
        runtime.i18n,
        replies=False,
    )
    try:
        yield build_worker(
            runtime.settings,
            bot,
            runtime.limiter,
            runtime.signer,
            runtime.wallets,
            email=runtime.email,
            bot_username=runtime.username,
            # The owner's results digests, a day and a week on, from whichever worker claims.
            digests=CampaignDigests(bot, runtime.i18n),
            viber=runtime.viber,
            whatsapp=runtime.whatsapp,
            shop_bots=shop_bots,
            viber_accounts=runtime.shop_vibers,
            whatsapp_accounts=runtime.shop_whatsapps,
        )
    finally:
        await shop_bots.close()
        await bot.session.close()


def freeze_startup_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    Those passes then walk only what the work creates; in ``bench/broadcast.py`` this removed
    the 30-150 ms pauses that cost a worker at 1,000 messages/s about 2% of its throughput.
    """
    gc.collect()
    gc.freeze()


async def run_worker(runtime: BotRuntime, stop: asyncio.Event) -> None:
    """Only the delivery worker: run as many of these as the platforms' limits allow."""
    async with _delivery_worker(runtime) as worker, _worker_metrics(runtime):
        freeze_startup_heap()
        logger.info("delivery worker %s started", worker.worker_id)
        await asyncio.gather(worker.run(stop), _automations(worker, stop))
