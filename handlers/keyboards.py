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

from conversation.actions import (
    Rows,
    card_actions,
    card_list_actions,
    redeem_confirm_actions,
    voucher_detail_actions,
    voucher_list_actions,
)
from loyalty.views import CardView, VoucherView


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


def inline(rows: Rows) -> InlineKeyboardMarkup:
    """A screen's actions as Telegram draws them: ids as callback data, urls as links."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=a.label, url=a.url)
                if a.url
                else InlineKeyboardButton(text=a.label, callback_data=a.id)
                for a in row
            ]
            for row in rows
        ]
    )


def card_menu(
    card: CardView, *, several_cards: bool, wallet_url: str | None = None
) -> InlineKeyboardMarkup:
    return inline(card_actions(card, several_cards=several_cards, wallet_url=wallet_url))


def card_list(cards: list[CardView]) -> InlineKeyboardMarkup:
    return inline(card_list_actions(cards))


def voucher_list(vouchers: list[VoucherView]) -> InlineKeyboardMarkup:
    return inline(voucher_list_actions(vouchers))


def voucher_detail(voucher: VoucherView, *, usable: bool) -> InlineKeyboardMarkup:
    return inline(voucher_detail_actions(voucher, usable=usable))


def redeem_confirm(voucher: VoucherView) -> InlineKeyboardMarkup:
    """Edited into the voucher message itself: the confirm is the same screen, not a new one."""
    return inline(redeem_confirm_actions(voucher))
