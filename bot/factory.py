"""Builds everything a stampbot process is made of, once; the only place that wires objects.

``bot_runtime`` is the one factory: ``stampbot run``, ``web`` and ``worker`` each build one
runtime with it and take what they serve from it (the dispatcher and web app, the delivery
worker), and tests and the demo build theirs the same way.

Light on import: ``stampbot migrate``, ``merchant create`` and ``dkim`` import this module as
well, and aiogram with the handlers takes seconds to import, so what only the running bot needs
is imported in the function that builds it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import (
    ApnsSettings,
    AppleWalletSettings,
    GoogleWalletSettings,
    Settings,
    TelegramSettings,
)
from loyalty.links import LinkSigner
from models.enums import Platform

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.fsm.storage.base import BaseStorage
    from aiogram.utils.i18n import I18n
    from pydantic import SecretStr
    from redis.asyncio import Redis

    from bot.shop_bots import ShopBots
    from bot.shop_vibers import ShopVibers
    from bot.shop_whatsapps import ShopWhatsApps
    from channels.apple_wallet.apns import ApnsClient
    from channels.email import EmailChannel
    from channels.google_wallet import GoogleWalletChannel
    from channels.ratelimit import RateLimiter
    from channels.viber.api import ViberApi
    from channels.viber.replies import ViberReplies
    from channels.whatsapp.api import WhatsAppApi
    from conversation.links import MessengerLinks
    from handlers.campaign_progress import CampaignProgress
    from handlers.media import FileIdCache
    from handlers.notice_queue import NoticeQueue
    from handlers.notify import ChatReplies, CustomerNotifier
    from loyalty.linking import LinkCodes
    from wallets.apple_passes import WalletPasses
    from wallets.service import Wallets

logger = logging.getLogger(__name__)


@dataclass
class BotRuntime:
    """One process's pieces, built once by :func:`bot_runtime` and closed with it."""

    settings: Settings
    bot: Bot  # answers people: a 429 is waited out (see bot.telegram_retry)
    username: str  # the bot as Telegram names it (getMe); t.me links and pass QR codes
    redis: Redis | None
    limiter: RateLimiter
    file_cache: FileIdCache
    storage: BaseStorage
    i18n: I18n
    signer: LinkSigner
    link_codes: LinkCodes  # linking messengers: Telegram's settings and the Viber/WhatsApp chat
    wallets: Wallets
    email: EmailChannel
    notifier: CustomerNotifier
    notices: NoticeQueue  # the notices handlers give after their answer (``notifier.later``)
    progress: CampaignProgress
    dispatcher: Dispatcher
    viber: ViberApi | None = None  # the shared Viber bot, when its token is configured
    whatsapp: WhatsAppApi | None = None  # the shared WhatsApp number, likewise
    shop_bots: ShopBots | None = None  # shops' own Telegram bots (``bot.shop_bots``)
    # On Viber or WhatsApp too: Telegram chats may be linked with them (``/link``).
    linking: bool = False
    shop_vibers: ShopVibers | None = None  # shops' own Viber bots (``bot.shop_vibers``)
    shop_whatsapps: ShopWhatsApps | None = None  # and WhatsApp numbers


