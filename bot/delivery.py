"""Wires the delivery engine: channels, composer, worker (``stampbot worker`` and ``run``)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiogram import Bot

from bot.config import Settings
from campaigns.composer import Composer
from campaigns.digest import DigestPoster
from campaigns.worker import DeliveryWorker, batch_for_rate
from channels.base import DeliveryChannel
from channels.dkim import DkimSigner
from channels.email import EmailChannel, EmailSettings
from channels.email_render import EmailRenderer
from channels.photos import PhotoStore, telegram_fetch
from channels.ratelimit import Rate, RateLimiter, within_rolling_second
from channels.telegram import DEFAULT_PER_CHAT_RATE, AccountBots, TelegramChannel
from channels.viber.api import ViberApi
from channels.viber.channel import ViberAccounts
from channels.whatsapp.api import WhatsAppApi
from channels.whatsapp.channel import WhatsAppAccounts
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.links import LinkSigner
from wallets.apple_registry import PassRegistry
from wallets.service import Wallets

logger = logging.getLogger(__name__)


def build_channels(
    settings: Settings,
    bot: Bot,
    limiter: RateLimiter,
    wallets: Wallets | None = None,
    *,
    email: EmailChannel | None = None,
    viber: ViberApi | None = None,
    whatsapp: WhatsAppApi | None = None,
    shop_bots: AccountBots | None = None,
    viber_accounts: ViberAccounts | None = None,
    whatsapp_accounts: WhatsAppAccounts | None = None,
) -> dict[str, DeliveryChannel]:
    """Telegram and email always; the wallets when their push service is configured (Apple:
    APNs, Google: the Wallet API); Viber and WhatsApp when the runtime has their shared
    clients (``viber``, ``whatsapp``: it builds and closes them, one each per process) or
    shops' own accounts (``viber_accounts``, ``whatsapp_accounts``), which send for those
    shops even without a shared one; else their rows fail as "channel not configured".

    ``email``: the runtime's channel, so one process builds one; else a new one."""
    channels: dict[str, DeliveryChannel] = {
        "telegram": TelegramChannel(
            bot,
            limiter,
            global_rate=within_rolling_second(settings.delivery.telegram_per_second),
            per_chat_rate=DEFAULT_PER_CHAT_RATE,
            # Shops' own bots send to the customers who came through them.
            shop_bots=shop_bots,
        )
    }
    channels["email"] = email or build_email_channel(settings)
    if wallets is not None and wallets.apns is not None:
        # Here, not at the top: a web process imports this module and never pushes (h2, PyJWT).
        from channels.apple_wallet.channel import AppleWalletChannel

        channels["apple_wallet"] = AppleWalletChannel(wallets.apns, PassRegistry())
    if wallets is not None and wallets.google is not None:
        channels["google_wallet"] = wallets.google
    if viber is not None or viber_accounts is not None:
        channels["viber"] = build_viber_channel(settings, viber, limiter, viber_accounts)
    if whatsapp is not None or whatsapp_accounts is not None:
        from channels.whatsapp.channel import WhatsAppChannel

        channels["whatsapp"] = WhatsAppChannel(
            whatsapp,
            limiter,
            rate=Rate(per_second=settings.whatsapp.per_second, burst=1),
            # Shops' own numbers send to the people who wrote to them.
            accounts=whatsapp_accounts,
        )
    return channels


def build_viber_channel(
    settings: Settings,
    api: ViberApi | None,
    limiter: RateLimiter,
    accounts: ViberAccounts | None = None,
) -> DeliveryChannel:
    """The shared Viber bot's channel: its bucket in the shared limiter at its rate, and
    ``broadcast_message`` for campaigns when Viber has enabled it for the bot; ``accounts``
    sends to the people of shops' own Viber bots through those bots (``api`` None: only
    them)."""
    from channels.viber.channel import ViberChannel
    from channels.viber.render import Sender

    viber = settings.viber
    return ViberChannel(
        api,
        limiter,
        sender=Sender(viber.name, viber.avatar),
        rate=Rate(per_second=viber.per_second, burst=1),
        broadcast=viber.broadcast,
        accounts=accounts,
    )


