"""Automations, the people enrolled in them and the steps fired for each (see ``automations``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.enums import EnrollmentStatus, ResumeMode

if TYPE_CHECKING:
    from models.customer import Customer
    from models.merchant import Card, Merchant, Staff


class Automation(Model):
    """One trigger and a chain of steps (``automations.chain.Chain``, stored as its JSON)."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="automations", on_delete=fields.CASCADE
    )
    merchant_id: int
    card: fields.ForeignKeyNullableRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name="automations", null=True, on_delete=fields.CASCADE
    )
    card_id: int | None
    name = fields.CharField(max_length=120)
    # The recipe it was made from (None: a chain sent as YAML).
    recipe = fields.CharField(max_length=32, null=True)
    # The recipe's settings as the owner last chose them, so the chat can re-tune it later
    # (``automations.recipes.Tuning`` as JSON; None for a YAML chain).
    tuning: dict[str, Any] | None = fields.JSONField(null=True)
    chain: dict[str, Any] = fields.JSONField()
    # The chain's trigger kind, kept apart so the trigger scans find their automations by index.
    trigger = fields.CharField(max_length=24)
    enabled = fields.BooleanField(default=False)
    resume_mode = fields.CharEnumField(
        ResumeMode,
        description="one of models.enums.ResumeMode",
        max_length=8,
        default=ResumeMode.RESUME,
    )
    switched_on_at = fields.DatetimeField(null=True)
    switched_off_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "automation"
        indexes = (("trigger", "enabled"),)


class Enrollment(Model):
    """One person going through one automation, once per trigger event.

    ``event_key`` names the event that enrolled them ("joined:m42", "inactive:m42:2026-11-02",
    "recurring:2026-12-08"); the unique pair (automation, event_key) is what makes a trigger
    that fires twice, or two workers scanning at once, enrol a person only once.
    """

    id: int = fields.BigIntField(primary_key=True)
    automation: fields.ForeignKeyRelation[Automation] = fields.ForeignKeyField(
        "models.Automation", related_name="enrollments", on_delete=fields.CASCADE
    )
    automation_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="enrollments", on_delete=fields.CASCADE
    )
    customer_id: int
    event_key = fields.CharField(max_length=96)
    status = fields.CharEnumField(
        EnrollmentStatus,
        description="one of models.enums.EnrollmentStatus",
        max_length=12,
        default=EnrollmentStatus.WAITING,
    )
    # The step to run next, and when (UTC); None once the chain has ended.
    step = fields.CharField(max_length=32, null=True)
    due_at = fields.DatetimeField(null=True)
    lease_expires_at = fields.DatetimeField(null=True)
    leased_by = fields.CharField(max_length=64, null=True)
    entered_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "enrollment"
        unique_together = (("automation", "event_key"),)
        indexes = (("status", "due_at"), ("automation", "customer", "entered_at"))


class EnrollmentStep(Model):
    """A step fired for an enrolment: written in the same transaction as what the step did,
    and unique per (enrolment, step), so no step ever fires twice for the same person."""

    id: int = fields.BigIntField(primary_key=True)
    enrollment: fields.ForeignKeyRelation[Enrollment] = fields.ForeignKeyField(
        "models.Enrollment", related_name="steps", on_delete=fields.CASCADE
    )
    enrollment_id: int
    step = fields.CharField(max_length=32)
    # sent, skipped, waited, issued, yes, no, stopped
    outcome = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=32, null=True)
    fired_at = fields.DatetimeField()

    class Meta:
        table = "enrollment_step"
        unique_together = (("enrollment", "step"),)
