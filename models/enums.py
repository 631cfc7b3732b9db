"""Enumerations stored in the database as short strings.

The fields carry a fixed description, so adding a member needs no migration. Members arrive
with the feature that stores them (milestone and birthday vouchers are planned); none is kept
ahead of it.
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
    VIBER = "viber"
    WHATSAPP = "whatsapp"


class AccountStatus(StrEnum):
    """A shop's own messenger account: in use, or given up (its customers fall back to the
    shared bot; the row stays so they come back to it when it is connected again)."""

    ACTIVE = "active"
    DISCONNECTED = "disconnected"


class Channel(StrEnum):
    """Delivery channels a campaign can use and a customer can opt out of."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    APPLE_WALLET = "apple_wallet"
    GOOGLE_WALLET = "google_wallet"
    # Bot-initiated Viber messages are paid (since 2024), WhatsApp's outside the 24-hour
    # window too: the wizard offers them as channels of their own, never picked by default.
    VIBER = "viber"
    WHATSAPP = "whatsapp"


# The channels that are a messenger chat, each addressed by the customer's identity there:
# one value for both enums, so an opt-out of "viber" is the platform's and the channel's.
MESSENGERS: dict[Channel, Platform] = {
    Channel.TELEGRAM: Platform.TELEGRAM,
    Channel.VIBER: Platform.VIBER,
    Channel.WHATSAPP: Platform.WHATSAPP,
}


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
    # Two memberships of one card joined when a person linked their messengers: the stamps
    # leave one row (``-n``) and arrive on the other (``+n``), the reason naming the other side.
    MERGE = "merge"


class VoucherSource(StrEnum):
    REWARD = "reward"
    CAMPAIGN = "campaign"
    MANUAL = "manual"
    # Given by staff as a gesture, with a reason (a wrong order, a long wait).
    GOODWILL = "goodwill"
    # Issued by a step of an automation (a welcome gift, a birthday voucher, a referral).
    AUTOMATION = "automation"


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
    # The message of one send step of an automation: never finishes while the automation
    # exists; its delivery rows arrive one enrolment at a time.
    AUTOMATION = "automation"


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


class EnrollmentStatus(StrEnum):
    """Where one person is in one automation."""

    # Waiting for ``due_at`` to run the step ``step`` (or being run right now, under a lease).
    WAITING = "waiting"
    DONE = "done"
    # Ended early: a stop step, the person left the card or erased their data.
    STOPPED = "stopped"
    # In the comparison group: enrolled and counted, sent nothing.
    HELD_OUT = "held_out"


class ResumeMode(StrEnum):
    """What switching an automation back on does with the steps that fell due while it was off."""

    # Every wait is lengthened by the time it was off: nothing fires in a burst.
    RESUME = "resume"
    # Sends that fell due while it was off are skipped (recorded with a reason); waits go on.
    SKIP = "skip"
