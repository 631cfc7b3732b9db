"""``/campaigns``: the list with paging, a status filter and search; a campaign's page with its
statistics, and what can be done to it (edit, rename, copy, delete, pause, resume, stop,
exports).

The list and a campaign's page are one message, edited in place as the owner moves between
them, and the page is redrawn after every action on it, so its status and buttons are never
stale. 📊 Results on a finished progress message (or a digest) opens the page as a new message.

Every button carries the shop's id and is checked against the presser's seat there, and the
campaign is looked up within that shop only: a guessed or forged id is simply unknown.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal

from campaigns.errors import (
    CampaignError,
    CampaignNotFound,
    InvalidCampaign,
    WrongCampaignState,
)
from campaigns.naming import NAME_LIMIT, name_copy, rename
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
from handlers.campaign_names import campaign_title, short_date
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
from handlers.dashboard import DASHBOARD_BUTTON
from handlers.poster import POSTER_BUTTON
from handlers.texts import (
    and_list,
    arrows,
    back_label,
    button_expired,
    current_locale,
    user_text,
)
from handlers.wizard.draft import Draft
from handlers.wizard.flow import start_wizard
from loyalty.clock import utcnow
from loyalty.staff import Permission, seat_at
from models.enums import CampaignStatus, Channel

if TYPE_CHECKING:
    from campaigns.views import CampaignLine
    from handlers.campaign_progress import CampaignProgress
    from handlers.wizard.screens import WizardServices
    from models import Campaign, Staff

logger = logging.getLogger(__name__)
router = Router(name="campaign_list")

PAGE_SIZE = 5
SEARCH_KEY = "campaign_search"
CAMPAIGNS_BUTTON = __("📋 Campaigns")
RENAME_KEY = "campaign_rename"
ANSWER = F.text & ~F.text.startswith("/")
_GROUPS: dict[CampaignListFilter, tuple[CampaignStatus, ...]] = {
    CampaignListFilter.SCHEDULED: (CampaignStatus.SCHEDULED,),
    CampaignListFilter.DRAFTS: (CampaignStatus.DRAFT,),
    CampaignListFilter.SENT: (
        CampaignStatus.SENDING,
        CampaignStatus.DONE,
        CampaignStatus.CANCELLED,
        CampaignStatus.FAILED,
    ),
    CampaignListFilter.PAUSED: (CampaignStatus.PAUSED,),
}
CHANNELS = {c.value for c in Channel}


class CampaignRename(StatesGroup):
    name = State()  # the new name, typed


def _filter_names() -> dict[CampaignListFilter, str]:
    return {
        CampaignListFilter.ALL: _("All"),
        CampaignListFilter.SCHEDULED: _("Scheduled"),
        CampaignListFilter.DRAFTS: _("Drafts"),
        CampaignListFilter.SENT: _("Sent"),
        CampaignListFilter.PAUSED: _("Paused"),
    }


def _showing(group: CampaignListFilter) -> str:
    """The filter in force, in words (not only a mark on its button)."""
    names = {
        CampaignListFilter.ALL: _("Showing: all campaigns"),
        CampaignListFilter.SCHEDULED: _("Showing: scheduled"),
        CampaignListFilter.DRAFTS: _("Showing: drafts"),
        CampaignListFilter.SENT: _("Showing: sent"),
        CampaignListFilter.PAUSED: _("Showing: paused"),
    }
    return names.get(group, "")


def _state_words(line: CampaignLine, timezone: str) -> str:
    """What the list button says about the campaign's state: "sent 2 Dec", "draft"."""
    status = line.status

    def day(moment: datetime | None) -> str:
        return short_date(moment, timezone) if moment is not None else ""

    if status == CampaignStatus.DONE and (when := line.finished_at or line.started_at):
        return _("sent {date}").format(date=day(when))
    if status == CampaignStatus.SCHEDULED and line.scheduled_at is not None:
        return _("scheduled for {date}").format(date=day(line.scheduled_at))
    if status == CampaignStatus.CANCELLED and line.finished_at is not None:
        return _("stopped {date}").format(date=day(line.finished_at))
    return status_name(status)


