"""The campaign wizard: card → audience → push text → voucher → channels → message → preview
and counts → test → when → confirm. Back and Cancel work at every step; bad input re-asks.

State lives in the FSM storage (Redis when configured), so a restart or another replica
continues the conversation: the draft, and the shop as ``campaigns.views`` read it when the
wizard opened (name, time zone, active cards), so the steps do not read it again. Every step
re-checks the staff member's role at the shop; the campaign service checks the rest when it is
confirmed. What each step shows is in ``handlers.wizard.screens``; this module handles the
answers and moves on. Handlers take the dispatcher's services by name: ``wizard`` (the
:class:`WizardServices` the composition root builds once with ``wizard_services``),
``progress``, ``customer``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from campaigns.errors import CampaignNotFound, InvalidCampaign, WrongCampaignState
from campaigns.preview import send_test
from campaigns.service import create_campaign, get_campaign, schedule, send_now, update_campaign
from campaigns.spec import (
    MAX_MESSAGE,
    MAX_VOUCHER_DAYS,
    MAX_VOUCHER_TITLE,
    check_send_time,
    push_length,
)
from campaigns.views import campaign_shop
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat
from handlers.callbacks import WizardAction, WizardOp, parse_db_id
from handlers.campaign_texts import WALLET, field_name, status_name
from handlers.texts import (
    bold,
    button_expired,
    current_locale,
    local_datetime,
    ltr,
    number,
    separated,
    user_text,
)
from handlers.wizard.draft import Draft, load_draft, save_draft
from handlers.wizard.screens import (
    AUDIENCE_CHOICES,
    VOUCHER_DAYS,
    CampaignWizard,
    WizardServices,
    audience_markup,
    audience_text,
    channels_markup,
    channels_text,
    reachable,
    show_step,
    wallet_not_set_up,
)
from loyalty.clock import utcnow
from loyalty.staff import Permission
from models.enums import CampaignStatus, Channel, DeliveryPolicy

if TYPE_CHECKING:
    from campaigns.preview import MailChannel
    from campaigns.views import CampaignShop
    from channels.base import DeliveryChannel
    from handlers.campaign_progress import CampaignProgress
    from models import Customer, Staff
    from wallets.service import Wallets

logger = logging.getLogger(__name__)
router = Router(name="wizard")

NEW_CAMPAIGN_BUTTON = __("📣 New campaign")
# Commands (and /start links from scanning a customer's QR) are never answers to a step: the
# counter and the customer commands keep working in the middle of a campaign.
COMMAND = F.text.startswith("/")
ANSWER = F.text & ~COMMAND


class Steps:
    """What every wizard handler needs to move: the chat, the storage, the draft and its shop."""

    def __init__(
        self,
        message: Message,
        state: FSMContext,
        draft: Draft,
        shop: CampaignShop,
        seat: Staff,
        services: WizardServices,
    ) -> None:
        self.message = message
        self.state = state
        self.draft = draft
        self.shop = shop
        # The seat _steps checked for this event: role and shop as of now.
        self.seat = seat
        self.services = services
        self.push_limit = services.push_limit
        self.wallet_channels = services.wallet_channels

    async def keep(self) -> None:
        await save_draft(self.state, self.draft)

    async def show(self, step: State) -> None:
        await self._show(str(step.state))

    async def go(self, step: State) -> None:
        current = await self.state.get_state()
        if current:
            self.draft.history.append(current)
        await self.show(step)

    async def back(self) -> None:
        if not self.draft.history:
            await self.show(CampaignWizard.card)
            return
        await self._show(self.draft.history.pop())

    async def _show(self, step: str) -> None:
        step = reachable(step, self.draft, self.shop)
        await self.state.set_state(step)
        await self.keep()
        await show_step(step, self.message, self.draft, self.shop, self.services)


def wizard_services(
    push_limit: int,
    wallets: Wallets | None,
    telegram_channel: DeliveryChannel,
    email_channel: MailChannel,
) -> WizardServices:
    """What the steps use, built once per process by the composition root (none of it changes
    between updates). ``push_limit``: STAMPBOT_PUSH_TEXT_LIMIT (20 unless configured)."""
    return WizardServices(
        push_limit=push_limit,
        wallet_channels=wallet_channels(wallets),
        telegram_channel=telegram_channel,
        email_channel=email_channel,
    )


def wallet_channels(wallets: Wallets | None) -> tuple[Channel, ...]:
    """The wallets this deployment can push to: Apple needs APNs, Google its issuer account."""
    if wallets is None:
        return ()
    configured = {Channel.APPLE_WALLET: wallets.apns, Channel.GOOGLE_WALLET: wallets.google}
    return tuple(channel for channel in WALLET if configured[channel] is not None)


async def _steps(
    event: Message | CallbackQuery, state: FSMContext, wizard: WizardServices
) -> Steps | None:
    """The wizard for this person, or None (and a polite refusal) when they may not use it."""
    user = event.from_user
    message = event.message if isinstance(event, CallbackQuery) else event
    loaded = await load_draft(state)
    if user is None or not isinstance(message, Message) or loaded is None:
        if isinstance(event, CallbackQuery):
            await event.answer(button_expired())
        return None
    draft, shop = loaded
    seat = await admin_seat(state, user.id, Permission.CAMPAIGNS)
    if seat is None or seat.merchant_id != draft.merchant_id:
        await state.set_state(None)
        await save_draft(state, None)
        if isinstance(event, CallbackQuery):
            await event.answer(button_expired())
        else:
            await message.answer(_("Only the owner or a manager can create campaigns."))
        return None
    if isinstance(event, CallbackQuery):
        await event.answer()
    return Steps(message, state, draft, shop, seat, wizard)


# ---------------------------------------------------------------------------------------------
# Entry points


async def start_wizard(
    message: Message, state: FSMContext, seat: Staff, draft: Draft, services: WizardServices
) -> None:
    """Open the wizard on ``draft``: the shop is read here, once for the whole flow."""
    await state.set_state(None)
    shop = await campaign_shop(draft.merchant_id)
    await save_draft(state, draft, shop)
    steps = Steps(message, state, draft, shop, seat, services)
    await steps.show(CampaignWizard.card)


@router.message(Command("newcampaign"), IsStaff())
@router.message(F.text == NEW_CAMPAIGN_BUTTON, IsStaff())
async def new_campaign(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    user = message.from_user
    if user is None:
        return
    merchant_id = await admin_merchant(state)
    if merchant_id is None:
        await message.answer(_("Open admin mode with /admin first."))
        return
    seat = await admin_seat(state, user.id, Permission.CAMPAIGNS)
    if seat is None:
        await message.answer(_("Only the owner or a manager can create campaigns."))
        return
    await start_wizard(message, state, seat, Draft(merchant_id=merchant_id), wizard)


@router.message(Command("cancel"), CampaignWizard())
async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.set_state(None)
    await save_draft(state, None)
    await message.answer(_("The campaign was not created. /admin opens the menu."))


@router.callback_query(WizardAction.filter(F.op == WizardOp.CANCEL), CampaignWizard())
async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(None)
    await save_draft(state, None)
    if isinstance(query.message, Message):
        await query.message.answer(_("The campaign was not created. /admin opens the menu."))


@router.callback_query(WizardAction.filter(F.op == WizardOp.BACK), CampaignWizard())
async def back_pressed(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.back()


# ---------------------------------------------------------------------------------------------
# 1. Card · 2. Audience


@router.callback_query(WizardAction.filter(F.op == WizardOp.CARD), CampaignWizard.card)
async def card_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    card = steps.shop.card(parse_db_id(callback_data.value))
    if card is None:
        # Another shop's card id, or one not offered: nothing to pick.
        await steps.message.answer(button_expired())
        return
    steps.draft.card_id = card.id
    await steps.go(CampaignWizard.audience)


@router.callback_query(WizardAction.filter(F.op == WizardOp.FILTER), CampaignWizard.audience)
async def audience_toggled(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    choices = dict(AUDIENCE_CHOICES)
    if callback_data.value not in choices:
        return
    audience = steps.draft.audience
    if callback_data.value in audience:
        del audience[callback_data.value]
    else:
        audience[callback_data.value] = choices[callback_data.value]
    await steps.keep()
    await steps.message.edit_text(
        await audience_text(steps.draft, steps.shop), reply_markup=audience_markup(steps.draft)
    )


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.audience)
async def audience_done(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.go(CampaignWizard.push)


# ---------------------------------------------------------------------------------------------
# 3. Push text


@router.message(CampaignWizard.push, ANSWER)
async def push_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    text = " ".join(message.text.split())
    length = push_length(text)
    limit = steps.push_limit
    if not text or length > limit:
        await message.answer(
            ngettext(
                "That is {count} character; the lock screen shows {limit}. Please send a "
                "shorter text.",
                "That is {count} characters; the lock screen shows {limit}. Please send a "
                "shorter text.",
                length,
            ).format(count=ltr(number(length)), limit=ltr(number(limit)))
        )
        return
    steps.draft.push_text = text
    await message.answer(
        _("✓ Push text: {text} ({count}/{limit} characters)").format(
            text=user_text(text), count=length, limit=limit
        )
    )
    await steps.go(CampaignWizard.voucher)


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.SKIP, WizardOp.KEEP})), CampaignWizard.push
)
async def push_skipped(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if callback_data.op == WizardOp.SKIP:
        steps.draft.push_text = ""
        # No push text, no wallet push: the lock screen would have nothing to show.
        steps.draft.channels = [c for c in steps.draft.channels if c not in WALLET]
    await steps.go(CampaignWizard.voucher)


# ---------------------------------------------------------------------------------------------
# 4. Voucher


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.NO_VOUCHER, WizardOp.VOUCHER})),
    CampaignWizard.voucher,
)
async def voucher_choice(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    steps.draft.with_voucher = callback_data.op == WizardOp.VOUCHER
    if steps.draft.with_voucher:
        await steps.go(CampaignWizard.voucher_title)
    else:
        await steps.go(CampaignWizard.channels)


@router.message(CampaignWizard.voucher_title, ANSWER)
async def voucher_title_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    title = " ".join(message.text.split())
    if not title or len(title) > MAX_VOUCHER_TITLE:
        await message.answer(
            ngettext(
                "A voucher title is 1 to {limit} character. Please send it again.",
                "A voucher title is 1 to {limit} characters. Please send it again.",
                MAX_VOUCHER_TITLE,
            ).format(limit=number(MAX_VOUCHER_TITLE))
        )
        return
    steps.draft.voucher_title = title
    await steps.go(CampaignWizard.voucher_days)


@router.callback_query(WizardAction.filter(F.op == WizardOp.KEEP), CampaignWizard.voucher_title)
async def voucher_title_kept(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.go(CampaignWizard.voucher_days)


async def _voucher_days_set(steps: Steps, days: int) -> None:
    steps.draft.voucher_days = days
    await steps.go(CampaignWizard.channels)


@router.message(CampaignWizard.voucher_days, ANSWER)
async def voucher_days_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    text = message.text.strip()
    if not text.isdecimal() or not 1 <= int(text) <= MAX_VOUCHER_DAYS:
        await message.answer(_("Please send a whole number of days from 1 to 3650."))
        return
    await _voucher_days_set(steps, int(text))


@router.callback_query(WizardAction.filter(F.op == WizardOp.DAYS), CampaignWizard.voucher_days)
async def voucher_days_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if not callback_data.value.isdecimal() or int(callback_data.value) not in VOUCHER_DAYS:
        await steps.message.answer(button_expired())
        return
    await _voucher_days_set(steps, int(callback_data.value))


# ---------------------------------------------------------------------------------------------
# 5. Channels


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.CHANNEL, WizardOp.POLICY})), CampaignWizard.channels
)
async def channel_toggled(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft = steps.draft
    if callback_data.op == WizardOp.POLICY:
        draft.policy = (
            DeliveryPolicy.FIRST_REACHABLE.value
            if draft.policy == DeliveryPolicy.EVERY_CHANNEL
            else DeliveryPolicy.EVERY_CHANNEL.value
        )
    elif callback_data.value == "wallet":
        configured = steps.wallet_channels
        if any(c in draft.channels for c in WALLET):
            draft.channels = [c for c in draft.channels if c not in WALLET]
        elif not configured:
            await steps.message.answer(wallet_not_set_up())
            return
        elif not draft.push_text:
            await steps.message.answer(
                _("A wallet push needs a push text. Go back to step 3 to write one.")
            )
            return
        else:
            draft.channels += [c.value for c in configured]
    elif callback_data.value in (Channel.EMAIL, Channel.TELEGRAM):
        if callback_data.value in draft.channels:
            draft.channels.remove(callback_data.value)
        else:
            draft.channels.append(callback_data.value)
    else:
        return
    await steps.keep()
    await steps.message.edit_text(
        channels_text(), reply_markup=channels_markup(draft, steps.wallet_channels)
    )


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.channels)
async def channels_done(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if not steps.draft.channels:
        await steps.message.answer(_("Switch on at least one channel."))
        return
    await steps.go(CampaignWizard.message)


# ---------------------------------------------------------------------------------------------
# 6. Message


@router.message(CampaignWizard.message, ANSWER | F.photo)
async def message_sent(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None:
        return
    text = message.html_text if (message.text or message.caption) else ""
    if message.photo:
        steps.draft.photo_file_id = message.photo[-1].file_id
        if not text.strip():
            await steps.keep()
            await message.answer(_("Got the photo. Now send the text that goes with it."))
            return
    if len(text) > MAX_MESSAGE:
        await message.answer(
            ngettext(
                "The message is too long; please keep it under {limit} character.",
                "The message is too long; please keep it under {limit} characters.",
                MAX_MESSAGE,
            ).format(limit=number(MAX_MESSAGE))
        )
        return
    steps.draft.message_text = text
    await steps.go(CampaignWizard.preview)


@router.callback_query(WizardAction.filter(F.op == WizardOp.KEEP), CampaignWizard.message)
async def message_kept(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.go(CampaignWizard.preview)


# ---------------------------------------------------------------------------------------------
# 7. Preview, counts and a test to myself


@router.callback_query(WizardAction.filter(F.op == WizardOp.TEST), CampaignWizard.preview)
async def self_test_pressed(
    query: CallbackQuery,
    state: FSMContext,
    customer: Customer | None,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft = steps.draft
    spec = draft.spec(steps.push_limit)
    sender = {"merchant_name": steps.shop.name, "language": current_locale()}
    report = []
    if Channel.TELEGRAM in draft.channels:
        address = str(steps.message.chat.id)
        tried = await send_test(
            spec, wizard.telegram_channel, channel=Channel.TELEGRAM, address=address, **sender
        )
        report.append(_("chat: sent") if tried.delivered else _("chat: failed"))
    if Channel.EMAIL in draft.channels:
        if customer is not None and customer.email and customer.email_verified:
            tried = await send_test(
                spec, wizard.email_channel, channel=Channel.EMAIL, address=customer.email, **sender
            )
            report.append(
                _("email to {address}: sent").format(address=user_text(customer.email))
                if tried.delivered
                else _("email: failed")
            )
        else:
            report.append(_("email: you have no confirmed address (see /settings)"))
    if any(c in draft.channels for c in WALLET):
        report.append(_("wallet: tests go to passes on phones, not to this chat"))
    await steps.message.answer(_("Test: {report}.").format(report=separated(report)))


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.preview)
async def preview_done(
    query: CallbackQuery,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.go(CampaignWizard.when)


# ---------------------------------------------------------------------------------------------
# 8. When · 9. Confirm


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.NOW, WizardOp.LATER})), CampaignWizard.when
)
async def when_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if callback_data.op == WizardOp.NOW:
        steps.draft.send_at = None
        await steps.go(CampaignWizard.confirm)
    else:
        await steps.go(CampaignWizard.schedule_at)


def parse_local_time(text: str, timezone: str, now: datetime) -> datetime | None:
    """``dd.mm.yyyy HH:MM`` or ``dd.mm HH:MM`` (this year, or next if already past) → UTC."""
    zone = ZoneInfo(timezone)
    cleaned = " ".join(text.replace(",", " ").split())
    local_now = now.astimezone(zone)
    for pattern, with_year in (("%d.%m.%Y %H:%M", True), ("%d.%m %H:%M", False)):
        try:
            parsed = datetime.strptime(cleaned, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
        if not with_year:
            parsed = parsed.replace(year=local_now.year)
            if parsed < local_now:
                parsed = parsed.replace(year=local_now.year + 1)
        return parsed.astimezone(UTC)
    return None


@router.message(CampaignWizard.schedule_at, ANSWER)
async def schedule_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    now = utcnow()
    at = parse_local_time(message.text, steps.shop.timezone, now)
    if at is None:
        await message.answer(
            _("Please send the date and time as DD.MM.YYYY HH:MM, for example 24.12.2026 10:00.")
        )
        return
    if at <= now:
        await message.answer(_("That time has already passed. Please send a time ahead."))
        return
    try:
        check_send_time(at, now)
    except InvalidCampaign:
        await message.answer(_("Campaigns can be scheduled up to a year ahead."))
        return
    steps.draft.send_at = at.isoformat()
    await steps.go(CampaignWizard.confirm)


@router.callback_query(WizardAction.filter(F.op == WizardOp.CONFIRM), CampaignWizard.confirm)
async def confirmed(
    query: CallbackQuery,
    state: FSMContext,
    progress: CampaignProgress,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft, seat = steps.draft, steps.seat
    # Leave the confirm step before the slow part, so a double tap finds no step to confirm.
    await state.set_state(None)
    at = draft.send_time
    try:
        spec = draft.spec(steps.push_limit)
        if draft.campaign_id is not None:
            campaign = await update_campaign(
                await get_campaign(draft.campaign_id, merchant_id=draft.merchant_id), spec
            )
        else:
            campaign = await create_campaign(draft.merchant_id, spec, created_by_id=seat.id)
        campaign = await (schedule(campaign, at=at) if at else send_now(campaign))
    except InvalidCampaign as refused:
        logger.info("wizard refused %s: %s", refused.field, refused)
        await state.set_state(CampaignWizard.confirm)
        await steps.message.answer(
            _("Part of this campaign is not valid any more ({field}). Please go back and "
              "check it.").format(field=field_name(refused.field))
        )  # fmt: skip
        return
    except WrongCampaignState as refused:
        await save_draft(state, None)
        await steps.message.answer(
            _("This campaign is {status} now, so it can no longer be changed. /campaigns "
              "shows it.").format(status=status_name(refused.status))
        )  # fmt: skip
        return
    except CampaignNotFound:
        await save_draft(state, None)
        await steps.message.answer(_("This campaign was deleted in the meantime."))
        return
    await save_draft(state, None)
    if at is not None and campaign.status == CampaignStatus.SCHEDULED:
        await steps.message.answer(
            _("🕒 {name} is scheduled for {when}. /campaigns shows it.").format(
                name=bold(campaign.name),
                when=local_datetime(at, steps.shop.timezone),
            )
        )
    await progress.follow(steps.message.chat.id, campaign.id, merchant_id=draft.merchant_id)


@router.message(CampaignWizard(), ~COMMAND)
async def unexpected_input(message: Message, state: FSMContext) -> None:
    """Anything a step does not take: say what it wants instead of the customer help."""
    step = await state.get_state()
    if step in (CampaignWizard.message.state,):
        await message.answer(_("Please send the message as text, or a photo with a caption."))
    elif step in (
        CampaignWizard.push.state,
        CampaignWizard.voucher_title.state,
        CampaignWizard.voucher_days.state,
        CampaignWizard.schedule_at.state,
    ):
        await message.answer(_("Please answer with text, or use the buttons above."))
    else:
        await message.answer(_("Please use the buttons above, or /cancel to stop."))