@asynccontextmanager
async def bot_runtime(
    settings: Settings, *, locales_dir: Path | None = None
) -> AsyncIterator[BotRuntime]:
    """The bot (asked who it is first), the shared limiter and caches (Redis when configured),
    links, wallets, email, notifications, campaign progress and the dispatcher handlers run in.

    The database is not opened here: the commands open it first (:func:`database`), tests and
    the demo have theirs."""
    from redis.asyncio import Redis

    from bot.context import Services
    from bot.delivery import build_email_channel
    from bot.dispatcher import build_dispatcher
    from bot.shop_bots import ShopBots
    from bot.shop_vibers import ShopVibers
    from bot.shop_whatsapps import ShopWhatsApps
    from channels.ratelimit import MemoryRateLimiter, RedisRateLimiter, within_rolling_second
    from channels.telegram import TelegramBudget, TelegramChannel
    from handlers.campaign_progress import CampaignProgress
    from handlers.media import MemoryFileIdCache, RedisFileIdCache
    from handlers.notice_queue import NoticeQueue
    from handlers.notify import CustomerNotifier
    from handlers.wizard.flow import wizard_services
    from loyalty.messenger_accounts import CredentialBox
    from loyalty.profile import ConfirmationLimits
    from models.enums import Channel

    async with AsyncExitStack() as closing:
        bot = build_bot(settings.telegram)
        closing.push_async_callback(bot.session.close)
        username = await telegram_username(bot, settings.telegram)
        redis = Redis.from_url(settings.redis.url) if settings.redis.url else None
        if redis is not None:
            closing.push_async_callback(redis.aclose)
        limiter: RateLimiter = RedisRateLimiter(redis) if redis else MemoryRateLimiter()
        file_cache: FileIdCache = RedisFileIdCache(redis) if redis else MemoryFileIdCache()
        storage = build_fsm_storage(settings)
        closing.push_async_callback(storage.close)
        i18n = build_i18n(settings, locales_dir)
        signer = build_link_signer(settings)
        link_codes = build_link_codes(settings, redis)
        wallets = build_wallets(
            settings, signer, bot_username=username, limiter=limiter, redis=redis
        )
        closing.push_async_callback(wallets.close)
        email = build_email_channel(settings)
        closing.push_async_callback(email.close)
        viber = build_viber_api(settings)
        if viber is not None:
            closing.push_async_callback(viber.close)
        whatsapp = build_whatsapp_api(settings)
        if whatsapp is not None:
            closing.push_async_callback(whatsapp.close)
        # Notices share the bot's Telegram limit with the delivery worker's campaign sends (the
        # same setting, the same limiter), ahead of them.
        budget = TelegramBudget(
            limiter, global_rate=within_rolling_second(settings.delivery.telegram_per_second)
        )
        links = messenger_links(settings, username, viber=viber, whatsapp=whatsapp)
        linking = bool(links.others(Platform.TELEGRAM))
        box = CredentialBox(credential_key(settings))
        shop_bots = ShopBots(
            settings.telegram,
            box,
            signer,
            i18n,
            linking=linking,
            wallets=wallets,
        )
        closing.push_async_callback(shop_bots.close)
        shop_vibers = ShopVibers(settings.viber, box, signer)
        closing.push_async_callback(shop_vibers.close)
        shop_whatsapps = ShopWhatsApps(settings.whatsapp, box, signer, i18n)
        closing.push_async_callback(shop_whatsapps.close)
        # Closed before the bots, the wallets and the database it sends with: what is still
        # pending at the stop is sent first (a few seconds at most).
        notices = NoticeQueue()
        notifier = CustomerNotifier(
            bot,
            i18n,
            wallets=wallets,
            slot=budget.service_slot,
            chats=messenger_replies(settings, viber, whatsapp),
            shop_bots=shop_bots,
            shop_chats={Platform.VIBER: shop_vibers, Platform.WHATSAPP: shop_whatsapps},
            queue=notices,
        )
        closing.push_async_callback(notices.close)
        progress = CampaignProgress(
            bot, i18n, interval=settings.campaigns.progress_interval_seconds
        )
        closing.push_async_callback(progress.close)
        # What handlers receive by parameter name; mypy checks it against the TypedDict.
        # Wizard previews and tests go through the same adapter (and limit) as campaigns.
        telegram = TelegramChannel(bot, limiter)
        services: Services = {
            "settings": settings,
            "file_cache": file_cache,
            "notifier": notifier,
            "link_signer": signer,
            "link_codes": link_codes,
            "messenger_links": links,
            "email_channel": email,
            "telegram_channel": telegram,
            "progress": progress,
            "staff_invite_ttl": invite_ttl(settings),
            "wallets": wallets,
            "wizard": wizard_services(
                settings.campaigns.push_text_limit,
                wallets,
                telegram,
                email,
                paid_chats=tuple(
                    channel
                    for channel, api in ((Channel.VIBER, viber), (Channel.WHATSAPP, whatsapp))
                    if api is not None
                ),
            ),
            "shop_bots": shop_bots,
            "shop_vibers": shop_vibers,
            "shop_whatsapps": shop_whatsapps,
            "email_limits": ConfirmationLimits(
                # The shared limiter: Redis in production, memory in the embedded default (its
                # buckets are swept by their own rates, so the slow ones survive the flood
                # limit).
                limiter,
                limiter,
                address_interval=settings.email.confirm_address_interval_seconds,
                daily=settings.email.confirm_daily_limit,
                link_lifetime=timedelta(days=settings.email.confirm_ttl_days),
            ),
        }
        dispatcher = build_dispatcher(
            storage, services, limiter=limiter, i18n=i18n, flood=settings.flood
        )
        shop_bots.allowed_updates = dispatcher.resolve_used_update_types()
        yield BotRuntime(
            settings=settings,
            bot=bot,
            username=username,
            redis=redis,
            limiter=limiter,
            file_cache=file_cache,
            storage=storage,
            i18n=i18n,
            signer=signer,
            link_codes=link_codes,
            wallets=wallets,
            email=email,
            notifier=notifier,
            notices=notices,
            progress=progress,
            viber=viber,
            whatsapp=whatsapp,
            dispatcher=dispatcher,
            shop_bots=shop_bots,
            linking=linking,
            shop_vibers=shop_vibers,
            shop_whatsapps=shop_whatsapps,
        )


