"""Inline keyboards of the customer bot."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
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
from handlers.texts import user_text
from loyalty.views import CardView, VoucherView


def card_menu(card: CardView, *, several_cards: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    vouchers = len(card.vouchers)
    label = _("🎟 My vouchers ({count})").format(count=vouchers) if vouchers else _("🎟 My vouchers")
    builder.button(text=label, callback_data=VoucherAction(op=VoucherOp.LIST))
    builder.button(text=_("⚙️ Settings"), callback_data=SettingsAction(op=SettingsOp.MENU))
    if several_cards:
        builder.button(text=_("🗂 All my cards"), callback_data=CardAction(op=CardOp.LIST))
    builder.adjust(2, 1)
    return builder.as_markup()


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
            text=f"🎟 {user_text(voucher.title, html=False, limit=38)} · "
            f"{user_text(voucher.brand.merchant_name, html=False, limit=20)}",
            callback_data=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher.id),
        )
    builder.adjust(1)
    return builder.as_markup()


def voucher_detail(voucher: VoucherView, *, usable: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if usable:
        builder.button(
            text=_("✅ Use it now, at the till"),
            callback_data=VoucherAction(op=VoucherOp.REDEEM, voucher_id=voucher.id),
        )
    builder.button(text=_("⬅️ My vouchers"), callback_data=VoucherAction(op=VoucherOp.LIST))
    builder.adjust(1)
    return builder.as_markup()


def redeem_confirm(voucher: VoucherView) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, redeem it now"),
        callback_data=VoucherAction(op=VoucherOp.CONFIRM, voucher_id=voucher.id),
    )
    builder.button(
        text=_("No, keep it"),
        callback_data=VoucherAction(op=VoucherOp.CANCEL, voucher_id=voucher.id),
    )
    builder.adjust(1)
    return builder.as_markup()
