"""Admin mode: ``/admin`` switches a staff member into it, ``/exit`` back to customer mode.

In admin mode the chat keyboard holds what the role allows (campaigns for owners and
managers), and the menu shows staff management to owners. The shop being worked for is kept
in the FSM storage; every action still checks role and merchant. To anyone who is not staff,
``/admin`` and ``/exit`` are unknown commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import IsStaff, enter_admin_mode
from handlers.automations import automations_button
from handlers.callbacks import AdminAction, AdminOp
from handlers.campaign_list import CAMPAIGNS_BUTTON, campaigns_command
from handlers.counter import role_name
from handlers.counter_menu import EXIT_BUTTON, cashier_keyboard
from handlers.onboarding import start_walkthrough
from handlers.poster import POSTER_BUTTON
from handlers.staff import activity_button
from handlers.texts import button_expired, user_text
from handlers.wizard.flow import NEW_CAMPAIGN_BUTTON, new_campaign
from loyalty.staff import Permission, allows, seat_at, shop_of
from models.enums import StaffRole

if TYPE_CHECKING:
    from bot.config import Settings
    from campaigns.preview import MailChannel
    from channels.base import DeliveryChannel
    from models import Staff
    from wallets.service import Wallets

router = Router(name="admin")


def _keyboard(seat: Staff) -> ReplyKeyboardMarkup:
    if seat.role == StaffRole.CASHIER:
        return cashier_keyboard(seat)
    rows = []
    if allows(seat, Permission.CAMPAIGNS):
        rows.append(
            [
                KeyboardButton(text=str(NEW_CAMPAIGN_BUTTON)),
                KeyboardButton(text=str(CAMPAIGNS_BUTTON)),
            ]
        )
    rows.append([KeyboardButton(text=str(EXIT_BUTTON))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


async def _menu(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    lines = [
        _("<b>Admin · {shop}</b>").format(shop=user_text(shop.name)),
        _("You are {role}.").format(role=role_name(seat.role)),
        _("To stamp a card or redeem a voucher, scan the customer's QR code with your camera."),
    ]
    builder = InlineKeyboardBuilder()
    if allows(seat, Permission.CAMPAIGNS):
        builder.button(
            text=str(NEW_CAMPAIGN_BUTTON),
            callback_data=AdminAction(op=AdminOp.NEW_CAMPAIGN, merchant_id=seat.merchant_id),
        )
        builder.button(
            text=str(CAMPAIGNS_BUTTON),
            callback_data=AdminAction(op=AdminOp.CAMPAIGNS, merchant_id=seat.merchant_id),
        )
        builder.add(automations_button(seat.merchant_id))
    if allows(seat, Permission.CARDS):
        builder.button(
            text=_("🎴 Cards"),
            callback_data=AdminAction(op=AdminOp.CARDS, merchant_id=seat.merchant_id),
        )
    if allows(seat, Permission.STATISTICS):
        builder.button(
            text=_("📊 Dashboard"),
            callback_data=AdminAction(op=AdminOp.DASHBOARD, merchant_id=seat.merchant_id),
        )
    if allows(seat, Permission.PRINT_POSTER):
        builder.button(
            text=str(POSTER_BUTTON),
            callback_data=AdminAction(op=AdminOp.POSTER, merchant_id=seat.merchant_id),
        )
    if allows(seat, Permission.STAFF):
        builder.button(
            text=_("👥 Staff"),
            callback_data=AdminAction(op=AdminOp.STAFF, merchant_id=seat.merchant_id),
        )
        label, data = activity_button(seat.merchant_id)
        builder.button(text=label, callback_data=data)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def _enter(message: Message, state: FSMContext, seat: Staff) -> None:
    await enter_admin_mode(state, seat.merchant_id)
    if await start_walkthrough(message, state, seat):
        return
    await show_admin(message, seat)


async def show_admin(message: Message, seat: Staff) -> None:
    """The admin keyboard and menu (after entering, or at the end of the owner's set-up)."""
    await message.answer(
        _("Admin mode is on. /exit returns to customer mode."), reply_markup=_keyboard(seat)
    )
    text, markup = await _menu(seat)
    await message.answer(text, reply_markup=markup)


@router.message(Command("admin"), IsStaff())
async def admin_command(message: Message, seats: list[Staff], state: FSMContext) -> None:
    if len(seats) == 1:
        await _enter(message, state, seats[0])
        return
    builder = InlineKeyboardBuilder()
    for seat in seats:
        shop = await shop_of(seat)
        builder.button(
            text=f"{user_text(shop.name, html=False, limit=48)} · {role_name(seat.role)}",
            callback_data=AdminAction(op=AdminOp.ENTER, merchant_id=seat.merchant_id),
        )
    builder.adjust(1)
    await message.answer(_("Which shop are you working for?"), reply_markup=builder.as_markup())


@router.callback_query(AdminAction.filter(F.op == AdminOp.ENTER))
async def enter_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STAMP)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    await _enter(query.message, state, seat)


@router.callback_query(AdminAction.filter(F.op.in_({AdminOp.NEW_CAMPAIGN, AdminOp.CAMPAIGNS})))
async def campaigns_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    settings: Settings,
    telegram_channel: DeliveryChannel,
    email_channel: MailChannel,
    wallets: Wallets | None = None,
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.CAMPAIGNS)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    await enter_admin_mode(state, seat.merchant_id)
    # The menu button acts for the person who pressed it, not the bot that sent the menu.
    message = query.message.model_copy(update={"from_user": query.from_user})
    if callback_data.op == AdminOp.NEW_CAMPAIGN:
        await new_campaign(message, state, settings, telegram_channel, email_channel, wallets)
    else:
        await campaigns_command(message, state)


@router.message(Command("exit"), IsStaff())
@router.message(F.text == EXIT_BUTTON, IsStaff())
async def exit_command(message: Message, state: FSMContext) -> None:
    # Leaving admin mode drops a half-made campaign too: it belonged to the mode.
    await state.clear()
    await message.answer(
        _("Back to customer mode. /admin opens the admin menu again."),
        reply_markup=ReplyKeyboardRemove(),
    )
