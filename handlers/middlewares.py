"""Outer middlewares of the customer bot: flood control, who is writing, which language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from channels.ratelimit import Rate, RateLimiter
from locales import supported_language
from loyalty.customers import find_customer
from loyalty.messenger_accounts import came_through
from loyalty.profile import mark_reachable, remember_language_code
from models.enums import Platform

if TYPE_CHECKING:
    from models import Customer, Identity, MessengerAccount

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def telegram_locale(i18n: I18n, user: User | None) -> str:
    """The translated language closest to the user's Telegram language, else the default."""
    code = user.language_code if user is not None else None
    return supported_language(code, i18n.available_locales) or i18n.default_locale


class ThrottlingMiddleware(BaseMiddleware):
    """A token bucket per user; past it the update is dropped, with one polite warning."""

    def __init__(self, limiter: RateLimiter, i18n: I18n, rate: Rate, warn_every: float) -> None:
        self._limiter = limiter
        self._i18n = i18n
        self._rate = rate
        self._warn_rate = Rate(per_second=1 / warn_every, burst=1)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if await self._limiter.try_acquire(f"flood:{user.id}", self._rate) == 0:
            return await handler(event, data)
        logger.info("throttled user %s", user.id)
        warn = await self._limiter.try_acquire(f"flood-warned:{user.id}", self._warn_rate) == 0
        with self._i18n.use_locale(telegram_locale(self._i18n, user)):
            text = self._i18n.gettext("You're going a bit fast — please wait a moment.")
        if isinstance(event, CallbackQuery):
            await event.answer(text if warn else None)
        elif isinstance(event, Message) and warn:
            await event.answer(text)
        return None


class CustomerMiddleware(BaseMiddleware):
    """Puts ``customer`` (or None) and ``identity`` into the handler data.

    An update that came through a shop's own bot (``messenger_account``, from
    ``web.shop_bots``) makes that bot the person's way to the shop: after the handler, so a
    first ``/start`` that has just made the identity is counted too."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        data["customer"] = None
        data["identity"] = None
        identity: Identity | None = None
        if user is not None and not user.is_bot:
            found = await find_customer(Platform.TELEGRAM, str(user.id))
            if found is not None:
                customer, identity = found
                await remember_language_code(identity, user.language_code)
                await mark_reachable(identity)
                data["customer"], data["identity"] = customer, identity
        result = await handler(event, data)
        account: MessengerAccount | None = data.get("messenger_account")
        known = identity is not None and account is not None and identity.account_id == account.id
        if account is not None and user is not None and not user.is_bot and not known:
            await came_through(account.id, Platform.TELEGRAM, str(user.id))
        return result


class LocaleMiddleware(I18nMiddleware):
    """The customer's chosen language, else Telegram's, else the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        customer: Customer | None = data.get("customer")
        if customer is not None and customer.language in self.i18n.available_locales:
            return customer.language
        return telegram_locale(self.i18n, data.get("event_from_user"))
