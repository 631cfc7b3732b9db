"""Customers, their messenger identities, opt-outs and card memberships."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import Channel, MembershipStatus, Platform
from models.merchant import Card, Merchant
from models.messenger import MessengerAccount


class Customer(Model):
    id = fields.IntField(primary_key=True)
    first_name = fields.CharField(max_length=128, null=True)
    last_name = fields.CharField(max_length=128, null=True)
    language = fields.CharField(max_length=8, null=True)
    email = fields.CharField(max_length=254, null=True)
    email_verified = fields.BooleanField(default=False)
    # Day and month drive birthday offers; the year is optional, as most people leave it out.
    birth_day: int | None = fields.SmallIntField(null=True)
    birth_month: int | None = fields.SmallIntField(null=True)
    birth_year: int | None = fields.SmallIntField(null=True)
    # When the chat last offered to add an email (once, after the first reward): never again.
    email_prompted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    erased_at = fields.DatetimeField(null=True)

    identities: fields.ReverseRelation[Identity]
    memberships: fields.ReverseRelation[Membership]
    opt_outs: fields.ReverseRelation[ChannelOptOut]

    class Meta:
        table = "customer"


class Identity(Model):
    """One messenger account of a customer (Telegram user id, Viber id, WhatsApp number)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="identities", on_delete=fields.CASCADE
    )
    customer_id: int
    platform = fields.CharEnumField(
        Platform, description="one of models.enums.Platform", max_length=16
    )
    external_id = fields.CharField(max_length=64)
    username = fields.CharField(max_length=64, null=True)
    # The messenger's own language setting, used until the customer picks one.
    language_code = fields.CharField(max_length=16, null=True)
    reachable = fields.BooleanField(default=True)
    # When the person last wrote or pressed a button here: WhatsApp lets a business answer
    # freely only within 24 hours of it (the customer-service window), templates after.
    last_inbound_at = fields.DatetimeField(null=True)
    # The shop's own bot the person came through; None: the shared bot. Answers and notices
    # go through that bot while it is connected (``loyalty.messenger_accounts``).
    account: fields.ForeignKeyNullableRelation[MessengerAccount] = fields.ForeignKeyField(
        "models.MessengerAccount", related_name="identities", null=True, on_delete=fields.SET_NULL
    )
    account_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "identity"
        unique_together = (("platform", "external_id"),)
        # A campaign's snapshot and reach count join each person's accounts by customer.
        indexes = (("customer", "platform"),)


class ChannelOptOut(Model):
    """A customer's "no more of this" to one shop on one channel.

    Per shop, because the unsubscribe page promises "no more emails from <shop>": saying no to
    one café must not silence the bakery the same person also likes.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="opt_outs", on_delete=fields.CASCADE
    )
    customer_id: int
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="opt_outs", on_delete=fields.CASCADE
    )
    merchant_id: int
    channel = fields.CharEnumField(
        Channel, description="one of models.enums.Channel", max_length=16
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "channel_opt_out"
        unique_together = (("customer", "merchant", "channel"),)


class Membership(Model):
    """A customer's place on one card. ``balance`` is always the sum of its ledger deltas."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="memberships", on_delete=fields.RESTRICT
    )
    customer_id: int
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name="memberships", on_delete=fields.CASCADE
    )
    card_id: int
    status = fields.CharEnumField(
        MembershipStatus,
        description="one of models.enums.MembershipStatus",
        max_length=8,
        default=MembershipStatus.ACTIVE,
    )
    balance = fields.IntField(default=0)
    visits = fields.IntField(default=0)
    last_visit_at = fields.DatetimeField(null=True)
    public_token = fields.CharField(max_length=64, unique=True)
    # Typed at the till when the QR cannot be scanned; unique per card, rotated on erasure.
    counter_code = fields.CharField(max_length=9, null=True)
    joined_at = fields.DatetimeField(auto_now_add=True)
    left_at = fields.DatetimeField(null=True)
    # The member's own invite link (refer a friend): 128 random bits, made the first time they
    # share it, apart from ``public_token`` — that one lets staff stamp the card, so it is
    # shown at the till only and never passed round a group chat.
    referral_token = fields.CharField(max_length=64, unique=True, null=True)

    class Meta:
        table = "membership"
        unique_together = (("customer", "card"), ("card", "counter_code"))


class Referral(Model):
    """A friend who joined a card through a member's invite link.

    Made only for a person new to the shop (no membership on any of its cards before) who is
    not the member themself; the friend's membership is unique here, so a friend is anyone's
    referral at most once, and the rewards keyed on this row go out once per friend.
    """

    id = fields.IntField(primary_key=True)
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "models.Card", related_name="referrals", on_delete=fields.CASCADE
    )
    card_id: int
    referrer: fields.ForeignKeyRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="referrals_made", on_delete=fields.CASCADE
    )
    referrer_id: int
    friend: fields.OneToOneRelation[Membership] = fields.OneToOneField(
        "models.Membership", related_name="referred_by", on_delete=fields.CASCADE
    )
    friend_id: int
    joined_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "referral"
        indexes = (("card", "joined_at"),)
