"""The customer's cards: the card image with progress, personal QR and vouchers."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from handlers import keyboards
from handlers.callbacks import AppleWalletAction, CardAction, CardOp
from handlers.media import FileIdCache, send_photo_cached
from handlers.texts import bold, button_expired, code, progress_line, user_text, voucher_line
from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, customer_card, customer_cards
from render.card import CardImage, render_card
from wallets.service import Wallets
from web.passes import pass_download_url

if TYPE_CHECKING:
    from models import Customer

router = Router(name="cards")
logger = logging.getLogger(__name__)
# Characters a file name on a phone should not carry; the rest of the card's name stays.
_UNSAFE_FILE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def card_caption(card: CardView, *, greeting: str | None = None) -> str:
    lines = []
    if greeting:
        lines += [greeting, ""]
    lines.append(f"{bold(card.card_name)} · {user_text(card.brand.merchant_name)}")
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
    wallets: Wallets | None = None,
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
        reply_markup=await _with_wallet_buttons(
            keyboards.card_menu(card, several_cards=several_cards), card, wallets
        ),
    )


async def _with_wallet_buttons(
    menu: InlineKeyboardMarkup, card: CardView, wallets: Wallets | None
) -> InlineKeyboardMarkup:
    """The card's menu plus "Add to Apple Wallet" and, when Google Wallet is configured,
    "Save to Google Wallet" (a link Google opens; made once per membership)."""
    if wallets is None:
        return menu
    row = [
        InlineKeyboardButton(
            text=_("Add to Apple Wallet"),
            callback_data=AppleWalletAction(membership_id=card.membership_id).pack(),
        )
    ]
    save_url = await wallets.google_save_url(card)
    if save_url is not None:
        row.append(InlineKeyboardButton(text=_("Save to Google Wallet"), url=save_url))
    return InlineKeyboardMarkup(inline_keyboard=[*menu.inline_keyboard, row])


def pass_file_name(card_name: str) -> str:
    name = _UNSAFE_FILE_NAME.sub(" ", card_name).strip(" .")[:60] or "card"
    return f"{name}.pkpass"


async def send_card_list(message: Message, cards: list[CardView]) -> None:
    await message.answer(_("Your cards:"), reply_markup=keyboards.card_list(cards))


def no_cards_text() -> str:
    return _(
        "You don't have a stamp card yet. Scan the QR code at a shop's counter to join its card."
    )


@router.message(Command("card"))
async def card_command(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None = None,
) -> None:
    cards = await customer_cards(customer.id) if customer else []
    if not cards:
        await message.answer(no_cards_text())
    elif len(cards) == 1:
        await send_card(
            bot, file_cache, message.chat.id, cards[0], several_cards=False, wallets=wallets
        )
    else:
        await send_card_list(message, cards)


@router.callback_query(CardAction.filter(F.op == CardOp.SHOW))
async def show_card(
    query: CallbackQuery,
    callback_data: CardAction,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None = None,
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
    await send_card(
        bot, file_cache, query.message.chat.id, card, several_cards=several, wallets=wallets
    )


@router.callback_query(AppleWalletAction.filter())
async def add_to_apple_wallet(
    query: CallbackQuery,
    callback_data: AppleWalletAction,
    bot: Bot,
    customer: Customer | None,
    link_signer: LinkSigner,
    wallets: Wallets | None = None,
) -> None:
    """Sends the signed pass as a file, and a private link to it: on an iPhone either one
    opens "Add to Apple Wallet" (Safari knows the link's media type)."""
    if customer is None or query.message is None or wallets is None:
        await query.answer(button_expired())
        return
    try:
        card = await customer_card(callback_data.membership_id, customer.id)
    except MembershipNotFound:
        await query.answer(button_expired())
        return
    await query.answer()
    issued = await wallets.apple_pass(card.membership_id)
    logger.info("sent the Apple Wallet pass of membership %s", card.membership_id)
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(issued.pkpass, filename=pass_file_name(card.card_name)),
        caption=_("Open this file on your iPhone to add <b>{card}</b> to Apple Wallet.").format(
            card=user_text(card.card_name)
        )
        + "\n"
        + _("Or open this link in Safari: {link}").format(
            link=pass_download_url(link_signer, card.membership_id, card.token)
        ),
    )


@router.callback_query(CardAction.filter(F.op == CardOp.LIST))
async def list_cards(query: CallbackQuery, customer: Customer | None) -> None:
    cards = await customer_cards(customer.id) if customer else []
    await query.answer()
    if isinstance(query.message, Message):
        if cards:
            await send_card_list(query.message, cards)
        else:
            await query.message.answer(no_cards_text())
