"""Settings: language, email, birthday, offers per shop, and (under "Privacy & data") leaving a
card or erasing my data.

One message is the settings screen: every button step edits it in place (handlers.screens),
and so does the answer to a typed email or birthday, so settings never fill the chat.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from conversation.links import MessengerLinks
from conversation.screens import (
    erase_question,
    erased_text,
    leave_pick,
    leave_question,
    left_text,
    privacy,
)
from handlers.admin_mode import admin_merchant
from handlers.callbacks import (
    SettingsAction,
    SettingsOp,
    db_id,
    parse_switch,
    switch_value,
)
from handlers.keyboards import inline
from handlers.screens import expired, show
from handlers.texts import (
    back_label,
    close_label,
    ltr,
    picked_label,
    refusal,
    state_label,
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
    OPTIONAL_CHANNELS,
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
    set_opt_out,
    set_shop_offers,
)
from loyalty.views import customer_card, customer_cards
from models.enums import Channel, Platform
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer

router = Router(name="settings")

MAX_INPUT = 256
# The settings message a typed answer (email, birthday) comes back to, in the FSM data.
SCREEN_KEY = "settings_screen"


class SettingsForm(StatesGroup):
    email = State()
    birthday = State()


def _channel_name(channel: Channel) -> str:
    names = {Channel.TELEGRAM: _("In this chat"), Channel.EMAIL: _("By email")}
    return names.get(channel, channel.value)


def _offers_state(off: set[Channel] | None) -> str:
    """One shop's offers in words: on, off, or on in some channels only."""
    off = set(off or ()) & set(OPTIONAL_CHANNELS)
    if not off:
        return _("on")
    if len(off) == len(OPTIONAL_CHANNELS):
        return _("off")
    return _("partly on")


def _button(builder: InlineKeyboardBuilder, text: str, op: SettingsOp, value: str = "") -> None:
    builder.button(text=text, callback_data=SettingsAction(op=op, value=value))


def _back(builder: InlineKeyboardBuilder, op: SettingsOp = SettingsOp.MENU) -> None:
    _button(builder, back_label(), op)


async def _menu(
    customer: Customer, i18n: I18n, links: MessengerLinks
) -> tuple[str, InlineKeyboardMarkup]:
    """The settings screen. "🔗 Link another messenger" only where we are on another one
    (``links``): a Telegram-only deployment has nothing to link to."""
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
        lines.append(_("Offers: {state}").format(state=_offers_state(off.get(next(iter(shops))))))
    else:
        lines += [
            _("Offers from {shop}: {state}").format(
                shop=user_text(name), state=_offers_state(off.get(merchant_id))
            )
            for merchant_id, name in shops.items()
        ]
    builder = InlineKeyboardBuilder()
    # Emoji on the few actions people look for (their language, their data, closing) only.
    _button(builder, _("🌐 Language"), SettingsOp.LANGUAGE)
    _button(builder, _("Email"), SettingsOp.EMAIL)
    _button(builder, _("Birthday"), SettingsOp.BIRTHDAY)
    _button(builder, _("Offers"), SettingsOp.NOTIFICATIONS)
    linkable = bool(links.others(Platform.TELEGRAM))
    if linkable:
        _button(builder, _("🔗 Link another messenger"), SettingsOp.LINK)
    _button(builder, _("🔒 Privacy & data"), SettingsOp.PRIVACY)
    _button(builder, close_label(), SettingsOp.CLOSE)
    builder.adjust(2, 2, *([1] * (3 if linkable else 2)))
    return "\n".join(lines), builder.as_markup()


def _no_customer_text() -> str:
    return _("Settings appear once you have joined a shop's card. Scan its QR code to start.")


async def _end_form(state: FSMContext) -> int | None:
    """Leave the settings conversation only: admin mode lives in the same FSM storage, and a
    staff member who checks their own settings keeps it, like the admin keyboard on screen.

    Returns the settings message that asked the question, if one did."""
    await state.set_state(None)
    data = await state.get_data()
    if SCREEN_KEY not in data:
        return None
    screen = data.pop(SCREEN_KEY)
    await state.set_data(data)
    return screen if isinstance(screen, int) else None


