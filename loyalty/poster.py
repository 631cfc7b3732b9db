"""What the counter poster prints, read for one shop, and the record that it was printed.

A paused card may still get its poster (a shop prints ahead of a relaunch; the join link then
says the card is paused); a retired card's link only says the card has ended, so it has none.
Another shop's card id is simply unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.audit import record
from loyalty.errors import CardNotFound
from loyalty.views import Brand
from models import Card, Merchant, Staff
from models.enums import CardState


@dataclass(frozen=True, slots=True)
class PosterCard:
    id: int
    name: str
    reward_text: str
    stamps_needed: int
    join_token: str
    paused: bool


@dataclass(frozen=True, slots=True)
class PosterShop:
    merchant_id: int
    language: str
    brand: Brand
    cards: tuple[PosterCard, ...]
    """Active and paused cards, oldest first."""

    def card(self, card_id: int) -> PosterCard:
        found = next((card for card in self.cards if card.id == card_id), None)
        if found is None:
            raise CardNotFound()
        return found


async def poster_shop(merchant_id: int) -> PosterShop:
    merchant = await Merchant.get(id=merchant_id)
    cards = (
        await Card.filter(merchant_id=merchant_id).exclude(state=CardState.RETIRED).order_by("id")
    )
    return PosterShop(
        merchant_id=merchant.id,
        language=merchant.default_language,
        brand=Brand.of(merchant),
        cards=tuple(
            PosterCard(
                id=card.id,
                name=card.name,
                reward_text=card.reward_text,
                stamps_needed=card.stamps_needed,
                join_token=card.join_token,
                paused=card.state == CardState.PAUSED,
            )
            for card in cards
        ),
    )


async def record_print(seat: Staff, card: PosterCard, paper: str) -> None:
    """The audit line of a printed poster: who took which card's poster, at which size."""
    await record(seat.merchant_id, "poster.print", by=seat, card_id=card.id, paper=paper)
