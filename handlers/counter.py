"""At the counter: staff join by invite, stamp a customer's QR, redeem a voucher."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import IsStaff, admin_merchant
from handlers.callbacks import RedeemAction, StampAction, TillAction, TillOp, VoidAction
from handlers.notify import CustomerNotifier
from handlers.texts import (
    bold,
    button_expired,
    code,
    local_date,
    ltr,
    plus,
    refusal,
    user_text,
)
from handlers.till import ask_amount, undo_markup
from loyalty.clock import utcnow
from loyalty.counter import CounterCard, CounterVoucher, card_at_counter, voucher_at_counter
from loyalty.errors import LoyaltyError, StampCooldown
from loyalty.merchants import accept_staff_invite
from loyalty.staff import Permission, allows, shop_of
from loyalty.stamps import add_stamps
from loyalty.tokens import (
    LinkKind,
    normalize_counter_code,
    normalize_voucher_code,
    parse_payload,
)
from loyalty.vouchers import redeem_voucher, void_by_staff
from models.enums import RedeemVia, StaffRole, VoucherStatus

logger = logging.getLogger(__name__)
router = Router(name="counter")
# The staff's ``/start`` links (an invite, a customer's QR, a voucher QR), tried with the
# customers' ``/start`` before every other conversation (see ``handlers.get_routers``).
links = Router(name="staff_links")
STAMP_BUTTONS = 3


class StaffLink(Filter):
    """A ``/start`` payload of a staff invite, a personal QR or a voucher QR."""

    async def __call__(self, message: Message, command: CommandObject) -> bool | dict[str, Any]:
        parsed = parse_payload(command.args or "")
        if parsed is None or parsed[0] == LinkKind.JOIN:
            return False
        return {"link": parsed}


def role_name(role: str) -> str:
    names = {StaffRole.OWNER: _("owner"), StaffRole.MANAGER: _("manager")}
    return names.get(StaffRole(role), _("cashier"))


def _stamp_screen(card: CounterCard) -> tuple[str, InlineKeyboardMarkup | None]:
    text = "\n".join(
        [
            f"{bold(card.first_name)} · {user_text(card.card_name)}",
            _("{fraction} stamps").format(fraction=ltr(f"{card.balance}/{card.stamps_needed}")),
            _("How many stamps?"),
        ]
    )
    builder = InlineKeyboardBuilder()
    nonce = secrets.token_hex(8)
    for count in range(1, min(STAMP_BUTTONS, card.max_stamps) + 1):
        builder.button(
            text=plus(count),
            callback_data=StampAction(
                membership_id=card.membership_id, count=count, nonce=f"{nonce}{count}"
            ),
        )
    builder.button(
        text=_("🔎 Customer"),
        callback_data=TillAction(op=TillOp.LOOKUP, target=card.membership_id),
    )
    builder.adjust(min(STAMP_BUTTONS, card.max_stamps), 1)
    return text, builder.as_markup()


def _voucher_screen(
    voucher: CounterVoucher, *, typed: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The voucher with Redeem while usable, and Cancel for the staff who may void it."""
    lines = [
        _("🎟 {title} for {name}").format(
            title=bold(voucher.title), name=user_text(voucher.first_name)
        ),
        _("Code: {code}").format(code=code(voucher.code)),
    ]
    usable = voucher.status == VoucherStatus.ISSUED and (
        voucher.expires_at is None or voucher.expires_at > utcnow()
    )
    builder = InlineKeyboardBuilder()
    if usable:
        if voucher.expires_at is not None:
            lines.append(
                _("Valid until {date}.").format(
                    date=local_date(voucher.expires_at, voucher.timezone)
                )
            )
        builder.button(
            text=_("✅ Redeem now"),
            callback_data=RedeemAction(voucher_id=voucher.voucher_id, typed=typed),
        )
        if allows(voucher.staff, Permission.VOID_VOUCHER):
            builder.button(
                text=_("🗑 Cancel the voucher"),
                callback_data=VoidAction(voucher_id=voucher.voucher_id),
            )
        builder.adjust(1)
    return "\n".join(lines), builder.as_markup() if usable else None


