"""Waiting out Telegram's "retry after N seconds" on the bot's own replies.

Telegram answers 429 with ``retry_after`` when a chat gets more than about one message a
second; ``/admin`` sends two messages back to back, so the second one regularly meets it. A
429 means the request was not carried out, so sending it again after the wait is safe.

Only the bot that answers people uses this (handlers, notifications, progress messages). The
delivery worker's bot does not: its channel turns a 429 into "retry after N s" on the delivery
row, and the outbox reschedules it without holding a worker slot — waiting here as well would
retry twice and stall a batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

logger = logging.getLogger(__name__)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Sleep ``retry_after`` and send again, at most ``attempts`` more times, and only while
    Telegram asks for no more than ``max_wait`` seconds; past that the 429 is raised (a person
    waiting longer for a reply is better told something went wrong)."""

    def __init__(
        self,
        *,
        max_wait: float,
        attempts: int,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.attempts = attempts
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if retries >= self.attempts or error.retry_after > self.max_wait:
                    raise
                retries += 1
                logger.info(
                    "Telegram asked to wait %d s before %s; waiting (retry %d of %d)",
                    error.retry_after,
                    type(method).__name__,
                    retries,
                    self.attempts,
                )
                await self._sleep(error.retry_after)
