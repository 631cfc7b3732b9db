"""aiogram routers: one module per conversation; ``get_routers`` shows all routing at once."""

from __future__ import annotations

import functools

from aiogram import F, Router
from aiogram.enums import ChatType

# Customers talk to the bot in private chats; in groups it stays silent.
PRIVATE = F.chat.type == ChatType.PRIVATE


@functools.cache
def get_routers() -> list[Router]:
    """Every conversation under one parent that only hears private chats, in the order they
    are tried; the fallback is always last.

    The routers are module singletons (aiogram style), so one process has one Dispatcher;
    the parent is built once too, so asking again (a check of the routing) is harmless.
    """
    from handlers import (
        admin,
        campaign_list,
        cards,
        counter,
        fallback,
        settings,
        staff,
        start,
        vouchers,
        wizard,
    )

    private = Router(name="private")
    # Checked once for every message, before any conversation sees it.
    private.message.filter(PRIVATE)
    private.include_routers(
        admin.router,
        staff.router,
        wizard.router,
        campaign_list.router,
        counter.router,
        start.router,
        settings.router,
        cards.router,
        vouchers.router,
        fallback.router,
    )
    return [private]