@links.message(CommandStart(deep_link=True), StaffLink())
async def staff_link(message: Message, link: tuple[LinkKind, str]) -> None:
    user = message.from_user
    if user is None:
        return
    kind, token = link
    try:
        if kind == LinkKind.STAFF_INVITE:
            staff = await accept_staff_invite(
                token, telegram_user_id=user.id, display_name=user.full_name
            )
            shop = await shop_of(staff)
            await message.answer(
                _("Welcome, {name}! You are now {role} at {shop}.").format(
                    name=user_text(user.first_name),
                    role=role_name(staff.role),
                    shop=bold(shop.name),
                )
                + "\n"
                + _("Scan a customer's QR code with your phone camera to stamp their card.")
            )
        elif kind == LinkKind.MEMBERSHIP:
            card = await card_at_counter(user.id, token=token)
            text, markup = _stamp_screen(card)
            await message.answer(text, reply_markup=markup)
        else:
            voucher = await voucher_at_counter(user.id, token=token)
            text, markup = _voucher_screen(voucher, typed=False)
            await message.answer(text, reply_markup=markup)
    except LoyaltyError as refused:
        if kind == LinkKind.STAFF_INVITE:
            await message.answer(refusal(refused))
        else:
            # To someone who is not staff of this shop the code means nothing.
            await message.answer(_("This link is meant for the shop's staff."))


class TypedCode(Filter):
    """In admin mode: text that is a card's till code (8 characters) or a voucher code (12)."""

    async def __call__(
        self, message: Message, state: FSMContext | None = None
    ) -> bool | dict[str, Any]:
        # No state when the update names no chat or sender: then it is no staff member's code.
        if state is None or not message.text:
            return False
        # The shape first: it costs nothing, while admin mode is a read of the FSM storage that
        # every other text (a /start, a customer's message) would pay for.
        if (card := normalize_counter_code(message.text)) is not None:
            typed = (LinkKind.MEMBERSHIP, card)
        elif (voucher := normalize_voucher_code(message.text)) is not None:
            typed = (LinkKind.VOUCHER, voucher)
        else:
            return False
        return {"typed": typed} if await admin_merchant(state) is not None else False


@router.message(F.text, TypedCode())
async def code_typed(message: Message, typed: tuple[LinkKind, str]) -> None:
    """The code under a customer's QR (or on a voucher), typed when the camera cannot scan."""
    user = message.from_user
    if user is None:
        return
    kind, value = typed
    try:
        if kind == LinkKind.MEMBERSHIP:
            card = await card_at_counter(user.id, code=value)
            text, markup = _stamp_screen(card)
        else:
            voucher = await voucher_at_counter(user.id, code=value)
            text, markup = _voucher_screen(voucher, typed=True)
    except LoyaltyError:
        logger.info("typed code not found for staff user %s", user.id)
        await message.answer(_("No card or voucher of your shop has this code."))
        return
    await message.answer(text, reply_markup=markup)


# Like the other admin commands, /redeem means nothing to someone who is not staff anywhere.
@router.message(Command("redeem"), IsStaff())
async def redeem_command(message: Message, command: CommandObject) -> None:
    user = message.from_user
    if user is None:
        return
    if not command.args:
        await message.answer(
            _("Send /redeem followed by the code, for example /redeem K7QM-3XPD-9TRA.")
        )
        return
    try:
        voucher = await voucher_at_counter(user.id, code=command.args[:64])
    except LoyaltyError as refused:
        await message.answer(refusal(refused))
        return
    text, markup = _voucher_screen(voucher, typed=True)
    await message.answer(text, reply_markup=markup)