@router.message(Command("settings"))
async def settings_command(
    message: Message,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    messenger_links: MessengerLinks,
) -> None:
    await _end_form(state)
    if customer is None:
        await message.answer(_no_customer_text())
        return
    text, markup = await _menu(customer, i18n, messenger_links)
    await message.answer(text, reply_markup=markup)


@router.message(Command("cancel"))
async def cancel_command(
    message: Message,
    bot: Bot,
    state: FSMContext,
    customer: Customer | None,
    i18n: I18n,
    messenger_links: MessengerLinks,
) -> None:
    """Cancel a half-answered question; in admin mode say that the mode stays on. A settings
    question is answered on its own message, which becomes the menu again."""
    asked = await state.get_state() is not None
    screen = await _end_form(state)
    text = _("Cancelled.") if asked else _("There is nothing to cancel.")
    if await admin_merchant(state) is not None:
        text += "\n" + _("You are still in admin mode. /exit returns to customer mode.")
    if asked and screen is not None and customer is not None:
        await _menu_on(message, bot, screen, customer, i18n, messenger_links, text)
    else:
        await message.answer(text)


async def _show_menu(
    message: Message, customer: Customer, i18n: I18n, links: MessengerLinks
) -> None:
    await show(message, *await _menu(customer, i18n, links))


async def _stale(
    query: CallbackQuery, customer: Customer, i18n: I18n, links: MessengerLinks
) -> None:
    """A stale or forged settings button: the toast, then the settings menu as it is now."""

    async def redraw(message: Message) -> None:
        await _show_menu(message, customer, i18n, links)

    await expired(query, redraw)


@router.callback_query(SettingsAction.filter())
async def settings_button(
    query: CallbackQuery,
    callback_data: SettingsAction,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    messenger_links: MessengerLinks,
    wallets: Wallets | None = None,
) -> None:
    if customer is None or not isinstance(query.message, Message):
        # Nobody to draw settings for (erased, never joined): the toast alone.
        await expired(query)
        return
    handler = _BUTTONS.get(callback_data.op)
    if handler is None:
        await _stale(query, customer, i18n, messenger_links)
        return
    await handler(
        query, query.message, callback_data.value, customer, i18n, state, messenger_links
    )
    if wallets is not None and callback_data.op in _GONE:
        # After the answer: the wallets (APNs, Google's API) are slower than the chat.
        await wallets.forget_left_memberships(customer.id)


