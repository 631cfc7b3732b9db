"""Wallet passes: Apple passes with their registered devices, and Google Wallet objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.customer import Membership


class WalletPass(Model):
    """The one pass of a membership; serial and token never change once the pass is out."""

    id = fields.IntField(primary_key=True)
    membership: fields.OneToOneRelation[Membership] = fields.OneToOneField(
        "models.Membership", related_name="wallet_pass", on_delete=fields.CASCADE
    )
    membership_id: int
    serial_number = fields.CharField(max_length=64, unique=True)
    # Sent back by devices in "Authorization: ApplePass <token>"; stored in clear because every
    # rebuilt pass.json must carry it again.
    authentication_token = fields.CharField(max_length=64)
    # The lock-screen line of the latest campaign, shown through the pass field ``campaign``.
    campaign_message = fields.CharField(max_length=200, default="")
    # Microseconds since the epoch, strictly increasing per pass: the "passesUpdatedSince" tag.
    update_tag: int = fields.BigIntField(default=0, db_index=True)
    updated_at = fields.DatetimeField()
    # Set when the member left or was erased and the devices got the push of the voided pass:
    # until each device has fetched that pass (or unregistered, or the grace period is over)
    # the old token still works, so the phone can download the voided copy. Cleared once the
    # pass is retired (registrations gone, token changed).
    retiring_since = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    registrations: fields.ReverseRelation[PassRegistration]

    class Meta:
        table = "wallet_pass"


class PassRegistration(Model):
    """A device that installed a pass and wants a push when it changes."""

    id = fields.IntField(primary_key=True)
    wallet_pass: fields.ForeignKeyRelation[WalletPass] = fields.ForeignKeyField(
        "models.WalletPass", related_name="registrations", on_delete=fields.CASCADE
    )
    wallet_pass_id: int
    device_library_identifier = fields.CharField(max_length=128)
    push_token = fields.CharField(max_length=200)
    # While the pass is retiring: when this device asked for its changed serials and was given
    # the voided pass's. The pass download that follows names no device, so it retires one of
    # the registrations that asked.
    retiring_asked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "pass_registration"
        unique_together = (("device_library_identifier", "wallet_pass"),)
        # push_token: APNs feedback; wallet_pass: an Apple audience's devices, pass by pass.
        indexes = (("push_token",), ("wallet_pass",))


class GoogleWalletObject(Model):
    """A membership's Google Wallet loyalty object, recorded once we created it at Google.

    Its existence is what makes the member reachable on Google Wallet: campaign messages and
    balance updates go to ``object_id``. Google does not tell us when a pass is deleted from a
    phone; a 404 from the API removes the row.
    """

    id = fields.IntField(primary_key=True)
    membership: fields.OneToOneRelation[Membership] = fields.OneToOneField(
        "models.Membership", related_name="google_wallet_object", on_delete=fields.CASCADE
    )
    membership_id: int
    object_id = fields.CharField(max_length=128, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The last time the object was written to Google (created or patched).
    synced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "google_wallet_object"
