"""Campaigns and their delivery rows (the outbox the delivery workers drain)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.enums import CampaignStatus, Channel, DeliveryPolicy, DeliveryStatus

if TYPE_CHECKING:
    from models.automation import Automation, Enrollment
    from models.customer import Customer
    from models.merchant import Card, Merchant, Staff


class Campaign(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="campaigns", on_delete=fields.CASCADE
    )
    merchant_id: int
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name="campaigns", on_delete=fields.CASCADE
    )
    card_id: int
    name = fields.CharField(max_length=120)
    status = fields.CharEnumField(
        CampaignStatus,
        description="one of models.enums.CampaignStatus",
        max_length=16,
        default=CampaignStatus.DRAFT,
    )
    audience_filters: dict[str, Any] = fields.JSONField(default=dict)
    push_text = fields.CharField(max_length=200, default="")
    push_text_limit: int = fields.SmallIntField(default=20)
    voucher_title = fields.CharField(max_length=200, null=True)
    voucher_validity_days: int | None = fields.SmallIntField(null=True)
    channels: list[str] = fields.JSONField(default=list)
    delivery_policy = fields.CharEnumField(
        DeliveryPolicy,
        description="one of models.enums.DeliveryPolicy",
        max_length=8,
        default=DeliveryPolicy.EVERY_CHANNEL,
    )
    channel_order: list[str] = fields.JSONField(default=list)
    message_text = fields.TextField(default="")
    photo_file_id = fields.CharField(max_length=255, null=True)
    # WhatsApp: the approved message template (name, language code) that opens a chat with
    # someone who has not written in 24 hours; without one they are skipped there.
    whatsapp_template = fields.CharField(max_length=512, default="")
    whatsapp_template_language = fields.CharField(max_length=16, default="")
    holdout_percent: int = fields.SmallIntField(default=0)
    scheduled_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # The admin's progress message: where it goes, in which language, what it shows now and
    # when it was last looked at. Kept here so a restart or another replica carries it on.
    progress_chat_id: int | None = fields.BigIntField(null=True)
    progress_message_id: int | None = fields.BigIntField(null=True)
    progress_language = fields.CharField(max_length=8, null=True)
    progress_digest = fields.CharField(max_length=32, null=True)
    progress_checked_at = fields.DatetimeField(null=True)
    # A send step of an automation (status ``automation``): which one. None for a campaign.
    automation: fields.ForeignKeyNullableRelation[Automation] = fields.ForeignKeyField(
        "models.Automation", related_name="step_campaigns", null=True, on_delete=fields.CASCADE
    )
    automation_id: int | None
    automation_step = fields.CharField(max_length=32, null=True)
    # How many results digests the owner got after the send (the next day, then a week on).
    digests_sent: int = fields.SmallIntField(default=0)

    class Meta:
        table = "campaign"
        indexes = (("merchant", "status"),)


class Delivery(Model):
    """One message to one person on one channel; unique per (campaign, customer, channel).

    The three references (campaign, customer, enrolment) are not foreign keys in the database
    (migration 14): a campaign's snapshot writes a million rows in one statement, and each key's
    check is a trigger that looks up and locks the referenced row once per row written, about
    half the snapshot's time (``EXPLAIN ANALYZE`` of the snapshot's INSERT; on the customer, it
    also dirtied a million customer rows). The application keeps them instead, on the only
    paths that delete what a delivery row points at: ``loyalty.merge`` (a customer),
    ``campaigns.service.delete_campaign`` and ``automations.service.delete_automation`` (their
    campaigns and enrolments) delete the rows first. Readers need no row behind the ids: the
    claim joins the campaign, and the composer fails a row whose customer is gone as having no
    address (a merge that commits while a snapshot is being taken can leave such a row).
    """

    id: int = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign",
        related_name="deliveries",
        on_delete=fields.NO_ACTION,
        db_constraint=False,
    )
    campaign_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer",
        related_name="deliveries",
        on_delete=fields.NO_ACTION,
        db_constraint=False,
    )
    customer_id: int
    channel = fields.CharEnumField(
        Channel, description="one of models.enums.Channel", max_length=16
    )
    status = fields.CharEnumField(
        DeliveryStatus,
        description="one of models.enums.DeliveryStatus",
        max_length=16,
        default=DeliveryStatus.PENDING,
    )
    attempts: int = fields.SmallIntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_expires_at = fields.DatetimeField(null=True)
    leased_by = fields.CharField(max_length=64, null=True)
    reason = fields.CharField(max_length=64, null=True)
    external_id = fields.CharField(max_length=255, null=True)
    sent_at = fields.DatetimeField(null=True)
    # The messenger's receipt that the message reached the person's device (Viber
    # ``delivered``, WhatsApp ``delivered``); their ``seen`` / ``read`` is ``opened_at``, as an
    # email's open pixel is.
    delivered_at = fields.DatetimeField(null=True)
    opened_at = fields.DatetimeField(null=True)
    clicked_at = fields.DatetimeField(null=True)
    # The enrolment whose send step made the row (None for a campaign's rows).
    enrollment: fields.ForeignKeyNullableRelation[Enrollment] = fields.ForeignKeyField(
        "models.Enrollment",
        related_name="deliveries",
        null=True,
        on_delete=fields.NO_ACTION,
        db_constraint=False,
    )
    enrollment_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery"
        # Unique per (campaign, customer, channel) for a campaign's rows and per (enrolment,
        # campaign, channel) for an automation's: two partial unique indexes the migration
        # makes by hand (``uid_delivery_campaign``, ``uid_delivery_enrollment``), which the
        # ORM cannot declare. The same person may pass a recurring automation's step weekly.
        # Also by hand: (customer, created_at), what the frequency cap counts a person by, and
        # (campaign, next_attempt_at, id) of the pending rows only (``idx_delivery_pending_due``),
        # what the fair claim reads each sending campaign's oldest due rows by.
        indexes = (("status", "next_attempt_at"),)
