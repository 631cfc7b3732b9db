"""``/campaigns``: the list with paging, a status filter and search; a campaign's page with its
statistics, and what can be done to it (edit, copy, delete, pause, resume, cancel, exports).

Every button carries the shop's id and is checked against the presser's seat there, and the
campaign is looked up within that shop only: a guessed or forged id is simply unknown.
"""

from __future__ import annotations

import logging
import re
from html import escape
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal

from campaigns.errors import CampaignError, CampaignNotFound, WrongCampaignState
from campaigns.report import ChartLabels, CsvLabels, chart_png, csv_export
from campaigns.service import (
    cancel,
    copy_campaign,
    delete_campaign,
    get_campaign,
    pause,
    resume,
    send_now,
)
from campaigns.views import CampaignDetail, campaign_detail, campaign_page, campaign_report
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat
from handlers.callbacks import CampaignAction, CampaignListFilter, CampaignOp
from handlers.campaign_texts import (
    audience_lines,
    channel_name,
    channels_line,
    reason_name,
    stats_lines,
    status_name,
    voucher_summary,
    when_line,
)
from handlers.texts import (
    and_list,
    arrows,
    bold,
    button_expired,
    current_locale,
    user_text,
)
from handlers.wizard.draft import Draft
from handlers.wizard.flow import start_wizard
from loyalty.staff import Permission, seat_at
from models.enums import CampaignStatus, Channel

if TYPE_CHECKING:
    from handlers.campaign_progress import CampaignProgress
    from handlers.wizard.screens import WizardServices
    from models import Campaign, Staff

logger = logging.getLogger(__name__)
router = Router(name="campaign_list")

