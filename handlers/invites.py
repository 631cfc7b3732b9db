"""🤝 Invite a friend: the member's personal link, with Telegram's share sheet one tap away."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiogram import Bot, F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import CardAction, CardOp
from handlers.texts import button_expired, user_text
from loyalty.referrals import invite_token, invites_open, rewards_first_stamp
from loyalty.tokens import LinkKind, start_link
from models import Membership
from models.enums import MembershipStatus

if TYPE_CHECKING:
    from models import Customer

router = Router(name="invites")
logger = logging.getLogger(__name__)
# https://core.telegram.org/widgets/share: opens the chat picker with the link and text filled in.
SHARE_URL = "https://t.me/share/url"


def share_url(link: str, text: str) -> str:
    return f"{SHARE_URL}?{urlencode({'url': link, 'text': text})}"


@router.callback_query(CardAction.filter(F.op == CardOp.INVITE))
async def invite_pressed(
    query: CallbackQuery, callback_data: CardAction, bot: Bot, customer: Customer | None
) -> None:
    membership = (
        await Membership.get_or_none(
            id=callback_data.membership_id,
            customer_id=customer.id,
            status=MembershipStatus.ACTIVE,
        ).select_related("card__merchant")
        if customer is not None
        else None
    )
    if membership is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    if not await invites_open(membership):
        await query.answer(_("The shop is not rewarding invitations right now."), show_alert=True)
        return
    me = await bot.me()
    link = start_link(me.username or "", LinkKind.REFERRAL, await invite_token(membership))
    shop = membership.card.merchant.name
    pitch = _("Join me on the {card} card at {shop} — every visit earns a stamp.").format(
        card=membership.card.name, shop=shop
    )
    await query.answer()
    logger.info("membership %s opened its invite link", membership.id)
    if await rewards_first_stamp(membership.card.merchant_id, membership.card_id):
        how = _(
            "Send this link to a friend. It is yours alone: when a friend joins through it "
            "and collects their first stamp, you both get the shop's gift."
        )
    else:
        how = _("Send this link to a friend. It is yours alone: the shop sees who you brought.")
    once = _("Gifts go to friends new to {shop}, once per friend.").format(shop=user_text(shop))
    await query.message.answer(
        "\n\n".join([how, user_text(link), once]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("📤 Share the link"), url=share_url(link, pitch))]
            ]
        ),
    )
