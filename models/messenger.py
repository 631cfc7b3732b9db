"""A shop's own messenger account (its own Telegram bot, later a Viber bot, a WhatsApp number).

The shared Telegram bot is no row: an identity without an account came through it. The
credential is stored encrypted (``loyalty.messenger_accounts`` holds the key) and the webhook
secret only as its SHA-256: Telegram is told the secret once, at connecting, and we only ever
compare what it sends back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import AccountStatus, Platform

if TYPE_CHECKING:
    from models.customer import Identity
    from models.merchant import Merchant


class MessengerAccount(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="messenger_accounts", on_delete=fields.CASCADE
    )
    merchant_id: int
    platform = fields.CharEnumField(
        Platform, description="one of models.enums.Platform", max_length=16
    )
    # The bot token (Fernet, see loyalty.messenger_accounts); never read without the key.
    credential_encrypted = fields.TextField()
    # Who the messenger says the account is (getMe): the bot's id and username.
    external_id = fields.CharField(max_length=64)
    username = fields.CharField(max_length=64, null=True)
    # SHA-256 (hex) of the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token.
    webhook_secret_hash = fields.CharField(max_length=64)
    status = fields.CharEnumField(
        AccountStatus,
        description="one of models.enums.AccountStatus",
        max_length=16,
        default=AccountStatus.ACTIVE,
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    disconnected_at = fields.DatetimeField(null=True)

    identities: fields.ReverseRelation[Identity]

    class Meta:
        table = "messenger_account"
        # One account per platform per shop: connecting again replaces the credential in the
        # same row, so the customers who came through it are its customers again.
        unique_together = (("merchant", "platform"),)
        # "Is this bot already another shop's?" at connecting.
        indexes = (("platform", "external_id"),)
