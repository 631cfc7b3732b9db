"""Refer a friend: a member's own invite link, and the friend who joins through it.

The link is ``t.me/<bot>?start=r-<token>`` (the shop's own bot while it has one connected, see
``loyalty.messenger_accounts.own_bot_username``), the token 128 random bits on the member's
row, made the first time they share it. It joins the friend to the same card like the counter
QR does, and records who brought them — only when that is true and new: the member opening
their own link, or someone who is (or was) on any of the shop's cards, joins or sees the card
as usual and no referral is recorded, so no reward can be earned for oneself or for a regular.

The rewards themselves are an automation's business (``automations.triggers`` reads the
referral rows), so an owner chooses them like any other chain.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from loyalty.errors import CardNotFound, MembershipNotFound
from loyalty.memberships import JoinResult, join
from loyalty.tokens import new_token
from models import Automation, Customer, Membership, Referral
from models.enums import MembershipStatus

# The triggers an invite link is for: without a switched-on automation on one of them the
# card offers no link (a friend would join, and nobody would get what was promised).
REFERRAL_TRIGGERS = ("friend_joined", "friend_visited")


class Outcome(StrEnum):
    REFERRED = "referred"
    OWN_LINK = "own_link"
    RETURNING = "returning"


@dataclass(frozen=True, slots=True)
class ReferralJoin:
    joined: JoinResult
    outcome: Outcome
    # The member whose link it was (their first name, for the welcome), when referred.
    referrer_name: str | None = None
    # Whether the shop rewards the friend's first stamp (what the welcome may promise).
    gift_on_first_stamp: bool = False


@dataclass(frozen=True, slots=True)
class Invite:
    """What the card's 🤝 button shows: the member's link token and what it earns."""

    token: str
    card_name: str
    shop_name: str
    # Whose link it is: the shop's own bot, while connected, is the one it opens.
    merchant_id: int
    # A friend's first stamp earns both the gifts (else only joining is rewarded).
    rewards_first_stamp: bool


async def member_invite(membership_id: int, customer_id: int) -> Invite | None:
    """The member's invite, made on first need; ``MembershipNotFound`` for another customer's
    card or one left, None when the shop rewards no invitations now (nothing is made)."""
    membership = await Membership.get_or_none(
        id=membership_id, customer_id=customer_id, status=MembershipStatus.ACTIVE
    ).select_related("card__merchant")
    if membership is None:
        raise MembershipNotFound()
    card = membership.card
    if not await _rewarding(card.merchant_id, card.id, REFERRAL_TRIGGERS):
        return None
    return Invite(
        token=await invite_token(membership),
        card_name=card.name,
        shop_name=card.merchant.name,
        merchant_id=card.merchant_id,
        rewards_first_stamp=await rewards_first_stamp(card.merchant_id, card.id),
    )


async def invite_token(membership: Membership) -> str:
    """The member's invite token, made on first need; two taps at once agree on one."""
    while membership.referral_token is None:
        try:
            await Membership.filter(id=membership.id, referral_token__isnull=True).update(
                referral_token=new_token()
            )
        except IntegrityError:
            continue  # 2^-128: another member drew the same token
        await membership.refresh_from_db(fields=["referral_token"])
    return membership.referral_token


async def invites_open(membership: Membership) -> bool:
    """Whether the shop rewards friends on this card now, so the card may offer its link."""
    card = await membership.card
    return await _rewarding(card.merchant_id, card.id, REFERRAL_TRIGGERS)


async def rewards_first_stamp(merchant_id: int, card_id: int) -> bool:
    """Whether a friend's first stamp on this card earns the gifts (not only the joining)."""
    return await _rewarding(merchant_id, card_id, ("friend_visited",))


async def _rewarding(merchant_id: int, card_id: int, triggers: tuple[str, ...]) -> bool:
    return await Automation.filter(
        Q(card_id=card_id) | Q(card_id__isnull=True),
        merchant_id=merchant_id,
        enabled=True,
        trigger__in=triggers,
    ).exists()


async def referrer_by_token(token: str) -> Membership:
    """The active membership whose invite link this is (its card loaded)."""
    referrer = await Membership.get_or_none(
        referral_token=token, status=MembershipStatus.ACTIVE
    ).select_related("card", "customer")
    if referrer is None:
        raise CardNotFound()
    return referrer


async def join_by_invite(
    friend: Customer, referrer: Membership, *, now: datetime | None = None
) -> ReferralJoin:
    """Join ``friend`` to the referrer's card, recording the referral when it is one."""
    card = referrer.card
    if friend.id == referrer.customer_id:
        return ReferralJoin(await join(friend, card, now=now), Outcome.OWN_LINK)
    known = await Membership.filter(
        customer_id=friend.id, card__merchant_id=card.merchant_id
    ).exists()
    joined = await join(friend, card, now=now)
    if known or not joined.created:
        return ReferralJoin(joined, Outcome.RETURNING)
    # A double tap on the link: the first request recorded it.
    with contextlib.suppress(IntegrityError):
        await Referral.create(card_id=card.id, referrer_id=referrer.id, friend=joined.membership)
    gift = await rewards_first_stamp(card.merchant_id, card.id)
    name = referrer.customer.first_name
    return ReferralJoin(joined, Outcome.REFERRED, referrer_name=name, gift_on_first_stamp=gift)
