"""At the counter: staff join by invite, stamp a customer's QR, redeem a voucher."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_time

from conversation.links import MessengerLinks
from handlers.admin_mode import IsStaff, admin_merchant, enter_admin_mode
from handlers.callbacks import RedeemAction, StampAction, TillAction, TillOp, VoidAction
from handlers.command_menu import sync_staff_commands
from handlers.counter_menu import REDEEM_BUTTON, TYPE_CODE_BUTTON, cashier_keyboard, scanner_url
from handlers.notify import CustomerNotifier
from handlers.texts import (
    and_list,
    bold,
    button_expired,
    code,
    current_locale,
    local_date,
    local_datetime,
    ltr,
    number,
    plus,
    refusal,
    user_text,
)
from handlers.till import ask_amount, undo_button, unknown_code
from loyalty.clock import utcnow
from loyalty.counter import (
    CounterCard,
    CounterVoucher,
    card_at_counter,
    voucher_at_counter,
    with_ready_vouchers,
)
from loyalty.errors import (
    InviteInvalid,
    InviteRevoked,
    LoyaltyError,
    StampCooldown,
    VoucherNotFound,
)
from loyalty.merchants import accept_staff_invite
from loyalty.staff import Permission, allows, seat_at, shop_of, staff_roles
from loyalty.stamps import StampResult, add_stamps
from loyalty.tokens import (
    CODE_LENGTH,
    COUNTER_CODE_LENGTH,
    LinkKind,
    normalize_counter_code,
    normalize_voucher_code,
    parse_payload,
)
from loyalty.vouchers import redeem_voucher, void_by_staff
from models.enums import Platform, RedeemVia, StaffRole, VoucherStatus

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from aiogram.utils.i18n import I18n

    from bot.config import Settings
    from models import Staff

logger = logging.getLogger(__name__)
router = Router(name="counter")
# The staff's ``/start`` links (an invite, a customer's QR, a voucher QR), tried with the
# customers' ``/start`` before every other conversation (see ``handlers.get_routers``).
links = Router(name="staff_links")
# Text from staff that no conversation took (tried just before the fallback): a code hint.
staff_text = Router(name="staff_text")
STAMP_BUTTONS = 3
_COUNT_FOR, _COUNT_KEY = "counter_count_for", "counter_count_key"
_CODE_SEPARATORS = re.compile(r"[\s\-_.]+")


class CounterStates(StatesGroup):
    count = State()


class StaffLink(Filter):
    """A ``/start`` payload of a staff invite, a personal QR or a voucher QR."""

    async def __call__(self, message: Message, command: CommandObject) -> bool | dict[str, Any]:
        parsed = parse_payload(command.args or "")
        if parsed is None or parsed[0] in (LinkKind.JOIN, LinkKind.REFERRAL):
            return False
        return {"link": parsed}


def role_name(role: str) -> str:
    names = {StaffRole.OWNER: _("owner"), StaffRole.MANAGER: _("manager")}
    return names.get(StaffRole(role), _("cashier"))


def _balance_line(first_name: str, balance: int, goal: int) -> str:
    """``Olena — 7 of 10 stamps``: who is at the till and where the card stands, first."""
    return ngettext(
        "{name} — {balance} of {goal} stamp", "{name} — {balance} of {goal} stamps", goal
    ).format(name=user_text(first_name), balance=number(balance), goal=number(goal))


def _redeem_rows(builder: InlineKeyboardBuilder, card: CounterCard, *, typed: bool) -> int:
    """One ``🎟 Redeem <title>`` button per ready voucher; how many rows that made."""
    for voucher in card.vouchers:
        builder.button(
            text=_("🎟 Redeem {title}").format(
                title=user_text(voucher.title, html=False, limit=20)
            ),
            callback_data=RedeemAction(voucher_id=voucher.id, typed=typed),
        )
    return len(card.vouchers)


def _ready_line(card: CounterCard) -> list[str]:
    if not card.vouchers:
        return []
    titles = and_list(bold(v.title) for v in card.vouchers)
    count = len(card.vouchers)
    return [
        ngettext("🎟 {count} reward ready: {titles}", "🎟 {count} rewards ready: {titles}", count)
        .format(count=number(count), titles=titles)
    ]  # fmt: skip


def _stamp_screen(card: CounterCard, *, typed: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """Name and balance first, a big ``+1 stamp``, then +2, +3, Other… and the ready vouchers.

    ``typed``: opened by a typed code, so a redemption from here is stored as by code.
    """
    lines = [f"<b>{_balance_line(card.first_name, card.balance, card.stamps_needed)}</b>"]
    if card.several_cards:
        lines.append(user_text(card.card_name))
    lines += _ready_line(card)
    builder = InlineKeyboardBuilder()
    nonce = secrets.token_hex(8)
    builder.button(
        text=_("{count} stamp").format(count=plus(1)),
        callback_data=StampAction(membership_id=card.membership_id, count=1, nonce=f"{nonce}1"),
    )
    row: list[int] = [1]
    more = [n for n in range(2, STAMP_BUTTONS + 1) if n <= card.max_stamps]
    for count in more:
        builder.button(
            text=plus(count),
            callback_data=StampAction(
                membership_id=card.membership_id, count=count, nonce=f"{nonce}{count}"
            ),
        )
    if card.max_stamps > STAMP_BUTTONS:
        builder.button(
            text=_("Other…"),
            callback_data=TillAction(op=TillOp.OTHER_COUNT, target=card.membership_id),
        )
        more.append(0)
    if more:
        row.append(len(more))
    row += [1] * _redeem_rows(builder, card, typed=typed)
    builder.button(
        text=_("🔎 Customer"),
        callback_data=TillAction(op=TillOp.LOOKUP, target=card.membership_id),
    )
    row.append(1)
    builder.adjust(*row)
    return "\n".join(lines), builder.as_markup()


def _clock(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return ltr(format_time(local, "short", locale=current_locale()))


def _cooldown_screen(
    card: CounterCard, refused: StampCooldown, count: int, *, typed: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """Who was stamped when, and when the next stamp is possible; the override for those who
    may give it, and the ready vouchers still redeemable (a second scan is often for those)."""
    minutes = max(0, int((utcnow() - refused.last_stamp_at).total_seconds() // 60))
    at = _clock(refused.last_stamp_at, card.timezone)
    if minutes == 0:
        first = _("{name} was stamped just now ({time}).").format(
            name=bold(card.first_name), time=at
        )
    else:
        first = ngettext(
            "{name} was stamped {minutes} min ago ({time}).",
            "{name} was stamped {minutes} min ago ({time}).",
            minutes,
        ).format(name=bold(card.first_name), minutes=number(minutes), time=at)
    lines = [first]
    builder = InlineKeyboardBuilder()
    retry = _clock(refused.retry_at, card.timezone)
    if allows(card.staff, Permission.OVERRIDE_COOLDOWN):
        lines.append(_("Next stamp from {time}.").format(time=retry))
        builder.button(
            text=_("Stamp anyway ({count})").format(count=plus(count)),
            callback_data=StampAction(
                membership_id=card.membership_id,
                count=count,
                nonce=secrets.token_hex(8),
                override=True,
            ),
        )
    else:
        lines.append(
            _("Next stamp from {time} — ask a manager if this is a new order.").format(time=retry)
        )
    lines += _ready_line(card)
    _redeem_rows(builder, card, typed=typed)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _stamped_screen(
    card: CounterCard, result: StampResult, *, typed: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """``✅ +2 for Olena · 9 of 10 stamps``; a completed card offers its reward at once."""
    lines = [
        _("✅ {count} for {name} · {balance}").format(
            count=plus(result.added),
            name=user_text(card.first_name),
            balance=ngettext(
                "{balance} of {goal} stamp", "{balance} of {goal} stamps", card.stamps_needed
            ).format(balance=number(result.membership.balance), goal=number(card.stamps_needed)),
        )
    ]
    lines += [_("🎉 Reward ready: {title}").format(title=bold(v.title)) for v in result.vouchers]
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    if result.vouchers:
        builder.button(
            text=_("🎟 Redeem it now"),
            callback_data=RedeemAction(voucher_id=result.vouchers[0].id, typed=typed),
        )
        sizes.append(1)
    row = 0
    if card.scan_adds_stamp and result.event_id is not None and card.max_stamps > 0:
        builder.button(
            text=_("{count} more").format(count=plus(1)),
            callback_data=StampAction(
                membership_id=card.membership_id,
                count=1,
                nonce=secrets.token_hex(8),
                adds_to=result.event_id,
            ),
        )
        row += 1
    undo = undo_button(result)
    if undo is not None:
        builder.add(undo)
        row += 1
    if row:
        sizes.append(row)
    if sizes:
        builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def _voucher_screen(
    voucher: CounterVoucher, *, typed: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The voucher with Redeem while usable, and Cancel for the staff who may void it; when it
    cannot be used, the reason and its date (used, expired, cancelled) instead of a button."""
    lines = [
        _("🎟 {title} for {name}").format(
            title=bold(voucher.title), name=user_text(voucher.first_name)
        ),
        _("Code: {code}").format(code=code(voucher.code)),
    ]
    now = utcnow()
    usable = voucher.status == VoucherStatus.ISSUED and (
        voucher.expires_at is None or voucher.expires_at > now
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
        return "\n".join(lines), builder.as_markup()
    lines.append(_unusable_reason(voucher))
    return "\n".join(lines), None


def _unusable_reason(voucher: CounterVoucher) -> str:
    if voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_at is not None:
        return _("⛔ Already used on {when}").format(
            when=local_datetime(voucher.redeemed_at, voucher.timezone)
        )
    if voucher.status == VoucherStatus.VOID:
        if voucher.voided_at is None:
            return _("⛔ Cancelled by the shop")
        return _("⛔ Cancelled by the shop on {date}").format(
            date=local_date(voucher.voided_at, voucher.timezone)
        )
    if voucher.expires_at is not None:
        return _("⛔ Expired on {date}").format(
            date=local_date(voucher.expires_at, voucher.timezone)
        )
    return _("⛔ This voucher can no longer be used.")


def _code_examples() -> dict[str, str]:
    return {"card": code("G7P3-NGVZ"), "voucher": code("K7QM-3XPD-9TRA")}


def code_hint() -> str:
    return _(
        "That isn't a code. A card code looks like {card}, a voucher code like {voucher}."
    ).format(**_code_examples())


@links.message(CommandStart(deep_link=True), StaffLink())
async def staff_link(
    message: Message,
    link: tuple[LinkKind, str],
    notifier: CustomerNotifier,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
    messenger_links: MessengerLinks,
) -> None:
    user = message.from_user
    if user is None:
        return
    kind, token = link
    if kind != LinkKind.STAFF_INVITE:
        await _scanned(message, user.id, kind, token, notifier, state)
        return
    try:
        await _joined(message, user.id, user.first_name, user.full_name, token, settings)
        # Their chat menu gains /admin (and what their role allows) at once.
        linking = bool(messenger_links.others(Platform.TELEGRAM))
        await sync_staff_commands(message.bot, i18n, user.id, linking=linking)
    except LoyaltyError as refused:
        text = refusal(refused)
        if isinstance(refused, InviteInvalid) and not isinstance(refused, InviteRevoked):
            text += " " + _("Ask the owner for a new one.")
        await message.answer(text)


@router.message(F.web_app_data)
async def scanner_sent(message: Message, notifier: CustomerNotifier, state: FSMContext) -> None:
    """What the ``📷 Scan`` Mini App read: the same payload a camera scan's /start carries.

    Any client can send any data here, so it is parsed like a /start payload and then checked
    exactly like a scan (staff of that card's shop only).
    """
    user = message.from_user
    data = message.web_app_data.data if message.web_app_data is not None else ""
    parsed = parse_payload(data[:80])
    if user is None or parsed is None or parsed[0] not in (LinkKind.MEMBERSHIP, LinkKind.VOUCHER):
        await message.answer(_("That QR code is not a customer's card or voucher."))
        return
    await _scanned(message, user.id, parsed[0], parsed[1], notifier, state)


async def _scanned(
    message: Message,
    user_id: int,
    kind: LinkKind,
    token: str,
    notifier: CustomerNotifier,
    state: FSMContext,
) -> None:
    """A customer's card QR (the stamp screen, or a stamp at once) or a voucher QR."""
    try:
        if kind == LinkKind.MEMBERSHIP:
            card = await card_at_counter(user_id, token=token)
            if card.scan_adds_stamp:
                await _stamp_at_once(message, card, notifier, state)
                return
            text, markup = _stamp_screen(card)
            await message.answer(text, reply_markup=markup)
        else:
            voucher = await voucher_at_counter(user_id, token=token)
            text, vmarkup = _voucher_screen(voucher, typed=False)
            await message.answer(text, reply_markup=vmarkup)
    except LoyaltyError:
        # To someone who is not staff of this shop the code means nothing.
        await message.answer(_("This link is meant for the shop's staff."))


async def _joined(
    message: Message,
    user_id: int,
    first_name: str,
    full_name: str,
    token: str,
    settings: Settings,
) -> None:
    """Welcome new staff; a cashier gets the counter keyboard at once (codes, vouchers)."""
    staff = await accept_staff_invite(token, telegram_user_id=user_id, display_name=full_name)
    shop = await shop_of(staff)
    lines = [
        _("Welcome, {name}! You are now {role} at {shop}.").format(
            name=user_text(first_name), role=role_name(staff.role), shop=bold(shop.name)
        ),
    ]
    if staff.role != StaffRole.CASHIER:
        lines.append(
            _(
                "Send /admin now: it opens your shop menu (for owners, a 3-step start). To "
                "stamp a card, scan the customer's QR code with your phone camera."
            )
        )
        await message.answer("\n".join(lines))
        return
    lines.append(_("Scan a customer's QR code with your phone camera to stamp their card."))
    lines.append(_("No camera? Press ⌨️ Type a code and type the code under their QR."))
    await message.answer(
        "\n".join(lines), reply_markup=cashier_keyboard(staff, scanner_url(settings))
    )


async def _stamp_at_once(
    message: Message, card: CounterCard, notifier: CustomerNotifier, state: FSMContext
) -> None:
    """The shop's opt-in: the scan itself is the +1 (the screen offers +1 more and Undo).

    The scan's own message names the stamp, so Telegram delivering the update twice stamps once.
    """
    try:
        result = await add_stamps(
            card.membership_id,
            1,
            merchant_id=card.staff.merchant_id,
            staff_id=card.staff.id,
            idempotency_key=f"scan-{message.chat.id}-{message.message_id}",
        )
    except StampCooldown as refused:
        text, markup = _cooldown_screen(card, refused, 1, typed=False)
        await message.answer(text, reply_markup=markup)
        return
    except LoyaltyError as refused:
        await message.answer(refusal(refused, card.timezone))
        return
    text, markup = _stamped_screen(card, result, typed=False)
    await message.answer(text, reply_markup=markup)
    if not result.replayed:
        await ask_amount(message, state, result)
        await notifier.later(card.customer_id, notifier.stamps_added, card.customer_id, result)


class TypedCode(Filter):
    """From staff, in any mode: text that is a card's till code (8 characters) or a voucher
    code (12). To everyone else it is ordinary text (a customer gets the customer's answer)."""

    async def __call__(
        self, message: Message, event_from_user: User | None = None
    ) -> bool | dict[str, Any]:
        if event_from_user is None or not message.text:
            return False
        # The shape first: it costs nothing, while the staff check is a query that every other
        # text (a /start, a customer's message) would pay for.
        if (card := normalize_counter_code(message.text)) is not None:
            typed = (LinkKind.MEMBERSHIP, card)
        elif (voucher := normalize_voucher_code(message.text)) is not None:
            typed = (LinkKind.VOUCHER, voucher)
        else:
            return False
        seats = await staff_roles(event_from_user.id)
        return {"typed": typed, "seats": seats} if seats else False


async def _working_shop(state: FSMContext, seats: list[Staff]) -> int | None:
    """The shop a typed code is for: the only one, or the one this person said (remembered)."""
    if len(seats) == 1:
        return seats[0].merchant_id
    chosen = await admin_merchant(state)
    return chosen if chosen in {seat.merchant_id for seat in seats} else None


async def _code_screen(
    user_id: int, kind: LinkKind, value: str, merchant_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a typed code opens at ``merchant_id``: the stamp screen (with the ready vouchers)
    or the voucher; an unknown code is echoed back with the rule codes follow."""
    try:
        if kind == LinkKind.MEMBERSHIP:
            card = await card_at_counter(user_id, code=value, merchant_id=merchant_id)
            return _stamp_screen(card, typed=True)
        voucher = await voucher_at_counter(user_id, code=value, merchant_id=merchant_id)
        return _voucher_screen(voucher, typed=True)
    except LoyaltyError:
        logger.info("typed code not found for staff user %s", user_id)
        return unknown_code(value), None


@router.message(F.text, TypedCode())
async def code_typed(
    message: Message, typed: tuple[LinkKind, str], seats: list[Staff], state: FSMContext
) -> None:
    """The code under a customer's QR (or on a voucher), typed when the camera cannot scan."""
    user = message.from_user
    if user is None:
        return
    if await state.get_state() == CounterStates.count.state:
        await state.set_state(None)  # a new customer: the number asked for is not coming
    kind, value = typed
    merchant_id = await _working_shop(state, seats)
    if merchant_id is None:
        builder = InlineKeyboardBuilder()
        for seat in seats:
            shop = await shop_of(seat)
            builder.button(
                text=user_text(shop.name, html=False, limit=48),
                callback_data=TillAction(op=TillOp.CODE_AT, target=seat.merchant_id, value=value),
            )
        builder.adjust(1)
        await message.answer(
            _("Which shop are you working for?"), reply_markup=builder.as_markup()
        )
        return
    text, markup = await _code_screen(user.id, kind, value, merchant_id)
    await message.answer(text, reply_markup=markup)


@router.callback_query(TillAction.filter(F.op == TillOp.CODE_AT))
async def code_shop_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext
) -> None:
    """The shop picked for a typed code: remembered for the codes that follow."""
    seat = await seat_at(query.from_user.id, callback_data.target, Permission.STAMP)
    value = callback_data.value
    if (card := normalize_counter_code(value)) is not None:
        kind, value = LinkKind.MEMBERSHIP, card
    elif (voucher := normalize_voucher_code(value)) is not None:
        kind, value = LinkKind.VOUCHER, voucher
    else:
        seat = None
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await enter_admin_mode(state, seat.merchant_id)
    await query.answer()
    text, markup = await _code_screen(query.from_user.id, kind, value, seat.merchant_id)
    await query.message.edit_text(text, reply_markup=markup)


@router.message(F.text == TYPE_CODE_BUTTON, IsStaff())
async def type_code_pressed(message: Message) -> None:
    await message.answer(
        _(
            "Type the code under the customer's QR (like {card}) or a voucher code (like "
            "{voucher}). Spaces and small letters are fine."
        ).format(**_code_examples())
    )


@router.message(F.text == REDEEM_BUTTON, IsStaff())
async def redeem_button_pressed(message: Message) -> None:
    await message.answer(
        _(
            "Scan the customer's card QR: their ready vouchers are on the stamp screen. Or type "
            "the code under the QR, or the voucher's own code (like {voucher})."
        ).format(voucher=code("K7QM-3XPD-9TRA"))
    )


# Like the other admin commands, /redeem means nothing to someone who is not staff anywhere.
@router.message(Command("redeem"), IsStaff())
async def redeem_command(message: Message, command: CommandObject, seats: list[Staff]) -> None:
    user = message.from_user
    if user is None:
        return
    if not command.args:
        await message.answer(
            _("Send /redeem followed by the code, for example /redeem K7QM-3XPD-9TRA.")
        )
        return
    typed = command.args[:64]
    if (card_code := normalize_counter_code(typed)) is not None:
        # The card's code opens the stamp screen, which lists the ready vouchers.
        try:
            card = await card_at_counter(user.id, code=card_code)
        except LoyaltyError:
            await message.answer(unknown_code(typed))
            return
        text, markup = _stamp_screen(card, typed=True)
        await message.answer(text, reply_markup=markup)
        return
    try:
        voucher = await voucher_at_counter(user.id, code=typed)
    except VoucherNotFound:
        await message.answer(
            _("No voucher has the code {code}. A voucher code looks like {example}.").format(
                code=code(typed.strip()[:24]), example=code("K7QM-3XPD-9TRA")
            )
        )
        return
    except LoyaltyError as refused:
        await message.answer(refusal(refused))
        return
    text, vmarkup = _voucher_screen(voucher, typed=True)
    await message.answer(text, reply_markup=vmarkup)


async def _stamp(
    card: CounterCard,
    count: int,
    *,
    key: str,
    override: bool = False,
    adds_to: int | None = None,
) -> StampResult:
    return await add_stamps(
        card.membership_id,
        count,
        merchant_id=card.staff.merchant_id,
        staff_id=card.staff.id,
        idempotency_key=key,
        ignore_cooldown=override and allows(card.staff, Permission.OVERRIDE_COOLDOWN),
        adds_to=adds_to,
    )


@router.callback_query(StampAction.filter())
async def stamp_pressed(
    query: CallbackQuery,
    callback_data: StampAction,
    notifier: CustomerNotifier,
    state: FSMContext,
) -> AnswerCallbackQuery | None:
    if not isinstance(query.message, Message):
        await query.answer(button_expired())
        return None
    try:
        card = await card_at_counter(
            query.from_user.id, membership_id=callback_data.membership_id, ready=False
        )
    except LoyaltyError:
        await query.answer(button_expired())
        return None
    try:
        result = await _stamp(
            card,
            callback_data.count,
            key=f"tg-{callback_data.nonce}",
            override=callback_data.override,
            adds_to=callback_data.adds_to or None,
        )
    except StampCooldown as refused:
        await query.answer()
        card = await with_ready_vouchers(card)
        text, markup = _cooldown_screen(card, refused, callback_data.count, typed=False)
        await query.message.edit_text(text, reply_markup=markup)
        return None
    except LoyaltyError as refused:
        await query.answer(refusal(refused, card.timezone), show_alert=True)
        return None
    if not result.replayed:
        text, markup = _stamped_screen(card, result, typed=False)
        await query.message.edit_text(text, reply_markup=markup)
        await ask_amount(query.message, state, result)
        await notifier.later(card.customer_id, notifier.stamps_added, card.customer_id, result)
    # The answer that stops the button's spinner rides on the webhook's HTTP answer (polling
    # sends it): the busiest button of all makes one Bot API request fewer.
    return query.answer()


# ---- "Other…": a number of stamps typed, up to the card's maximum per visit --------------------


@router.callback_query(TillAction.filter(F.op == TillOp.OTHER_COUNT))
async def other_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext
) -> None:
    try:
        card = await card_at_counter(query.from_user.id, membership_id=callback_data.target)
    except LoyaltyError:
        card = None
    if card is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await state.set_state(CounterStates.count)
    await state.update_data({_COUNT_FOR: card.membership_id, _COUNT_KEY: secrets.token_hex(8)})
    await query.answer()
    await query.message.answer(
        _("How many stamps for {name}? Type a number from {minimum} to {maximum}.").format(
            name=user_text(card.first_name), minimum=number(1), maximum=number(card.max_stamps)
        )
    )


