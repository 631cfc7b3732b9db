"""Joining a card by its link, once for every messenger.

A join link carries a payload (``j-<token>`` for a card, ``r-<token>`` for a friend's invite):
Telegram's ``/start <payload>``, Viber's ``context`` of ``viber://pa?chatURI=…``, WhatsApp's
prefilled text of ``wa.me/<number>?text=…``. What happens next is the same on each: the person
is created on first contact, joins (or is told they already collect there, or that the link
is their own invite), and sees the card with the greeting that fits. Only how the card is sent
differs, so this returns what to show and each platform sends it.

A shop's own bot joins its own shop's cards only (``through_shop``): a link of another shop's
card, followed there, would make the person that shop's customer in a chat named after this
one. They are told whose card it is, with the link that opens that shop's chat (its own bot
while connected, else the shared one), and nothing is made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from handlers.cards import card_caption, welcome_caption
from handlers.texts import refusal, user_text
from loyalty.errors import LoyaltyError
from loyalty.memberships import card_by_join_token, join
from loyalty.merchants import merchant_name
from loyalty.messenger_accounts import own_bot_username
from loyalty.referrals import Outcome, ReferralJoin, join_by_invite, referrer_by_token
from loyalty.tokens import LinkKind, parse_payload, start_link
from loyalty.views import CardView, customer_card, customer_cards

if TYPE_CHECKING:
    from models import Card, Customer

__all__ = ["Joined", "find_payload", "join_by_link", "unknown_link_text"]

logger = logging.getLogger(__name__)

# A payload inside a typed text (WhatsApp's prefilled "… j-<token>"): the kind, a dash, the
# token; what parse_payload accepts, found anywhere between word boundaries.
_PAYLOAD_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_-])([a-z])-([A-Za-z0-9_-]{16,62})(?![A-Za-z0-9_-])")


@dataclass(frozen=True, slots=True)
class Joined:
    """What the person sees after following a link: a card (with its caption) or a refusal."""

    customer: Customer | None
    card: CardView | None = None
    caption: str = ""
    several_cards: bool = False
    refusal: str = ""


def unknown_link_text() -> str:
    return _(
        "I don't recognise this link. Scan the QR code at the shop's counter, "
        "or ask the staff for a new one."
    )


def find_payload(text: str) -> str | None:
    """The first join or invite payload written in ``text``, if any."""
    for match in _PAYLOAD_IN_TEXT.finditer(text or ""):
        candidate = f"{match.group(1)}-{match.group(2)}"
        parsed = parse_payload(candidate)
        if parsed is not None and parsed[0] in (LinkKind.JOIN, LinkKind.REFERRAL):
            return candidate
    return None


async def join_by_link(
    payload: str,
    customer: Customer | None,
    person: Callable[[], Awaitable[Customer]],
    *,
    through_shop: int | None = None,
    shared_bot: str = "",
) -> Joined:
    """Follow ``payload`` for ``customer`` (``person()`` makes them on first contact).

    A link that is not ours, or a staff link, is refused before anyone is created; so is a
    paused or ended card (the loyalty room's refusal, in the person's language), and on the
    own bot of shop ``through_shop`` a card of another shop (see the module's docstring;
    ``shared_bot`` is the shared Telegram bot's username, where that shop's link may go)."""
    parsed = parse_payload(payload)
    if parsed is None:
        logger.info("unrecognised join payload of %d characters", len(payload))
        return Joined(customer, refusal=unknown_link_text())
    kind, token = parsed
    if kind not in (LinkKind.JOIN, LinkKind.REFERRAL):
        return Joined(customer, refusal=_("This link is meant for the shop's staff."))
    invited: ReferralJoin | None = None
    try:
        if kind == LinkKind.REFERRAL:
            referrer = await referrer_by_token(token)
            if through_shop is not None and referrer.card.merchant_id != through_shop:
                return Joined(
                    customer, refusal=await _elsewhere(referrer.card, kind, token, shared_bot)
                )
            customer = customer or await person()
            invited = await join_by_invite(customer, referrer)
            joined = invited.joined
        else:
            card = await card_by_join_token(token)
            if through_shop is not None and card.merchant_id != through_shop:
                return Joined(customer, refusal=await _elsewhere(card, kind, token, shared_bot))
            customer = customer or await person()
            joined = await join(customer, card)
    except LoyaltyError as refused:
        return Joined(customer, refusal=refusal(refused))
    # All the person's cards at once: this one is among them, and their number is shown.
    cards = await customer_cards(customer.id)
    view = next((c for c in cards if c.membership_id == joined.membership.id), None)
    if view is None:
        view = await customer_card(joined.membership.id, customer.id)
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
    return Joined(customer, card=view, caption=caption, several_cards=len(cards) > 1)


async def _elsewhere(card: Card, kind: LinkKind, token: str, shared_bot: str) -> str:
    """Whose card this is, and the same link opening that shop's chat."""
    username = await own_bot_username(card.merchant_id) or shared_bot
    lines = [
        _(
            "This link is for <b>{card}</b> at {shop}, another shop. Join it in that shop's chat:"
        ).format(card=user_text(card.name), shop=user_text(await merchant_name(card.merchant_id)))
    ]
    if username:
        lines.append(start_link(username, kind, token))
    return "\n".join(lines)


def _invited_line(invited: ReferralJoin) -> str:
    friend = user_text(invited.referrer_name or _("A friend"))
    if invited.gift_on_first_stamp:
        return _(
            "{friend} invited you — collect your first stamp and you both get a gift."
        ).format(friend=friend)
    return _("{friend} invited you.").format(friend=friend)
