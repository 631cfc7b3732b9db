"""``/start``: joining a card from its QR code or link, or seeing my cards.

On a shop's own bot (``messenger_account``, set by its webhook or its polling) only that
shop's cards are joined; another shop's link is answered with that shop's own link
(``conversation.joining``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, User
from aiogram.utils.i18n import gettext as _

from conversation.joining import join_by_link
from conversation.links import MessengerLinks
from handlers.cards import no_cards_text, offer_shortcuts, send_card, show_my_cards
from handlers.media import FileIdCache
from loyalty.customers import customer_for_identity
from loyalty.links import LinkSigner
from loyalty.views import customer_cards
from models.enums import Platform
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer, MessengerAccount

router = Router(name="start")


@router.message(CommandStart(deep_link=True))
async def start_with_link(
    message: Message,
    command: CommandObject,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    state: FSMContext,
    messenger_links: MessengerLinks,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
    messenger_account: MessengerAccount | None = None,
) -> None:
    payload = command.args or ""
    user = message.from_user
    if user is None:
        return
    joined = await join_by_link(
        payload,
        customer,
        lambda: _customer(user),
        through_shop=messenger_account.merchant_id if messenger_account is not None else None,
        shared_bot=messenger_links.telegram_username,
    )
    if joined.card is None:
        await message.answer(joined.refusal)
        return
    await send_card(
        bot,
        file_cache,
        message.chat.id,
        joined.card,
        several_cards=joined.several_cards,
        caption=joined.caption,
        wallets=wallets,
        link_signer=link_signer,
    )
    await offer_shortcuts(message, state)


async def _customer(user: User) -> Customer:
    """Made on first contact, which is when it is asked for: the customer middleware looked
    this person up for this update and found no one."""
    return await customer_for_identity(
        Platform.TELEGRAM,
        str(user.id),
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        absent=True,
    )


@router.message(CommandStart())
async def start_plain(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    state: FSMContext,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
) -> None:
    cards = await customer_cards(customer.id) if customer is not None else []
    if not cards:
        await message.answer(
            _("Hi! I keep your stamp cards from your favourite shops.") + "\n\n" + no_cards_text()
        )
        return
    await show_my_cards(message, bot, customer, file_cache, wallets, link_signer, cards)
    # Members from before the keyboard existed get it here (Telegram's menu sends /start).
    await offer_shortcuts(message, state)
