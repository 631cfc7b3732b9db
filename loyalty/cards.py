"""An owner's stamp cards: creating more, changing every setting, pausing, resuming, retiring.

Every value is checked here, before anything is written, with a refusal that names the setting
and its bounds (:class:`CardValueRefused`), so the chat can say exactly what is allowed. Every
change is audited in the same transaction as the change itself, with the old and new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.errors import CardNotFound, InvalidCardSettings
from loyalty.merchants import MAX_STAMPS_NEEDED, MAX_VALIDITY_DAYS, CardSpec, create_card
from loyalty.staff import Permission, allows
from models import Card, Merchant, Staff
from models.enums import CardState

MAX_NAME = 120
MAX_REWARD = 200
# A day: a longer pause between two stamps is not a double-scan guard any more.
MAX_COOLDOWN_MINUTES = 24 * 60
MAX_STAMPS_PER_VISIT = 10
# What a raw typed answer may be before it is even looked at.
MAX_ANSWER = 400


class CardField(StrEnum):
    """The settings of a card an owner can change, in the order they are asked for."""

    NAME = "name"
    STAMPS_NEEDED = "stamps"
    REWARD = "reward"
    VALIDITY_DAYS = "validity"
    COOLDOWN_MINUTES = "cooldown"
    STAMPS_PER_VISIT = "per_visit"


TEXT_FIELDS = frozenset({CardField.NAME, CardField.REWARD})
# (smallest, largest) of each number; for texts, their length.
BOUNDS: dict[CardField, tuple[int, int]] = {
    CardField.NAME: (1, MAX_NAME),
    CardField.STAMPS_NEEDED: (1, MAX_STAMPS_NEEDED),
    CardField.REWARD: (1, MAX_REWARD),
    CardField.VALIDITY_DAYS: (1, MAX_VALIDITY_DAYS),
    CardField.COOLDOWN_MINUTES: (0, MAX_COOLDOWN_MINUTES),
    CardField.STAMPS_PER_VISIT: (1, MAX_STAMPS_PER_VISIT),
}
# The column behind each field (the cooldown is stored in seconds, asked in minutes).
_COLUMN = {
    CardField.NAME: "name",
    CardField.STAMPS_NEEDED: "stamps_needed",
    CardField.REWARD: "reward_text",
    CardField.VALIDITY_DAYS: "voucher_validity_days",
    CardField.COOLDOWN_MINUTES: "stamp_cooldown_seconds",
    CardField.STAMPS_PER_VISIT: "max_stamps_per_call",
}
# Numbers a new card gets when the owner skips the question.
DEFAULTS: dict[CardField, int] = {
    CardField.STAMPS_NEEDED: 10,
    CardField.VALIDITY_DAYS: 30,
    CardField.COOLDOWN_MINUTES: 5,
    CardField.STAMPS_PER_VISIT: 3,
}

Value = str | int


class CardValueRefused(InvalidCardSettings):
    """A typed value outside what the setting allows; ``kind`` is "number" (not a whole
    number), "range" (a number out of bounds) or "length" (a text empty or too long)."""

    code = "card_value_refused"

    def __init__(self, field: CardField, kind: str) -> None:
        low, high = BOUNDS[field]
        super().__init__(f"{field.value}: {kind}, allowed {low}..{high}")
        self.field = field
        self.kind = kind
        self.minimum = low
        self.maximum = high


class CardRetired(InvalidCardSettings):
    """A retired card is final: it takes no more changes."""

    code = "card_retired"

    def __init__(self) -> None:
        super().__init__("This card is retired; it cannot be changed any more.")


def parse_value(field: CardField, text: str) -> Value:
    """The value an owner typed for ``field``, checked; CardValueRefused otherwise."""
    low, high = BOUNDS[field]
    cleaned = " ".join(text.split()) if field in TEXT_FIELDS else text.strip()
    if field in TEXT_FIELDS:
        if not low <= len(cleaned) <= high or len(text) > MAX_ANSWER:
            raise CardValueRefused(field, "length")
        return cleaned
    if not (cleaned.isascii() and cleaned.isdecimal()) or len(cleaned) > 6:
        raise CardValueRefused(field, "number" if len(cleaned) <= 6 else "range")
    number = int(cleaned)
    if not low <= number <= high:
        raise CardValueRefused(field, "range")
    return number


def check_value(field: CardField, value: Value) -> Value:
    """A value from a draft (FSM storage) checked again before it is written."""
    if field in TEXT_FIELDS:
        if not isinstance(value, str):
            raise CardValueRefused(field, "length")
        return parse_value(field, value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CardValueRefused(field, "number")
    return parse_value(field, str(value))


def current_values(card: Card) -> dict[CardField, Value]:
    """Every setting of a card as the owner sees and types it."""
    return {
        CardField.NAME: card.name,
        CardField.STAMPS_NEEDED: card.stamps_needed,
        CardField.REWARD: card.reward_text,
        CardField.VALIDITY_DAYS: card.voucher_validity_days,
        CardField.COOLDOWN_MINUTES: card.stamp_cooldown_seconds // 60,
        CardField.STAMPS_PER_VISIT: card.max_stamps_per_call,
    }


def _stored(field: CardField, value: Value) -> Value:
    if field is CardField.COOLDOWN_MINUTES:
        return int(value) * 60
    return value


def _require(seat: Staff) -> None:
    if not allows(seat, Permission.CARDS):
        raise CardNotFound()


async def shop_cards(merchant_id: int) -> list[Card]:
    """The shop's cards, active ones first, retired ones last."""
    cards = await Card.filter(merchant_id=merchant_id).order_by("id")
    order = {CardState.ACTIVE: 0, CardState.PAUSED: 1, CardState.RETIRED: 2}
    return sorted(cards, key=lambda c: order[CardState(c.state)])


