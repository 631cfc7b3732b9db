"""Builds the shared runtime pieces from settings; the only place that wires objects."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.config import Settings
from loyalty.links import LinkSigner
from models.db import apply_migrations, close_db, init_db

if TYPE_CHECKING:
    from aiogram.fsm.storage.base import BaseStorage

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


def build_link_signer(settings: Settings) -> LinkSigner:
    if settings.signing_key is not None:
        secret = settings.signing_key.get_secret_value().encode()
    else:
        path = settings.var_dir / "signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(secrets.token_bytes(32))
            path.chmod(0o600)
            logger.info("created a signing key for message links at %s", path)
        secret = path.read_bytes()
    return LinkSigner(secret, settings.base_url)


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
