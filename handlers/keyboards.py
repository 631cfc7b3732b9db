"""Keyboards of the customer bot: the card's buttons, the vouchers, and the two persistent
buttons [🪪 My card] [🎟 Vouchers] under the message field."""

from __future__ import annotations

import functools

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import (
    CardAction,
    CardOp,
    SettingsAction,
    SettingsOp,
    VoucherAction,
    VoucherOp,
)
from handlers.texts import back_label, user_text
from loyalty.views import CardView, VoucherView

# Ready vouchers shown as their own buttons on the card; more than this get one list button.
VOUCHER_BUTTONS = 3


def my_card_label() -> str:
    return _("🪪 My card")


def vouchers_label() -> str:
    return _("🎟 Vouchers")


@functools.cache
def shortcut_labels(i18n: I18n) -> dict[str, str]:
    """Every language's text of the two persistent buttons → which one it is ("card" or
    "vouchers"): a keyboard sent in one language keeps working after a language change.
    Made once per process (the catalogs do not change while it runs): every message asks."""
    labels: dict[str, str] = {}
    for locale in i18n.available_locales:
        with i18n.use_locale(locale):
            labels[my_card_label()] = "card"
            labels[vouchers_label()] = "vouchers"
    return labels


def customer_keyboard() -> ReplyKeyboardMarkup:
    """Under the message field for good: seeing the card again is one tap."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=my_card_label()), KeyboardButton(text=vouchers_label())]],
        resize_keyboard=True,
        is_persistent=True,
    )


def voucher_button_label(voucher: VoucherView) -> str:
    return f"🎟 {user_text(voucher.title, html=False, limit=40)}"


def card_menu(
    card: CardView, *, several_cards: bool, wallet_url: str | None = None
) -> InlineKeyboardMarkup:
    """Ready vouchers first (one tap opens the voucher), the phone wallet, then the rest."""
    rows: list[list[InlineKeyboardButton]] = []
    shown = card.vouchers if len(card.vouchers) <= VOUCHER_BUTTONS else ()
    for voucher in shown:
        rows.append(
            [
                InlineKeyboardButton(
                    text=voucher_button_label(voucher),
                    callback_data=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher.id).pack(),
                )
            ]
        )
    if len(card.vouchers) > VOUCHER_BUTTONS:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🎟 My vouchers ({count})").format(count=len(card.vouchers)),
                    callback_data=VoucherAction(op=VoucherOp.LIST).pack(),
                )
            ]
        )
    if wallet_url:
        rows.append([InlineKeyboardButton(text=_("📲 Add to phone wallet"), url=wallet_url)])
    if card.invites_open:
        invite = CardAction(op=CardOp.INVITE, membership_id=card.membership_id).pack()
        rows.append([InlineKeyboardButton(text=_("🤝 Invite a friend"), callback_data=invite)])
    last = [
        InlineKeyboardButton(
            text=_("Settings"), callback_data=SettingsAction(op=SettingsOp.MENU).pack()
        )
    ]
    if several_cards:
        last.append(
            InlineKeyboardButton(
                text=_("All my cards"), callback_data=CardAction(op=CardOp.LIST).pack()
            )
        )
    rows.append(last)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_list(cards: list[CardView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for card in cards:
        builder.button(
            text=f"{user_text(card.card_name, html=False, limit=40)} · "
            f"{user_text(card.brand.merchant_name, html=False, limit=20)}",
            callback_data=CardAction(op=CardOp.SHOW, membership_id=card.membership_id),
        )
    builder.adjust(1)
    return builder.as_markup()


def voucher_list(vouchers: list[VoucherView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for voucher in vouchers:
        builder.button(
            text=f"{voucher_button_label(voucher)} · "
            f"{user_text(voucher.brand.merchant_name, html=False, limit=20)}",
            callback_data=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher.id),
        )
    builder.adjust(1)
    return builder.as_markup()


def voucher_detail(voucher: VoucherView, *, usable: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if usable:
        builder.button(
            text=_("Use it now"),
            callback_data=VoucherAction(op=VoucherOp.REDEEM, voucher_id=voucher.id),
        )
    builder.button(
        text=back_label(_("My vouchers")), callback_data=VoucherAction(op=VoucherOp.LIST)
    )
    builder.adjust(1)
    return builder.as_markup()


def redeem_confirm(voucher: VoucherView) -> InlineKeyboardMarkup:
    """Edited into the voucher message itself: the confirm is the same screen, not a new one."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ I'm at the counter — use it"),
        callback_data=VoucherAction(op=VoucherOp.CONFIRM, voucher_id=voucher.id),
    )
    builder.button(
        text=_("Not now"),
        callback_data=VoucherAction(op=VoucherOp.CANCEL, voucher_id=voucher.id),
    )
    builder.adjust(1)
    return builder.as_markup()