def _line_label(line: CampaignLine, timezone: str) -> str:
    title = campaign_title(
        line.name, line.message_text, line.created_at, timezone, html=False, dated=False
    )
    return f"{title} · {_state_words(line, timezone)}"


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
    lines = [_("<b>Campaigns</b>")]
    if group == CampaignListFilter.SEARCH and search:
        lines = [_("<b>Campaigns</b> matching “{text}”").format(text=user_text(search))]
    else:
        lines.append(_showing(group))
    if not campaigns:
        lines.append(_("None here yet. 📣 New campaign creates one."))
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": seat.merchant_id}
    # Each campaign once, as its button: the name and its state in words.
    for campaign in campaigns:
        builder.button(
            text=_line_label(campaign, found.timezone),
            callback_data=CampaignAction(
                op=CampaignOp.SHOW, campaign_id=campaign.id, page=page, group=group, **ids
            ),
        )
    filters = [(value, name) for value, name in _filter_names().items() if value != group]
    for value, name in filters:
        builder.button(
            text=name, callback_data=CampaignAction(op=CampaignOp.LIST, group=value, **ids)
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
    widths = [1] * len(campaigns)
    widths += [3, len(filters) - 3] if len(filters) > 3 else [len(filters)]
    builder.adjust(*widths, *([paging] if paging else []))
    return "\n".join(lines), builder.as_markup()


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the screen in place; an edit that changes nothing is no error to the person."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise


def _gone() -> str:
    return _("This campaign no longer exists.")


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
        await query.answer(_gone(), show_alert=True)
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
    # Pressing the filter that is already shown changes nothing, and Telegram says so.
    await _edit(message, text, markup)


def _detail_markup(campaign: CampaignDetail, back: CampaignAction) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    # Where "back" and every redraw return to: the list page and filter it was opened from.
    ids = {
        "merchant_id": campaign.merchant_id,
        "campaign_id": campaign.id,
        "page": back.page,
        "group": back.group,
    }
    status = CampaignStatus(campaign.status)
    actions: list[tuple[str, CampaignOp]] = []
    if status == CampaignStatus.SCHEDULED:
        actions.append((_("🕒 Change time"), CampaignOp.CHANGE_TIME))  # handlers/wizard/flow
    if status == CampaignStatus.DRAFT:
        actions.append((_("🚀 Send now"), CampaignOp.SEND))
    if status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
        actions.append((_("⏸ Pause"), CampaignOp.PAUSE))
    if status == CampaignStatus.PAUSED:
        actions.append((_("▶ Resume"), CampaignOp.RESUME))
    if status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED):
        actions.append((_("⏹ Stop sending"), CampaignOp.CANCEL))
    if status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        actions.append((_("Edit"), CampaignOp.EDIT))
    actions.append((_("✏️ Rename"), CampaignOp.RENAME))
    actions.append((_("Copy"), CampaignOp.COPY))
    if status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        actions.append((_("Delete"), CampaignOp.DELETE))
    if campaign.started_at is not None:
        actions += [(_("Chart"), CampaignOp.CHART), (_("CSV"), CampaignOp.CSV)]
        actions.append((_("Export"), CampaignOp.EXPORT))  # per recipient: handlers/dashboard
    for label, op in actions:
        builder.button(text=label, callback_data=CampaignAction(op=op, **ids))
    builder.button(
        text=back_label(_("All campaigns")),
        callback_data=CampaignAction(
            op=CampaignOp.LIST,
            merchant_id=campaign.merchant_id,
            page=back.page,
            group=back.group,
        ),
    )
    builder.adjust(2)
    return builder.as_markup()


def _title(campaign: CampaignDetail) -> str:
    return campaign_title(
        campaign.name, campaign.message_text, campaign.created_at, campaign.timezone
    )


def _status(campaign: CampaignDetail) -> str:
    """Its status in words; "starting…" once its time has come and the worker has not begun."""
    due = campaign.scheduled_at is not None and campaign.scheduled_at <= utcnow()
    if campaign.status == CampaignStatus.SCHEDULED and due and campaign.started_at is None:
        return _("starting…")
    return status_name(campaign.status)


