"""A webhook request's body read as a Telegram update, for the shared bot and the shops' bots.

Anything that is not an update (too large, not JSON, not an Update, nested past the parser's
stack, a NUL character) is refused here, before any handler: a 400, never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

logger = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1 << 20
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def checked_update(request: web.Request, bot: Bot) -> Update | None:
    """The request's body as a Telegram update, or None (logged) when it is not one."""
    try:
        body = await request.read()
        if len(body) > MAX_UPDATE_BYTES:
            raise ValueError("update too large")
        payload: Any = json.loads(body)
        if b"\\u0000" in body and _holds_nul(payload):
            # Telegram never sends U+0000, and PostgreSQL cannot store it in a text column:
            # a forged update that carries one would fail wherever its text is saved.
            raise ValueError("NUL character in the update")
        return Update.model_validate(payload, context={"bot": bot})
    except (ValueError, ValidationError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser's stack ("[" x 100,000).
        logger.warning("rejected a malformed webhook update: %s", type(exc).__name__)
        return None


def _holds_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds U+0000 in any string, key or value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
