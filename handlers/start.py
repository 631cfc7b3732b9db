"""``/start``: joining a card from its QR code or link, or seeing my cards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.cards import (
    card_caption,
    no_cards_text,
    offer_shortcuts,
    send_card,
    show_my_cards,
    welcome_caption,
)
from handlers.media import FileIdCache
from handlers.texts import refusal, user_text
from loyalty.customers import customer_for_identity
from loyalty.errors import LoyaltyError
from loyalty.links import LinkSigner
from loyalty.memberships import card_by_join_token, join
from loyalty.tokens import LinkKind, parse_payload
from loyalty.views import customer_card, customer_cards
from models.enums import Platform
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer

logger = logging.getLogger(__name__)
router = Router(name="start")


@router.message(CommandStart(deep_link=True))
async def start_with_link(
    message: Message,
    command: CommandObject,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    state: FSMContext,
    wallets: Wallets | None = None,
    link_signer: LinkSigner | None = None,
) -> None:
    parsed = parse_payload(command.args or "")
    if parsed is None:
        logger.info("unrecognised start payload of %d characters", len(command.args or ""))
        await message.answer(
            _(
                "I don't recognise this link. Scan the QR code at the shop's counter, "
                "or ask the staff for a new one."
            )
        )
        return
    kind, token = parsed
    if kind != LinkKind.JOIN:
        await message.answer(_("This link is meant for the shop's staff."))
        return
    user = message.from_user
    if user is None:
        return
    try:
        card = await card_by_join_token(token)
        person = customer or await customer_for_identity(
            Platform.TELEGRAM,
            str(user.id),
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
        )
        joined = await join(person, card)
    except LoyaltyError as refused:
        await message.answer(refusal(refused))
        return
    view = await customer_card(joined.membership.id, person.id)
    if joined.created or joined.rejoined:
        caption = welcome_caption(view)
    else:
        caption = card_caption(
            view,
            greeting=_("You are already collecting stamps on <b>{card}</b>.").format(
                card=user_text(view.card_name)
            ),
        )
    several = len(await customer_cards(person.id)) > 1
    await send_card(
        bot,
        file_cache,
        message.chat.id,
        view,
        several_cards=several,
        caption=caption,
        wallets=wallets,
        link_signer=link_signer,
    )
    await offer_shortcuts(message, state)


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
    if customer is None or not await customer_cards(customer.id):
        await message.answer(
            _("Hi! I keep your stamp cards from your favourite shops.") + "\n\n" + no_cards_text()
        )
        return
    await show_my_cards(message, bot, customer, file_cache, wallets, link_signer)
    # Members from before the keyboard existed get it here (Telegram's menu sends /start).
    await offer_shortcuts(message, state)