PAGE_SIZE = 5
SEARCH_KEY = "campaign_search"
CAMPAIGNS_BUTTON = __("📋 Campaigns")
_GROUPS: dict[CampaignListFilter, tuple[CampaignStatus, ...]] = {
    CampaignListFilter.ACTIVE: (CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
    CampaignListFilter.SUSPENDED: (CampaignStatus.PAUSED,),
    CampaignListFilter.INACTIVE: (
        CampaignStatus.DRAFT,
        CampaignStatus.DONE,
        CampaignStatus.CANCELLED,
        CampaignStatus.FAILED,
    ),
}
CHANNELS = {c.value for c in Channel}


async def _list_screen(
    seat: Staff, page: int, group: CampaignListFilter, search: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    found = await campaign_page(
        seat.merchant_id,
        page=page,
        size=PAGE_SIZE,
        statuses=_GROUPS.get(group),
        search=search if group == CampaignListFilter.SEARCH else None,
    )
    campaigns, page, pages = found.campaigns, found.page, found.pages
    heading = _("<b>Campaigns</b>")
    if group == CampaignListFilter.SEARCH and search:
        heading = _("<b>Campaigns</b> matching “{text}”").format(text=user_text(search))
    lines = [heading]
    if not campaigns:
        lines.append(_("None here yet. 📣 New campaign creates one."))
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": seat.merchant_id}
    for campaign in campaigns:
        lines.append(f"• {user_text(campaign.name)} — {status_name(campaign.status)}")
        builder.button(
            text=f"{user_text(campaign.name, html=False, limit=48)} · "
            f"{status_name(campaign.status)}",
            callback_data=CampaignAction(
                op=CampaignOp.SHOW, campaign_id=campaign.id, page=page, group=group, **ids
            ),
        )
    names = {
        CampaignListFilter.ALL: _("All"),
        CampaignListFilter.ACTIVE: _("Active"),
        CampaignListFilter.INACTIVE: _("Not active"),
        CampaignListFilter.SUSPENDED: _("Suspended"),
    }
    for value, name in names.items():
        builder.button(
            text=("• " if value == group else "") + name,
            callback_data=CampaignAction(op=CampaignOp.LIST, group=value, **ids),
        )
    paging = 0
    back, forward = arrows()
    if page > 0:
        paging += 1
        builder.button(
            text=back,
            callback_data=CampaignAction(op=CampaignOp.LIST, page=page - 1, group=group, **ids),
        )
    if page + 1 < pages:
        paging += 1
        builder.button(
            text=forward,
            callback_data=CampaignAction(op=CampaignOp.LIST, page=page + 1, group=group, **ids),
        )
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    lines.append(_("Search: /campaigns followed by a name or a date such as 24.11."))
    builder.adjust(*([1] * len(campaigns)), 4, *([paging] if paging else []))
    return "\n".join(lines), builder.as_markup()


@router.message(Command("campaigns"), IsStaff())
@router.message(F.text == CAMPAIGNS_BUTTON, IsStaff())
async def campaigns_command(
    message: Message, state: FSMContext, command: CommandObject | None = None
) -> None:
    user = message.from_user
    if user is None:
        return
    if await admin_merchant(state) is None:
        await message.answer(_("Open admin mode with /admin first."))
        return
    seat = await admin_seat(state, user.id, Permission.CAMPAIGNS)
    if seat is None:
        await message.answer(_("Only the owner or a manager can see campaigns."))
        return
    search = (command.args or "").strip()[:64] if command else ""
    await state.update_data({SEARCH_KEY: search or None})
    group = CampaignListFilter.SEARCH if search else CampaignListFilter.ALL
    text, markup = await _list_screen(seat, 0, group, search)
    await message.answer(text, reply_markup=markup)


async def _seat(
    query: CallbackQuery, data: CampaignAction, permission: Permission
) -> tuple[Staff, Message] | None:
    seat = await seat_at(query.from_user.id, data.merchant_id, permission)
    if seat is None or not isinstance(query.message, Message):
        logger.info("campaign button refused for user %s", query.from_user.id)
        await query.answer(button_expired())
        return None
    return seat, query.message


async def _campaign(query: CallbackQuery, data: CampaignAction) -> Campaign | None:
    try:
        return await get_campaign(data.campaign_id, merchant_id=data.merchant_id)
    except CampaignNotFound:
        await query.answer(button_expired())
        return None


@router.callback_query(CampaignAction.filter(F.op == CampaignOp.LIST))
async def list_pressed(
    query: CallbackQuery, callback_data: CampaignAction, state: FSMContext
) -> None:
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None:
        return
    seat, message = found
    search = (await state.get_data()).get(SEARCH_KEY)
    text, markup = await _list_screen(
        seat, callback_data.page, callback_data.group, search if isinstance(search, str) else None
    )
    await query.answer()
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        # Pressing the filter that is already shown changes nothing, and Telegram says so.
        if "message is not modified" not in error.message:
            raise


def _detail_markup(campaign: CampaignDetail, back: CampaignAction) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": campaign.merchant_id, "campaign_id": campaign.id}
    status = CampaignStatus(campaign.status)
    actions: list[tuple[str, CampaignOp]] = []
    if status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        actions.append((_("✏️ Edit"), CampaignOp.EDIT))
    if status == CampaignStatus.SCHEDULED:
        actions.append((_("🕒 Change time"), CampaignOp.CHANGE_TIME))  # handlers/wizard/flow
    if status == CampaignStatus.DRAFT:
        actions.append((_("🚀 Send now"), CampaignOp.SEND))
    if status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
        actions.append((_("⏸ Pause"), CampaignOp.PAUSE))
    if status == CampaignStatus.PAUSED:
        actions.append((_("▶ Resume"), CampaignOp.RESUME))
    if status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED):
        actions.append((_("⏹ Cancel"), CampaignOp.CANCEL))
    actions.append((_("📄 Copy"), CampaignOp.COPY))
    if status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        actions.append((_("🗑 Delete"), CampaignOp.DELETE))
    if campaign.started_at is not None:
        actions += [(_("📈 Chart"), CampaignOp.CHART), (_("📊 CSV"), CampaignOp.CSV)]
        actions.append((_("⬇️ Export"), CampaignOp.EXPORT))  # per recipient: handlers/dashboard
    for label, op in actions:
        builder.button(text=label, callback_data=CampaignAction(op=op, **ids))
    builder.button(
        text=_("◀ All campaigns"),
        callback_data=CampaignAction(
            op=CampaignOp.LIST,
            merchant_id=campaign.merchant_id,
            page=back.page,
            group=back.group,
        ),
    )
    builder.adjust(2)
    return builder.as_markup()


def _detail_text(campaign: CampaignDetail) -> str:
    lines = [
        f"📣 {bold(campaign.name)} — {status_name(campaign.status)}",
        _("Card: {card}").format(card=user_text(campaign.card_name)),
        _("Audience: {who}").format(who=escape(and_list(audience_lines(campaign.audience)))),
        _("Channels: {channels}").format(channels=channels_line(list(campaign.channels))),
        when_line(campaign, campaign.timezone),
    ]
    if campaign.push_text:
        lines.append(_("Push text: {text}").format(text=user_text(campaign.push_text)))
    if campaign.voucher_title:
        lines.append(voucher_summary(campaign.voucher_title, campaign.voucher_validity_days or 0))
    if campaign.stats is not None:
        lines.append("")
        lines += stats_lines(campaign.stats)
    return "\n".join(lines)


@router.callback_query(CampaignAction.filter(F.op == CampaignOp.SHOW))
async def show_pressed(query: CallbackQuery, callback_data: CampaignAction) -> None:
    found = await _seat(query, callback_data, Permission.STATISTICS)
    if found is None:
        return
    try:
        campaign = await campaign_detail(
            callback_data.campaign_id, merchant_id=callback_data.merchant_id
        )
    except CampaignNotFound:
        await query.answer(button_expired())
        return
    await query.answer()
    await found[1].answer(
        _detail_text(campaign), reply_markup=_detail_markup(campaign, callback_data)
    )


@router.callback_query(CampaignAction.filter(F.op.in_({CampaignOp.EDIT, CampaignOp.COPY})))
async def edit_pressed(
    query: CallbackQuery,
    callback_data: CampaignAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None or (campaign := await _campaign(query, callback_data)) is None:
        return
    seat, message = found
    if callback_data.op == CampaignOp.COPY:
        campaign = await copy_campaign(campaign)
        await message.answer(
            _("Copied as {name}, a draft. Change what you like:").format(name=bold(campaign.name))
        )
    elif campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        await query.answer(
            _("Only drafts and scheduled campaigns can be edited."), show_alert=True
        )
        return
    await query.answer()
    # Editing works for the shop on the button, even if admin mode was left meanwhile.
    await state.update_data({"admin_merchant_id": seat.merchant_id})
    await start_wizard(message, state, seat, Draft.of_campaign(campaign), wizard)


@router.callback_query(CampaignAction.filter(F.op.in_({CampaignOp.DELETE, CampaignOp.CANCEL})))
async def ask_to_confirm(query: CallbackQuery, callback_data: CampaignAction) -> None:
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None or (campaign := await _campaign(query, callback_data)) is None:
        return
    deleting = callback_data.op == CampaignOp.DELETE
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, delete it") if deleting else _("Yes, stop sending"),
        callback_data=CampaignAction(
            op=CampaignOp.DELETE_CONFIRM if deleting else CampaignOp.CANCEL_CONFIRM,
            merchant_id=campaign.merchant_id,
            campaign_id=campaign.id,
        ),
    )
    question = (
        _("Delete {name}? Its statistics go with it.")
        if deleting
        else _("Stop {name} for good? Messages not sent yet will not be sent.")
    )
    await query.answer()
    await found[1].answer(
        question.format(name=bold(campaign.name)), reply_markup=builder.as_markup()
    )


@router.callback_query(
    CampaignAction.filter(
        F.op.in_(
            {
                CampaignOp.DELETE_CONFIRM,
                CampaignOp.CANCEL_CONFIRM,
                CampaignOp.PAUSE,
                CampaignOp.RESUME,
                CampaignOp.SEND,
            }
        )
    )
)
async def change_pressed(
    query: CallbackQuery, callback_data: CampaignAction, progress: CampaignProgress
) -> None:
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None or (campaign := await _campaign(query, callback_data)) is None:
        return
    message = found[1]
    name = bold(campaign.name)
    try:
        if callback_data.op == CampaignOp.DELETE_CONFIRM:
            await delete_campaign(campaign)
            await query.answer()
            await message.edit_text(_("{name} was deleted.").format(name=name))
            return
        if callback_data.op == CampaignOp.CANCEL_CONFIRM:
            await cancel(campaign)
            notice = _("Stopped. Nothing more will be sent.")
        elif callback_data.op == CampaignOp.PAUSE:
            await pause(campaign)
            notice = _("Paused. Resume whenever you like.")
        elif callback_data.op == CampaignOp.RESUME:
            await resume(campaign)
            notice = _("Sending again.")
        else:
            await send_now(campaign)
            await query.answer()
            await progress.follow(message.chat.id, campaign.id, merchant_id=campaign.merchant_id)
            return
    except WrongCampaignState as refused:
        await query.answer(
            _("Not possible now: the campaign is {status}.").format(
                status=status_name(refused.status)
            ),
            show_alert=True,
        )
        return
    except CampaignError:
        await query.answer(button_expired())
        return
    await query.answer(notice)
    if callback_data.op == CampaignOp.CANCEL_CONFIRM:
        await message.edit_text(_("{name} was stopped.").format(name=name))


def _chart_labels() -> ChartLabels:
    return ChartLabels(
        deliveries=_("Messages delivered"),
        visits=_("Visits after the campaign"),
        no_data=_("No deliveries yet"),
    )


def _csv_labels(codes: set[str]) -> CsvLabels:
    names = {code: channel_name(code) if code in CHANNELS else reason_name(code) for code in codes}
    return CsvLabels(
        day=_("Date"),
        sent=_("Sent"),
        failed=_("Failed"),
        opened=_("Opened"),
        clicked=_("Clicked"),
        visits=_("Visits (attributed)"),
        redeemed=_("Vouchers redeemed (attributed)"),
        total=_("Total"),
        channel=_("Channel"),
        targeted=_("Targeted"),
        pending=_("Waiting"),
        skipped=_("Skipped"),
        names=names,
    )


@router.callback_query(CampaignAction.filter(F.op.in_({CampaignOp.CHART, CampaignOp.CSV})))
async def export_pressed(query: CallbackQuery, callback_data: CampaignAction) -> None:
    found = await _seat(query, callback_data, Permission.STATISTICS)
    if found is None:
        return
    try:
        campaign = await campaign_report(
            callback_data.campaign_id,
            merchant_id=callback_data.merchant_id,
            with_stats=callback_data.op == CampaignOp.CSV,
        )
    except CampaignNotFound:
        await query.answer(button_expired())
        return
    rows = campaign.days
    safe_name = re.sub(r"[^\w.-]+", "_", campaign.name)[:60] or "campaign"
    await query.answer()
    if callback_data.op == CampaignOp.CHART:
        png = chart_png(rows, title=campaign.name, labels=_chart_labels())
        await found[1].answer_photo(
            BufferedInputFile(png, filename=f"{safe_name}.png"),
            caption=_("{name}: deliveries and visits per day").format(
                name=user_text(campaign.name)
            ),
        )
    else:
        stats = campaign.stats
        assert stats is not None  # asked for with the CSV
        codes = set(stats.channels) | {
            reason
            for channel in stats.channels.values()
            for reason in (*channel.failed, *channel.skipped)
        }
        # Excel in locales with a decimal comma expects semicolons between cells.
        comma_decimal = format_decimal(1.5, locale=current_locale()) != "1.5"
        data = csv_export(
            rows, stats, labels=_csv_labels(codes), delimiter=";" if comma_decimal else ","
        )
        await found[1].answer_document(
            BufferedInputFile(data, filename=f"{safe_name}.csv"),
            caption=_("{name}: statistics per day and per channel").format(
                name=user_text(campaign.name)
            ),
        )
