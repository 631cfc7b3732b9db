"""Builds the shared runtime pieces from settings; the only place that wires objects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from loyalty.links import LinkSigner
from models.db import apply_migrations, close_db, init_db

if TYPE_CHECKING:
    from aiogram.fsm.storage.base import BaseStorage

    from wallets.service import Wallets

logger = logging.getLogger(__name__)


def build_fsm_storage(settings: Settings) -> BaseStorage:
    """Redis when configured, so a restart or another replica continues a conversation."""
    # Imported here: aiogram takes ~2 s to import and commands like `migrate` never need it.
    from aiogram.fsm.storage.memory import MemoryStorage
    from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

    if settings.redis_url:
        return RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
            state_ttl=timedelta(days=2),
            data_ttl=timedelta(days=2),
        )
    return MemoryStorage()


def _signing_secret(settings: Settings) -> bytes:
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode()
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
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    digest = hmac.new(_signing_secret(settings), b"telegram-webhook-secret", hashlib.sha256)
    # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -: url-safe base64 fits.
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def build_link_signer(settings: Settings) -> LinkSigner:
    return LinkSigner(_signing_secret(settings), settings.base_url)


def build_wallets(
    settings: Settings, signer: LinkSigner, *, bot_username: str | None = None
) -> Wallets:
    """Apple passes (the configured certificates, else the demo chain under var/), APNs and
    Google Wallet when configured; each one that is off says so in one log line.

    ``bot_username`` is the one Telegram reported (getMe): the pass QR codes open that bot.
    Only the offline demo goes without and takes the setting."""
    username = bot_username or settings.bot_username
    # Imported here, like aiogram above: `migrate` and `merchant create` need none of it.
    from channels.apple_wallet.apns import ApnsClient, load_apns_credentials
    from channels.apple_wallet.demo_certs import load_signer
    from channels.google_wallet import google_wallet_channel
    from wallets.apple_passes import (
        WalletPasses,
        WebServiceConfigError,
        check_web_service,
    )
    from wallets.service import Wallets

    real_certificates = settings.apple_pass_cert_path is not None
    try:
        check_web_service(settings.base_url, real_certificates=real_certificates)
    except WebServiceConfigError as refused:
        raise SystemExit(str(refused)) from None

    pass_signer = load_signer(
        certificate=settings.apple_pass_cert_path,
        private_key=settings.apple_pass_key_path,
        wwdr=settings.apple_wwdr_cert_path,
        password=settings.apple_pass_key_password,
        demo_dir=settings.apple_wallet_dir,
        pass_type_id=settings.apple_pass_type_id,
        team_id=settings.apple_team_id,
    )
    passes = WalletPasses(
        pass_type_identifier=settings.apple_pass_type_id,
        team_identifier=settings.apple_team_id,
        base_url=settings.base_url,
        signer=pass_signer,
        link_signer=signer,
        bot_username=username,
        passes_dir=settings.effective_apple_passes_dir,
    )
    credentials = load_apns_credentials(
        key_id=settings.apns_key_id,
        team_id=settings.apns_team_id,
        key_pem=settings.apns_key,
        key_path=settings.apns_key_path,
    )
    apns = None
    if credentials is not None:
        apns = ApnsClient(
            credentials,
            topic=settings.apple_pass_type_id,
            host=settings.apns_host,
            port=settings.apns_port,
            ca_file=settings.apns_ca_file,
            request_timeout=settings.apns_timeout_seconds,
        )
        logger.info(
            "APNs on: Wallet pass pushes go to %s:%d", settings.apns_host, settings.apns_port
        )
    # Object ids carry an HMAC; a key of their own, derived from the link-signing secret.
    object_id_key = hmac.new(
        _signing_secret(settings), b"google-wallet-object-ids", hashlib.sha256
    ).digest()
    google = google_wallet_channel(
        settings.google_wallet_issuer_id,
        settings.google_wallet_key_file,
        secret=object_id_key,
        api_url=settings.google_wallet_api_url,
        token_url=settings.google_wallet_token_url,
        origins=(settings.base_url,),
    )
    return Wallets(
        passes=passes,
        link_signer=signer,
        bot_username=username,
        apns=apns,
        google=google,
        base_url=settings.base_url,
    )


def invite_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.staff_invite_ttl_hours)


@asynccontextmanager
async def database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[None]:
    """Migrated and connected for the duration of the block."""
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