def build_email_channel(settings: Settings) -> EmailChannel:
    """SMTP when a host is configured, else the embedded default: .eml files in var/mail."""
    smtp = None
    if settings.smtp.host:
        smtp = EmailSettings(
            host=settings.smtp.host,
            port=settings.smtp.port,
            username=settings.smtp.username,
            password=settings.smtp.password,
            starttls=settings.smtp.starttls,
            use_tls=settings.smtp.tls,
            from_address=settings.email.from_address,
            pool_size=settings.smtp.pool_size,
            idle_seconds=settings.smtp.idle_seconds,
            messages_per_connection=settings.smtp.messages_per_connection,
            reconnect_attempts=settings.smtp.reconnect_attempts,
            reconnect_backoff=settings.smtp.reconnect_backoff_seconds,
        )
    else:
        logger.info("no SMTP server configured: emails go to %s", settings.var_dir / "mail")
    renderer = EmailRenderer(settings.var_dir / "locales")
    return EmailChannel(
        smtp,
        mailbox_dir=settings.var_dir / "mail",
        renderer=renderer,
        # The same sender and signature in both modes: the mailbox shows what SMTP would send.
        from_address=settings.email.from_address,
        reply_to=settings.email.reply_to,
        dkim=dkim_signer(settings),
        open_tracking=settings.email.open_tracking,
    )


def dkim_signer(settings: Settings) -> DkimSigner | None:
    """The DKIM key when domain, selector and key file are all configured."""
    dkim = settings.dkim
    if not (dkim.domain and dkim.selector and dkim.key_path):
        return None
    sender_domain = settings.email.from_address.rpartition("@")[2].lower()
    domain = dkim.domain.lower()
    if sender_domain != domain and not sender_domain.endswith("." + domain):
        # Gmail and Yahoo want the signature aligned with the From domain (DMARC).
        logger.warning("DKIM domain %s is not the domain of STAMPBOT_MAIL_FROM", domain)
    return DkimSigner.from_file(domain, dkim.selector, dkim.key_path)


def photo_store(settings: Settings, bot: Bot) -> PhotoStore:
    """Campaign photos fetched once from Telegram and kept in var/photos for email and web."""
    return PhotoStore(settings.var_dir / "photos", telegram_fetch(bot))


def build_worker(
    settings: Settings,
    bot: Bot,
    limiter: RateLimiter,
    signer: LinkSigner,
    wallets: Wallets | None = None,
    *,
    email: EmailChannel | None = None,
    bot_username: str | None = None,
    digests: DigestPoster | None = None,
    viber: ViberApi | None = None,
    whatsapp: WhatsAppApi | None = None,
    shop_bots: AccountBots | None = None,
    viber_accounts: ViberAccounts | None = None,
    whatsapp_accounts: WhatsAppAccounts | None = None,
) -> DeliveryWorker:
    """``bot_username``: the one Telegram reported (getMe), for the t.me links campaigns carry;
    without it (tests, the offline demo) the setting. ``digests`` posts the results digests
    the worker claims a day and a week after a campaign (none without it)."""
    delivery = settings.delivery
    batch_size = delivery.batch_size or batch_for_rate(delivery.telegram_per_second)
    composer = Composer(
        signer,
        supported=SUPPORTED,
        right_to_left=RIGHT_TO_LEFT,
        photos=photo_store(settings, bot),
        bot_username=bot_username or settings.telegram.username,
    )
    return DeliveryWorker(
        build_channels(
            settings,
            bot,
            limiter,
            wallets,
            email=email,
            viber=viber,
            whatsapp=whatsapp,
            shop_bots=shop_bots,
            viber_accounts=viber_accounts,
            whatsapp_accounts=whatsapp_accounts,
        ),
        composer,
        batch_size=batch_size,
        lease=timedelta(seconds=delivery.lease_seconds),
        concurrency=delivery.concurrency,
        wallets=wallets,
        digests=digests,
    )


@asynccontextmanager
async def stop_on_signals() -> AsyncIterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT, so a worker finishes its batch and stops cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
