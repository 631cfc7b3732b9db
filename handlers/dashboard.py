"""📊 Dashboard: the shop's figures for this week, the last 30 days or all time, as text, a
chart and a CSV; the member export (owners) and a campaign's per-recipient export.

Every button carries the shop's id and is checked against the presser's seat there on every
press; a campaign is looked up within that shop only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from campaigns.dashboard import BarLabels, Dashboard, Period, chart_png, dashboard
from campaigns.errors import CampaignNotFound
from campaigns.exports import (
    DashboardColumns,
    DeliveryColumns,
    MemberColumns,
    dashboard_csv,
    delivery_export,
    member_export,
    money,
)
from handlers.admin_mode import IsStaff, SeatFor, admin_merchant, admin_seat, enter_admin_mode
from handlers.callbacks import (
    AdminAction,
    AdminOp,
    CampaignAction,
    CampaignOp,
    DashboardAction,
    DashboardOp,
)
from handlers.campaign_texts import channel_name, reason_name
from handlers.texts import (
    button_expired,
    current_locale,
    isolate,
    ltr,
    number,
    picked_label,
    right_to_left,
    separated,
    user_text,
)
from loyalty.errors import LoyaltyError
from loyalty.staff import Permission, allows, seat_at
from models.enums import Channel, DeliveryStatus

if TYPE_CHECKING:
    from models import Staff

logger = logging.getLogger(__name__)
router = Router(name="dashboard")
DASHBOARD_BUTTON = __("📊 Dashboard")


def first_week_day(locale: str) -> int:
    """0 Monday … 6 Sunday, as the locale's country counts weeks (Babel); Monday if unknown.

    A bare language has no country, so its likely one stands in: en → US (Sunday), he → IL
    (Sunday), fa → IR (Saturday), uk → UA (Monday).
    """
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
        if parsed.territory is None:
            likely = get_global("likely_subtags").get(parsed.language)
            if likely:
                parsed = Locale.parse(likely)
        return int(parsed.first_week_day) if parsed.territory else 0
    except (UnknownLocaleError, ValueError, TypeError):
        return 0


def _comma_decimal() -> bool:
    # Excel in locales with a decimal comma expects semicolons between cells.
    return format_decimal(1.5, locale=current_locale()) != "1.5"


def _delimiter() -> str:
    return ";" if _comma_decimal() else ","


def _money(minor: int, currency: str) -> str:
    try:
        return ltr(format_currency(money(minor, currency), currency, locale=current_locale()))
    except (ValueError, KeyError):
        return ltr(f"{money(minor, currency)} {currency}")


def _period_name(period: Period) -> str:
    names = {
        Period.WEEK: _("This week"),
        Period.DAYS_30: _("Last 30 days"),
        Period.ALL: _("All time"),
    }
    return names[period]


def _span(board: Dashboard) -> str:
    locale = current_locale()
    first = format_date(board.first_day, "medium", locale=locale)
    last = format_date(board.last_day, "medium", locale=locale)
    return isolate(f"{first} – {last}")


def dashboard_text(board: Dashboard) -> str:
    lines = [
        _("<b>Dashboard · {shop}</b>").format(shop=user_text(board.shop_name)),
        _("{period}: {span}").format(period=_period_name(board.period), span=_span(board)),
        "",
        _("👥 Members: {total} ({new} new)").format(
            total=number(board.members_total), new=number(board.members_new)
        ),
        _("☕ Visits: {visits} · stamps: {stamps}").format(
            visits=number(board.visits), stamps=number(board.stamps)
        ),
    ]
    if board.value_minor:
        lines.append(
            _("💰 Receipts recorded: {amount}").format(
                amount=_money(board.value_minor, board.currency)
            )
        )
    lines += [
        _("🎁 Vouchers: {issued} issued, {redeemed} redeemed").format(
            issued=number(board.vouchers_issued), redeemed=number(board.vouchers_redeemed)
        ),
        _("📣 Campaigns: {sending} sending, {scheduled} scheduled").format(
            sending=number(board.campaigns_sending), scheduled=number(board.campaigns_scheduled)
        ),
        ngettext(
            "📈 Visits after a campaign: {count} (within {days} day of the message)",
            "📈 Visits after a campaign: {count} (within {days} days of the message)",
            board.window_days,
        ).format(count=number(board.attributed_visits), days=number(board.window_days)),
    ]
    if board.attributed_with_amount:
        lines.append(
            ngettext(
                "💰 Their value: {amount} (receipt amounts of {count} visit)",
                "💰 Their value: {amount} (receipt amounts of {count} visits)",
                board.attributed_with_amount,
            ).format(
                amount=_money(board.attributed_value_minor, board.currency),
                count=number(board.attributed_with_amount),
            )
        )
    return "\n".join(lines)


def _markup(seat: Staff, period: Period) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": seat.merchant_id}
    for value in Period:
        builder.button(
            text=picked_label(_period_name(value), value == period),
            callback_data=DashboardAction(op=DashboardOp.SHOW, period=value.value, **ids),
        )
    builder.button(
        text=_("📈 Chart"),
        callback_data=DashboardAction(op=DashboardOp.CHART, period=period.value, **ids),
    )
    builder.button(
        text=_("⬇️ CSV"),
        callback_data=DashboardAction(op=DashboardOp.CSV, period=period.value, **ids),
    )
    rows = [3, 2]
    if allows(seat, Permission.EXPORT_MEMBERS):
        builder.button(
            text=_("👥 Export members"),
            callback_data=DashboardAction(op=DashboardOp.MEMBERS, period=period.value, **ids),
        )
        rows.append(1)
    builder.adjust(*rows)
    return builder.as_markup()


async def _board(seat: Staff, period: Period) -> Dashboard:
    return await dashboard(
        seat.merchant_id, period, first_week_day=first_week_day(current_locale())
    )


@router.message(Command("dashboard"), IsStaff())
@router.message(F.text == DASHBOARD_BUTTON, IsStaff())
async def dashboard_command(message: Message, state: FSMContext) -> None:
    user = message.from_user
    if user is None:
        return
    if await admin_merchant(state) is None:
        await message.answer(_("Open admin mode with /admin first."))
        return
    seat = await admin_seat(state, user.id, Permission.STATISTICS)
    if seat is None:
        await message.answer(_("Only the owner or a manager can see the dashboard."))
        return
    board = await _board(seat, Period.WEEK)
    await message.answer(dashboard_text(board), reply_markup=_markup(seat, Period.WEEK))


@router.callback_query(
    AdminAction.filter(F.op == AdminOp.DASHBOARD), SeatFor(Permission.STATISTICS)
)
async def dashboard_pressed(
    query: CallbackQuery, state: FSMContext, seat: Staff, screen: Message
) -> None:
    await query.answer()
    await enter_admin_mode(state, seat.merchant_id)
    board = await _board(seat, Period.WEEK)
    await screen.answer(dashboard_text(board), reply_markup=_markup(seat, Period.WEEK))


def _chart_labels() -> BarLabels:
    return BarLabels(visits=_("Visits"), stamps=_("Stamps"), no_data=_("No visits yet"))


def _dashboard_columns() -> DashboardColumns:
    return DashboardColumns(
        figure=_("Figure"),
        value=_("Value"),
        summary=(
            _("From"),
            _("To"),
            _("Members"),
            _("New members"),
            _("Visits"),
            _("Stamps"),
            _("Receipts recorded"),
            _("Vouchers issued"),
            _("Vouchers redeemed"),
            _("Campaigns sending"),
            _("Campaigns scheduled"),
            _("Visits after a campaign"),
            _("Receipts of visits after a campaign"),
            _("Currency"),
        ),
        day=_("Date"),
        visits=_("Visits"),
        stamps=_("Stamps"),
        new_members=_("New members"),
    )


def _member_columns() -> MemberColumns:
    return MemberColumns(
        customer_id=_("Customer ID"),
        name=_("Name"),
        card=_("Card"),
        joined=_("Joined"),
        balance=_("Stamps"),
        visits=_("Visits"),
        last_visit=_("Last visit"),
        vouchers=_("Vouchers held"),
        channels=_("Reachable on"),
        email=_("Email (confirmed)"),
        channel_names={channel.value: channel_name(channel) for channel in Channel},
        separator=separated(["", ""]) or ", ",
    )


@router.callback_query(DashboardAction.filter())
async def dashboard_action(query: CallbackQuery, callback_data: DashboardAction) -> None:
    try:
        period = Period(callback_data.period)
    except ValueError:
        await query.answer(button_expired())
        return
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.STATISTICS)
    message = query.message
    if seat is None or not isinstance(message, Message):
        logger.info("dashboard button refused for user %s", query.from_user.id)
        await query.answer(button_expired())
        return
    if callback_data.op == DashboardOp.MEMBERS:
        await _members(query, message, seat)
        return
    board = await _board(seat, period)
    await query.answer()
    name = f"dashboard-{period.value}-{board.last_day.isoformat()}"
    if callback_data.op == DashboardOp.CHART:
        title = _("{shop}: visits and stamps, {period}").format(
            shop=board.shop_name, period=_period_name(period).lower()
        )
        png = chart_png(board, title=title, labels=_chart_labels(), rtl=right_to_left())
        await message.answer_photo(
            BufferedInputFile(png, filename=f"{name}.png"),
            caption=_("{period}: visits and stamps per day").format(period=_period_name(period)),
        )
    elif callback_data.op == DashboardOp.CSV:
        data = dashboard_csv(board, columns=_dashboard_columns(), delimiter=_delimiter())
        await message.answer_document(
            BufferedInputFile(data, filename=f"{name}.csv"),
            caption=_("{period}: the figures and one row per day").format(
                period=_period_name(period)
            ),
        )
    else:
        try:
            await message.edit_text(dashboard_text(board), reply_markup=_markup(seat, period))
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message:
                raise


async def _members(query: CallbackQuery, message: Message, seat: Staff) -> None:
    if not allows(seat, Permission.EXPORT_MEMBERS):
        await query.answer(_("Only the owner can export the member list."), show_alert=True)
        return
    await query.answer(_("Preparing the member list…"))
    try:
        export = await member_export(seat, columns=_member_columns(), delimiter=_delimiter())
    except LoyaltyError:
        await message.answer(_("Only the owner can export the member list."))
        return
    caption = ngettext(
        "{count} member. Personal data: keep this file private and delete it when done.",
        "{count} members. Personal data: keep this file private and delete it when done.",
        export.rows,
    ).format(count=number(export.rows))
    if export.truncated:
        caption += "\n" + _("The file was cut at its size limit.")
    await message.answer_document(
        BufferedInputFile(export.data, filename="members.csv"), caption=caption
    )


def _delivery_columns() -> DeliveryColumns:
    statuses = {
        DeliveryStatus.STANDBY: _("in reserve"),
        DeliveryStatus.PENDING: _("waiting"),
        DeliveryStatus.SENDING: _("sending"),
        DeliveryStatus.SENT: _("sent"),
        DeliveryStatus.FAILED: _("failed"),
        DeliveryStatus.SKIPPED: _("skipped"),
        DeliveryStatus.HOLDOUT: _("holdout group"),
    }
    names = {str(code): word for code, word in statuses.items()}
    names |= {channel.value: channel_name(channel) for channel in Channel}
    return _ReasonNames(
        customer_id=_("Customer ID"),
        name=_("Name"),
        channel=_("Channel"),
        status=_("Status"),
        reason=_("Reason"),
        sent=_("Sent"),
        opened=_("Opened"),
        clicked=_("Clicked"),
        names=names,
    )


class _ReasonNames(DeliveryColumns):
    """Reasons come in words too; a code added later reads "other", never an internal name."""

    def word(self, code: str | None) -> str:
        if not code:
            return ""
        return self.names.get(code) or reason_name(code)


@router.callback_query(
    CampaignAction.filter(F.op == CampaignOp.EXPORT), SeatFor(Permission.STATISTICS)
)
async def export_deliveries(
    query: CallbackQuery, callback_data: CampaignAction, seat: Staff, screen: Message
) -> None:
    message = screen
    try:
        export = await delivery_export(
            callback_data.campaign_id,
            seat=seat,
            columns=_delivery_columns(),
            delimiter=_delimiter(),
        )
    except (CampaignNotFound, LoyaltyError):
        await query.answer(button_expired())
        return
    await query.answer()
    caption = ngettext(
        "{name}: {count} message, one row each.",
        "{name}: {count} messages, one row each.",
        export.file.rows,
    ).format(name=user_text(export.campaign_name), count=number(export.file.rows))
    if export.file.truncated:
        caption += "\n" + _("The file was cut at its size limit.")
    await message.answer_document(
        BufferedInputFile(
            export.file.data, filename=f"deliveries-{callback_data.campaign_id}.csv"
        ),
        caption=caption,
    )
