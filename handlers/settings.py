"""Settings: language, email, birthday, notifications, leaving a card, erasing my data."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import admin_merchant
from handlers.callbacks import SettingsAction, SettingsOp, db_id
from handlers.texts import (
    bold,
    button_expired,
    ltr,
    refusal,
    separated,
    user_text,
    without_bidi_controls,
)
from locales import NATIVE_NAMES
from loyalty.clock import utcnow
from loyalty.customers import erase_customer
from loyalty.errors import ConfirmationThrottled, LoyaltyError, MembershipNotFound
from loyalty.links import LinkSigner
from loyalty.memberships import leave_card
from loyalty.profile import (
    ConfirmationLimits,
    ConfirmationMailer,
    clear_birthday,
    clear_email,
    customer_shops,
    normalized_email,
    opted_out,
    send_email_confirmation,
    set_birthday,
    set_email,
    set_language,
    toggle_opt_out,
)
from loyalty.views import customer_card, customer_cards
from models.enums import Channel
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer

router = Router(name="settings")

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


def _switches(off: set[Channel] | None) -> str:
    return separated(
        f"{_channel_name(channel)} {'🔕' if channel in (off or ()) else '🔔'}"
        for channel in OPTIONAL_CHANNELS
    )


def _button(builder: InlineKeyboardBuilder, text: str, op: SettingsOp, value: str = "") -> None:
    builder.button(text=text, callback_data=SettingsAction(op=op, value=value))


async def _menu(customer: Customer, i18n: I18n) -> tuple[str, InlineKeyboardMarkup]:
    none = _("not set")
    if customer.email:
        state = _("confirmed") if customer.email_verified else _("not confirmed yet")
        email = f"{ltr(escape(without_bidi_controls(customer.email)))} ({state})"
    else:
        email = none
    if customer.birth_day and customer.birth_month:
        parts = [f"{customer.birth_day:02d}", f"{customer.birth_month:02d}"]
        if customer.birth_year:
            parts.append(str(customer.birth_year))
        birthday = ltr(".".join(parts))
    else:
        birthday = none
    shops, off = await customer_shops(customer), await opted_out(customer)
    lines = [
        _("<b>Settings</b>"),
        _("Language: {language}").format(language=NATIVE_NAMES[i18n.current_locale]),
        _("Email: {email}").format(email=email),
        _("Birthday: {birthday}").format(birthday=birthday),
    ]
    if len(shops) == 1:
        lines.append(
            _("Notifications: {channels}").format(channels=_switches(off.get(next(iter(shops)))))
        )
    else:
        lines += [
            _("Notifications from {shop}: {channels}").format(
                shop=user_text(name), channels=_switches(off.get(merchant_id))
            )
            for merchant_id, name in shops.items()
        ]
    text = "\n".join(lines)
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


async def _end_form(state: FSMContext) -> None:
    """Leave the settings conversation only: admin mode lives in the same FSM storage, and a
    staff member who checks their own settings keeps it, like the admin keyboard on screen."""
    await state.set_state(None)


@router.message(Command("settings"))
async def settings_command(
    message: Message, customer: Customer | None, i18n: I18n, state: FSMContext
) -> None:
    await _end_form(state)
    if customer is None:
        await message.answer(_no_customer_text())
        return
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    """Cancel a half-answered question; in admin mode say that the mode stays on."""
    asked = await state.get_state() is not None
    await _end_form(state)
    text = _("Cancelled.") if asked else _("There is nothing to cancel.")
    if await admin_merchant(state) is not None:
        text += "\n" + _("You are still in admin mode. /exit returns to customer mode.")
    await message.answer(text)


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
    wallets: Wallets | None = None,
) -> None:
    if customer is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    handler = _BUTTONS.get(callback_data.op)
    if handler is None:
        await query.answer(button_expired())
        return
    await handler(query, query.message, callback_data.value, customer, i18n, state)
    if wallets is not None and callback_data.op in _GONE:
        # After the answer: the wallets (APNs, Google's API) are slower than the chat.
        await wallets.forget_left_memberships(customer.id)


async def _open_menu(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await _end_form(state)
    await query.answer()
    await _show_menu(query, customer, i18n)


async def _close(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext,
) -> None:  # fmt: skip
    await _end_form(state)
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
    await _end_form(state)
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
    """Opt-outs are per shop: pick the shop (when there are several), then its channels.

    ``value`` is "" (from the menu), "<merchant id>" (a shop picked) or "<merchant id>-<channel>"
    (a switch pressed).
    """
    shops = await customer_shops(customer)
    if not value and len(shops) != 1:
        await query.answer()
        if not shops:
            await message.answer(_("You are not on any card."))
            return
        builder = InlineKeyboardBuilder()
        for shop_id, name in shops.items():
            _button(builder, name[:64], SettingsOp.NOTIFICATIONS, str(shop_id))
        _button(builder, _("⬅️ Settings"), SettingsOp.MENU)
        builder.adjust(1)
        await message.answer(_("News from which shop?"), reply_markup=builder.as_markup())
        return
    merchant_id = _int(value.partition("-")[0]) if value else next(iter(shops))
    if merchant_id is None or merchant_id not in shops:
        await query.answer(button_expired())
        return
    toggled = value.partition("-")[2]
    if toggled:
        try:
            channel = Channel(toggled)
        except ValueError:
            await query.answer(button_expired())
            return
        if channel not in OPTIONAL_CHANNELS:
            await query.answer(button_expired())
            return
        now_off = await toggle_opt_out(customer, merchant_id, channel)
        await query.answer(_("Turned off.") if now_off else _("Turned on."))
    else:
        await query.answer()
    off = (await opted_out(customer)).get(merchant_id, set())
    builder = InlineKeyboardBuilder()
    for channel in OPTIONAL_CHANNELS:
        mark = "🔕" if channel in off else "🔔"
        _button(
            builder,
            f"{mark} {_channel_name(channel)}",
            SettingsOp.TOGGLE,
            f"{merchant_id}-{channel.value}",
        )
    _button(builder, _("⬅️ Settings"), SettingsOp.MENU)
    builder.adjust(1)
    text = _("News and offers from {shop}. Tap to turn a channel on or off.").format(
        shop=bold(shops[merchant_id])
    )
    if toggled:
        await message.edit_text(text, reply_markup=builder.as_markup())
    else:
        await message.answer(text, reply_markup=builder.as_markup())


def _int(text: str) -> int | None:
    return int(text) if text.isdecimal() and len(text) <= 10 else None


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
            f"{user_text(card.card_name, html=False, limit=40)} · "
            f"{user_text(card.brand.merchant_name, html=False, limit=20)}",
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
            "Leave <b>{card}</b> at {shop}? Its stamps ({stamps}) and unused vouchers "
            "({vouchers}) will be lost."
        ).format(
            card=user_text(card.card_name),
            shop=user_text(card.brand.merchant_name),
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
            card=user_text(card.card_name)
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
    await _end_form(state)
    await query.answer()
    await message.edit_text(
        _("Done: your data is erased. Scan a shop's QR code if you ever want to start again.")
    )


# Buttons after which a membership may have ended: its wallet passes must forget the person.
_GONE = frozenset({SettingsOp.LEAVE_CONFIRM, SettingsOp.ERASE_CONFIRM})

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


async def _send_confirmation(
    message: Message,
    customer: Customer,
    address: str,
    i18n: I18n,
    email_channel: ConfirmationMailer,
    signer: LinkSigner,
    expires_at: datetime,
) -> None:
    """Double opt-in: campaigns use the address only after its owner opens this link."""
    sent = await send_email_confirmation(
        email_channel,
        signer,
        customer.id,
        address,
        language=i18n.current_locale,
        expires_at=expires_at,
    )
    shown = ltr(escape(without_bidi_controls(address)))
    if not sent:
        await message.answer(
            _("I could not send an email to {email}. Please check the address.").format(
                email=shown
            )
        )
    else:
        await message.answer(
            _(
                "Saved: {email}. I sent you a confirmation link — open it to start getting emails."
            ).format(email=shown)
        )


@router.message(StateFilter(SettingsForm.email), F.text)
async def email_entered(
    message: Message,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    email_channel: ConfirmationMailer,
    link_signer: LinkSigner,
    email_limits: ConfirmationLimits,
) -> None:
    if customer is None or message.text is None:
        await _end_form(state)
        return
    try:
        address = normalized_email(message.text[:MAX_INPUT])
    except LoyaltyError as refused:
        await message.answer(refusal(refused) + "\n" + _("Or send /cancel."))
        return
    await _end_form(state)
    shown = ltr(escape(without_bidi_controls(address)))
    if address == customer.email and customer.email_verified:
        await message.answer(_("{email} is already confirmed.").format(email=shown))
    else:
        try:
            # Before anything is stored: a refused request changes nothing.
            await email_limits.take(customer.id, address)
        except ConfirmationThrottled as refused:
            await message.answer(refusal(refused))
        else:
            await set_email(customer, address)
            expires = utcnow() + email_limits.link_lifetime
            await _send_confirmation(
                message, customer, address, i18n, email_channel, link_signer, expires
            )
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(SettingsForm.birthday), F.text)
async def birthday_entered(
    message: Message, customer: Customer | None, i18n: I18n, state: FSMContext
) -> None:
    if customer is None or message.text is None:
        await _end_form(state)
        return
    try:
        day, month, year = await set_birthday(
            customer, message.text[:MAX_INPUT], today=utcnow().date()
        )
    except LoyaltyError as refused:
        await message.answer(refusal(refused) + "\n" + _("Or send /cancel."))
        return
    await _end_form(state)
    shown = f"{day:02d}.{month:02d}" + (f".{year}" if year else "")
    await message.answer(_("Saved: {date} 🎂").format(date=ltr(shown)))
    text, markup = await _menu(customer, i18n)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(SettingsForm.email, SettingsForm.birthday))
async def form_needs_text(message: Message) -> None:
    await message.answer(_("Please send it as text, or /cancel."))
