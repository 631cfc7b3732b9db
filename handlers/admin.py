"""Admin mode: ``/admin`` switches a staff member into it, ``/exit`` back to customer mode.

``/admin`` posts one message, the shop home: the shop's name, this week's totals and a chat
keyboard of what the role allows (📣 New campaign, 📋 Campaigns, 👥 Staff, ➕ Invite staff,
🖨 Counter QR, 🔎 Find a customer, and "More…" for the rest: cards and shop settings, the
dashboard, the activity log). ``/exit`` is said in the text, not a button. Entering also sets
the person's own command menu (``handlers.command_menu``).

The shop being worked for is kept in the FSM storage; every action still checks role and
merchant, so a keyboard button of someone who lost the seat (or pressed a button of another
shop) changes nothing. To anyone who is not staff, ``/admin`` and ``/exit`` are unknown
commands.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from campaigns.dashboard import Dashboard, Period, dashboard
from conversation.links import MessengerLinks
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat, enter_admin_mode
from handlers.automations import automations_button
from handlers.callbacks import AdminAction, AdminOp
from handlers.campaign_list import CAMPAIGNS_BUTTON, campaigns_command
from handlers.command_menu import sync_staff_commands
from handlers.counter import role_name
from handlers.counter_menu import EXIT_BUTTON, cashier_keyboard, cashier_title, scanner_url
from handlers.dashboard import first_week_day
from handlers.onboarding import start_walkthrough
from handlers.poster import COUNTER_QR_BUTTON, send_counter_qr
from handlers.staff import INVITE_BUTTON, activity_button, show_invite_roles, show_staff
from handlers.start import start_with_link
from handlers.texts import button_expired, current_locale, number, user_text
from handlers.till import customer_command
from handlers.wizard.flow import NEW_CAMPAIGN_BUTTON, new_campaign
from loyalty.poster import poster_shop
from loyalty.staff import Permission, allows, seat_at, shop_of
from loyalty.tokens import LinkKind, payload
from models.enums import Platform, StaffRole

if TYPE_CHECKING:
    from bot.config import Settings
    from campaigns.preview import MailChannel
    from channels.base import DeliveryChannel
    from handlers.media import FileIdCache
    from loyalty.links import LinkSigner
    from models import Customer, MessengerAccount, Staff
    from wallets.service import Wallets

router = Router(name="admin")
STAFF_BUTTON = __("👥 Staff")
FIND_BUTTON = __("🔎 Find a customer")
MORE_BUTTON = __("More…")


def _keyboard(seat: Staff, scanner: str | None = None) -> ReplyKeyboardMarkup:
    if seat.role == StaffRole.CASHIER:
        return cashier_keyboard(seat, scanner)
    rows = []
    if allows(seat, Permission.CAMPAIGNS):
        rows.append([KeyboardButton(text=str(NEW_CAMPAIGN_BUTTON)),
                     KeyboardButton(text=str(CAMPAIGNS_BUTTON))])  # fmt: skip
    people = []
    if allows(seat, Permission.STAFF):
        people = [KeyboardButton(text=str(STAFF_BUTTON)), KeyboardButton(text=str(INVITE_BUTTON))]
    counter = [KeyboardButton(text=str(FIND_BUTTON))]
    if allows(seat, Permission.PRINT_POSTER):
        counter.insert(0, KeyboardButton(text=str(COUNTER_QR_BUTTON)))
    rows += [row for row in (people, counter) if row]
    rows.append([KeyboardButton(text=str(MORE_BUTTON))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


async def _week(seat: Staff) -> Dashboard:
    return await dashboard(
        seat.merchant_id, Period.WEEK, first_week_day=first_week_day(current_locale())
    )


def week_line(board: Dashboard) -> str:
    """ "This week: 42 stamps · 6 new customers · 3 rewards used · 2 waiting" (the dashboard's
    own figures, on the shop's local days)."""
    parts = [
        ngettext("{count} stamp", "{count} stamps", board.stamps),
        ngettext("{count} new customer", "{count} new customers", board.members_new),
        ngettext("{count} reward used", "{count} rewards used", board.vouchers_redeemed),
        ngettext("{count} waiting", "{count} waiting", board.vouchers_waiting),
    ]
    counts = (board.stamps, board.members_new, board.vouchers_redeemed, board.vouchers_waiting)
    figures = " · ".join(
        part.format(count=number(n)) for part, n in zip(parts, counts, strict=True)
    )
    return _("This week: {figures}").format(figures=figures)


async def _home(seat: Staff) -> str:
    # The week's figures carry the shop's name: one read of the shop, not two.
    board = await _week(seat) if allows(seat, Permission.STATISTICS) else None
    name = board.shop_name if board is not None else (await shop_of(seat)).name
    lines = [_("<b>Admin · {shop}</b>").format(shop=user_text(name))]
    if board is not None:
        lines.append(week_line(board))
    lines += [
        "",
        _("You are {role}.").format(role=role_name(seat.role)),
        _("To stamp a card or redeem a voucher, scan the customer's QR code with your camera."),
        _("/exit returns to customer mode."),
    ]
    return "\n".join(lines)


async def _cashier_menu(seat: Staff) -> str:
    """A cashier's entry: the counter, not the back office (no "admin" for a cashier)."""
    shop = await shop_of(seat)
    return "\n".join(
        [
            cashier_title(shop.name),
            _("You are {role}.").format(role=role_name(seat.role)),
            _(
                "To stamp a card or redeem a voucher, scan the customer's QR code with your "
                "camera, or type their code."
            ),
        ]
    )


def _more(seat: Staff) -> InlineKeyboardMarkup:
    """The rest of the shop, folded behind "More…": automations, cards and settings, figures,
    the printable poster, staff and the log."""
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": seat.merchant_id}
    if allows(seat, Permission.CAMPAIGNS):
        builder.add(automations_button(seat.merchant_id))
    if allows(seat, Permission.CARDS):
        builder.button(
            text=_("Cards and shop settings"), callback_data=AdminAction(op=AdminOp.CARDS, **ids)
        )
    if allows(seat, Permission.STATISTICS):
        builder.button(text=_("Dashboard"), callback_data=AdminAction(op=AdminOp.DASHBOARD, **ids))
    if allows(seat, Permission.PRINT_POSTER):
        builder.button(
            text=_("Counter poster, PDF to print"),
            callback_data=AdminAction(op=AdminOp.POSTER, **ids),
        )
    if allows(seat, Permission.STAFF):
        builder.button(text=_("Staff"), callback_data=AdminAction(op=AdminOp.STAFF, **ids))
        label, data = activity_button(seat.merchant_id)
        builder.button(text=label, callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


async def _more_text(seat: Staff) -> str:
    shop = await shop_of(seat)
    return _("<b>Shop menu · {shop}</b>").format(shop=user_text(shop.name))


async def _enter(
    message: Message,
    state: FSMContext,
    seat: Staff,
    bot: Bot,
    i18n: I18n,
    links: MessengerLinks,
    scanner: str | None = None,
) -> None:
    await enter_admin_mode(state, seat.merchant_id)
    linking = bool(links.others(Platform.TELEGRAM))
    await sync_staff_commands(bot, i18n, seat.telegram_user_id, linking=linking)
    if await start_walkthrough(message, state, seat):
        return
    await show_admin(message, seat, scanner)


async def show_admin(message: Message, seat: Staff, scanner: str | None = None) -> None:
    """The shop home: one message with the totals and the shop keyboard; for a cashier, the
    counter with the cashier's keyboard (``scanner``: the Mini App scanner's address)."""
    if seat.role == StaffRole.CASHIER:
        await message.answer(await _cashier_menu(seat), reply_markup=_keyboard(seat, scanner))
        return
    await message.answer(await _home(seat), reply_markup=_keyboard(seat))


@router.message(Command("admin"), IsStaff())
async def admin_command(
    message: Message,
    seats: list[Staff],
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    messenger_links: MessengerLinks,
) -> None:
    if len(seats) == 1:
        await _enter(message, state, seats[0], bot, i18n, messenger_links, scanner_url(settings))
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
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    messenger_links: MessengerLinks,
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STAMP)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    with contextlib.suppress(TelegramBadRequest):  # the shop is chosen: the question is done
        await query.message.edit_reply_markup(reply_markup=None)
    await _enter(query.message, state, seat, bot, i18n, messenger_links, scanner_url(settings))


@router.callback_query(AdminAction.filter(F.op == AdminOp.HOME))
async def home_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext
) -> None:
    """⚙️ Shop menu at the end of the owner's first-run checklist."""
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STAMP)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    await enter_admin_mode(state, seat.merchant_id)
    await show_admin(query.message, seat)