def _detail_text(campaign: CampaignDetail) -> str:
    lines = [
        f"📣 <b>{_title(campaign)}</b> — {_status(campaign)}",
        _("Card: {card}").format(card=user_text(campaign.card_name)),
        _("To: {who}").format(who=escape(and_list(audience_lines(campaign.audience)))),
        _("Channels: {channels}").format(channels=channels_line(list(campaign.channels))),
        when_line(campaign, campaign.timezone),
    ]
    if campaign.push_text:
        lines.append(_("Lock-screen line: {text}").format(text=user_text(campaign.push_text)))
    if campaign.voucher_title:
        lines.append(voucher_summary(campaign.voucher_title, campaign.voucher_validity_days or 0))
    if campaign.stats is not None:
        lines.append("")
        lines += stats_lines(campaign.stats)
    return "\n".join(lines)


async def _detail(query: CallbackQuery, data: CampaignAction) -> CampaignDetail | None:
    try:
        return await campaign_detail(data.campaign_id, merchant_id=data.merchant_id)
    except CampaignNotFound:
        await query.answer(_gone(), show_alert=True)
        return None


async def _redraw(message: Message, data: CampaignAction) -> None:
    """The campaign's page, drawn again where it is, as it is now."""
    try:
        campaign = await campaign_detail(data.campaign_id, merchant_id=data.merchant_id)
    except CampaignNotFound:
        return
    await _edit(message, _detail_text(campaign), _detail_markup(campaign, data))


@router.callback_query(CampaignAction.filter(F.op.in_({CampaignOp.SHOW, CampaignOp.RESULTS})))
async def show_pressed(
    query: CallbackQuery, callback_data: CampaignAction, state: FSMContext
) -> None:
    """The list's button turns the list into the campaign's page; 📊 on a progress message or
    a digest posts the page below it, so what it reported stays readable."""
    found = await _seat(query, callback_data, Permission.STATISTICS)
    if found is None or (campaign := await _detail(query, callback_data)) is None:
        return
    if await state.get_state() == CampaignRename.name:
        await state.set_state(None)  # "back" from the rename question
    await query.answer()
    text, markup = _detail_text(campaign), _detail_markup(campaign, callback_data)
    if callback_data.op == CampaignOp.RESULTS:
        await found[1].answer(text, reply_markup=markup)
    else:
        await _edit(found[1], text, markup)


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
        source = campaign.name
        copy = await copy_campaign(campaign)
        campaign = await name_copy(
            copy.id, merchant_id=copy.merchant_id, source=source, suffix=" " + _("(copy)")
        )
        title = _title(await campaign_detail(campaign.id, merchant_id=campaign.merchant_id))
        await message.answer(
            _("Copied as <b>{name}</b>, a draft. Change what you like:").format(name=title)
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
    """Asks on the campaign's page itself (a new message under a progress message, which
    keeps reporting), with a way out that keeps everything as it is."""
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None or (row := await _campaign(query, callback_data)) is None:
        return
    if (campaign := await _detail(query, callback_data)) is None:
        return
    message = found[1]
    deleting = callback_data.op == CampaignOp.DELETE
    here = {
        "merchant_id": campaign.merchant_id,
        "campaign_id": campaign.id,
        "page": callback_data.page,
        "group": callback_data.group,
    }
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, delete it") if deleting else _("Yes, stop sending"),
        callback_data=CampaignAction(
            op=CampaignOp.DELETE_CONFIRM if deleting else CampaignOp.CANCEL_CONFIRM, **here
        ),
    )
    builder.button(text=_("No, keep it"), callback_data=CampaignAction(op=CampaignOp.SHOW, **here))
    question = (
        _("Delete <b>{name}</b>? Its statistics go with it.")
        if deleting
        else _("Stop <b>{name}</b> for good? Messages not sent yet will not be sent.")
    )
    text = question.format(name=_title(campaign))
    await query.answer()
    if _is_progress(row, message):
        await message.answer(text, reply_markup=builder.as_markup())
    else:
        await _edit(message, text, builder.as_markup())


