"""The append-only stamp ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import LedgerKind

if TYPE_CHECKING:
    from models.customer import Membership
    from models.merchant import Card, Staff
    from models.voucher import Voucher


class StampEvent(Model):
    """One movement of a stamp balance. Rows are never updated or deleted."""

    id = fields.IntField(primary_key=True)
    membership: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="events", on_delete=fields.CASCADE
    )
    membership_id: int
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name=False, on_delete=fields.CASCADE
    )
    card_id: int
    kind = fields.CharEnumField(
        LedgerKind, description="one of models.enums.LedgerKind", max_length=8
    )
    delta = fields.IntField()
    balance_after = fields.IntField()
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    staff_id: int | None
    voucher: fields.ForeignKeyNullableRelation[Voucher] = fields.ForeignKeyField(
        "models.Voucher", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    voucher_id: int | None
    reason = fields.CharField(max_length=200, default="")
    # A receipt amount in minor units of the shop's currency, when the card asks for it.
    amount_minor: int | None = fields.IntField(null=True)
    # For an UNDO row: the stamp row it takes back (unique: a stamp is undone at most once).
    reverses: fields.ForeignKeyNullableRelation[StampEvent] = fields.ForeignKeyField(
        "models.StampEvent",
        related_name=False,
        null=True,
        unique=True,
        on_delete=fields.SET_NULL,
    )
    reverses_id: int | None
    idempotency_key = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "stamp_event"
        unique_together = (("membership", "idempotency_key"),)
        indexes = (("card", "created_at"),)