@router.callback_query(AdminAction.filter(F.op == AdminOp.MORE))
async def more_pressed(query: CallbackQuery, callback_data: AdminAction) -> None:
    """Back to the folded shop menu from a screen opened there: in place."""
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STATISTICS)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    with contextlib.suppress(TelegramBadRequest):
        await query.message.edit_text(await _more_text(seat), reply_markup=_more(seat))


async def _find(message: Message) -> None:
    """The till's own lookup (``/customer``), asked without a code: it says what to send."""
    await customer_command(message, CommandObject(prefix="/", command="customer"))


@router.callback_query(AdminAction.filter(F.op == AdminOp.JOIN_OWN))
async def join_own_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    bot: Bot,
    file_cache: FileIdCache,
    state: FSMContext,
    messenger_links: MessengerLinks,
    customer: Customer | None = None,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
    messenger_account: MessengerAccount | None = None,
) -> None:
    """Step 3 of the first run: the owner joins their own card as a customer would, by the
    same path as a scan of the counter QR (so they see what customers see)."""
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STAMP)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    shop = await poster_shop(seat.merchant_id)
    if not shop.cards:
        await query.answer(_("This shop has no card to join yet."), show_alert=True)
        return
    await query.answer()
    message = query.message.model_copy(update={"from_user": query.from_user})
    command = CommandObject(
        prefix="/", command="start", args=payload(LinkKind.JOIN, shop.cards[0].join_token)
    )
    await start_with_link(
        message,
        command,
        bot,
        customer,
        file_cache,
        state,
        messenger_links,
        wallets=wallets,
        link_signer=link_signer,
        messenger_account=messenger_account,
    )


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


