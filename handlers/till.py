"""At the till, after the scan: take a stamp back, look a customer up, fix their vouchers,
and note what the receipt came to.

Every button names a row (a stamp, a membership, a voucher); every press looks it up again
for the person pressing, so a button from another shop — or forged — is simply expired.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_currency

from handlers.admin_mode import IsStaff
from handlers.callbacks import RedeemAction, TillAction, TillOp, UndoAction
from handlers.notify import CustomerNotifier
from handlers.texts import (
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
    stamps_of,
    user_text,
)
from loyalty import errors
from loyalty.counter import CounterCard, CounterVoucher, card_at_counter, voucher_at_counter
from loyalty.lookup import (
    CustomerLookup,
    FoundMember,
    HistoryLine,
    customer_by_code,
    look_up,
    members_named,
)
from loyalty.receipts import currency_digits, format_minor, record_amount, shop_currency
from loyalty.staff import allows
from loyalty.stamps import StampResult
from loyalty.undo import UndoReason, undo_stamp, undo_target
from loyalty.vouchers import (
    MANAGE_VOUCHERS,
    MAX_EXTENSION_DAYS,
    clean_reason,
    extend_voucher,
    give_goodwill,
    void_by_staff,
)
from models.enums import LedgerKind

router = Router(name="till")
EXTEND_CHOICES = (7, 30)
_EVENT, _MEMBERSHIP, _REASON, _VOUCHER = "till_event", "till_membership", "till_reason", "till_v"


class TillStates(StatesGroup):
    amount = State()
    goodwill_reason = State()
    goodwill_title = State()
    extend_days = State()


class VoidReason:
    """Why a voucher was cancelled: stable codes stored as ``void_reason``."""

    MISTAKE = "mistake"
    CUSTOMER = "customer_request"
    OTHER = "other"
    ALL = (MISTAKE, CUSTOMER, OTHER)


def _undo_reasons() -> dict[str, str]:
    return {
        UndoReason.WRONG_COUNT: _("Wrong number of stamps"),
        UndoReason.WRONG_CUSTOMER: _("Wrong customer"),
        UndoReason.OTHER: _("Another mistake"),
    }


def _void_reasons() -> dict[str, str]:
    return {
        VoidReason.MISTAKE: _("Given by mistake"),
        VoidReason.CUSTOMER: _("The customer asked"),
        VoidReason.OTHER: _("Another reason"),
    }


def _reason_label(reason: str) -> str:
    known = {**_undo_reasons(), **_void_reasons()}
    return known.get(reason) or user_text(reason)


def money(amount_minor: int, currency: str) -> str:
    digits, text = format_minor(amount_minor, currency)
    return ltr(
        format_currency(
            Decimal(text), currency, locale=current_locale(), currency_digits=digits == 2
        )
    )


def _example(digits: int) -> str:
    """How to type an amount in a currency with ``digits`` decimals: 4.50, 450, 4.500."""
    return "450" if digits == 0 else "4." + "5".ljust(digits, "0")


def till_refusal(error: errors.LoyaltyError, timezone: str = "UTC") -> str:
    """What staff read when a correction is refused (the rest as everywhere else)."""
    if isinstance(error, errors.StampAlreadyUndone):
        return _("This stamp was already taken back.")
    if isinstance(error, errors.UndoWindowPassed):
        return _("Too late to take this stamp back: that was possible until {when}.").format(
            when=local_datetime(error.deadline, timezone)
        )
    if isinstance(error, errors.UndoNotLatest):
        return _("A later stamp was given on this card. Take that one back first.")
    if isinstance(error, errors.UndoRewardRedeemed):
        return _(
            "This stamp can't be taken back: the reward {title} it completed was already "
            "redeemed on {when}."
        ).format(title=bold(error.title), when=local_datetime(error.redeemed_at, timezone))
    if isinstance(error, errors.InvalidAmount):
        return ngettext(
            "That is not an amount I can use. Type it like {example} (at most {digits} "
            "decimal), or press Skip.",
            "That is not an amount I can use. Type it like {example} (at most {digits} "
            "decimals), or press Skip.",
            error.digits,
        ).format(example=ltr(_example(error.digits)), digits=error.digits)
    if isinstance(error, errors.AmountAlreadyRecorded):
        return _("A receipt amount is already recorded for this stamp.")
    if isinstance(error, errors.InvalidExtension):
        return _("Send a number of days from 1 to {maximum}.").format(maximum=error.maximum)
    if isinstance(error, errors.InvalidReason):
        return _("Please write a short reason, in a line or two.")
    return refusal(error, timezone)


def unknown_code(typed: str) -> str:
    """The typed code echoed back with the alphabet rule: most misses are a misread letter."""
    return _(
        "No card or voucher has the code {code}. Check it — codes never use 0, O, 1, I or L."
    ).format(code=code(typed.strip().upper()[:24]))


# ---- after a stamp: Undo on the confirmation, and the receipt amount ----------------------------


def undo_button(result: StampResult) -> InlineKeyboardButton | None:
    """The "↩️ Undo" button under a stamp confirmation, when the card allows undoing."""
    if result.event_id is None or result.card.undo_window_seconds <= 0:
        return None
    return InlineKeyboardButton(
        text=_("↩️ Undo"), callback_data=UndoAction(event_id=result.event_id).pack()
    )


async def ask_amount(message: Message, state: FSMContext, result: StampResult) -> None:
    """When the card asks for it, ask the cashier what the receipt came to (skippable)."""
    if not result.card.asks_receipt_amount or result.event_id is None:
        return
    currency = await shop_currency(result.card.merchant_id)
    await state.set_state(TillStates.amount)
    await state.update_data({_EVENT: result.event_id})
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Skip"), callback_data=TillAction(op=TillOp.SKIP_AMOUNT, target=result.event_id)
    )
    await message.answer(
        _("🧾 What did the receipt come to, in {currency}? Type it like {example}.").format(
            currency=ltr(currency), example=ltr(_example(currency_digits(currency)))
        ),
        reply_markup=builder.as_markup(),
    )


@router.message(TillStates.amount, F.text, ~F.text.startswith("/"))
async def amount_typed(message: Message, state: FSMContext) -> None:
    user = message.from_user
    event_id = (await state.get_data()).get(_EVENT)
    if user is None or message.text is None or not isinstance(event_id, int):
        await state.set_state(None)
        return
    try:
        minor, currency = await record_amount(user.id, event_id, message.text[:32])
    except (errors.InvalidAmount, errors.AmountAlreadyRecorded) as refused:
        await message.answer(till_refusal(refused))
        if isinstance(refused, errors.AmountAlreadyRecorded):
            await state.set_state(None)
        return
    except errors.LoyaltyError:
        await state.set_state(None)
        await message.answer(_("That stamp can no longer be changed."))
        return
    await state.set_state(None)
    await message.answer(_("🧾 Receipt of {amount} noted.").format(amount=money(minor, currency)))


@router.callback_query(TillAction.filter(F.op == TillOp.SKIP_AMOUNT))
async def amount_skipped(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if await state.get_state() == TillStates.amount.state:
        await state.set_state(None)
    if isinstance(query.message, Message):
        await query.message.edit_text(_("No receipt amount noted."))


# ---- undo ---------------------------------------------------------------------------------------


@router.callback_query(UndoAction.filter())
async def undo_pressed(
    query: CallbackQuery, callback_data: UndoAction, notifier: CustomerNotifier
) -> None:
    """One tap takes the stamp back (a compensating ledger row) and edits the confirmation.

    Buttons from before carry a reason; an unknown one is a forged button.
    """
    reason = callback_data.reason or UndoReason.UNDO_BUTTON
    if not isinstance(query.message, Message) or reason not in UndoReason.ALL:
        await query.answer(button_expired())
        return
    try:
        target = await undo_target(query.from_user.id, callback_data.event_id)
    except errors.LoyaltyError:
        await query.answer(button_expired())
        return
    try:
        result = await undo_stamp(query.from_user.id, target.event_id, reason=reason)
    except errors.StampNotFound:
        await query.answer(button_expired())
        return
    except errors.LoyaltyError as refused:
        await query.answer()
        await query.message.edit_text(till_refusal(refused, target.timezone))
        return
    await query.answer()
    lines = [
        _("↩️ Took back {count} from {name} · {balance}. They have been told.").format(
            count=plus(result.removed),
            name=user_text(target.first_name),
            balance=ngettext(
                "{balance} of {goal} stamp", "{balance} of {goal} stamps", result.stamps_needed
            ).format(balance=number(result.balance), goal=number(result.stamps_needed)),
        )
    ]
    lines += [
        _("🗑 The reward {title} was cancelled with it.").format(title=bold(title))
        for title in result.voided_titles
    ]
    await query.message.edit_text("\n".join(lines))
    await notifier.later(result.customer_id, notifier.stamps_undone, result.customer_id, result)


# ---- the customer look-up -----------------------------------------------------------------------


def _delta(value: int) -> str:
    return ltr(f"{value:+d}".replace("-", "−"))


def _history_line(line: HistoryLine, screen: CustomerLookup) -> str:
    if line.kind == "goodwill":
        what = _("🎁 goodwill voucher {title}").format(title=user_text(line.title))
    elif line.kind == LedgerKind.REWARD:
        what = _("🎉 reward {title} ({delta})").format(
            title=user_text(line.title), delta=_delta(line.delta)
        )
    elif line.kind == LedgerKind.UNDO:
        what = _("↩️ undone ({delta})").format(delta=_delta(line.delta))
    elif line.kind == LedgerKind.FORFEIT:
        what = _("left the card ({delta})").format(delta=_delta(line.delta))
    elif line.kind == LedgerKind.MERGE:
        # The person linked another messenger that held this card too: its stamps moved.
        what = _("🔗 cards joined ({delta})").format(delta=_delta(line.delta))
    else:
        what = _delta(line.delta)
        if line.amount_minor is not None:
            what += " · 🧾 " + money(line.amount_minor, screen.currency)
        if line.undone:
            what += " " + _("(taken back)")
    parts = [local_datetime(line.at, screen.timezone), what]
    if line.staff_name:
        parts.append(user_text(line.staff_name))
    # The plain one-tap Undo has no reason to show.
    shown = line.reason and line.reason != UndoReason.UNDO_BUTTON
    if shown and line.kind in (LedgerKind.UNDO, "goodwill"):
        parts.append(_reason_label(line.reason))
    return " · ".join(parts)


def lookup_screen(screen: CustomerLookup) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        f"👤 {bold(screen.first_name)} · {user_text(screen.card_name)}",
        stamps_of(screen.balance, screen.stamps_needed)
        + " · "
        + ngettext("{count} visit", "{count} visits", screen.visits).format(count=screen.visits),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if screen.vouchers:
        lines.append(_("<b>Ready vouchers</b>"))
    else:
        lines.append(_("No ready vouchers."))
    for voucher in screen.vouchers:
        line = f"🎟 {bold(voucher.title)} · {code(voucher.code)}"
        if voucher.expires_at is not None:
            line += " · " + _("until {date}").format(
                date=local_date(voucher.expires_at, screen.timezone)
            )
        lines.append(line)
        short = user_text(voucher.title, html=False, limit=20)
        row = [
            InlineKeyboardButton(
                text=_("✅ Redeem {title}").format(title=short),
                callback_data=RedeemAction(voucher_id=voucher.id, typed=True).pack(),
            )
        ]
        if screen.can_manage:
            row.append(
                InlineKeyboardButton(
                    text=_("🗑 Cancel"),
                    callback_data=TillAction(op=TillOp.VOID, target=voucher.id).pack(),
                )
            )
            if voucher.expires_at is not None:
                row.append(
                    InlineKeyboardButton(
                        text=_("⏳ Extend"),
                        callback_data=TillAction(op=TillOp.EXTEND, target=voucher.id).pack(),
                    )
                )
        rows.append(row)
    lines += ["", _("<b>Recent</b>")]
    if screen.history:
        lines += [_history_line(line, screen) for line in screen.history]
    else:
        lines.append(_("Nothing yet."))
    if screen.can_manage:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🎁 Goodwill voucher"),
                    callback_data=TillAction(
                        op=TillOp.GOODWILL, target=screen.membership_id
                    ).pack(),
                )
            ]
        )
    if screen.can_undo and screen.undo_event_id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("↩️ Undo last stamp"),
                    callback_data=UndoAction(event_id=screen.undo_event_id).pack(),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(TillAction.filter(F.op == TillOp.LOOKUP))
async def lookup_pressed(query: CallbackQuery, callback_data: TillAction) -> None:
    if not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        screen = await look_up(query.from_user.id, callback_data.target)
    except errors.LoyaltyError:
        await query.answer(button_expired())
        return
    await query.answer()
    text, markup = lookup_screen(screen)
    await query.message.answer(text, reply_markup=markup)


# Like /redeem: an unknown command to anyone who is not staff anywhere.
@router.message(Command("customer"), IsStaff())
async def customer_command(message: Message, command: CommandObject) -> None:
    user = message.from_user
    if user is None:
        return
    if not command.args:
        await message.answer(
            _(
                "Send /customer followed by the code under their QR or their first name, for "
                "example /customer K7QM3XPD or /customer Olena."
            )
        )
        return
    try:
        membership_id = await customer_by_code(user.id, command.args[:32])
    except errors.LoyaltyError:
        # Not a code of this person's shops: a first name, for the customer without a phone.
        found = await members_named(user.id, command.args)
        if len(found) > 1:
            text, markup = found_screen(command.args, found)
            await message.answer(text, reply_markup=markup)
            return
        if not found:
            await message.answer(
                unknown_code(command.args)
                + "\n"
                + _("Nobody on your cards has a first name starting with {name} either.").format(
                    name=user_text(command.args.strip()[:40])
                )
            )
            return
        membership_id = found[0].membership_id  # one person of that name: straight to them
    try:
        screen = await look_up(user.id, membership_id)
    except errors.LoyaltyError:
        await message.answer(unknown_code(command.args))
        return
    text, markup = lookup_screen(screen)
    await message.answer(text, reply_markup=markup)


def found_screen(typed: str, found: list[FoundMember]) -> tuple[str, InlineKeyboardMarkup]:
    """Everyone a name search found, one button each, opening their look-up."""
    builder = InlineKeyboardBuilder()
    several_cards = len({member.card_name for member in found}) > 1
    for member in found:
        label = f"{user_text(member.first_name, html=False, limit=24)} · " + stamps_of(
            member.balance, member.stamps_needed
        )
        if several_cards:
            label += f" · {user_text(member.card_name, html=False, limit=20)}"
        builder.button(
            text=label, callback_data=TillAction(op=TillOp.LOOKUP, target=member.membership_id)
        )
    builder.adjust(1)
    text = _("Customers whose first name starts with {name} — tap one:").format(
        name=user_text(typed.strip()[:40])
    )
    return text, builder.as_markup()


# ---- vouchers: cancel, extend -------------------------------------------------------------------


async def _manager_voucher(query: CallbackQuery, voucher_id: int) -> CounterVoucher | None:
    """The voucher if the person pressing may manage it (manager or owner of its shop)."""
    try:
        voucher = await voucher_at_counter(query.from_user.id, voucher_id=voucher_id)
    except errors.LoyaltyError:
        voucher = None
    if (
        voucher is None
        or not allows(voucher.staff, MANAGE_VOUCHERS)
        or not isinstance(query.message, Message)
    ):
        await query.answer(button_expired())
        return None
    return voucher


@router.callback_query(TillAction.filter(F.op == TillOp.VOID))
async def void_pressed(query: CallbackQuery, callback_data: TillAction) -> None:
    voucher = await _manager_voucher(query, callback_data.target)
    if voucher is None or not isinstance(query.message, Message):
        return
    builder = InlineKeyboardBuilder()
    for reason, label in _void_reasons().items():
        builder.button(
            text=label,
            callback_data=TillAction(
                op=TillOp.VOID_REASON, target=voucher.voucher_id, value=reason
            ),
        )
    builder.adjust(1)
    await query.answer()
    await query.message.answer(
        _("Cancel {title} for {name}? They can no longer use it. Why?").format(
            title=bold(voucher.title), name=user_text(voucher.first_name)
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(TillAction.filter(F.op == TillOp.VOID_REASON))
async def void_reason_pressed(
    query: CallbackQuery, callback_data: TillAction, notifier: CustomerNotifier
) -> None:
    if callback_data.value not in VoidReason.ALL:
        await query.answer(button_expired())
        return
    voucher = await _manager_voucher(query, callback_data.target)
    if voucher is None or not isinstance(query.message, Message):
        return
    try:
        await void_by_staff(voucher.staff, voucher.voucher_id, reason=callback_data.value)
    except errors.LoyaltyError as refused:
        await query.answer()
        await query.message.edit_text(till_refusal(refused, voucher.timezone))
        return
    await query.answer()
    await query.message.edit_text(
        _("🗑 Cancelled: {title} for {name} ({reason}). They have been told.").format(
            title=bold(voucher.title),
            name=user_text(voucher.first_name),
            reason=_reason_label(callback_data.value),
        )
    )
    await notifier.later(
        voucher.customer_id, notifier.voucher_voided, voucher.customer_id, voucher.voucher_id
    )


@router.callback_query(TillAction.filter(F.op == TillOp.EXTEND))
async def extend_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext
) -> None:
    voucher = await _manager_voucher(query, callback_data.target)
    if voucher is None or not isinstance(query.message, Message):
        return
    builder = InlineKeyboardBuilder()
    for days in EXTEND_CHOICES:
        builder.button(
            text=ngettext("+{count} day", "+{count} days", days).format(count=days),
            callback_data=TillAction(
                op=TillOp.EXTEND_BY, target=voucher.voucher_id, value=str(days)
            ),
        )
    await state.set_state(TillStates.extend_days)
    await state.update_data({_VOUCHER: voucher.voucher_id})
    await query.answer()
    until = (
        local_date(voucher.expires_at, voucher.timezone) if voucher.expires_at is not None else ""
    )
    await query.message.answer(
        _(
            "Extend {title} for {name} (valid until {date})? Pick one, or type a number of "
            "days from 1 to {maximum}."
        ).format(
            title=bold(voucher.title),
            name=user_text(voucher.first_name),
            date=until,
            maximum=MAX_EXTENSION_DAYS,
        ),
        reply_markup=builder.as_markup(),
    )


async def _extend(
    answer: Message,
    voucher: CounterVoucher,
    days: int,
    notifier: CustomerNotifier,
    *,
    edit: bool,
) -> None:
    """Extend and say so (editing the question when ``edit``); a refusal is said instead."""
    try:
        extended = await extend_voucher(voucher.staff, voucher.voucher_id, days=days)
    except errors.LoyaltyError as refused:
        text = till_refusal(refused, voucher.timezone)
        await (answer.edit_text(text) if edit else answer.answer(text))
        return
    assert extended.expires_at is not None
    text = _("⏳ {title} for {name} is now valid until {date}. They have been told.").format(
        title=bold(voucher.title),
        name=user_text(voucher.first_name),
        date=local_date(extended.expires_at, voucher.timezone),
    )
    await (answer.edit_text(text) if edit else answer.answer(text))
    await notifier.later(
        voucher.customer_id, notifier.voucher_extended, voucher.customer_id, voucher.voucher_id
    )


@router.callback_query(TillAction.filter(F.op == TillOp.EXTEND_BY))
async def extend_by_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext, notifier: CustomerNotifier
) -> None:
    if not callback_data.value.isdecimal() or int(callback_data.value) not in EXTEND_CHOICES:
        await query.answer(button_expired())
        return
    voucher = await _manager_voucher(query, callback_data.target)
    if voucher is None or not isinstance(query.message, Message):
        return
    await query.answer()
    if await state.get_state() == TillStates.extend_days.state:
        await state.set_state(None)
    await _extend(query.message, voucher, int(callback_data.value), notifier, edit=True)


@router.message(TillStates.extend_days, F.text, ~F.text.startswith("/"))
async def extend_days_typed(
    message: Message, state: FSMContext, notifier: CustomerNotifier
) -> None:
    user = message.from_user
    voucher_id = (await state.get_data()).get(_VOUCHER)
    text = (message.text or "").strip()
    if user is None or not isinstance(voucher_id, int):
        await state.set_state(None)
        return
    if not (text.isascii() and text.isdecimal() and len(text) <= 4):
        await message.answer(till_refusal(errors.InvalidExtension(MAX_EXTENSION_DAYS)))
        return
    try:
        voucher = await voucher_at_counter(user.id, voucher_id=voucher_id)
    except errors.LoyaltyError:
        voucher = None
    if voucher is None or not allows(voucher.staff, MANAGE_VOUCHERS):
        await state.set_state(None)
        await message.answer(button_expired())
        return
    days = int(text)
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        await message.answer(till_refusal(errors.InvalidExtension(MAX_EXTENSION_DAYS)))
        return
    await state.set_state(None)
    await _extend(message, voucher, days, notifier, edit=False)


# ---- goodwill vouchers --------------------------------------------------------------------------


async def _manager_card(user_id: int, membership_id: int) -> CounterCard | None:
    try:
        card = await card_at_counter(user_id, membership_id=membership_id)
    except errors.LoyaltyError:
        return None
    return card if allows(card.staff, MANAGE_VOUCHERS) else None


@router.callback_query(TillAction.filter(F.op == TillOp.GOODWILL))
async def goodwill_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext
) -> None:
    card = await _manager_card(query.from_user.id, callback_data.target)
    if card is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await state.set_state(TillStates.goodwill_reason)
    await state.update_data({_MEMBERSHIP: card.membership_id})
    await query.answer()
    await query.message.answer(
        _(
            "🎁 A goodwill voucher for {name}. What is it for? Type the reason, for example "
            "“a long wait”."
        ).format(name=user_text(card.first_name))
    )


@router.message(TillStates.goodwill_reason, F.text, ~F.text.startswith("/"))
async def goodwill_reason_typed(message: Message, state: FSMContext) -> None:
    membership_id = (await state.get_data()).get(_MEMBERSHIP)
    user = message.from_user
    card = (
        await _manager_card(user.id, membership_id)
        if user is not None and isinstance(membership_id, int)
        else None
    )
    if card is None:
        await state.set_state(None)
        await message.answer(button_expired())
        return
    try:
        reason = clean_reason(message.text or "")
    except errors.LoyaltyError as refused:
        await message.answer(till_refusal(refused))
        return
    await state.set_state(TillStates.goodwill_title)
    await state.update_data({_REASON: reason})
    reward = card.reward_text
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🎁 Give “{title}”").format(title=user_text(reward, html=False, limit=40)),
        callback_data=TillAction(op=TillOp.GOODWILL_DEFAULT, target=card.membership_id),
    )
    await message.answer(
        _("Give them {title}? Press the button, or type another title for the voucher.").format(
            title=bold(reward)
        ),
        reply_markup=builder.as_markup(),
    )


async def _give(
    message: Message,
    state: FSMContext,
    user_id: int,
    membership_id: int,
    title: str | None,
    notifier: CustomerNotifier,
) -> None:
    data = await state.get_data()
    reason = data.get(_REASON)
    card = await _manager_card(user_id, membership_id)
    if (
        card is None
        or not isinstance(reason, str)
        or data.get(_MEMBERSHIP) != membership_id
        or await state.get_state() != TillStates.goodwill_title.state
    ):
        await state.set_state(None)
        await message.answer(button_expired())
        return
    try:
        voucher = await give_goodwill(card.staff, membership_id, reason=reason, title=title)
    except errors.InvalidReason as refused:
        await message.answer(till_refusal(refused))
        return
    except errors.LoyaltyError as refused:
        await state.set_state(None)
        await message.answer(till_refusal(refused, card.timezone))
        return
    await state.set_state(None)
    await message.answer(
        _("🎁 Goodwill voucher {title} given to {name}. They have been told.").format(
            title=bold(voucher.title), name=user_text(card.first_name)
        )
    )
    await notifier.later(card.customer_id, notifier.voucher_given, card.customer_id, voucher.id)


@router.callback_query(TillAction.filter(F.op == TillOp.GOODWILL_DEFAULT))
async def goodwill_default_pressed(
    query: CallbackQuery, callback_data: TillAction, state: FSMContext, notifier: CustomerNotifier
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    await _give(query.message, state, query.from_user.id, callback_data.target, None, notifier)


@router.message(TillStates.goodwill_title, F.text, ~F.text.startswith("/"))
async def goodwill_title_typed(
    message: Message, state: FSMContext, notifier: CustomerNotifier
) -> None:
    membership_id = (await state.get_data()).get(_MEMBERSHIP)
    if message.from_user is None or not isinstance(membership_id, int):
        await state.set_state(None)
        return
    await _give(message, state, message.from_user.id, membership_id, message.text, notifier)