async def _open_menu(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await _end_form(state)
    await query.answer()
    await _show_menu(message, customer, i18n, links)


async def _close(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await _end_form(state)
    await query.answer()
    await message.delete_reply_markup()


async def _pick_language(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    builder = InlineKeyboardBuilder()
    for code in i18n.available_locales:
        name = NATIVE_NAMES.get(code, code)
        _button(
            builder, picked_label(name, code == i18n.current_locale), SettingsOp.SET_LANGUAGE, code
        )
    count = len(i18n.available_locales)
    _back(builder)
    # Two languages a row, and "Back" on a row of its own.
    builder.adjust(*[2] * (count // 2), *[1] * (count % 2), 1)
    await query.answer()
    await show(message, _("Choose your language:"), builder.as_markup())


async def _set_language(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    try:
        await set_language(customer, value, i18n.available_locales)
    except LoyaltyError:
        await _stale(query, customer, i18n, links)
        return
    with i18n.use_locale(value):
        await query.answer(_("Language saved."))
        await _show_menu(message, customer, i18n, links)


async def _ask(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    form: State,
    prompt: str,
    remove: tuple[str, SettingsOp] | None,
) -> None:
    """Ask for a value as text, on the settings message itself; the typed answer edits that
    message back into the menu. Offer to remove the current value when there is one."""
    await state.set_state(form)
    await state.update_data({SCREEN_KEY: message.message_id})
    builder = InlineKeyboardBuilder()
    if remove is not None:
        _button(builder, *remove)
    _back(builder)
    builder.adjust(1)
    await query.answer()
    await show(message, prompt, builder.as_markup())


async def _removed(
    query: CallbackQuery, message: Message, customer: Customer, i18n: I18n, state: FSMContext,
    links: MessengerLinks, toast: str,
) -> None:  # fmt: skip
    await _end_form(state)
    await query.answer(toast)
    await _show_menu(message, customer, i18n, links)


async def _ask_email(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    remove = (_("Remove my email"), SettingsOp.EMAIL_CLEAR) if customer.email else None
    # One address serves every shop the customer joins, so the promise names them all.
    prompt = _(
        "Send me your email address. We use it only for news and vouchers from the shops "
        "you've joined."
    )
    await _ask(query, message, state, SettingsForm.email, prompt, remove)


async def _clear_email(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await clear_email(customer)
    await _removed(query, message, customer, i18n, state, links, _("Email removed."))


async def _ask_birthday(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    remove = (_("Remove my birthday"), SettingsOp.BIRTHDAY_CLEAR) if customer.birth_month else None
    prompt = _("When is your birthday? Send it as DD.MM — the year is optional (DD.MM.YYYY).")
    await _ask(query, message, state, SettingsForm.birthday, prompt, remove)


async def _clear_birthday(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await clear_birthday(customer)
    await _removed(query, message, customer, i18n, state, links, _("Birthday removed."))


async def _offers_screen(customer: Customer) -> tuple[str, InlineKeyboardMarkup]:
    """Every joined shop with its offers on or off, and under each its channel switches."""
    shops, off = await customer_shops(customer), await opted_out(customer)
    builder = InlineKeyboardBuilder()
    rows: list[int] = []
    for merchant_id, name in shops.items():
        shop_off = off.get(merchant_id, set())
        label = _("{shop}: {state}").format(
            shop=user_text(name, html=False, limit=40), state=_offers_state(shop_off)
        )
        shop_on = not set(OPTIONAL_CHANNELS) <= shop_off
        _button(builder, label, SettingsOp.SHOP, switch_value(merchant_id, shop_on))
        for channel in OPTIONAL_CHANNELS:
            on = channel not in shop_off
            _button(
                builder,
                state_label(_channel_name(channel), on),
                SettingsOp.TOGGLE,
                switch_value(merchant_id, on, channel),
            )
        rows += [1, len(OPTIONAL_CHANNELS)]
    _back(builder)
    builder.adjust(*rows, 1)
    if not shops:
        return _("You are not on any card."), builder.as_markup()
    text = "\n".join(
        [
            _("<b>Offers</b>"),
            _(
                "News and vouchers from the shops you've joined. Tap a shop to turn all its "
                "offers on or off, or a channel under it."
            ),
        ]
    )
    return text, builder.as_markup()


async def _offers(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await query.answer()
    await show(message, *await _offers_screen(customer))


async def _toggle_shop(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    """A whole shop's offers off (every channel) or on; a shop the customer holds no card at,
    or data no screen of ours sends, is a stale button."""
    shops = await customer_shops(customer)
    merchant_id, channel, turn_on = parse_switch(value)
    if merchant_id not in shops or channel or turn_on is None:
        await _stale(query, customer, i18n, links)
        return
    assert merchant_id is not None
    await set_shop_offers(customer, merchant_id, on=turn_on)
    await query.answer(
        (_("Offers from {shop}: on.") if turn_on else _("Offers from {shop}: off.")).format(
            shop=user_text(shops[merchant_id], html=False)
        )
    )
    await show(message, *await _offers_screen(customer))


async def _toggle_channel(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    """One channel of one shop off or on, with the same checks as the shop switch."""
    merchant_id, name, turn_on = parse_switch(value)
    channel = next((c for c in OPTIONAL_CHANNELS if c.value == name), None)
    if merchant_id not in await customer_shops(customer) or channel is None or turn_on is None:
        await _stale(query, customer, i18n, links)
        return
    assert merchant_id is not None
    await set_opt_out(customer, merchant_id, channel, off=not turn_on)
    await query.answer(_("Turned on.") if turn_on else _("Turned off."))
    await show(message, *await _offers_screen(customer))


async def _privacy(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    screen = privacy()
    await query.answer()
    await show(message, screen.text, inline(screen.actions))


async def _pick_card_to_leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    screen = leave_pick(await customer_cards(customer.id))
    await query.answer()
    await show(message, screen.text, inline(screen.actions))


async def _confirm_leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    try:
        card = await customer_card(db_id(value), customer.id)
    except (ValueError, MembershipNotFound):
        await _stale(query, customer, i18n, links)
        return
    screen = leave_question(card)
    await query.answer()
    await show(message, screen.text, inline(screen.actions))


async def _leave(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    try:
        card = await customer_card(db_id(value), customer.id)
    except (ValueError, MembershipNotFound):
        await _stale(query, customer, i18n, links)
        return
    await leave_card(card.membership_id, customer_id=customer.id)
    await query.answer()
    await show(message, left_text(card))


async def _ask_erase(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    screen = erase_question()
    await query.answer()
    await show(message, screen.text, inline(screen.actions))


async def _erase(
    query: CallbackQuery, message: Message, value: str, customer: Customer, i18n: I18n,
    state: FSMContext, links: MessengerLinks,
) -> None:  # fmt: skip
    await erase_customer(customer)
    await _end_form(state)
    await query.answer()
    await show(message, erased_text())


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
    SettingsOp.NOTIFICATIONS: _offers,
    SettingsOp.SHOP: _toggle_shop,
    SettingsOp.TOGGLE: _toggle_channel,
    SettingsOp.PRIVACY: _privacy,
    SettingsOp.LEAVE: _pick_card_to_leave,
    SettingsOp.LEAVE_PICK: _confirm_leave,
    SettingsOp.LEAVE_CONFIRM: _leave,
    SettingsOp.ERASE: _ask_erase,
    SettingsOp.ERASE_CONFIRM: _erase,
}


async def _back_to_menu(
    message: Message, bot: Bot, state: FSMContext, customer: Customer, i18n: I18n,
    links: MessengerLinks, note: str,
) -> None:  # fmt: skip
    """After a typed answer: the settings message that asked becomes the menu again."""
    await _menu_on(message, bot, await _end_form(state), customer, i18n, links, note)


async def _menu_on(
    message: Message, bot: Bot, screen: int | None, customer: Customer, i18n: I18n,
    links: MessengerLinks, note: str,
) -> None:  # fmt: skip
    """The menu on settings message ``screen`` with ``note`` (what happened) on top; a new
    message only when that one cannot be edited."""
    menu, markup = await _menu(customer, i18n, links)
    text = f"{note}\n\n{menu}"
    if screen is not None:
        try:
            await bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=screen, reply_markup=markup
            )
            return
        except TelegramBadRequest:
            pass  # deleted or too old to edit: the menu comes as a new message
    await message.answer(text, reply_markup=markup)


async def _confirmation(
    customer: Customer,
    address: str,
    i18n: I18n,
    email_channel: ConfirmationMailer,
    signer: LinkSigner,
    expires_at: datetime,
) -> str:
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
        return _("I could not send an email to {email}. Please check the address.").format(
            email=shown
        )
    return _(
        "Saved: {email}. I sent you a confirmation link — open it to start getting emails."
    ).format(email=shown)


@router.message(StateFilter(SettingsForm.email), F.text)
async def email_entered(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    email_channel: ConfirmationMailer,
    link_signer: LinkSigner,
    email_limits: ConfirmationLimits,
    messenger_links: MessengerLinks,
) -> None:
    if customer is None or message.text is None:
        await _end_form(state)
        return
    try:
        address = normalized_email(message.text[:MAX_INPUT])
    except LoyaltyError as refused:
        await message.answer(refusal(refused) + "\n" + _("Or send /cancel."))
        return
    shown = ltr(escape(without_bidi_controls(address)))
    if address == customer.email and customer.email_verified:
        note = _("{email} is already confirmed.").format(email=shown)
    else:
        try:
            # Before anything is stored: a refused request changes nothing.
            await email_limits.take(customer.id, address)
        except ConfirmationThrottled as refused:
            note = refusal(refused)
        else:
            await set_email(customer, address)
            expires = utcnow() + email_limits.link_lifetime
            note = await _confirmation(
                customer, address, i18n, email_channel, link_signer, expires
            )
    await _back_to_menu(message, bot, state, customer, i18n, messenger_links, note)


@router.message(StateFilter(SettingsForm.birthday), F.text)
async def birthday_entered(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    i18n: I18n,
    state: FSMContext,
    messenger_links: MessengerLinks,
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
    shown = f"{day:02d}.{month:02d}" + (f".{year}" if year else "")
    note = _("Birthday saved: {date}.").format(date=ltr(shown))
    await _back_to_menu(message, bot, state, customer, i18n, messenger_links, note)


@router.message(StateFilter(SettingsForm.email, SettingsForm.birthday))
async def form_needs_text(message: Message) -> None:
    await message.answer(_("Please send it as text, or /cancel."))
