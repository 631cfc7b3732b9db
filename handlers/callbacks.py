"""Callback data of every inline button (aiogram CallbackData factories, ≤ 64 bytes packed)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CardOp(StrEnum):
    SHOW = "show"
    LIST = "list"


class CardAction(CallbackData, prefix="card"):
    op: CardOp
    membership_id: int = 0


class AppleWalletAction(CallbackData, prefix="apw"):
    """ "Add to Apple Wallet" on a card: sends that membership's signed pass."""

    membership_id: int


class VoucherOp(StrEnum):
    LIST = "list"
    SHOW = "show"
    REDEEM = "redeem"
    CONFIRM = "confirm"
    CANCEL = "cancel"


class VoucherAction(CallbackData, prefix="vch"):
    op: VoucherOp
    voucher_id: int = 0


class SettingsOp(StrEnum):
    MENU = "menu"
    LANGUAGE = "lang"
    SET_LANGUAGE = "setlang"
    EMAIL = "email"
    EMAIL_CLEAR = "email_clear"
    BIRTHDAY = "bday"
    BIRTHDAY_CLEAR = "bday_clear"
    NOTIFICATIONS = "notif"
    TOGGLE = "toggle"
    LEAVE = "leave"
    LEAVE_PICK = "leave_pick"
    LEAVE_CONFIRM = "leave_ok"
    ERASE = "erase"
    ERASE_CONFIRM = "erase_ok"
    CLOSE = "close"


class SettingsAction(CallbackData, prefix="set"):
    op: SettingsOp
    value: str = ""


class StampAction(CallbackData, prefix="stp"):
    """``nonce`` is fixed per screen: a double tap repeats the same idempotency key."""

    membership_id: int
    count: int
    nonce: str
    override: bool = False


class RedeemAction(CallbackData, prefix="rdm"):
    """``typed``: the screen was opened by a typed code, not a scanned QR (``redeemed_via``)."""

    voucher_id: int
    typed: bool = False


class VoidAction(CallbackData, prefix="void"):
    """Staff cancelling a voucher: the first press asks, ``confirmed`` does it."""

    voucher_id: int
    confirmed: bool = False


class AdminOp(StrEnum):
    MENU = "menu"
    ENTER = "enter"
    NEW_CAMPAIGN = "new"
    CAMPAIGNS = "cmps"
    STAFF = "staff"
    INVITE = "invite"
    REMOVE = "remove"
    REMOVE_CONFIRM = "remove_ok"


class AdminAction(CallbackData, prefix="adm"):
    op: AdminOp
    merchant_id: int
    value: str = ""


class WizardOp(StrEnum):
    CARD = "card"
    FILTER = "filter"
    NEXT = "next"
    KEEP = "keep"
    SKIP = "skip"
    NO_VOUCHER = "novch"
    VOUCHER = "vch"
    DAYS = "days"
    CHANNEL = "chan"
    POLICY = "policy"
    TEST = "test"
    NOW = "now"
    LATER = "later"
    CONFIRM = "ok"
    BACK = "back"
    CANCEL = "cancel"


class WizardAction(CallbackData, prefix="wz"):
    """The shop is not in the data: it is the one the wizard was opened for (FSM storage)."""

    op: WizardOp
    value: str = ""


class CampaignOp(StrEnum):
    LIST = "list"
    SHOW = "show"
    EDIT = "edit"
    COPY = "copy"
    DELETE = "del"
    DELETE_CONFIRM = "del_ok"
    SEND = "send"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_ok"
    CHART = "chart"
    CSV = "csv"


class CampaignListFilter(StrEnum):
    ALL = "all"
    ACTIVE = "on"
    INACTIVE = "off"
    SUSPENDED = "susp"
    SEARCH = "find"


class CampaignAction(CallbackData, prefix="cmp"):
    op: CampaignOp
    merchant_id: int
    campaign_id: int = 0
    page: int = 0
    group: CampaignListFilter = CampaignListFilter.ALL
