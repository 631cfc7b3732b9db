"""Merchants, their staff and their stamp cards."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import CardState, StaffRole


class Merchant(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    timezone = fields.CharField(max_length=64, default="UTC")
    default_language = fields.CharField(max_length=8, default="en")
    background_color = fields.CharField(max_length=7, default="#1F2937")
    foreground_color = fields.CharField(max_length=7, default="#FFFFFF")
    accent_color = fields.CharField(max_length=7, default="#F59E0B")
    logo_png = fields.BinaryField(null=True)
    # Where the shop is: passes show on the lock screen near it (Apple ``locations``).
    latitude: float | None = fields.FloatField(null=True)
    longitude: float | None = fields.FloatField(null=True)
    # ISO 4217 code of receipt amounts entered at stamping (when a card asks for them).
    currency = fields.CharField(max_length=3, default="USD")
    # Set when the owner finished (or skipped) the first-run set-up of ``/admin``.
    onboarded_at = fields.DatetimeField(null=True)
    # A number customers can call, offered when they write to the bot instead of the shop.
    phone = fields.CharField(max_length=32, null=True)
    # Opt-in: a cashier's scan of a card adds one stamp at once (the screen offers more/undo).
    scan_adds_stamp = fields.BooleanField(default=False)
    # Marketing sends that fall due inside the quiet hours (local minutes of the day, the
    # window may wrap midnight) wait for their end. Service messages are not held.
    quiet_from_minute: int = fields.SmallIntField(default=21 * 60)
    quiet_until_minute: int = fields.SmallIntField(default=9 * 60)
    # At most this many marketing messages per person per this many days, across campaigns
    # and automations of the shop; a send over it is skipped with the reason, the chain goes on.
    frequency_cap: int = fields.SmallIntField(default=2)
    frequency_days: int = fields.SmallIntField(default=7)
    created_at = fields.DatetimeField(auto_now_add=True)

    cards: fields.ReverseRelation[Card]
    staff: fields.ReverseRelation[Staff]

    class Meta:
        table = "merchant"

    def __str__(self) -> str:
        return self.name


class Staff(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="staff", on_delete=fields.CASCADE
    )
    merchant_id: int
    telegram_user_id: int = fields.BigIntField()
    display_name = fields.CharField(max_length=128, default="")
    role = fields.CharEnumField(
        StaffRole, description="one of models.enums.StaffRole", max_length=16
    )
    active = fields.BooleanField(default=True)
    # Where "email me a test" of a campaign goes for staff who are not customers themselves.
    test_email = fields.CharField(max_length=254, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff"
        unique_together = (("merchant", "telegram_user_id"),)


class StaffInvite(Model):
    """A single-use, expiring link that makes whoever opens it staff of the merchant."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="invites", on_delete=fields.CASCADE
    )
    merchant_id: int
    role = fields.CharEnumField(
        StaffRole, description="one of models.enums.StaffRole", max_length=16
    )
    token = fields.CharField(max_length=64, unique=True)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by_telegram_id: int | None = fields.BigIntField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_invite"


class Card(Model):
    """A stamp program: collect ``stamps_needed`` stamps, get a voucher for ``reward_text``."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="cards", on_delete=fields.CASCADE
    )
    merchant_id: int
    name = fields.CharField(max_length=120)
    stamps_needed: int = fields.SmallIntField()
    reward_text = fields.CharField(max_length=200)
    voucher_validity_days: int = fields.SmallIntField(default=30)
    max_stamps_per_call: int = fields.SmallIntField(default=5)
    stamp_cooldown_seconds = fields.IntField(default=300)
    join_token = fields.CharField(max_length=64, unique=True)
    # False while paused or retired (``state`` says which); what the joins and stamps check.
    active = fields.BooleanField(default=True)
    state = fields.CharEnumField(
        CardState,
        description="one of models.enums.CardState",
        max_length=8,
        default=CardState.ACTIVE,
    )
    # Ask the cashier for the receipt amount at stamping, so value can be reported.
    asks_receipt_amount = fields.BooleanField(default=False)
    # How long after a stamp staff may still take it back.
    undo_window_seconds = fields.IntField(default=600)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "card"

    def __str__(self) -> str:
        return self.name
