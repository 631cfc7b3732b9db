"""Callback data of every inline button (aiogram CallbackData factories, ≤ 64 bytes packed)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Every number in a button's data is bounded: the data comes back from the person's client and
# can be anything, and an id beyond what an INTEGER column holds makes PostgreSQL raise instead
# of finding nothing. Out of range, the data simply matches no handler (a "button expired").
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=0, le=MAX_DB_ID)]
StampCount = Annotated[int, Field(ge=1, le=100)]
Page = Annotated[int, Field(ge=0, le=10_000)]


def parse_db_id(text: str) -> int | None:
    """The id carried in a string field of a button, None when no row can have it."""
    if text.isascii() and text.isdecimal() and len(text) <= 10 and 0 < int(text) <= MAX_DB_ID:
        return int(text)
    return None


def db_id(text: str) -> int:
    """``int(text)`` for an id carried in a string field; ValueError when no row can have it."""
    if (ident := parse_db_id(text)) is None:
        raise ValueError(f"not a row id: {text[:20]!r}")
    return ident


class CardOp(StrEnum):
    SHOW = "show"
    LIST = "list"
    # The member's invite link for a friend (refer a friend).
    INVITE = "invite"


class CardAction(CallbackData, prefix="card"):
    op: CardOp
    membership_id: DbId = 0


class AppleWalletAction(CallbackData, prefix="apw"):
    """ "Add to Apple Wallet" on a card: sends that membership's signed pass."""

    membership_id: DbId


class VoucherOp(StrEnum):
    LIST = "list"
    SHOW = "show"
    REDEEM = "redeem"
    CONFIRM = "confirm"
    CANCEL = "cancel"


class VoucherAction(CallbackData, prefix="vch"):
    op: VoucherOp
    voucher_id: DbId = 0


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
    # Added for the "fewer taps" rework: the privacy submenu and a whole shop's offers on/off.
    PRIVACY = "privacy"
    SHOP = "shop"
    # A code to link another messenger (handled by handlers.linking, not the settings table).
    LINK = "link"


class SettingsAction(CallbackData, prefix="set"):
    op: SettingsOp
    value: str = ""


def parse_switch(value: str) -> tuple[int | None, str, bool | None]:
    """``value`` of an offers switch: "<merchant id>[-<channel>]-on|off" → (shop, channel,
    turn on); None where the data is not one a screen of ours sends."""
    head, _sep, wanted = value.rpartition("-")
    shop, _sep, channel = head.partition("-")
    turn_on = {"on": True, "off": False}.get(wanted)
    return parse_db_id(shop), channel, turn_on


def switch_value(merchant_id: int, on: bool, channel: StrEnum | None = None) -> str:
    """What a switch asks for when tapped: the opposite of the state it shows. A switch
    carries the state it asks for, so a double tap asks for it twice and changes nothing."""
    wanted = "off" if on else "on"
    return f"{merchant_id}-{channel.value}-{wanted}" if channel else f"{merchant_id}-{wanted}"


class ShopPhoneAction(CallbackData, prefix="tel"):
    """ "📞 <shop>" under the free-text answer: sends the shop's number as a message, since
    Telegram refuses tel: links in inline URL buttons (only http(s):// and tg:// pass)."""

    merchant_id: DbId


class StampAction(CallbackData, prefix="stp"):
    """``nonce`` is fixed per screen: a double tap repeats the same idempotency key."""

    membership_id: DbId
    count: StampCount
    nonce: str
    override: bool = False
    # "+1 more": the stamp row this one adds to (the same purchase), 0 for a new visit.
    adds_to: DbId = 0


class RedeemAction(CallbackData, prefix="rdm"):
    """``typed``: the screen was opened by a typed code, not a scanned QR (``redeemed_via``)."""

    voucher_id: DbId
    typed: bool = False


class VoidAction(CallbackData, prefix="void"):
    """Staff cancelling a voucher: the first press asks, ``confirmed`` does it."""

    voucher_id: DbId
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
    CARDS = "cards"
    DASHBOARD = "dash"
    POSTER = "poster"
    # The shop home and its folded menu (O1, O10-O12).
    HOME = "home"
    MORE = "more"
    COUNTER_QR = "qr"
    JOIN_OWN = "joinown"
    INVITE_PICK = "invpick"
    REVOKE_INVITE = "invrev"
    PHONE = "phone"
    # The shop's own Telegram bot: its screen, connecting and disconnecting (owners only).
    OWN_BOT = "ownbot"
    # The shop's own Viber bot, likewise.
    OWN_VIBER = "ownviber"
    OWN_WHATSAPP = "ownwa"


