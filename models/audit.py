"""The shop's audit log: who changed what, and when. Owners read it in the chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.merchant import Merchant, Staff


class AuditEntry(Model):
    """One change made by staff (or the operator) to a shop. Rows are never updated.

    ``action`` is a stable dotted name (``card.edit``, ``staff.role``, ``stamp.undo`` …) that
    the chat translates; ``detail`` holds what changed (old and new values, ids, the reason).
    """

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="audit", on_delete=fields.CASCADE
    )
    merchant_id: int
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    staff_id: int | None
    # Who acted, kept even when the staff row is gone (or for the operator, who has none).
    actor_telegram_id: int | None = fields.BigIntField(null=True)
    action = fields.CharField(max_length=32)
    detail: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "audit_entry"
        indexes = (("merchant", "created_at"),)
