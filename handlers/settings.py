"""Settings: language, email, birthday, notifications, leaving a card, erasing my data."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from channels.base import Outcome
from channels.email import EmailChannel
from handlers import PRIVATE
from handlers.callbacks import SettingsAction, SettingsOp, db_id
from handlers.texts import button_expired, ltr, refusal
from locales import NATIVE_NAMES
from loyalty.clock import utcnow
from loyalty.customers import erase_customer
from loyalty.errors import LoyaltyError, MembershipNotFound
from loyalty.links import LinkSigner, Purpose
from loyalty.memberships import leave_card
from loyalty.profile import (
    clear_birthday,
    clear_email,
    opted_out,
    set_birthday,
    set_email,
    set_language,
    toggle_opt_out,
)
from loyalty.views import customer_card, customer_cards
from models import Customer
from models.enums import Channel

router = Router(name="settings")
router.message.filter(PRIVATE)

# Wallet cards are missing on purpose: a pass on the phone is the customer's own opt-in, and
# removing it from the wallet is how one stops its updates.
OPTIONAL_CHANNELS = (Channel.TELEGRAM, Channel.EMAIL)
MAX_INPUT = 256


class SettingsForm(StatesGroup):
    email = State()
    birthday = State()


def _channel_name(channel: Channel) -> str:
    names = {Channel.TELEGRAM: _("Messages in this chat"), Channel.EMAIL: _("Email")}
    return names.get(channel, channel.value)


def _button(builder: InlineKeyboardBuilder, text: str, op: SettingsOp, value: str = "") -> None:
    builder.button(text=text, callback_data=SettingsAction(op=op, value=value))


async def _menu(customer: Customer, i18n: I18n) -> tuple[str, InlineKeyboardMarkup]:
    none = _("not set")
    if customer.email:
        state = _("confirmed") if customer.email_verified else _("not confirmed yet")
        email = f"{ltr(escape(customer.email))} ({state})"
    else:
        email = none
    if customer.birth_day and customer.birth_month:
        parts = [f"{customer.birth_day:02d}", f"{customer.birth_month:02d}"]
        if customer.birth_year:
            parts.append(str(customer.birth_year))
        birthday = ltr(".".join(parts))
    else:
        birthday = none
    off = await opted_out(customer)
    notifications = ", ".join(
        f"{_channel_name(channel)} {'🔕' if channel in off else '🔔'}"
        for channel in OPTIONAL_CHANNELS
    )
    text = "\n".join(
        [
            _("<b>Settings</b>"),
            _("Language: {language}").format(language=NATIVE_NAMES[i18n.current_locale]),
            _("Email: {email}").format(email=email),
            _("Birthday: {birthday}").format(birthday=birthday),
            _("Notifications: {channels}").format(channels=notifications),
        ]
    )
    builder = InlineKeyboardBuilder()
    _button(builder, _("🌐 Language"), SettingsOp.LANGUAGE)
    _button(builder, _("✉️ Email"), SettingsOp.EMAIL)
    _button(builder, _("🎂 Birthday"), SettingsOp.BIRTHDAY)
    _button(builder, _("🔔 Notifications"), SettingsOp.NOTIFICATIONS)
    _button(builder, _("🚪 Leave a card"), SettingsOp.LEAVE)
    _button(builder, _("🗑 Erase my data"), SettingsOp.ERASE)
    _button(builder, _("✖️ Close"), SettingsOp.CLOSE)
    builder.adjust(2, 2, 2, 1)
    return text, builder.as_markup()


def _no_customer_text() -> str:
    return _("Settings appear once you have joined a shop's card. Scan its QR code to start.")


@router.message(Command("settings"))
async def settings_command(
    message: Message, customer: Customer | None, i18n: I18n, state: FSMContext
) -> None:
    await state.clear()
    if customer is None:
        await message.answer(_no_customer_text())
        return
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


async def _show_menu(query: CallbackQuery, customer: Customer, i18n: I18n) -> None:
    text, markup = await _menu(customer, i18n)
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


@router.callback_query(SettingsAction.filter())
async def settings_button(
    query: CallbackQuery,
    callback_data: SettingsAction,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
) -> None:
    if customer is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    handler = _BUTTONS.get(callback_data.op)
    if handler is None:
        await query.answer(button_expired())
        return
    await handler(query, query.message, callback_data.value, customer, i18n, state)


async def _open_menu(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await state.clear()
    await query.answer()
    await _show_menu(query, customer, i18n)


async def _close(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await state.clear()
    await query.answer()
    await message.delete_reply_markup()


async def _pick_language(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    builder = InlineKeyboardBuilder()
    for code in i18n.available_locales:
        mark = "✓ " if code == i18n.current_locale else ""
        _button(builder, mark + NATIVE_NAMES.get(code, code), SettingsOp.SET_LANGUAGE, code)
    builder.adjust(2)
    await query.answer()
    await message.answer(_("Choose your language:"), reply_markup=builder.as_markup())


async def _set_language(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    try:
        await set_language(customer, value, i18n.available_locales)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    with i18n.use_locale(value):
        await query.answer(_("Language saved."))
        await _show_menu(query, customer, i18n)


async def _ask(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    form: State,
    prompt: str,
    remove: tuple[str, SettingsOp] | None,
) -> None:
    """Ask for a value as text; offer to remove the current one when there is one."""
    await state.set_state(form)
    builder = InlineKeyboardBuilder()
    if remove is not None:
        _button(builder, *remove)
    _button(builder, _("Cancel"), SettingsOp.MENU)
    builder.adjust(1)
    await query.answer()
    await message.answer(prompt, reply_markup=builder.as_markup())


async def _removed(
    query: CallbackQuery, customer: Customer, i18n: I18n, state: FSMContext, toast: str
) -> None:
    await state.clear()
    await query.answer(toast)
    await _show_menu(query, customer, i18n)


async def _ask_email(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    remove = (_("Remove my email"), SettingsOp.EMAIL_CLEAR) if customer.email else None
    prompt = _(
        "Send me your email address. We use it only for this shop's news and your vouchers."
    )
    await _ask(query, message, state, SettingsForm.email, prompt, remove)


async def _clear_email(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await clear_email(customer)
    await _removed(query, customer, i18n, state, _("Email removed."))


async def _ask_birthday(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    remove = (_("Remove my birthday"), SettingsOp.BIRTHDAY_CLEAR) if customer.birth_month else None
    prompt = _("When is your birthday? Send it as DD.MM — the year is optional (DD.MM.YYYY).")
    await _ask(query, message, state, SettingsForm.birthday, prompt, remove)


async def _clear_birthday(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await clear_birthday(customer)
    await _removed(query, customer, i18n, state, _("Birthday removed."))


async def _notifications(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    if value:
        try:
            channel = Channel(value)
        except ValueError:
            await query.answer(button_expired())
            return
        if channel not in OPTIONAL_CHANNELS:
            await query.answer(button_expired())
            return
        now_off = await toggle_opt_out(customer, channel)
        await query.answer(_("Turned off.") if now_off else _("Turned on."))
    else:
        await query.answer()
    off = await opted_out(customer)
    builder = InlineKeyboardBuilder()
    for channel in OPTIONAL_CHANNELS:
        mark = "🔕" if channel in off else "🔔"
        _button(builder, f"{mark} {_channel_name(channel)}", SettingsOp.TOGGLE, channel.value)
    _button(builder, _("⬅️ Settings"), SettingsOp.MENU)
    builder.adjust(1)
    text = _("News and offers from your shops. Tap to turn a channel on or off.")
    if value:
        await message.edit_text(text, reply_markup=builder.as_markup())
    else:
        await message.answer(text, reply_markup=builder.as_markup())


async def _pick_card_to_leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    cards = await customer_cards(customer.id)
    await query.answer()
    if not cards:
        await message.answer(_("You are not on any card."))
        return
    builder = InlineKeyboardBuilder()
    for card in cards:
        _button(
            builder,
            f"{card.card_name} · {card.brand.merchant_name}"[:64],
            SettingsOp.LEAVE_PICK,
            str(card.membership_id),
        )
    _button(builder, _("Cancel"), SettingsOp.MENU)
    builder.adjust(1)
    await message.answer(_("Which card do you want to leave?"), reply_markup=builder.as_markup())


async def _confirm_leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    try:
        card = await customer_card(db_id(value), customer.id)
    except (ValueError, MembershipNotFound):
        await query.answer(button_expired())
        return
    builder = InlineKeyboardBuilder()
    _button(builder, _("Yes, leave the card"), SettingsOp.LEAVE_CONFIRM, value)
    _button(builder, _("Cancel"), SettingsOp.MENU)
    builder.adjust(1)
    await query.answer()
    await message.answer(
        _(
            "Leave <b>{card}</b> at {shop}? Your {stamps} stamps and {vouchers} unused "
            "vouchers on it will be lost."
        ).format(
            card=escape(card.card_name),
            shop=escape(card.brand.merchant_name),
            stamps=ltr(str(card.balance)),
            vouchers=ltr(str(len(card.vouchers))),
        ),
        reply_markup=builder.as_markup(),
    )


async def _leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    try:
        card = await customer_card(db_id(value), customer.id)
    except (ValueError, MembershipNotFound):
        await query.answer(button_expired())
        return
    await leave_card(card.membership_id, customer_id=customer.id)
    await query.answer()
    await message.edit_text(
        _("You left <b>{card}</b>. Scan the shop's QR code any time to join again.").format(
            card=escape(card.card_name)
        )
    )


async def _ask_erase(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    builder = InlineKeyboardBuilder()
    _button(builder, _("Yes, erase everything"), SettingsOp.ERASE_CONFIRM)
    _button(builder, _("Cancel"), SettingsOp.MENU)
    builder.adjust(1)
    await query.answer()
    await message.answer(
        _(
            "Erase all your data? Your name, email, birthday, every card with its stamps and "
            "every unused voucher are deleted for good. This cannot be undone."
        ),
        reply_markup=builder.as_markup(),
    )


async def _erase(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await erase_customer(customer)
    await state.clear()
    await query.answer()
    await message.edit_text(
        _("Done: your data is erased. Scan a shop's QR code if you ever want to start again.")
    )


_BUTTONS = {
    SettingsOp.MENU: _open_menu,
    SettingsOp.CLOSE: _close,
    SettingsOp.LANGUAGE: _pick_language,
    SettingsOp.SET_LANGUAGE: _set_language,
    SettingsOp.EMAIL: _ask_email,
    SettingsOp.EMAIL_CLEAR: _clear_email,
    SettingsOp.BIRTHDAY: _ask_birthday,
    SettingsOp.BIRTHDAY_CLEAR: _clear_birthday,
    SettingsOp.NOTIFICATIONS: _notifications,
    SettingsOp.TOGGLE: _notifications,
    SettingsOp.LEAVE: _pick_card_to_leave,
    SettingsOp.LEAVE_PICK: _confirm_leave,
    SettingsOp.LEAVE_CONFIRM: _leave,
    SettingsOp.ERASE: _ask_erase,
    SettingsOp.ERASE_CONFIRM: _erase,
}


@router.message(StateFilter(SettingsForm.email), F.text)
async def email_entered(
    message: Message,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    email_channel: EmailChannel,
    link_signer: LinkSigner,
) -> None:
    if customer is None or message.text is None:
        await state.clear()
        return
    try:
        address = await set_email(customer, message.text[:MAX_INPUT])
    except LoyaltyError as refused:
        await message.answer(refusal(refused) + "\n" + _("Or send /cancel."))
        return
    await state.clear()
    shown = ltr(escape(address))
    if customer.email_verified:
        await message.answer(_("{email} is already confirmed.").format(email=shown))
    else:
        # Double opt-in: campaigns use the address only after its owner opens this link.
        link = link_signer.url(Purpose.VERIFY_EMAIL, customer.id, address.lower())
        sent = await email_channel.send_verification(address, i18n.current_locale, link)
        if sent.outcome == Outcome.FAILED:
            await message.answer(
                _("I could not send an email to {email}. Please check the address.").format(
                    email=shown
                )
            )
        else:
            await message.answer(
                _(
                    "Saved: {email}. I sent you a confirmation link — open it to start "
                    "getting emails."
                ).format(email=shown)
            )
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(SettingsForm.birthday), F.text)
async def birthday_entered(
    message: Message, customer: Customer | None, i18n: I18n, state: FSMContext
) -> None:
    if customer is None or message.text is None:
        await state.clear()
        return
    try:
        day, month, year = await set_birthday(
            customer, message.text[:MAX_INPUT], today=utcnow().date()
        )
    except LoyaltyError as refused:
        await message.answer(refusal(refused) + "\n" + _("Or send /cancel."))
        return
    await state.clear()
    shown = f"{day:02d}.{month:02d}" + (f".{year}" if year else "")
    await message.answer(_("Saved: {date} 🎂").format(date=ltr(shown)))
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(SettingsForm.email, SettingsForm.birthday))
async def form_needs_text(message: Message) -> None:
    await message.answer(_("Please send it as text, or /cancel."))
