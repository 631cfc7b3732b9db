"""Screens that replace themselves: a button-only step edits its message in place, and a stale
button puts the person back on the screen they are on instead of leaving them stuck.

How a room adopts it (review U9, O13):

* Render the screen as ``(text, markup)`` from the current data, in one function.
* Button steps call ``await show(message, text, markup)``: it edits that message in place, and
  sends a new one only when Telegram cannot edit it (a photo, a message gone or too old).
* Where a button turns out stale (a forged id, a card left, a voucher used) call
  ``await expired(query, redraw)`` with a function that draws the current screen on the
  pressed message, e.g. ``lambda message: show(message, *await menu())``: the person sees the
  "This button has expired." toast, then the screen as it is now. Without ``redraw`` only the
  toast is shown (for screens nobody can draw again, such as a stranger's forged data).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.texts import button_expired

logger = logging.getLogger(__name__)

Redraw = Callable[[Message], Awaitable[None]]


async def show(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """``text`` and ``markup`` on this message, edited in place; a new message only when the
    old one has no text to edit (a photo) or Telegram refuses the edit (deleted, too old)."""
    if message.text is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as refused:
            if "not modified" in refused.message:
                return  # the same screen pressed twice: it already shows this
            logger.info("screen not edited, sent anew: %s", refused.message.splitlines()[0])
    await message.answer(text, reply_markup=markup)


async def expired(query: CallbackQuery, redraw: Redraw | None = None) -> None:
    """The "button has expired" toast, then the current screen drawn again by ``redraw``."""
    await query.answer(button_expired())
    if redraw is not None and isinstance(query.message, Message):
        await redraw(query.message)