@router.callback_query(StampAction.filter())
async def stamp_pressed(
    query: CallbackQuery,
    callback_data: StampAction,
    notifier: CustomerNotifier,
    state: FSMContext,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        card = await card_at_counter(query.from_user.id, membership_id=callback_data.membership_id)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    override = callback_data.override and allows(card.staff, Permission.OVERRIDE_COOLDOWN)
    try:
        result = await add_stamps(
            card.membership_id,
            callback_data.count,
            merchant_id=card.staff.merchant_id,
            staff_id=card.staff.id,
            idempotency_key=f"tg-{callback_data.nonce}",
            ignore_cooldown=override,
        )
    except StampCooldown as refused:
        await query.answer()
        builder = InlineKeyboardBuilder()
        if allows(card.staff, Permission.OVERRIDE_COOLDOWN):
            builder.button(
                text=_("Stamp anyway"),
                callback_data=StampAction(
                    membership_id=card.membership_id,
                    count=callback_data.count,
                    nonce=secrets.token_hex(8),
                    override=True,
                ),
            )
        await query.message.edit_text(
            refusal(refused, card.timezone), reply_markup=builder.as_markup()
        )
        return
    except LoyaltyError as refused:
        await query.answer(refusal(refused, card.timezone), show_alert=True)
        return
    await query.answer()
    lines = [
        _("✅ {count} for {name}: {fraction}").format(
            count=plus(result.added),
            name=user_text(card.first_name),
            fraction=ltr(f"{result.membership.balance}/{result.card.stamps_needed}"),
        )
    ]
    lines += [_("🎉 Reward ready: {title}").format(title=bold(v.title)) for v in result.vouchers]
    if not result.replayed:
        await query.message.edit_text("\n".join(lines), reply_markup=undo_markup(result))
        await ask_amount(query.message, state, result)
        await notifier.stamps_added(card.customer_id, result)


@router.callback_query(RedeemAction.filter())
async def redeem_pressed(
    query: CallbackQuery, callback_data: RedeemAction, notifier: CustomerNotifier
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        voucher = await voucher_at_counter(query.from_user.id, voucher_id=callback_data.voucher_id)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    redeemed = redeem_voucher(
        voucher.voucher_id,
        merchant_id=voucher.staff.merchant_id,
        via=RedeemVia.CODE if callback_data.typed else RedeemVia.SCAN,
        staff_id=voucher.staff.id,
    )
    if await _settle(
        query, query.message, voucher, redeemed, _("✅ Redeemed: {title} for {name}.")
    ):
        await notifier.voucher_redeemed(voucher.customer_id, voucher.voucher_id)


async def _settle(
    query: CallbackQuery,
    message: Message,
    voucher: CounterVoucher,
    change: Awaitable[object],
    done: str,
) -> bool:
    """Make a till's change to a voucher and show how it went on the staff screen.

    A refusal replaces the screen with its reason and changes nothing; success shows ``done``
    with the voucher and the customer named. Redeeming and cancelling share this, so both
    answer the button and treat names the same way. True when the change went through.
    """
    try:
        await change
    except LoyaltyError as refused:
        await query.answer()
        await message.edit_text(refusal(refused, voucher.timezone))
        return False
    await query.answer()
    await message.edit_text(
        done.format(title=bold(voucher.title), name=user_text(voucher.first_name))
    )
    return True


async def _void_seat(query: CallbackQuery, voucher_id: int) -> CounterVoucher | None:
    """The voucher if this person may void it now (owner or manager of its shop)."""
    try:
        voucher = await voucher_at_counter(query.from_user.id, voucher_id=voucher_id)
    except LoyaltyError:
        voucher = None
    if voucher is None or not allows(voucher.staff, Permission.VOID_VOUCHER):
        await query.answer(button_expired())
        return None
    return voucher


@router.callback_query(VoidAction.filter(~F.confirmed))
async def void_pressed(query: CallbackQuery, callback_data: VoidAction) -> None:
    voucher = await _void_seat(query, callback_data.voucher_id)
    if voucher is None or not isinstance(query.message, Message):
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, cancel it"),
        callback_data=VoidAction(voucher_id=voucher.voucher_id, confirmed=True),
    )
    await query.answer()
    await query.message.answer(
        _("Cancel {title} for {name}? They can no longer use it; this cannot be undone.").format(
            title=bold(voucher.title), name=user_text(voucher.first_name)
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(VoidAction.filter(F.confirmed))
async def void_confirmed(
    query: CallbackQuery, callback_data: VoidAction, notifier: CustomerNotifier
) -> None:
    voucher = await _void_seat(query, callback_data.voucher_id)
    if voucher is None or not isinstance(query.message, Message):
        return
    voided = void_by_staff(voucher.staff, voucher.voucher_id, reason="cancelled at the till")
    done = _("🗑 Cancelled: {title} for {name}. They have been told.")
    if await _settle(query, query.message, voucher, voided, done):
        await notifier.voucher_voided(voucher.customer_id, voucher.voucher_id)