async def shop_card(merchant_id: int, card_id: int) -> Card:
    """One card of this shop; another shop's card is unknown (CardNotFound)."""
    card = await Card.get_or_none(id=card_id, merchant_id=merchant_id)
    if card is None:
        raise CardNotFound()
    return card


async def create_shop_card(seat: Staff, values: dict[CardField, Value]) -> Card:
    """A new card for the seat's shop; every value is checked again; ``card.create`` audited."""
    _require(seat)
    checked = {field: check_value(field, values[field]) for field in CardField}
    spec = CardSpec(
        name=str(checked[CardField.NAME]),
        stamps_needed=int(checked[CardField.STAMPS_NEEDED]),
        reward_text=str(checked[CardField.REWARD]),
        voucher_validity_days=int(checked[CardField.VALIDITY_DAYS]),
        max_stamps_per_call=int(checked[CardField.STAMPS_PER_VISIT]),
        stamp_cooldown_seconds=int(checked[CardField.COOLDOWN_MINUTES]) * 60,
    )
    async with in_transaction():
        merchant = await Merchant.get(id=seat.merchant_id)
        card = await create_card(merchant, spec)
        await audit.record(
            seat.merchant_id,
            "card.create",
            by=seat,
            card_id=card.id,
            new={field.value: value for field, value in checked.items()},
        )
    return card


@dataclass(frozen=True, slots=True)
class CardEdit:
    card: Card
    field: CardField
    old: Value
    new: Value

    @property
    def changed(self) -> bool:
        return self.old != self.new


async def edit_card(seat: Staff, card_id: int, field: CardField, value: Value) -> CardEdit:
    """Change one setting of one of the seat's cards (``card.edit``, old and new value)."""
    _require(seat)
    new = check_value(field, value)
    async with in_transaction():
        card = await Card.select_for_update().get_or_none(id=card_id, merchant_id=seat.merchant_id)
        if card is None:
            raise CardNotFound()
        if card.state == CardState.RETIRED:
            raise CardRetired()
        old = current_values(card)[field]
        if old != new:
            setattr(card, _COLUMN[field], _stored(field, new))
            await card.save(update_fields=[_COLUMN[field]])
            await audit.record(
                seat.merchant_id,
                "card.edit",
                by=seat,
                card_id=card.id,
                field=field.value,
                old=old,
                new=new,
            )
    return CardEdit(card=card, field=field, old=old, new=new)