# Each Bot API answer is read into ``Response[<what the method returns>]``, a pydantic generic
# model made on first use and kept by pydantic only weakly: between two calls the collector
# takes it, and making it again (its schema and validator) cost 10-20 ms of CPU, more than
# the rest of a stamp. These are the strong references that keep each one made.
_RESPONSE_TYPES: dict[object, type] = {}


async def keep_response_types(make_request: Any, bot: Bot, method: Any) -> Any:
    """A session middleware: the method's response model stays made (see above)."""
    returning = type(method).__returning__
    if returning not in _RESPONSE_TYPES:
        from aiogram.methods.base import Response

        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
    return await make_request(bot, method)


def build_bot(
    telegram: TelegramSettings, *, replies: bool = True, token: SecretStr | None = None
) -> Bot:
    """The bot that answers people (``replies``: a 429 is waited out and sent again), or the
    delivery worker's, whose 429s go back to the outbox (see ``bot.telegram_retry``).

    ``token``: a shop's own bot (``bot.shop_bots``), on the same Bot API server and settings
    as the shared one."""
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    from bot.telegram_retry import RetryAfterMiddleware

    token = token or telegram.token
    if token is None:
        raise SystemExit("STAMPBOT_BOT_TOKEN is not set: get a token from @BotFather.")
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(telegram.api_url))
        if telegram.api_url
        else AiohttpSession()
    )
    session.middleware(keep_response_types)
    if replies and telegram.retry_attempts:
        session.middleware(
            RetryAfterMiddleware(
                max_wait=telegram.retry_max_seconds, attempts=telegram.retry_attempts
            )
        )
    return Bot(
        token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def telegram_username(bot: Bot, telegram: TelegramSettings) -> str:
    """The bot's username as Telegram reports it (getMe): every t.me link and QR code points
    there. STAMPBOT_BOT_USERNAME only names the demo's offline bot; a real token decides.

    Asked once at start (aiogram keeps the answer for handlers' ``bot.me()``); a token
    Telegram refuses, or a Bot API that cannot be reached, stops the start with a clear
    message rather than printing links to some other bot."""
    from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

    token = telegram.token.get_secret_value() if telegram.token else ""
    try:
        me = await bot.me()
    except TelegramUnauthorizedError:
        raise SystemExit(
            "Telegram refused STAMPBOT_BOT_TOKEN (getMe: Unauthorized): "
            "copy the token again from @BotFather."
        ) from None
    except TelegramAPIError as error:
        where = telegram.api_url or "https://api.telegram.org"
        detail = error.message.replace(token, "***") if token else error.message
        raise SystemExit(f"could not ask {where} who this bot is (getMe: {detail})") from None
    if not me.username:
        raise SystemExit(
            "Telegram reports no username for this bot (getMe): set one with @BotFather."
        )
    if "username" in telegram.model_fields_set and telegram.username != me.username:
        logger.warning(
            "STAMPBOT_BOT_USERNAME=%s is ignored: this token is @%s's, links use that",
            telegram.username,
            me.username,
        )
    return me.username


def build_i18n(settings: Settings, locales_dir: Path | None = None) -> I18n:
    from aiogram.utils.i18n import I18n

    from locales import SUPPORTED, compile_catalogs

    compiled = compile_catalogs(locales_dir or settings.var_dir / "locales")
    language = settings.shops.default_language
    return I18n(
        path=compiled,
        default_locale=language if language in SUPPORTED else "en",
        domain="messages",
    )


def build_fsm_storage(settings: Settings) -> BaseStorage:
    """Redis when configured, so a restart or another replica continues a conversation."""
    from aiogram.fsm.storage.memory import MemoryStorage
    from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

    if settings.redis.url:
        return RedisStorage.from_url(
            settings.redis.url,
            key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
            state_ttl=timedelta(days=2),
            data_ttl=timedelta(days=2),
        )
    return MemoryStorage()


def _signing_secret(settings: Settings) -> bytes:
    if settings.web.signing_key is not None:
        return settings.web.signing_key.get_secret_value().encode()
    path = settings.var_dir / "signing.key"
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes()


def _create_key_file(path: Path) -> None:
    """Write a new key whole, then link it into place: two processes starting together on one
    ``var/`` agree on one key (the loser's link fails and it reads the winner's), and nobody
    ever reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        os.link(draft, path)
        logger.info("created a signing key for message links at %s", path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        draft.unlink(missing_ok=True)


def webhook_secret(settings: Settings) -> str:
    """The ``X-Telegram-Bot-Api-Secret-Token`` every replica expects and sets.

    Telegram keeps the secret of the last ``setWebhook`` only, so it must be one value across
    replicas: the configured one, else derived from the link-signing key (which replicas share
    already, or their links would not verify on each other)."""
    if settings.web.webhook_secret is not None:
        return settings.web.webhook_secret.get_secret_value()
    digest = hmac.new(_signing_secret(settings), b"telegram-webhook-secret", hashlib.sha256)
    # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -: url-safe base64 fits.
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def credential_key(settings: Settings) -> bytes:
    """The key shops' own messenger credentials are sealed with (``loyalty.messenger_accounts``).

    Derived from the link-signing secret, which every replica shares already, under a label of
    its own: no new secret to configure, and a leaked link signature says nothing about it.
    Rotating the signing secret makes the stored bot tokens unreadable: shops connect again."""
    return hmac.new(
        _signing_secret(settings), b"messenger-account-credentials", hashlib.sha256
    ).digest()


def build_link_signer(settings: Settings) -> LinkSigner:
    return LinkSigner(_signing_secret(settings), settings.web.base_url)


def build_link_codes(settings: Settings, redis: Redis | None) -> LinkCodes:
    """Codes that link a customer's messengers: in Redis when there is one (any replica
    redeems what another showed), else in this process. Hashed under a key of their own,
    derived from the link-signing secret, which the store never sees."""
    from loyalty.linking import LinkCodes, MemoryLinkCodeStore, RedisLinkCodeStore

    key = hmac.new(_signing_secret(settings), b"messenger-link-codes", hashlib.sha256).digest()
    store = RedisLinkCodeStore(redis) if redis is not None else MemoryLinkCodeStore()
    return LinkCodes(store, key)


def build_wallets(
    settings: Settings,
    signer: LinkSigner,
    *,
    bot_username: str | None = None,
    limiter: RateLimiter | None = None,
    redis: Redis | None = None,
) -> Wallets:
    """Apple passes (the configured certificates, else the demo chain under var/), APNs and
    Google Wallet when configured; each one that is off says so in one log line.

    ``bot_username`` is the one Telegram reported (getMe): the pass QR codes open that bot.
    Only the offline demo goes without and takes the setting. ``limiter`` and ``redis`` share
    Google's request rate and notification count with every other process."""
    from wallets.service import Wallets

    username = bot_username or settings.telegram.username
    base_url = settings.web.base_url
    # Object ids carry an HMAC; a key of their own, derived from the link-signing secret.
    object_id_key = hmac.new(
        _signing_secret(settings), b"google-wallet-object-ids", hashlib.sha256
    ).digest()
    return Wallets(
        passes=build_apple_passes(
            settings.apple_wallet,
            demo_dir=settings.apple_wallet_dir,
            passes_dir=settings.effective_apple_passes_dir,
            base_url=base_url,
            link_signer=signer,
            bot_username=username,
        ),
        link_signer=signer,
        bot_username=username,
        apns=build_apns(settings.apns, topic=settings.apple_wallet.pass_type_id),
        google=build_google_wallet(
            settings.google_wallet,
            object_id_key=object_id_key,
            origins=(base_url,),
            limiter=limiter,
            redis=redis,
        ),
        base_url=base_url,
    )


