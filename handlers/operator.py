"""The operator's commands: ``/newshop`` creates a shop and hands out its owner's link.

Operators are the people who run this deployment (``STAMPBOT_OPERATORS``, Telegram user ids).
To everyone else ``/newshop`` is an unknown command, as ``/admin`` is to customers: the
router's filter lets nobody else in, so the fallback answers them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, User
from aiogram.utils.i18n import gettext as _

from handlers.texts import local_datetime, user_text
from loyalty.merchants import CardSpec
from loyalty.shop_settings import InvalidShopName, create_shop, shop_name
from loyalty.tokens import LinkKind, start_link

if TYPE_CHECKING:
    from bot.config import Settings

router = Router(name="operator")
DEFAULT_STAMPS = 10


class IsOperator(Filter):
    """Only the deployment's operators; for anyone else the command stays unknown."""

    async def __call__(
        self, message: Message, settings: Settings, event_from_user: User | None = None
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.telegram.operators


router.message.filter(IsOperator())


class NewShop(StatesGroup):
    name = State()


def _default_card(settings: Settings) -> CardSpec:
    """The first card every new shop gets; its owner renames or changes it in the set-up."""
    return CardSpec(
        name=_("Stamp card"),
        stamps_needed=DEFAULT_STAMPS,
        reward_text=_("A free treat"),
        max_stamps_per_call=settings.shops.max_stamps_per_call,
        stamp_cooldown_seconds=settings.shops.stamp_cooldown_seconds,
    )


@router.message(Command("newshop"))
async def new_shop_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    settings: Settings,
    staff_invite_ttl: timedelta,
) -> None:
    if command.args and command.args.strip():
        await _create(message, command.args, state, settings, staff_invite_ttl)
        return
    await state.set_state(NewShop.name)
    await message.answer(_("What is the new shop called? Send its name, or /cancel."))


@router.message(StateFilter(NewShop.name), F.text, ~F.text.startswith("/"))
async def shop_name_entered(
    message: Message, state: FSMContext, settings: Settings, staff_invite_ttl: timedelta
) -> None:
    await _create(message, message.text or "", state, settings, staff_invite_ttl)


async def _create(
    message: Message, text: str, state: FSMContext, settings: Settings, ttl: timedelta
) -> None:
    try:
        name = shop_name(text)
    except InvalidShopName:
        await state.set_state(NewShop.name)
        await message.answer(
            _("A shop name is 1 to 120 characters. Please send another, or /cancel.")
        )
        return
    assert message.from_user is not None  # the filter let only a known operator in
    created = await create_shop(
        name,
        _default_card(settings),
        operator_telegram_id=message.from_user.id,
        timezone=settings.shops.default_timezone,
        language=settings.shops.default_language,
        invite_ttl=ttl,
    )
    await state.set_state(None)
    username = ""
    if message.bot is not None:
        username = (await message.bot.me()).username or ""
    shop, card, invite = created.merchant, created.card, created.owner_invite
    await message.answer(
        "\n".join(
            [
                _("Shop {shop} (#{id}) is created, with the card {card}.").format(
                    shop=user_text(shop.name), id=shop.id, card=user_text(card.name)
                ),
                "",
                _(
                    "Send this link to the owner. It works once, until {when}; their first "
                    "/admin walks them through the set-up:"
                ).format(when=local_datetime(invite.expires_at, shop.timezone)),
                start_link(username, LinkKind.STAFF_INVITE, invite.token),
            ]
        )
    )
