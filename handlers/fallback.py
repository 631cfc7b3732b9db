"""Whatever no other router took: unknown text, stale or forged buttons, and errors."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram.utils.i18n import gettext as _

from handlers.texts import button_expired, refusal
from loyalty.errors import LoyaltyError

logger = logging.getLogger(__name__)
router = Router(name="fallback")


def help_text() -> str:
    return "\n".join(
        [
            _("I keep your stamp cards and vouchers."),
            "",
            _("/card — show my card and its QR code"),
            _("/vouchers — my vouchers"),
            _("/settings — language, email, birthday, notifications"),
            _("/start — all my cards"),
        ]
    )


@router.message(Command("help"))
async def help_command(message: Message) -> None:
    await message.answer(help_text())


@router.message()
async def unknown_message(message: Message) -> None:
    logger.info("unhandled %s message", message.content_type)
    await message.answer(_("Sorry, I didn't understand that.") + "\n\n" + help_text())


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """A button whose data no handler accepts: forged, or from a version of us long gone."""
    logger.info("unhandled callback data of %d bytes", len((query.data or "").encode()))
    await query.answer(button_expired())


@router.error(ExceptionTypeFilter(LoyaltyError))
async def refused(event: ErrorEvent) -> bool:
    """A rule refused an action that a handler did not expect to be refused."""
    assert isinstance(event.exception, LoyaltyError)
    logger.info("refused: %s", event.exception.code)
    await _tell(event, refusal(event.exception))
    return True


@router.error(
    ExceptionTypeFilter(TelegramBadRequest), F.exception.message.contains("query is too old")
)
async def late_answer(event: ErrorEvent) -> bool:
    """A button pressed long ago (or before a restart): Telegram no longer takes the answer, and
    the person has already seen their button stop spinning."""
    logger.info("update %s: the button's query expired before we answered", event.update.update_id)
    return True


@router.error()
async def crashed(event: ErrorEvent) -> bool:
    logger.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _tell(event, _("Sorry, something went wrong on our side. Please try again."))
    return True


async def _tell(event: ErrorEvent, text: str) -> None:
    try:
        if event.update.callback_query is not None:
            await event.update.callback_query.answer(text, show_alert=True)
        elif event.update.message is not None:
            await event.update.message.answer(text)
    except Exception:
        logger.exception("could not tell the user about the failure")