def build_apple_passes(
    apple: AppleWalletSettings,
    *,
    demo_dir: Path,
    passes_dir: Path,
    base_url: str,
    link_signer: LinkSigner,
    bot_username: str,
) -> WalletPasses:
    """Signed passes and the PassKit web service's view of them; real certificates need an
    https base URL (Wallet updates passes over nothing else), which stops the start if not."""
    from channels.apple_wallet.signing import DeferredSigner, ManifestSigner, PassSigner
    from wallets.apple_passes import WalletPasses, WebServiceConfigError, check_web_service

    try:
        check_web_service(base_url, real_certificates=apple.pass_cert_path is not None)
    except WebServiceConfigError as refused:
        raise SystemExit(str(refused)) from None

    def load() -> PassSigner:
        from channels.apple_wallet.demo_certs import load_signer

        return load_signer(
            certificate=apple.pass_cert_path,
            private_key=apple.pass_key_path,
            wwdr=apple.wwdr_cert_path,
            password=apple.pass_key_password,
            demo_dir=demo_dir,
            pass_type_id=apple.pass_type_id,
            team_id=apple.team_id,
        )

    configured = (apple.pass_cert_path, apple.pass_key_path, apple.wwdr_cert_path)
    # Configured certificates are read now, so a wrong password or a mismatched file stops the
    # start instead of the first customer's pass (cryptography's bindings, ~8 MB, are then
    # loaded at start). The demo chain is made, or read, on the first pass: an idle process on
    # the embedded default never loads them.
    pass_signer: ManifestSigner = (
        load() if any(path is not None for path in configured) else DeferredSigner(load)
    )
    return WalletPasses(
        pass_type_identifier=apple.pass_type_id,
        team_identifier=apple.team_id,
        base_url=base_url,
        signer=pass_signer,
        link_signer=link_signer,
        bot_username=bot_username,
        passes_dir=passes_dir,
    )


