"""Enumerations stored in the database as short strings.

The fields carry a fixed description, so adding a member needs no migration. Members arrive
with the feature that stores them (Viber and WhatsApp, milestone and birthday vouchers are
planned); none is kept ahead of it.
"""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"


class Platform(StrEnum):
    """Messengers a customer can be reached on; one identity row per platform account."""

    TELEGRAM = "telegram"


class Channel(StrEnum):
    """Delivery channels a campaign can use and a customer can opt out of."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    APPLE_WALLET = "apple_wallet"
    GOOGLE_WALLET = "google_wallet"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class LedgerKind(StrEnum):
    """Why a stamp balance moved; the sum of all deltas of a membership is its balance."""

    STAMP = "stamp"
    REWARD = "reward"
    FORFEIT = "forfeit"
    # A compensating row: staff took back a stamp given by mistake (``reverses_id`` says which).
    UNDO = "undo"


class VoucherSource(StrEnum):
    REWARD = "reward"
    CAMPAIGN = "campaign"
    MANUAL = "manual"
    # Given by staff as a gesture, with a reason (a wrong order, a long wait).
    GOODWILL = "goodwill"


class VoucherStatus(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOID = "void"


class RedeemVia(StrEnum):
    SCAN = "scan"
    CODE = "code"
    SELF = "self"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class DeliveryPolicy(StrEnum):
    EVERY_CHANNEL = "every"
    FIRST_REACHABLE = "first"


class DeliveryStatus(StrEnum):
    # Under "first reachable": the next channel in line, used only if the earlier ones fail.
    STANDBY = "standby"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    HOLDOUT = "holdout"


class CardState(StrEnum):
    """Whether a card takes new members and stamps.

    Paused: members keep card and vouchers, nobody joins or collects until it is resumed.
    Retired: for good; members keep their vouchers, the join link says the card has ended.
    """

    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"
