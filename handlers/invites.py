"""🤝 Invite a friend: the member's personal link, with Telegram's share sheet one tap away."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiogram import F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from aiogram.utils.i18n import gettext as _

from conversation.links import MessengerLinks
from handlers.callbacks import CardAction, CardOp
from handlers.texts import button_expired, user_text
from loyalty.errors import MembershipNotFound
from loyalty.messenger_accounts import own_bot_username
from loyalty.referrals import Invite, member_invite
from loyalty.tokens import LinkKind, start_link

if TYPE_CHECKING:
    from models import Customer

router = Router(name="invites")
logger = logging.getLogger(__name__)
# https://core.telegram.org/widgets/share: opens the chat picker with the link and text filled in.
SHARE_URL = "https://t.me/share/url"


def share_url(link: str, text: str) -> str:
    return f"{SHARE_URL}?{urlencode({'url': link, 'text': text})}"


def invite_text(invite: Invite, link: str) -> str:
    """How the member's own link works, the link, and who earns a gift (every messenger)."""
    if invite.rewards_first_stamp:
        how = _(
            "Send this link to a friend. It is yours alone: when a friend joins through it "
            "and collects their first stamp, you both get the shop's gift."
        )
    else:
        how = _("Send this link to a friend. It is yours alone: the shop sees who you brought.")
    once = _("Gifts go to friends new to {shop}, once per friend.").format(
        shop=user_text(invite.shop_name)
    )
    return "\n\n".join([how, user_text(link), once])


@router.callback_query(CardAction.filter(F.op == CardOp.INVITE))
async def invite_pressed(
    query: CallbackQuery,
    callback_data: CardAction,
    customer: Customer | None,
    messenger_links: MessengerLinks,
) -> None:
    if customer is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        invite = await member_invite(callback_data.membership_id, customer.id)
    except MembershipNotFound:
        await query.answer(button_expired())
        return
    if invite is None:
        await query.answer(_("The shop is not rewarding invitations right now."), show_alert=True)
        return
    # The shop's own bot while connected, else the shared one (also on another shop's bot).
    username = await own_bot_username(invite.merchant_id) or messenger_links.telegram_username
    link = start_link(username, LinkKind.REFERRAL, invite.token)
    pitch = _("Join me on the {card} card at {shop} — every visit earns a stamp.").format(
        card=invite.card_name, shop=invite.shop_name
    )
    await query.answer()
    logger.info("membership %s opened its invite link", callback_data.membership_id)
    await query.message.answer(
        invite_text(invite, link),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("📤 Share the link"), url=share_url(link, pitch))]
            ]
        ),
    )
