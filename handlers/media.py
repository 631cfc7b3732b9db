"""Photos sent once and then re-sent by Telegram ``file_id`` while their content is unchanged."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from redis.asyncio import Redis

logger = logging.getLogger(__name__)


class FileIdCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, file_id: str) -> None: ...

    async def forget(self, key: str) -> None: ...


class MemoryFileIdCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> str | None:
        file_id = self._entries.get(key)
        if file_id is not None:
            self._entries.move_to_end(key)
        return file_id

    async def set(self, key: str, file_id: str) -> None:
        self._entries[key] = file_id
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def forget(self, key: str) -> None:
        self._entries.pop(key, None)


class RedisFileIdCache:
    def __init__(
        self, redis: Redis, *, ttl_days: int = 30, prefix: str = "stampbot:file:"
    ) -> None:
        self._redis = redis
        self._ttl = ttl_days * 86_400
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, file_id: str) -> None:
        await self._redis.set(self._prefix + key, file_id, ex=self._ttl)

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


async def send_photo_cached(
    bot: Bot,
    cache: FileIdCache,
    *,
    chat_id: int | str,
    key: str,
    render: Callable[[], bytes],
    caption: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send the photo by cached file_id, or render, upload and remember it.

    A file id is good only with the bot that uploaded it, and a shop's own bot
    (``bot.shop_bots``) sends the same cards as the shared one: the cache is per bot."""
    key = f"{bot.id}:{key}"
    file_id = await cache.get(key)
    if file_id is not None:
        try:
            return await bot.send_photo(
                chat_id, file_id, caption=caption, reply_markup=reply_markup
            )
        except TelegramBadRequest as exc:
            # Telegram can forget a file; upload it again rather than fail the customer.
            logger.warning("cached photo %s refused (%s); uploading again", key[:12], exc)
            await cache.forget(key)
    message = await bot.send_photo(
        chat_id,
        BufferedInputFile(render(), filename="card.png"),
        caption=caption,
        reply_markup=reply_markup,
    )
    if message.photo:
        await cache.set(key, message.photo[-1].file_id)
    return message
