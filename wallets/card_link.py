"""The link to a customer's card web page, ``/c/<token>``, printed on the back of the pass.

The token is the membership id with two of the link signer's HMAC tags, both scoped to the card
page: one over the id alone, checked before the database is asked anything, so a made-up id
costs no query and the answer's timing cannot tell which ids exist; and one bound to the
membership's current public token, so erasing the customer (which rotates the public token)
kills the link without a table of its own. It never works as any other kind of link, nor
theirs as this one.
"""

from __future__ import annotations

from loyalty.links import LinkSigner, Purpose
from models import Membership
from models.enums import MembershipStatus

CARD_PAGE_PATH = "/c/"
# Its own purpose keeps it apart from message links; ``extra`` separates the two tags and ties
# the second one to the public token.
_ID_SCOPE = "card-page-id:"
_SCOPE = "card-page:"
_PURPOSE = Purpose.CARD_PAGE


def card_page_token(signer: LinkSigner, membership_id: int, public_token: str) -> str:
    """``<id>.<tag over the id>.<tag over id and public token>``."""
    signed_id = signer.token(_PURPOSE, membership_id, _ID_SCOPE)
    bound = signer.token(_PURPOSE, membership_id, _SCOPE + public_token)
    return f"{signed_id}.{bound.partition('.')[2]}"


def card_page_url(signer: LinkSigner, membership_id: int, public_token: str) -> str:
    token = card_page_token(signer, membership_id, public_token)
    return f"{signer.base_url}{CARD_PAGE_PATH}{token}"


async def membership_for_card_page(signer: LinkSigner, token: str) -> Membership | None:
    """The active membership a card-page token was made for, or None for anything else."""
    signed_id, _, bound_tag = token.rpartition(".")
    claimed = signer.verify(_PURPOSE, signed_id, _ID_SCOPE)
    if claimed is None:
        return None
    # The card page needs the person's language and the shop's default: fetched in one go.
    membership = await Membership.get_or_none(
        id=claimed, status=MembershipStatus.ACTIVE
    ).select_related("customer", "card__merchant")
    if membership is None:
        return None
    bound = f"{signed_id.partition('.')[0]}.{bound_tag}"
    if signer.verify(_PURPOSE, bound, _SCOPE + membership.public_token) != membership.id:
        return None
    return membership
