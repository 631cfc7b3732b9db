"""``/start``: joining a card from its QR code or link, or seeing my cards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.cards import no_cards_text, send_card, send_card_list
from handlers.media import FileIdCache
from handlers.texts import refusal, user_text
from loyalty.customers import customer_for_identity
from loyalty.errors import LoyaltyError
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
    wallets: Wallets | None = None,
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
    names = {"card": user_text(view.card_name), "shop": user_text(view.brand.merchant_name)}
    if joined.created or joined.rejoined:
        greeting = _("Welcome to <b>{card}</b> at {shop}! 🎉").format(**names)
    else:
        greeting = _("You are already collecting stamps on <b>{card}</b>.").format(**names)
    several = len(await customer_cards(person.id)) > 1
    # Joining offers the wallets right on the card: "Add to Apple Wallet", "Save to Google".
    await send_card(
        bot,
        file_cache,
        message.chat.id,
        view,
        several_cards=several,
        greeting=greeting,
        wallets=wallets,
    )


@router.message(CommandStart())
async def start_plain(
    message: Message,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
    wallets: Wallets | None = None,
) -> None:
    cards = await customer_cards(customer.id) if customer else []
    if not cards:
        await message.answer(
            _("Hi! I keep your stamp cards from your favourite shops.") + "\n\n" + no_cards_text()
        )
    elif len(cards) == 1:
        await send_card(
            bot, file_cache, message.chat.id, cards[0], several_cards=False, wallets=wallets
        )
    else:
        await send_card_list(message, cards)
