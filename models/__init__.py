"""Tortoise ORM models. Times are stored in UTC; business rules live in ``loyalty/``."""

from models.audit import AuditEntry
from models.automation import Automation, Enrollment, EnrollmentStep
from models.campaign import Campaign, Delivery
from models.customer import ChannelOptOut, Customer, Identity, Membership, Referral
from models.ledger import StampEvent
from models.merchant import Card, Merchant, Staff, StaffInvite
from models.messenger import MessengerAccount
from models.voucher import Voucher
from models.wallet import GoogleWalletObject, PassRegistration, WalletPass

__models__ = [
    AuditEntry,
    Merchant,
    Staff,
    StaffInvite,
    MessengerAccount,
    Card,
    Customer,
    Identity,
    ChannelOptOut,
    Membership,
    Referral,
    StampEvent,
    Voucher,
    Automation,
    Enrollment,
    EnrollmentStep,
    Campaign,
    Delivery,
    WalletPass,
    PassRegistration,
    GoogleWalletObject,
]

__all__ = [
    "AuditEntry",
    "Automation",
    "Campaign",
    "Card",
    "ChannelOptOut",
    "Customer",
    "Delivery",
    "Enrollment",
    "EnrollmentStep",
    "GoogleWalletObject",
    "Identity",
    "Membership",
    "Merchant",
    "MessengerAccount",
    "PassRegistration",
    "Referral",
    "Staff",
    "StaffInvite",
    "StampEvent",
    "Voucher",
    "WalletPass",
]