class AdminAction(CallbackData, prefix="adm"):
    op: AdminOp
    merchant_id: DbId
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
    YES = "yes"
    DONE = "done"
    DELETE = "del"
    EMAIL = "email"
    # WhatsApp's approved template for people outside its 24-hour window.
    TEMPLATE = "tpl"


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
    EXPORT = "export"
    RESULTS = "results"  # 📊 on a progress message or a digest: the campaign's page, anew
    RENAME = "rename"
    # A scheduled campaign's detail: pick a new time (handled by the wizard, which has the slots).
    CHANGE_TIME = "time"


class CampaignListFilter(StrEnum):
    ALL = "all"
    SCHEDULED = "sched"
    DRAFTS = "draft"
    SENT = "sent"
    PAUSED = "susp"
    SEARCH = "find"


class CampaignAction(CallbackData, prefix="cmp"):
    op: CampaignOp
    merchant_id: DbId
    campaign_id: DbId = 0
    page: Page = 0
    group: CampaignListFilter = CampaignListFilter.ALL


class CardSetOp(StrEnum):
    LIST = "list"
    SHOW = "show"
    FIELD = "field"
    NEW = "new"
    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"
    RETIRE = "retire"
    RETIRE_CONFIRM = "retire_ok"
    COLOURS = "colours"
    PALETTE = "palette"
    LOGO = "logo"
    SAVE = "save"
    DISCARD = "discard"
    RECEIPT = "receipt"
    UNDO_WINDOW = "undo"
    SCAN_ADDS = "scan1"


class CardSetAction(CallbackData, prefix="cset"):
    """An owner's card settings; ``value`` is a field, a palette index or a draft's nonce."""

    op: CardSetOp
    merchant_id: DbId
    card_id: DbId = 0
    value: str = ""


class DashboardOp(StrEnum):
    SHOW = "show"
    CHART = "chart"
    CSV = "csv"
    MEMBERS = "members"


class DashboardAction(CallbackData, prefix="dsh"):
    """``period``: a ``campaigns.dashboard.Period`` value (week, 30d, all)."""

    op: DashboardOp
    merchant_id: DbId
    period: str = "week"


class OnboardingOp(StrEnum):
    KEEP = "keep"
    ZONE = "zone"
    OTHER_ZONE = "other"
    LANGUAGE = "lang"
    EDIT_CARD = "edit"
    SKIP = "skip"


class OnboardingAction(CallbackData, prefix="onb"):
    """A button of the owner's first-run set-up; ``value`` is a step, a zone or a language."""

    op: OnboardingOp
    merchant_id: DbId
    value: str = ""


class PosterAction(CallbackData, prefix="pst"):
    """The counter poster: ``card_id`` 0 asks which card, ``paper`` "" asks which size."""

    merchant_id: DbId
    card_id: DbId = 0
    paper: str = ""


class UndoAction(CallbackData, prefix="undo"):
    """Taking back stamp row ``event_id``: without a ``reason`` the press asks why."""

    event_id: DbId
    reason: str = ""


class TillOp(StrEnum):
    LOOKUP = "look"
    GOODWILL = "gw"
    GOODWILL_DEFAULT = "gw_ok"
    VOID = "void"
    VOID_REASON = "void_ok"
    EXTEND = "ext"
    EXTEND_BY = "ext_by"
    SKIP_AMOUNT = "amt_skip"
    # "Other…" on the stamp screen: the cashier types the number (target: the membership).
    OTHER_COUNT = "other"
    # A typed code from staff of several shops: "which shop?" (target: the shop, value: code).
    CODE_AT = "code_at"


class TillAction(CallbackData, prefix="till"):
    """At the till: ``target`` is a membership (look-up, goodwill) or a voucher id."""

    op: TillOp
    target: DbId
    value: str = ""


class StaffOp(StrEnum):
    LIST = "list"
    PERSON = "person"
    ROLE = "role"
    TRANSFER = "xfer"
    TRANSFER_CONFIRM = "xfer_ok"
    INVITES = "invites"
    REVOKE = "revoke"
    ACTIVITY = "log"


class StaffAction(CallbackData, prefix="stf"):
    """The owners' staff screens and activity log; ``target`` is a staff seat or an invite."""

    op: StaffOp
    merchant_id: DbId
    target: DbId = 0
    value: str = ""
    page: Page = 0


class OffersOp(StrEnum):
    STOP = "stop"
    PREVIEW = "preview"
    NO_EMAIL = "noemail"


class OffersAction(CallbackData, prefix="off"):
    """Under a campaign message: stop this shop's offers (``merchant_id``); the buttons of an
    owner's preview; "No thanks" to the one-time email offer. ``campaigns/chat_parts.py`` writes
    the same data without aiogram."""

    op: OffersOp
    merchant_id: DbId = 0
