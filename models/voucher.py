"""Vouchers: rewards a customer holds until staff redeem them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import RedeemVia, VoucherSource, VoucherStatus

if TYPE_CHECKING:
    from models.campaign import Campaign
    from models.customer import Membership
    from models.merchant import Card, Merchant, Staff


class Voucher(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="vouchers", on_delete=fields.CASCADE
    )
    merchant_id: int
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name="vouchers", on_delete=fields.CASCADE
    )
    card_id: int
    membership: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="vouchers", on_delete=fields.CASCADE
    )
    membership_id: int
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="vouchers", null=True, on_delete=fields.SET_NULL
    )
    campaign_id: int | None
    source = fields.CharEnumField(
        VoucherSource, description="one of models.enums.VoucherSource", max_length=16
    )
    title = fields.CharField(max_length=200)
    code = fields.CharField(max_length=16)
    token = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(
        VoucherStatus,
        description="one of models.enums.VoucherStatus",
        max_length=16,
        default=VoucherStatus.ISSUED,
    )
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    redeemed_at = fields.DatetimeField(null=True)
    redeemed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    redeemed_by_id: int | None
    redeemed_via = fields.CharEnumField(
        RedeemVia, description="one of models.enums.RedeemVia", max_length=8, null=True
    )
    expiry_reminded_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=200, null=True)
    # Who gave a goodwill voucher, and why (shown to owners in the audit log too).
    issued_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    issued_by_id: int | None
    issue_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "voucher"
        unique_together = (("merchant", "code"),)
        indexes = (("status", "expires_at"),)