def build_apns(apns: ApnsSettings, *, topic: str) -> ApnsClient | None:
    """The APNs client for pass pushes, or None (logged) when its credentials are not set."""
    if not (apns.key_id or apns.team_id or apns.key is not None or apns.key_path is not None):
        # Off, said here: the client's module imports PyJWT, cryptography's bindings and h2,
        # ~9 MB of idle memory in every web replica that never pushes.
        logger.info(
            "APNs off: STAMPBOT_APNS_KEY_ID, _TEAM_ID and _KEY or _KEY_PATH are not set, so "
            "Apple Wallet passes are not told about changes"
        )
        return None
    from channels.apple_wallet.apns import ApnsClient, load_apns_credentials

    credentials = load_apns_credentials(
        key_id=apns.key_id, team_id=apns.team_id, key_pem=apns.key, key_path=apns.key_path
    )
    if credentials is None:
        return None
    logger.info("APNs on: Wallet pass pushes go to %s:%d", apns.host, apns.port)
    return ApnsClient(
        credentials,
        topic=topic,
        host=apns.host,
        port=apns.port,
        ca_file=apns.ca_file,
        request_timeout=apns.timeout_seconds,
    )


def build_google_wallet(
    google: GoogleWalletSettings,
    *,
    object_id_key: bytes,
    origins: tuple[str, ...],
    limiter: RateLimiter | None = None,
    redis: Redis | None = None,
) -> GoogleWalletChannel | None:
    """The Google Wallet channel, or None (logged) when the issuer or the key file is unset;
    its rate limit and notification count shared through Redis when there is one."""
    from channels.google_wallet import RedisNotifyQuota, google_wallet_channel

    return google_wallet_channel(
        google.issuer_id,
        google.key_file,
        secret=object_id_key,
        api_url=google.api_url,
        token_url=google.token_url,
        origins=origins,
        limiter=limiter,
        quota=RedisNotifyQuota(redis) if redis is not None else None,
        requests_per_second=google.requests_per_second,
    )


