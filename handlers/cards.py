"""The customer's cards: the card image with progress, personal QR and vouchers."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from handlers import keyboards
from handlers.admin_mode import ADMIN_KEY, SHORTCUTS_KEY
from handlers.callbacks import AppleWalletAction, CardAction, CardOp
from handlers.media import FileIdCache, send_photo_cached
from handlers.screens import expired
from handlers.texts import bold, button_expired, code, ltr, user_text, voucher_line
from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner
from loyalty.views import CardView, customer_card, customer_cards
from wallets.card_link import card_page_url
from wallets.service import Wallets
from web.card_image import card_image
from web.passes import pass_download_url

if TYPE_CHECKING:
    from models import Customer

router = Router(name="cards")
# The persistent buttons' texts: tried before every other conversation (see handlers/__init__).
shortcuts = Router(name="card-shortcuts")
logger = logging.getLogger(__name__)
# Characters a file name on a phone should not carry; the rest of the card's name stays.
_UNSAFE_FILE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def stamps_line(card: CardView) -> str:
    """Progress in words ("3 of 10 stamps"): a screen reader reads "3/10" as "3 slash 10"."""
    return progress_line(card.balance, card.stamps_needed, card.reward_text)


def progress_line(balance: int, needed: int, reward: str) -> str:
    """``stamps_line`` from its figures, for a notice that has them without a card view."""
    return ngettext(
        "{balance} of {needed} stamps — {count} more for {reward}",
        "{balance} of {needed} stamps — {count} more for {reward}",
        needed - balance,
    ).format(
        balance=ltr(str(balance)),
        needed=ltr(str(needed)),
        count=needed - balance,
        reward=bold(reward),
    )


def counter_line(card: CardView) -> str:
    if card.counter_code:
        return _("Show this QR at the counter (or say code {code}).").format(
            code=code(card.counter_code)
        )
    return _("Show this QR at the counter.")


def welcome_caption(card: CardView) -> str:
    """The first screen: what the card gives, how to use it, and what the chat will bring."""
    return "\n".join(
        [
            _("Welcome to {shop}! 🎉").format(shop=user_text(card.brand.merchant_name)),
            ngettext(
                "{needed} stamp = <b>{reward}</b>. You have {balance}.",
                "{needed} stamps = <b>{reward}</b>. You have {balance}.",
                card.stamps_needed,
            ).format(
                needed=ltr(str(card.stamps_needed)),
                reward=user_text(card.reward_text),
                balance=ltr(str(card.balance)),
            ),
            counter_line(card),
            _(
                "You'll get your stamps and the odd offer here — turn offers off any time in "
                "Settings."
            ),
        ]
    )


def card_caption(card: CardView, *, greeting: str | None = None) -> str:
    lines = []
    if greeting:
        lines += [greeting, ""]
    lines.append(f"{bold(card.card_name)} · {user_text(card.brand.merchant_name)}")
    lines.append(stamps_line(card))
    if card.vouchers:
        lines += ["", _("Ready to use:")]
        lines += [f"• {voucher_line(voucher)}" for voucher in card.vouchers]
    lines += ["", counter_line(card)]
    return "\n".join(lines)


async def send_card(
    bot: Bot,
    file_cache: FileIdCache,
    chat_id: int,
    card: CardView,
    *,
    several_cards: bool,
    caption: str | None = None,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
) -> Message:
    from render.card import render_card  # here: Pillow and zxing-cpp only when a card is drawn

    me = await bot.me()
    image = card_image(card, me.username or "")
    # One button for both wallets: the card page knows the phone and shows its badge.
    wallet_url = None
    if wallets is not None and link_signer is not None:
        wallet_url = card_page_url(link_signer, card.membership_id, card.token)
    return await send_photo_cached(
        bot,
        file_cache,
        chat_id=chat_id,
        key=image.cache_key(),
        render=lambda: render_card(image),
        caption=caption or card_caption(card),
        reply_markup=keyboards.card_menu(card, several_cards=several_cards, wallet_url=wallet_url),
    )


async def offer_shortcuts(message: Message, state: FSMContext) -> None:
    """Put [🪪 My card] [🎟 Vouchers] under the message field, once: the keyboard stays in the
    chat, so a /start from Telegram's menu (most of what customers send) gets the card alone.
    Staff in admin mode keep their own keyboard there (a chat has one), so they are left
    alone; entering admin mode forgets the flag, so the keyboard comes back after."""
    data = await state.get_data()
    if data.get(ADMIN_KEY) is not None or data.get(SHORTCUTS_KEY):
        return
    await message.answer(
        _("Tap “🪪 My card” below whenever you want to see your card again."),
        reply_markup=keyboards.customer_keyboard(),
    )
    await state.update_data({SHORTCUTS_KEY: True})


def pass_file_name(card_name: str) -> str:
    name = _UNSAFE_FILE_NAME.sub(" ", card_name).strip(" .")[:60] or "card"
    return f"{name}.pkpass"


async def send_card_list(message: Message, cards: list[CardView]) -> None:
    await message.answer(_("Your cards:"), reply_markup=keyboards.card_list(cards))


def no_cards_text() -> str:
    return _(
        "You don't have a stamp card yet. Scan the QR code at a shop's counter to join its card."
    )


async def show_my_cards(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None,
    link_signer: LinkSigner | None,
    cards: list[CardView] | None = None,
) -> None:
    """/card and the [🪪 My card] button: the one card, or the list of them (``cards`` when
    the caller has read them already)."""
    if cards is None:
        cards = await customer_cards(customer.id) if customer else []
    if not cards:
        await message.answer(no_cards_text())
    elif len(cards) == 1:
        await send_card(
            bot,
            file_cache,
            message.chat.id,
            cards[0],
            several_cards=False,
            wallets=wallets,
            link_signer=link_signer,
        )
    else:
        await send_card_list(message, cards)


class Shortcut(Filter):
    """The text of one persistent button, in any language, typed in customer mode or in a
    settings question: a staff conversation (the wizard, a till question) keeps its text."""

    def __init__(self, which: str) -> None:
        self.which = which

    async def __call__(self, message: Message, i18n: I18n, raw_state: str | None = None) -> bool:
        if raw_state is not None and not raw_state.startswith("SettingsForm:"):
            return False
        return keyboards.shortcut_labels(i18n).get(message.text or "") == self.which


@router.message(Command("card"))
@shortcuts.message(Shortcut("card"))
async def card_command(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
) -> None:
    await show_my_cards(message, bot, customer, file_cache, wallets, link_signer)


@router.callback_query(CardAction.filter(F.op == CardOp.SHOW))
async def show_card(
    query: CallbackQuery,
    callback_data: CardAction,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
) -> None:
    if customer is None or query.message is None:
        await query.answer(button_expired())
        return
    # One read for the card and whether it is one of several: their cards are the active ones,
    # so a card left since (or another person's) is not among them.
    cards = await customer_cards(customer.id)
    card = next((c for c in cards if c.membership_id == callback_data.membership_id), None)
    if card is None:
        # A card left since (or not theirs): the toast, then their cards as they are now.
        await expired(
            query,
            lambda message: show_my_cards(
                message, bot, customer, file_cache, wallets, link_signer, cards
            ),
        )
        return
    several = len(cards) > 1
    await query.answer()
    await send_card(
        bot,
        file_cache,
        query.message.chat.id,
        card,
        several_cards=several,
        wallets=wallets,
        link_signer=link_signer,
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
    """The old "Add to Apple Wallet" button of cards sent before the card page took over:
    still sends the signed pass as a file, and a private link to it."""
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
