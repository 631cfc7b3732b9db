"""The Dispatcher handlers run in: the services, the outer middlewares, every router."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n

from bot.callback_gates import gate_callbacks
from bot.config import FloodSettings
from bot.context import Services
from bot.inline_filters import run_filters_inline
from channels.ratelimit import Rate, RateLimiter
from handlers import get_routers
from handlers.middlewares import CustomerMiddleware, LocaleMiddleware, ThrottlingMiddleware

# Seconds between two "you're going a bit fast" warnings to one person.
FLOOD_WARN_EVERY = 10.0


def build_dispatcher(
    storage: BaseStorage,
    services: Services,
    *,
    limiter: RateLimiter,
    i18n: I18n,
    flood: FloodSettings,
) -> Dispatcher:
    """One per process: the routers are module singletons (aiogram style)."""
    dispatcher = Dispatcher(storage=storage, **services)
    rate = Rate(per_second=flood.per_second, burst=flood.burst)
    for observer in (dispatcher.message, dispatcher.callback_query):
        # Outer middlewares run before the filters: a flood is dropped before any query, and
        # the filters already see the customer.
        observer.outer_middleware(ThrottlingMiddleware(limiter, i18n, rate, FLOOD_WARN_EVERY))
        observer.outer_middleware(CustomerMiddleware())
    LocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    # A button press skips the routers with no handler for its kind of button.
    gate_callbacks(dispatcher)
    # Magic filters would each run in a worker thread (see bot.inline_filters).
    run_filters_inline(dispatcher)
    return dispatcher
