"""Campaign photos outside Telegram: fetched once through the Bot API, then kept on disk.

A campaign's photo is a Telegram ``file_id``; email embeds the image and the card page shows it,
so the bytes are downloaded (``getFile`` + the file URL) the first time anyone needs them and
kept under ``var/photos/``, named by a hash of the file id. Every later email and page view
reads the kept copy; nothing is downloaded twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

logger = logging.getLogger(__name__)

# Telegram's bots may download files up to 20 MB; a campaign photo is far smaller.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
Fetch = Callable[[str], Awaitable[bytes | None]]


def telegram_fetch(bot: Bot) -> Fetch:
    """Downloads a file by id through the Bot API; None when Telegram refuses or is away."""

    async def fetch(file_id: str) -> bytes | None:
        try:
            file = await bot.get_file(file_id)
            if not file.file_path or (file.file_size or 0) > MAX_PHOTO_BYTES:
                return None
            out = io.BytesIO()
            await bot.download_file(file.file_path, out)
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            logger.warning("campaign photo not downloaded: %s", type(exc).__name__)
            return None
        return out.getvalue()

    return fetch


class PhotoStore:
    """File id → image bytes, downloaded once per file id and process group sharing ``folder``."""

    def __init__(self, folder: Path, fetch: Fetch | None) -> None:
        self.folder = folder
        self._fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}

    def _path(self, file_id: str) -> Path:
        return self.folder / (hashlib.sha256(file_id.encode()).hexdigest()[:32] + ".img")

    def kept(self, file_id: str) -> bytes | None:
        """The kept copy only, never a download (for the card page's request path)."""
        try:
            return self._path(file_id).read_bytes()
        except OSError:
            return None

    async def get(self, file_id: str | None) -> bytes | None:
        if not file_id:
            return None
        lock = self._locks.setdefault(file_id, asyncio.Lock())
        async with lock:  # concurrent sends of one campaign wait for the one download
            data = await asyncio.to_thread(self.kept, file_id)
            if data is not None or self._fetch is None:
                return data
            data = await self._fetch(file_id)
            if data:
                await asyncio.to_thread(self._keep, file_id, data)
            return data

    def _keep(self, file_id: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(file_id)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
