"""Whatever no other router took: unknown text, stale or forged buttons, and errors."""

from __future__ import annotations

import logging
from html import escape
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import IsStaff
from handlers.callbacks import CardAction, CardOp, ShopPhoneAction, VoucherAction, VoucherOp
from handlers.texts import (
    bold,
    button_expired,
    ltr,
    refusal,
    user_text,
    without_bidi_controls,
)
from loyalty.errors import LoyaltyError
from loyalty.profile import campaign_shop, shop_phones
from loyalty.views import customer_cards

if TYPE_CHECKING:
    from models import Customer

logger = logging.getLogger(__name__)
router = Router(name="fallback")


def help_text() -> str:
    """What a customer comes back for: the card, the vouchers and how to use them, settings,
    the phone wallet. /start stays out: it is how a QR opens the chat, not a thing to type."""
    return "\n".join(
        [
            _("I keep your stamp cards and vouchers."),
            "",
            _("/card — my card and QR"),
            _("/vouchers — my rewards, and how to use them"),
            _("/settings — language, email, offers"),
            _("Add the card to Apple/Google Wallet: open /card → 📲"),
        ]
    )


@router.message(Command("help"))
async def help_command(message: Message) -> None:
    await message.answer(help_text())


def _not_understood() -> str:
    return _("Sorry, I didn't understand that.") + "\n\n" + help_text()


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    logger.info("unknown command")
    await message.answer(_not_understood())


@router.message(IsStaff())
async def staff_text(message: Message) -> None:
    """Staff keep the staff answer (their typed codes are the counter's to read)."""
    logger.info("unhandled %s message from staff", message.content_type)
    await message.answer(_not_understood())


# At most this many shop phone buttons under the answer: it is a way out, not a directory.
MAX_PHONES = 3


async def _phone_buttons(message: Message, customer: Customer) -> dict[int, str]:
    """The shops to offer a call to: the one whose campaign this replies to (if it gave a
    phone); otherwise every joined shop with a phone."""
    phones = await shop_phones(customer)
    reply = message.reply_to_message
    if reply is not None and (shop := await campaign_shop(customer, reply.message_id)):
        # The reply is meant for that shop: another shop's number would only confuse.
        return {shop: phones[shop][0]} if shop in phones else {}
    return {shop: name for shop, (name, _phone) in list(phones.items())[:MAX_PHONES]}


@router.message()
async def unknown_message(message: Message, customer: Customer | None) -> None:
    """Free text, or a reply to a campaign: nobody reads it, so say so at once and offer the
    way on (the card, the vouchers, the shop's phone) instead of the whole help (review U6)."""
    logger.info("unhandled %s message", message.content_type)
    cards = await customer_cards(customer.id) if customer is not None else []
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🪪 My card"),
        callback_data=CardAction(op=CardOp.SHOW, membership_id=cards[0].membership_id)
        if len(cards) == 1
        else CardAction(op=CardOp.LIST),
    )
    builder.button(text=_("🎟 Vouchers"), callback_data=VoucherAction(op=VoucherOp.LIST))
    if customer is not None:
        for shop, name in (await _phone_buttons(message, customer)).items():
            builder.button(
                text=_("📞 {shop}").format(shop=user_text(name, html=False, limit=40)),
                callback_data=ShopPhoneAction(merchant_id=shop),
            )
    builder.adjust(2, 1)
    await message.answer(
        _("I'm the card bot, so I can't pass messages to the shop."),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(ShopPhoneAction.filter())
async def shop_phone(
    query: CallbackQuery, callback_data: ShopPhoneAction, customer: Customer | None
) -> None:
    """The shop's number as a message: Telegram turns it into a tap-to-call link there, while
    an inline button may not carry a tel: URL (only http(s):// and tg:// are accepted)."""
    phones = await shop_phones(customer) if customer is not None else {}
    found = phones.get(callback_data.merchant_id)
    if found is None or not isinstance(query.message, Message):
        # A shop the customer never joined, or left: its number is not this chat's to give.
        await query.answer(button_expired())
        return
    name, phone = found
    await query.answer()
    await query.message.answer(
        _("{shop}: {phone}").format(
            shop=bold(name), phone=ltr(escape(without_bidi_controls(phone)))
        )
    )


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """A button whose data no handler accepts: forged, or from a version of us long gone."""
    logger.info("unhandled callback data of %d bytes", len((query.data or "").encode()))
    await query.answer(button_expired())


@router.error(ExceptionTypeFilter(LoyaltyError))
async def refused(event: ErrorEvent) -> bool:
    """A rule refused an action that a handler did not expect to be refused."""
    assert isinstance(event.exception, LoyaltyError)
    logger.info("refused: %s", event.exception.code)
    await _tell(event, refusal(event.exception))
    return True


@router.error(
    ExceptionTypeFilter(TelegramBadRequest), F.exception.message.contains("query is too old")
)
async def late_answer(event: ErrorEvent) -> bool:
    """A button pressed long ago (or before a restart): Telegram no longer takes the answer, and
    the person has already seen their button stop spinning."""
    logger.info("update %s: the button's query expired before we answered", event.update.update_id)
    return True


@router.error()
async def crashed(event: ErrorEvent) -> bool:
    logger.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _tell(event, _("Sorry, something went wrong on our side. Please try again."))
    return True


async def _tell(event: ErrorEvent, text: str) -> None:
    try:
        if event.update.callback_query is not None:
            await event.update.callback_query.answer(text, show_alert=True)
        elif event.update.message is not None:
            await event.update.message.answer(text)
    except Exception:
        logger.exception("could not tell the user about the failure")
