"""``/start``: joining a card from its QR code or link, or seeing my cards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, User
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
from loyalty.referrals import Outcome, ReferralJoin, join_by_invite, referrer_by_token
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
    if kind not in (LinkKind.JOIN, LinkKind.REFERRAL):
        await message.answer(_("This link is meant for the shop's staff."))
        return
    user = message.from_user
    if user is None:
        return
    invited: ReferralJoin | None = None
    try:
        if kind == LinkKind.REFERRAL:
            referrer = await referrer_by_token(token)
            person = customer or await _customer(user)
            invited = await join_by_invite(person, referrer)
            joined = invited.joined
        else:
            card = await card_by_join_token(token)
            person = customer or await _customer(user)
            joined = await join(person, card)
    except LoyaltyError as refused:
        await message.answer(refusal(refused))
        return
    # All the person's cards at once: this one is among them, and their number is asked below.
    cards = await customer_cards(person.id)
    view = next((c for c in cards if c.membership_id == joined.membership.id), None)
    if view is None:
        view = await customer_card(joined.membership.id, person.id)
    if invited is not None and invited.outcome == Outcome.OWN_LINK:
        caption = card_caption(
            view, greeting=_("This is your own invite link — send it to a friend instead.")
        )
    elif joined.created or joined.rejoined:
        caption = welcome_caption(view)
        if invited is not None and invited.outcome == Outcome.REFERRED:
            caption = _invited_line(invited) + "\n\n" + caption
    else:
        caption = card_caption(
            view,
            greeting=_("You are already collecting stamps on <b>{card}</b>.").format(
                card=user_text(view.card_name)
            ),
        )
    several = len(cards) > 1
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


def _invited_line(invited: ReferralJoin) -> str:
    friend = user_text(invited.referrer_name or _("A friend"))
    if invited.gift_on_first_stamp:
        return _(
            "{friend} invited you — collect your first stamp and you both get a gift."
        ).format(friend=friend)
    return _("{friend} invited you.").format(friend=friend)


async def _customer(user: User) -> Customer:
    return await customer_for_identity(
        Platform.TELEGRAM,
        str(user.id),
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
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
