"""Spreadsheets of personal data: a campaign's recipients, the shop's members, the dashboard.

Every file is UTF-8 with a byte-order mark (how Excel knows it is UTF-8, so Hebrew, Persian and
Thai names survive), written by the ``csv`` module, with every text cell that a spreadsheet
would take for a formula (``= + - @``, or a tab or carriage return first) prefixed with ``'``.
A name is whatever a customer typed into their messenger profile.

Rows are read in keyset chunks (``id > last``), so a 100,000-member shop is never one query
nor one list of model objects, and a file stops at :data:`MAX_BYTES` (Telegram takes 50 MB
from a bot) with ``truncated`` set. Exporting people is recorded in the shop's audit log.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from tortoise.expressions import Q

from campaigns.dashboard import Dashboard
from campaigns.errors import CampaignNotFound
from loyalty.audit import record
from loyalty.clock import ensure_utc
from loyalty.errors import StaffNotFound
from loyalty.staff import Permission, allows
from models import (
    Campaign,
    ChannelOptOut,
    Customer,
    Delivery,
    GoogleWalletObject,
    Identity,
    Membership,
    Merchant,
    PassRegistration,
    Staff,
    Voucher,
)
from models.enums import MESSENGERS, Channel, MembershipStatus, VoucherStatus

CHUNK = 2_000
MAX_BYTES = 45 * 1024 * 1024
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading quote; numbers stay."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class CsvFile:
    data: bytes
    rows: int
    """Data rows written (headers not counted)."""
    truncated: bool = False


class _Sheet:
    """Rows into UTF-8-with-BOM bytes, a chunk at a time, up to :data:`MAX_BYTES`."""

    def __init__(self, delimiter: str) -> None:
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, delimiter=delimiter)
        self._out = io.BytesIO()
        self._out.write("\ufeff".encode())
        self.rows = 0
        self.truncated = False

    def header(self, cells: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(c) for c in cells])
        self._flush()

    def add(self, rows: Iterable[Iterable[object]]) -> bool:
        """Write rows; False once the file is full (the rest is left out)."""
        for cells in rows:
            self._writer.writerow([safe_cell(c) for c in cells])
            self.rows += 1
        self._flush()
        if self._out.tell() > MAX_BYTES:
            self.truncated = True
        return not self.truncated

    def _flush(self) -> None:
        self._out.write(self._text.getvalue().encode())
        self._text.seek(0)
        self._text.truncate()

    def done(self) -> CsvFile:
        return CsvFile(self._out.getvalue(), self.rows, self.truncated)


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    """A time as spreadsheets read it, in the shop's zone, to the minute."""
    return "" if moment is None else ensure_utc(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def money(minor: int, currency: str) -> Decimal:
    """Minor units as the amount (2 decimals for most currencies, 0 for yen, 3 for dinar)."""
    return Decimal(minor).scaleb(-get_currency_precision(currency))


# --- a campaign's recipients --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryColumns:
    """Headers, translated by the caller; ``names`` turns channel, status and reason codes
    into words (a code without a name is written as it is)."""

    customer_id: str = "Customer ID"
    name: str = "Name"
    channel: str = "Channel"
    status: str = "Status"
    reason: str = "Reason"
    sent: str = "Sent"
    opened: str = "Opened"
    clicked: str = "Clicked"
    names: Mapping[str, str] = field(default_factory=dict)

    def word(self, code: str | None) -> str:
        return "" if not code else self.names.get(code, code)


@dataclass(frozen=True, slots=True)
class DeliveryExport:
    campaign_name: str
    file: CsvFile


async def delivery_export(
    campaign_id: int,
    *,
    seat: Staff,
    columns: DeliveryColumns | None = None,
    delimiter: str = ",",
) -> DeliveryExport:
    """Who a campaign went to, on which channel, with what outcome and when — no addresses,
    no message ids, no tokens. Only the seat's own shop's campaigns; owners and managers."""
    if not allows(seat, Permission.STATISTICS):
        raise StaffNotFound()
    campaign = await Campaign.get_or_none(id=campaign_id, merchant_id=seat.merchant_id)
    if campaign is None:
        raise CampaignNotFound()
    merchant = await Merchant.get(id=seat.merchant_id)
    zone = ZoneInfo(merchant.timezone)
    labels = columns or DeliveryColumns()
    sheet = _Sheet(delimiter)
    sheet.header(
        [
            labels.customer_id,
            labels.name,
            labels.channel,
            labels.status,
            labels.reason,
            labels.sent,
            labels.opened,
            labels.clicked,
        ]
    )
    last = 0
    while True:
        chunk = (
            await Delivery.filter(campaign_id=campaign.id, id__gt=last)
            .order_by("id")
            .limit(CHUNK)
            .values(
                "id",
                "customer_id",
                "channel",
                "status",
                "reason",
                "sent_at",
                "opened_at",
                "clicked_at",
            )
        )
        if not chunk:
            break
        last = chunk[-1]["id"]
        people = {
            row["id"]: row
            for row in await Customer.filter(id__in={row["customer_id"] for row in chunk}).values(
                "id", "first_name", "last_name", "erased_at"
            )
        }
        lines = []
        for row in chunk:
            person = people.get(row["customer_id"], {})
            erased = person.get("erased_at") is not None
            lines.append(
                [
                    row["customer_id"],
                    "" if erased else _name(person.get("first_name"), person.get("last_name")),
                    labels.word(str(row["channel"])),
                    labels.word(str(row["status"])),
                    labels.word(row["reason"]),
                    _local(row["sent_at"], zone),
                    _local(row["opened_at"], zone),
                    _local(row["clicked_at"], zone),
                ]
            )
        if not sheet.add(lines) or len(chunk) < CHUNK:
            break
    done = sheet.done()
    await record(
        seat.merchant_id,
        "export.deliveries",
        by=seat,
        campaign_id=campaign.id,
        rows=done.rows,
        truncated=done.truncated,
    )
    return DeliveryExport(campaign.name, done)


# --- the shop's members -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberColumns:
    customer_id: str = "Customer ID"
    name: str = "Name"
    card: str = "Card"
    joined: str = "Joined"
    balance: str = "Stamps"
    visits: str = "Visits"
    last_visit: str = "Last visit"
    vouchers: str = "Vouchers held"
    channels: str = "Reachable on"
    email: str = "Email"
    channel_names: Mapping[str, str] = field(default_factory=dict)
    separator: str = ", "


REACHABLE = (
    Channel.TELEGRAM,
    Channel.VIBER,
    Channel.WHATSAPP,
    Channel.EMAIL,
    Channel.APPLE_WALLET,
    Channel.GOOGLE_WALLET,
)


async def member_export(
    seat: Staff,
    *,
    columns: MemberColumns | None = None,
    delimiter: str = ",",
    now: datetime | None = None,
) -> CsvFile:
    """One row per active membership of the shop's cards (people who left or erased their
    data are not in it). The email is given only when confirmed and not opted out of this
    shop's email; no messenger ids, usernames, birthdays or languages. Owners only."""
    if not allows(seat, Permission.EXPORT_MEMBERS):
        raise StaffNotFound()
    moment = ensure_utc(now)
    merchant = await Merchant.get(id=seat.merchant_id)
    zone = ZoneInfo(merchant.timezone)
    labels = columns or MemberColumns()
    sheet = _Sheet(delimiter)
    sheet.header(
        [
            labels.customer_id,
            labels.name,
            labels.card,
            labels.joined,
            labels.balance,
            labels.visits,
            labels.last_visit,
            labels.vouchers,
            labels.channels,
            labels.email,
        ]
    )
    last = 0
    while True:
        chunk = (
            await Membership.filter(
                card__merchant_id=seat.merchant_id,
                status=MembershipStatus.ACTIVE,
                customer__erased_at__isnull=True,
                id__gt=last,
            )
            .order_by("id")
            .limit(CHUNK)
            .values(
                "id",
                "customer_id",
                "joined_at",
                "balance",
                "visits",
                "last_visit_at",
                card_name="card__name",
                first_name="customer__first_name",
                last_name="customer__last_name",
                email="customer__email",
                email_verified="customer__email_verified",
            )
        )
        if not chunk:
            break
        last = chunk[-1]["id"]
        reach = await _reach(seat.merchant_id, chunk, moment)
        lines = []
        for row in chunk:
            channels = reach.channels.get(row["id"], set())
            lines.append(
                [
                    row["customer_id"],
                    _name(row["first_name"], row["last_name"]),
                    row["card_name"],
                    _local(row["joined_at"], zone),
                    row["balance"],
                    row["visits"],
                    _local(row["last_visit_at"], zone),
                    reach.vouchers[row["id"]],
                    labels.separator.join(
                        labels.channel_names.get(channel.value, channel.value)
                        for channel in REACHABLE
                        if channel in channels
                    ),
                    row["email"] if Channel.EMAIL in channels else "",
                ]
            )
        if not sheet.add(lines) or len(chunk) < CHUNK:
            break
    done = sheet.done()
    await record(
        seat.merchant_id, "export.members", by=seat, rows=done.rows, truncated=done.truncated
    )
    return done


@dataclass(frozen=True, slots=True)
class _Reach:
    channels: dict[int, set[Channel]]
    """Per membership: where a campaign of this shop could reach the person now."""
    vouchers: Counter[int]


async def _reach(merchant_id: int, chunk: list[dict[str, Any]], moment: datetime) -> _Reach:
    """The rules of ``campaigns.audience`` (a reachable messenger identity, a confirmed email,
    a pass on a device, a saved Google object, and no opt-out from this shop), asked once per
    chunk with the chunk's ids: the foreign keys they look up carry no index, so one question
    per member would read the whole table each time."""
    memberships = [row["id"] for row in chunk]
    customers = {row["customer_id"] for row in chunk}
    chats = {
        (int(customer), str(platform))
        for customer, platform in await Identity.filter(
            customer_id__in=customers, platform__in=list(MESSENGERS.values()), reachable=True
        ).values_list("customer_id", "platform")
    }
    opted_out = {
        (customer, str(channel))
        for customer, channel in await ChannelOptOut.filter(
            customer_id__in=customers, merchant_id=merchant_id
        ).values_list("customer_id", "channel")
    }
    apple = set(
        await PassRegistration.filter(wallet_pass__membership_id__in=memberships).values_list(
            "wallet_pass__membership_id", flat=True
        )
    )
    google = set(
        await GoogleWalletObject.filter(membership_id__in=memberships).values_list(
            "membership_id", flat=True
        )
    )
    held = Counter(
        await Voucher.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=moment),
            membership_id__in=memberships,
            status=VoucherStatus.ISSUED,
        ).values_list("membership_id", flat=True)
    )
    channels: dict[int, set[Channel]] = {}
    for row in chunk:
        person = row["customer_id"]
        found = {
            **{
                channel: (person, platform.value) in chats
                for channel, platform in MESSENGERS.items()
            },
            Channel.EMAIL: bool(row["email"]) and bool(row["email_verified"]),
            Channel.APPLE_WALLET: row["id"] in apple,
            Channel.GOOGLE_WALLET: row["id"] in google,
        }
        channels[row["id"]] = {
            channel
            for channel, usable in found.items()
            if usable and (person, channel.value) not in opted_out
        }
    return _Reach(channels, held)  # type: ignore[arg-type]