async def set_card_cooldown(seat: Staff, card_id: int, minutes: int) -> CardEdit:
    """The double-scan cooldown of a card, in minutes (0 switches it off)."""
    return await edit_card(seat, card_id, CardField.COOLDOWN_MINUTES, minutes)


# How long after a stamp staff may take it back, the choices an owner steps through (minutes).
UNDO_WINDOW_CHOICES = (2, 5, 10, 30, 60)


def next_undo_window(seconds: int) -> int:
    """The choice after a card's window, in seconds; after the longest comes the shortest."""
    choices = [minutes * 60 for minutes in UNDO_WINDOW_CHOICES]
    return next((c for c in choices if c > seconds), choices[0])


async def set_undo_window(seat: Staff, card_id: int, seconds: int) -> Card:
    """How long a stamp of this card can be taken back at the till (``card.edit``, audited)."""
    _require(seat)
    if seconds not in {minutes * 60 for minutes in UNDO_WINDOW_CHOICES}:
        raise InvalidCardSettings(f"undo window of {seconds} s is not one of the choices")
    return await set_card_column(seat, card_id, "undo_window_seconds", seconds)


async def set_card_column(
    seat: Staff, card_id: int, column: str, value: int | bool, *, retired_too: bool = False
) -> Card:
    """One stored setting of one of the seat's cards, under a row lock, audited as
    ``card.edit`` with the old and new value when it changed. Callers check the role and the
    value; a retired card takes no change unless ``retired_too``."""
    async with in_transaction():
        card = await Card.select_for_update().get_or_none(id=card_id, merchant_id=seat.merchant_id)
        if card is None:
            raise CardNotFound()
        if card.state == CardState.RETIRED and not retired_too:
            raise CardRetired()
        old = getattr(card, column)
        if old != value:
            setattr(card, column, value)
            await card.save(update_fields=[column])
            await audit.record(
                seat.merchant_id,
                "card.edit",
                by=seat,
                card_id=card.id,
                field=column,
                old=old,
                new=value,
            )
    return card


class CardMove(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    RETIRE = "retire"


_TARGET = {
    CardMove.PAUSE: CardState.PAUSED,
    CardMove.RESUME: CardState.ACTIVE,
    CardMove.RETIRE: CardState.RETIRED,
}
_ALLOWED_FROM = {
    CardMove.PAUSE: {CardState.ACTIVE},
    CardMove.RESUME: {CardState.PAUSED},
    CardMove.RETIRE: {CardState.ACTIVE, CardState.PAUSED},
}


class CardMoveRefused(InvalidCardSettings):
    """The card is not in a state this move starts from (resuming an active card, anything
    after retiring)."""

    code = "card_move_refused"

    def __init__(self, state: CardState, move: CardMove) -> None:
        super().__init__(f"A {state.value} card cannot {move.value}.")
        self.state = state
        self.move = move


async def other_active_cards(merchant_id: int, card_id: int) -> int:
    """How many of the shop's other cards take members: pausing the last one leaves none."""
    return (
        await Card.filter(merchant_id=merchant_id, state=CardState.ACTIVE)
        .exclude(id=card_id)
        .count()
    )


async def move_card(seat: Staff, card_id: int, move: CardMove) -> Card:
    """Pause, resume or retire a card; members keep their cards and vouchers either way.

    ``Card.active`` follows the state (what joins and stamps check); ``card.<move>`` audited.
    """
    _require(seat)
    async with in_transaction():
        card = await Card.select_for_update().get_or_none(id=card_id, merchant_id=seat.merchant_id)
        if card is None:
            raise CardNotFound()
        old = CardState(card.state)
        if old not in _ALLOWED_FROM[move]:
            raise CardMoveRefused(old, move)
        card.state = _TARGET[move]
        card.active = card.state == CardState.ACTIVE
        await card.save(update_fields=["state", "active"])
        await audit.record(
            seat.merchant_id,
            f"card.{move.value}",
            by=seat,
            card_id=card.id,
            old=old.value,
            new=card.state.value,
        )
    return card
