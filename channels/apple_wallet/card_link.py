"""The link to a customer's card web page, ``/c/<token>``, printed on the back of the pass.

The token is the link signer's HMAC over the membership id, scoped to the card page and bound
to the membership's current public token: it cannot be guessed, it never works as any other
kind of link (nor theirs as this one), and erasing the customer (which rotates the public token)
kills it without a table of its own.
"""

from __future__ import annotations

from loyalty.links import LinkSigner, Purpose
from models import Membership
from models.enums import MembershipStatus

CARD_PAGE_PATH = "/c/"
# Its own purpose keeps it apart from message links; ``extra`` ties it to the public token.
_SCOPE = "card-page:"
_PURPOSE = Purpose.CARD_PAGE


def card_page_token(signer: LinkSigner, membership_id: int, public_token: str) -> str:
    return signer.token(_PURPOSE, membership_id, _SCOPE + public_token)


def card_page_url(signer: LinkSigner, membership_id: int, public_token: str) -> str:
    token = card_page_token(signer, membership_id, public_token)
    return f"{signer.base_url}{CARD_PAGE_PATH}{token}"


async def membership_for_card_page(signer: LinkSigner, token: str) -> Membership | None:
    """The active membership a card-page token was made for, or None for anything else."""
    claimed = signer.peek(token)
    if claimed is None:
        return None
    # The card page needs the person's language and the shop's default: fetched in one go.
    membership = await Membership.get_or_none(
        id=claimed, status=MembershipStatus.ACTIVE
    ).select_related("customer", "card__merchant")
    if membership is None:
        return None
    if signer.verify(_PURPOSE, token, _SCOPE + membership.public_token) != membership.id:
        return None
    return membership
