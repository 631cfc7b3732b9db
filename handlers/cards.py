"""The customer's cards: the card image with progress, personal QR and vouchers."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import PRIVATE, keyboards
from handlers.callbacks import CardAction, CardOp
from handlers.card_image import CardImage, render_card
from handlers.media import FileIdCache, send_photo_cached
from handlers.texts import button_expired, code, progress_line, voucher_line
from loyalty.errors import MembershipNotFound
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, customer_card, customer_cards
from models import Customer

router = Router(name="cards")
router.message.filter(PRIVATE)


def card_caption(card: CardView, *, greeting: str | None = None) -> str:
    lines = []
    if greeting:
        lines += [greeting, ""]
    lines.append(f"<b>{escape(card.card_name)}</b> · {escape(card.brand.merchant_name)}")
    lines.append(progress_line(card))
    if card.vouchers:
        lines += ["", _("🎟 Ready to use:")]
        lines += [f"• {voucher_line(voucher)}" for voucher in card.vouchers]
    lines += ["", _("Show this QR code at the counter to collect your stamps.")]
    if card.counter_code:
        lines.append(_("Code for the till: {code}").format(code=code(card.counter_code)))
    return "\n".join(lines)


async def send_card(
    bot: Bot,
    file_cache: FileIdCache,
    chat_id: int,
    card: CardView,
    *,
    several_cards: bool,
    greeting: str | None = None,
) -> Message:
    me = await bot.me()
    image = CardImage(
        merchant_name=card.brand.merchant_name,
        card_name=card.card_name,
        stamps_needed=card.stamps_needed,
        balance=card.balance,
        background=card.brand.background,
        foreground=card.brand.foreground,
        accent=card.brand.accent,
        qr_url=start_link(me.username or "", LinkKind.MEMBERSHIP, card.token),
        logo_png=card.brand.logo_png,
    )
    return await send_photo_cached(
        bot,
        file_cache,
        chat_id=chat_id,
        key=image.cache_key(),
        render=lambda: render_card(image),
        caption=card_caption(card, greeting=greeting),
        reply_markup=keyboards.card_menu(card, several_cards=several_cards),
    )


async def send_card_list(message: Message, cards: list[CardView]) -> None:
    await message.answer(_("Your cards:"), reply_markup=keyboards.card_list(cards))


def no_cards_text() -> str:
    return _(
        "You don't have a stamp card yet. Scan the QR code at a shop's counter to join its card."
    )


@router.message(Command("card"))
async def card_command(
    message: Message, bot: Bot, customer: Customer | None, file_cache: FileIdCache
) -> None:
    cards = await customer_cards(customer.id) if customer else []
    if not cards:
        await message.answer(no_cards_text())
    elif len(cards) == 1:
        await send_card(bot, file_cache, message.chat.id, cards[0], several_cards=False)
    else:
        await send_card_list(message, cards)


@router.callback_query(CardAction.filter(F.op == CardOp.SHOW))
async def show_card(
    query: CallbackQuery,
    callback_data: CardAction,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
) -> None:
    if customer is None or query.message is None:
        await query.answer(button_expired())
        return
    try:
        card = await customer_card(callback_data.membership_id, customer.id)
    except MembershipNotFound:
        await query.answer(button_expired())
        return
    several = len(await customer_cards(customer.id)) > 1
    await query.answer()
    await send_card(bot, file_cache, query.message.chat.id, card, several_cards=several)


@router.callback_query(CardAction.filter(F.op == CardOp.LIST))
async def list_cards(query: CallbackQuery, customer: Customer | None) -> None:
    cards = await customer_cards(customer.id) if customer else []
    await query.answer()
    if isinstance(query.message, Message):
        if cards:
            await send_card_list(query.message, cards)
        else:
            await query.message.answer(no_cards_text())
