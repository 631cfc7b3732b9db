"""The bot's command menu: the customer commands for every private chat, and per chat for staff.

Telegram shows the first list set among (this chat + language, this chat, all private chats +
language, all private chats, …), so a staff member's own list replaces the customer one
entirely: it repeats the customer commands and adds ``/admin`` and ``/redeem``, and
``/newcampaign`` and ``/campaigns`` when any of their seats may send campaigns. It is set
whenever the person's seats change (joining, a new role, leaving) and on every ``/admin``; a
person with no seat left gets the customer menu back (their chat list is deleted).

``/link`` (linking Viber or WhatsApp to this chat) is in the menus only where the deployment
is on another messenger (``linking``): on Telegram alone it would lead nowhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from loyalty.staff import Permission, allows, staff_roles

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.utils.i18n.lazy_proxy import LazyProxy

    from models import Staff

logger = logging.getLogger(__name__)

CUSTOMER_COMMANDS: tuple[tuple[str, LazyProxy], ...] = (
    ("card", __("My card and QR")),
    ("vouchers", __("My rewards, and how to use them")),
    ("settings", __("Language, email, offers")),
    ("help", __("What I can do")),
)
# After "settings": linking lives there too (its button), and /help stays last.
LINK_COMMAND: tuple[str, LazyProxy] = ("link", __("Link Viber or WhatsApp to this chat"))
STAFF_COMMANDS: tuple[tuple[str, LazyProxy], ...] = (
    ("admin", __("The shop menu: totals, staff, counter QR")),
    ("redeem", __("Redeem a voucher by its code")),
)
CAMPAIGN_COMMANDS: tuple[tuple[str, LazyProxy], ...] = (
    ("newcampaign", __("Send a message to your customers")),
    ("campaigns", __("Campaigns: sent, scheduled, drafts")),
)


def _customer(linking: bool) -> list[tuple[str, LazyProxy]]:
    chosen = list(CUSTOMER_COMMANDS)
    if linking:
        chosen.insert(3, LINK_COMMAND)
    return chosen


def customer_commands(*, linking: bool = False) -> list[BotCommand]:
    """The customer menu in the current language; ``/link`` when there is something to link."""
    return [BotCommand(command=name, description=str(text)) for name, text in _customer(linking)]


def staff_commands(seats: list[Staff], *, linking: bool = False) -> list[BotCommand]:
    """The menu of someone with these seats, in the current language."""
    chosen = _customer(linking) + list(STAFF_COMMANDS)
    if any(allows(seat, Permission.CAMPAIGNS) for seat in seats):
        chosen += CAMPAIGN_COMMANDS
    return [BotCommand(command=name, description=str(text)) for name, text in chosen]


async def sync_staff_commands(
    bot: Bot | None,
    i18n: I18n,
    telegram_user_id: int,
    language: str | None = None,
    *,
    linking: bool = False,
) -> None:
    """Set this person's chat menu from their seats now, in ``language`` (else the current one).

    Telegram refusing (a blocked bot, a flood wait) leaves the old menu: the seat change stands
    and the next ``/admin`` tries again.
    """
    if bot is None:
        return
    seats = await staff_roles(telegram_user_id)
    scope = BotCommandScopeChat(chat_id=telegram_user_id)
    locale = language if language in i18n.available_locales else None
    try:
        if not seats:
            await bot.delete_my_commands(scope=scope)
            return
        with i18n.context(), i18n.use_locale(locale or i18n.current_locale):
            commands = staff_commands(seats, linking=linking)
        await bot.set_my_commands(commands, scope=scope)
    except TelegramAPIError as error:
        logger.warning("staff command menu not updated: %s", error.message.splitlines()[0])
