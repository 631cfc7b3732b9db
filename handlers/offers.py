"""What a customer answers to the shop's offers in the chat: "Stop offers from <shop>" under a
campaign message, and "No thanks" to the one-time offer to add an email."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import OffersAction, OffersOp
from handlers.texts import bold, button_expired
from loyalty.profile import OFFER_CHANNELS, customer_shops, stop_offers

if TYPE_CHECKING:
    from models import Customer

router = Router(name="offers")


def stopped_text(shop: str) -> str:
    """After [Stop offers from …], on every messenger."""
    return _(
        "You won't get offers from {shop} any more. Settings → Offers turns them back on."
    ).format(shop=bold(shop))


def _without_stop_button(message: Message, data: str) -> InlineKeyboardMarkup | None:
    """The campaign message's buttons minus the one just used ([My card] stays)."""
    markup = message.reply_markup
    if markup is None:
        return None
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=kept) if kept else None


@router.callback_query(OffersAction.filter(F.op == OffersOp.STOP))
async def stop_shop_offers(
    query: CallbackQuery, callback_data: OffersAction, customer: Customer | None
) -> None:
    """Idempotent: a second tap, or a stale copy of the message, says the same and writes
    nothing. Only a shop the person holds a card of can be silenced by them: forged data
    (a made-up shop, or one they never joined) changes nothing."""
    if customer is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    shops = await customer_shops(customer)
    shop = shops.get(callback_data.merchant_id)
    if shop is None:
        await query.answer(_("You are not on a card of this shop."), show_alert=True)
        return
    changed = await stop_offers(customer, callback_data.merchant_id, OFFER_CHANNELS)
    if not changed:
        await query.answer(_("Offers from this shop are already off."))
        return
    await query.answer()
    # Too old to edit (48 hours): the answer below still says it.
    with contextlib.suppress(TelegramBadRequest):
        await query.message.edit_reply_markup(
            reply_markup=_without_stop_button(query.message, callback_data.pack())
        )
    await query.message.answer(stopped_text(shop))


@router.callback_query(OffersAction.filter(F.op == OffersOp.PREVIEW))
async def preview_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This is your preview: in your customers' chats this button works."), show_alert=True
    )


@router.callback_query(OffersAction.filter(F.op == OffersOp.NO_EMAIL))
async def no_email(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        # A double tap: the message already says it ("not modified").
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_text(
                _("All right, no email. You can add one any time in Settings.")
            )