@router.message(CounterStates.count, F.text, ~F.text.startswith("/"))
async def count_typed(message: Message, state: FSMContext, notifier: CustomerNotifier) -> None:
    data = await state.get_data()
    membership_id, key = data.get(_COUNT_FOR), data.get(_COUNT_KEY)
    user = message.from_user
    if user is None or not isinstance(membership_id, int) or not isinstance(key, str):
        await state.set_state(None)
        return
    try:
        card = await card_at_counter(user.id, membership_id=membership_id)
    except LoyaltyError:
        await state.set_state(None)
        await message.answer(button_expired())
        return
    text = (message.text or "").strip()
    count = int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else 0
    if not 1 <= count <= card.max_stamps:
        await message.answer(
            _("Please type a number from {minimum} to {maximum}.").format(
                minimum=number(1), maximum=number(card.max_stamps)
            )
        )
        return
    await state.set_state(None)
    try:
        result = await _stamp(card, count, key=f"tg-{key}")
    except StampCooldown as refused:
        screen, markup = _cooldown_screen(card, refused, count, typed=False)
        await message.answer(screen, reply_markup=markup)
        return
    except LoyaltyError as refused:
        await message.answer(refusal(refused, card.timezone))
        return
    screen, markup = _stamped_screen(card, result, typed=False)
    await message.answer(screen, reply_markup=markup)
    if not result.replayed:
        await ask_amount(message, state, result)
        await notifier.later(card.customer_id, notifier.stamps_added, card.customer_id, result)


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
        await notifier.later(
            voucher.customer_id, notifier.voucher_redeemed, voucher.customer_id, voucher.voucher_id
        )


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
        await notifier.later(
            voucher.customer_id, notifier.voucher_voided, voucher.customer_id, voucher.voucher_id
        )


# ---- text from staff that no conversation took ----------------------------------------------


@staff_text.message(F.text, ~F.text.startswith("/"), IsStaff())
async def staff_typed_something(message: Message) -> None:
    """Staff typing at the counter mean a code: say what a code looks like, or echo the one
    that almost was (8 or 12 letters and digits, with a character codes never use)."""
    raw = _CODE_SEPARATORS.sub("", (message.text or "").strip())
    if raw.isascii() and raw.isalnum() and len(raw) in (COUNTER_CODE_LENGTH, CODE_LENGTH):
        await message.answer(unknown_code(message.text or ""))
        return
    await message.answer(code_hint())