# --- the dashboard ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardColumns:
    """The summary's row names (in :data:`SUMMARY` order) and the days table's headers."""

    figure: str = "Figure"
    value: str = "Value"
    summary: Sequence[str] = ()
    day: str = "Date"
    visits: str = "Visits"
    stamps: str = "Stamps"
    new_members: str = "New members"


SUMMARY: tuple[Callable[[Dashboard], object], ...] = (
    lambda d: d.first_day.isoformat(),
    lambda d: d.last_day.isoformat(),
    lambda d: d.members_total,
    lambda d: d.members_new,
    lambda d: d.visits,
    lambda d: d.stamps,
    lambda d: money(d.value_minor, d.currency),
    lambda d: d.vouchers_issued,
    lambda d: d.vouchers_redeemed,
    lambda d: d.campaigns_sending,
    lambda d: d.campaigns_scheduled,
    lambda d: d.attributed_visits,
    lambda d: money(d.attributed_value_minor, d.currency),
    lambda d: d.currency,
)
"""The summary rows: period from, to, members, new members, visits, stamps, value, vouchers
issued, redeemed, campaigns sending, scheduled, attributed visits, attributed value, currency."""


def dashboard_csv(
    board: Dashboard, *, columns: DashboardColumns | None = None, delimiter: str = ","
) -> bytes:
    """Two tables a blank line apart: the figures of the period, then one row per day."""
    labels = columns or DashboardColumns()
    sheet = _Sheet(delimiter)
    sheet.header([labels.figure, labels.value])
    names = list(labels.summary) or [f"{n + 1}" for n in range(len(SUMMARY))]
    sheet.add([name, figure(board)] for name, figure in zip(names, SUMMARY, strict=True))
    sheet.add([[]])
    sheet.header([labels.day, labels.visits, labels.stamps, labels.new_members])
    sheet.add([d.day.isoformat(), d.visits, d.stamps, d.new_members] for d in board.days)
    return sheet.done().data


__all__ = [
    "CsvFile",
    "DashboardColumns",
    "DeliveryColumns",
    "DeliveryExport",
    "MemberColumns",
    "dashboard_csv",
    "delivery_export",
    "member_export",
    "money",
    "safe_cell",
]