def _is_progress(campaign: Campaign, message: Message) -> bool:
    """The campaign's progress message, which redraws itself; any other screen with its
    buttons is the campaign's page."""
    where = (campaign.progress_chat_id, campaign.progress_message_id)
    return where == (message.chat.id, message.message_id)


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
    on_progress = _is_progress(campaign, message)
    try:
        if callback_data.op == CampaignOp.DELETE_CONFIRM:
            detail = await campaign_detail(campaign.id, merchant_id=campaign.merchant_id)
            await delete_campaign(campaign)
            await query.answer()
            back = InlineKeyboardBuilder()
            back.button(
                text=back_label(_("All campaigns")),
                callback_data=CampaignAction(
                    op=CampaignOp.LIST,
                    merchant_id=campaign.merchant_id,
                    page=callback_data.page,
                    group=callback_data.group,
                ),
            )
            await _edit(
                message,
                _("<b>{name}</b> was deleted.").format(name=_title(detail)),
                back.as_markup(),
            )
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
            await _redraw(message, callback_data)
            return
    except WrongCampaignState as refused:
        await query.answer(
            _("Not possible now: the campaign is {status}.").format(
                status=status_name(refused.status)
            ),
            show_alert=True,
        )
        if not on_progress:
            await _redraw(message, callback_data)  # show what it is now instead
        return
    except CampaignError:
        await query.answer(_gone(), show_alert=True)
        return
    await query.answer(notice)
    if not on_progress:
        await _redraw(message, callback_data)


@router.callback_query(CampaignAction.filter(F.op == CampaignOp.RENAME))
async def rename_pressed(
    query: CallbackQuery, callback_data: CampaignAction, state: FSMContext
) -> None:
    found = await _seat(query, callback_data, Permission.CAMPAIGNS)
    if found is None or (campaign := await _detail(query, callback_data)) is None:
        return
    message = found[1]
    await state.set_state(CampaignRename.name)
    await state.update_data(
        {
            RENAME_KEY: [
                campaign.merchant_id,
                campaign.id,
                callback_data.page,
                str(callback_data.group),
                message.message_id,
            ]
        }
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=back_label(),
        callback_data=CampaignAction(
            op=CampaignOp.SHOW,
            merchant_id=campaign.merchant_id,
            campaign_id=campaign.id,
            page=callback_data.page,
            group=callback_data.group,
        ),
    )
    await query.answer()
    await _edit(
        message,
        ngettext(
            "Send the new name for <b>{name}</b>, up to {limit} character.",
            "Send the new name for <b>{name}</b>, up to {limit} characters.",
            NAME_LIMIT,
        ).format(name=_title(campaign), limit=NAME_LIMIT),
        builder.as_markup(),
    )


def _not_a_menu_button(message: Message) -> bool:
    """A tap on the admin keyboard while renaming goes where it always goes, not into a name
    (the other admin buttons are heard by routers tried before this one)."""
    return message.text not in {str(label) for label in (DASHBOARD_BUTTON, POSTER_BUTTON)}


@router.message(StateFilter(CampaignRename.name), ANSWER, _not_a_menu_button)
async def rename_typed(message: Message, state: FSMContext) -> None:
    user = message.from_user
    stored = (await state.get_data()).get(RENAME_KEY)
    if user is None or not isinstance(stored, list) or len(stored) != 5:
        await state.set_state(None)
        await message.answer(button_expired())
        return
    merchant_id, campaign_id, page, group, prompt_id = stored
    if await seat_at(user.id, int(merchant_id), Permission.CAMPAIGNS) is None:
        await state.set_state(None)
        await message.answer(_("Only the owner or a manager can see campaigns."))
        return
    try:
        await rename(int(campaign_id), merchant_id=int(merchant_id), text=message.text or "")
    except InvalidCampaign:
        await message.answer(
            ngettext(
                "A campaign name is one line of up to {limit} character. Please send another, "
                "or press Back.",
                "A campaign name is one line of up to {limit} characters. Please send another, "
                "or press Back.",
                NAME_LIMIT,
            ).format(limit=NAME_LIMIT)
        )
        return
    except CampaignNotFound:
        await state.set_state(None)
        await message.answer(_gone())
        return
    await state.set_state(None)
    await state.update_data({RENAME_KEY: None})
    back = CampaignAction(
        op=CampaignOp.SHOW,
        merchant_id=int(merchant_id),
        campaign_id=int(campaign_id),
        page=int(page),
        group=CampaignListFilter(group),
    )
    campaign = await campaign_detail(int(campaign_id), merchant_id=int(merchant_id))
    # The question no longer applies: it is stripped of its button, the page comes anew.
    with contextlib.suppress(TelegramBadRequest):
        await message.bot.edit_message_text(  # type: ignore[union-attr]
            _("Renamed to <b>{name}</b>.").format(name=_title(campaign)),
            chat_id=message.chat.id,
            message_id=int(prompt_id),
        )
    await message.answer(_detail_text(campaign), reply_markup=_detail_markup(campaign, back))


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
