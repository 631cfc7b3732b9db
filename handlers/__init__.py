"""aiogram routers: one module per conversation; ``get_routers`` shows all routing at once."""

from __future__ import annotations

import functools

from aiogram import F, Router
from aiogram.enums import ChatType

# Customers talk to the bot in private chats; in groups it stays silent. A private message
# always has a sender in Telegram, so one without (a forged update) is dropped here rather than
# reaching handlers whose FSM context needs a user.
PRIVATE = (F.chat.type == ChatType.PRIVATE) & F.from_user


@functools.cache
def get_routers() -> list[Router]:
    """Every conversation under one parent that only hears private chats, in the order they
    are tried; the fallback is always last.

    The routers are module singletons (aiogram style), so one process has one Dispatcher;
    the parent is built once too, so asking again (a check of the routing) is harmless.

    A button press skips each router whose callback handlers all start with a CallbackData
    filter of other prefixes (``bot.callback_gates``); a router with a callback handler that
    starts with any other filter is tried for every press, as the fallback is.
    """
    from handlers import (
        admin,
        automations,
        campaign_list,
        card_settings,
        cards,
        counter,
        dashboard,
        fallback,
        invites,
        linking,
        offers,
        onboarding,
        operator,
        poster,
        settings,
        shop_bot,
        shop_viber,
        shop_whatsapp,
        staff,
        start,
        till,
        vouchers,
        wizard,
    )

    private = Router(name="private")
    # Checked once for every message, before any conversation sees it.
    private.message.filter(PRIVATE)
    private.include_routers(
        # /start first: it is most of what people send (every QR scan is one), and no other
        # conversation takes a /start, so it need not pass every filter of theirs first.
        counter.links,
        start.router,
        # [🪪 My card] [🎟 Vouchers] under the message field work in every customer state.
        cards.shortcuts,
        operator.router,
        onboarding.router,
        admin.router,
        automations.router,
        card_settings.router,
        shop_bot.router,
        shop_viber.router,
        shop_whatsapp.router,
        staff.router,
        wizard.router,
        campaign_list.router,
        dashboard.router,
        poster.router,
        counter.router,
        till.router,
        # Before the settings: its "🔗 Link another messenger" button is a settings button.
        linking.router,
        settings.router,
        cards.router,
        invites.router,
        vouchers.router,
        offers.router,
        # A link code sent as a message, outside any form (so no typed step is taken).
        linking.typed,
        # Staff's stray text gets the code hint, not the customer help (after every other
        # conversation, so none of their typed steps is taken from them).
        counter.staff_text,
        fallback.router,
    )
    return [private]