def build_viber_api(settings: Settings) -> ViberApi | None:
    """The shared Viber bot's client (one HTTP session for answers and campaign sends), when
    its auth token is set."""
    if not settings.viber.enabled:
        return None
    from channels.viber.api import ViberApi

    assert settings.viber.auth_token is not None
    return ViberApi(settings.viber.auth_token, base_url=settings.viber.api_url)


def viber_replies(settings: Settings, viber: ViberApi) -> ViberReplies:
    """Answers in the shared Viber bot's chats, under the sender name and avatar it shows."""
    from channels.viber.render import Sender
    from channels.viber.replies import ViberReplies

    return ViberReplies(viber, Sender(settings.viber.name, settings.viber.avatar))


def messenger_replies(
    settings: Settings, viber: ViberApi | None, whatsapp: WhatsAppApi | None
) -> dict[Platform, ChatReplies]:
    """How the notices reach a customer who joined in Viber or WhatsApp."""
    replies: dict[Platform, ChatReplies] = {}
    if viber is not None:
        replies[Platform.VIBER] = viber_replies(settings, viber)
    if whatsapp is not None:
        from channels.whatsapp.replies import WhatsAppReplies

        replies[Platform.WHATSAPP] = WhatsAppReplies(whatsapp)
    return replies


def messenger_links(
    settings: Settings, username: str, *, viber: ViberApi | None, whatsapp: WhatsAppApi | None
) -> MessengerLinks:
    """Where people open a chat with us: the bot's username, and Viber's chat URI and the
    WhatsApp number when those messengers are configured."""
    from conversation.links import MessengerLinks

    return MessengerLinks(
        telegram_username=username,
        viber_uri=settings.viber.uri if viber is not None else "",
        whatsapp_number=settings.whatsapp.number if whatsapp is not None else "",
    )


def build_whatsapp_api(settings: Settings) -> WhatsAppApi | None:
    """The shared WhatsApp number's client, when its token and number id are set."""
    whatsapp = settings.whatsapp
    if not whatsapp.enabled:
        return None
    from channels.whatsapp.api import WhatsAppApi

    assert whatsapp.access_token is not None
    return WhatsAppApi(
        whatsapp.access_token,
        whatsapp.phone_number_id,
        base_url=whatsapp.api_url,
        version=whatsapp.api_version,
    )


def invite_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.shops.staff_invite_ttl_hours)


@asynccontextmanager
async def database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[None]:
    """Migrated and connected for the duration of the block."""
    from models.db import apply_migrations, close_db, init_db

    url = settings.effective_database_url
    if migrate:
        applied = await apply_migrations(url)
        if applied:
            logger.info("applied migrations: %s", ", ".join(applied))
    await init_db(url)
    try:
        yield
    finally:
        await close_db()