# -- the shop keyboard ------------------------------------------------------------------------


async def _keyboard_seat(message: Message, state: FSMContext) -> Staff | None:
    """The seat behind a shop-keyboard button: admin mode for a shop this person still works
    for; else they are told (a keyboard left over from a seat they lost)."""
    user = message.from_user
    seat = await admin_seat(state, user.id, Permission.STAMP) if user is not None else None
    if seat is None:
        if await admin_merchant(state) is None:
            await message.answer(_("Open admin mode with /admin first."))
        else:
            await message.answer(
                _("You no longer work for this shop."), reply_markup=ReplyKeyboardRemove()
            )
    return seat


@router.message(F.text == STAFF_BUTTON, IsStaff())
async def staff_button(message: Message, state: FSMContext) -> None:
    if (seat := await _keyboard_seat(message, state)) is not None:
        await show_staff(message, seat)


@router.message(F.text == INVITE_BUTTON, IsStaff())
async def invite_button(message: Message, state: FSMContext) -> None:
    if (seat := await _keyboard_seat(message, state)) is not None:
        await show_invite_roles(message, seat)


@router.message(F.text == COUNTER_QR_BUTTON, IsStaff())
async def counter_qr_button(
    message: Message,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    messenger_links: MessengerLinks | None = None,
) -> None:
    if (seat := await _keyboard_seat(message, state)) is not None:
        await send_counter_qr(message, bot, i18n, seat, messenger_links)


@router.message(F.text == FIND_BUTTON, IsStaff())
async def find_button(message: Message, state: FSMContext) -> None:
    if await _keyboard_seat(message, state) is not None:
        await _find(message)


@router.message(F.text == MORE_BUTTON, IsStaff())
async def more_button(message: Message, state: FSMContext) -> None:
    seat = await _keyboard_seat(message, state)
    if seat is None:
        return
    if not allows(seat, Permission.STATISTICS):
        await message.answer(_("The shop menu is for the owner and managers."))
        return
    await message.answer(await _more_text(seat), reply_markup=_more(seat))


@router.message(Command("exit"), IsStaff())
@router.message(F.text == EXIT_BUTTON, IsStaff())
async def exit_command(message: Message, state: FSMContext) -> None:
    # Leaving admin mode drops a half-made campaign too: it belonged to the mode.
    await state.clear()
    await message.answer(
        _("Back to customer mode. /admin opens the admin menu again."),
        reply_markup=ReplyKeyboardRemove(),
    )
