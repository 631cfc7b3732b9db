"""The campaign wizard: card → audience → push text → voucher → channels → message → preview
and counts → test → when → confirm. Back and Cancel work at every step; bad input re-asks.

State lives in the FSM storage (Redis when configured), so a restart or another replica
continues the conversation. Every step re-checks the staff member's role at the shop.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from campaigns.audience import audience_count, reachable_counts
from campaigns.composer import subject_of
from campaigns.errors import CampaignNotFound, InvalidCampaign, WrongCampaignState
from campaigns.service import create_campaign, get_campaign, schedule, send_now, update_campaign
from campaigns.spec import MAX_MESSAGE, push_length
from channels.base import DeliveryChannel, OutboundMessage, Outcome
from channels.email import EmailChannel
from handlers import PRIVATE
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat
from handlers.callbacks import WizardAction, WizardOp
from handlers.campaign_progress import CampaignProgress
from handlers.campaign_texts import (
    WALLET,
    audience_lines,
    channel_name,
    channels_line,
    status_name,
)
from handlers.texts import button_expired, current_locale, local_datetime, ltr
from handlers.wizard_draft import Draft, load_draft, save_draft
from locales import RIGHT_TO_LEFT
from loyalty.clock import utcnow
from loyalty.staff import Permission
from models import Campaign, Card, Customer, Merchant
from models.enums import CampaignStatus, Channel, DeliveryPolicy

logger = logging.getLogger(__name__)
router = Router(name="wizard")
router.message.filter(PRIVATE)

# The audience switches the wizard offers, with the values a small shop usually means.
AUDIENCE_CHOICES: tuple[tuple[str, int | bool], ...] = (
    ("new_within_days", 30),
    ("close_to_reward", 2),
    ("inactive_days", 30),
    ("birthday_this_month", True),
    ("has_unused_voucher", True),
)
VOUCHER_DAYS = (7, 14, 30, 90)
MAX_VOUCHER_TITLE = 200
MAX_SCHEDULE_AHEAD = timedelta(days=365)
NEW_CAMPAIGN_BUTTON = __("📣 New campaign")
# Commands (and /start links from scanning a customer's QR) are never answers to a step: the
# counter and the customer commands keep working in the middle of a campaign.
COMMAND = F.text.startswith("/")
ANSWER = F.text & ~COMMAND


class CampaignWizard(StatesGroup):
    card = State()
    audience = State()
    push = State()
    voucher = State()
    voucher_title = State()
    voucher_days = State()
    channels = State()
    message = State()
    preview = State()
    when = State()
    schedule_at = State()
    confirm = State()


def _nav(builder: InlineKeyboardBuilder, *, back: bool = True) -> None:
    if back:
        builder.button(text=_("◀ Back"), callback_data=WizardAction(op=WizardOp.BACK))
    builder.button(text=_("✖ Cancel"), callback_data=WizardAction(op=WizardOp.CANCEL))


def _markup(builder: InlineKeyboardBuilder, *rows: int, back: bool = True) -> Any:
    _nav(builder, back=back)
    builder.adjust(*rows, 2 if back else 1)
    return builder.as_markup()


# ---------------------------------------------------------------------------------------------
# Steps: each one shows its question; ``_go`` moves forward and remembers where it came from.


async def _ask_card(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    cards = await Card.filter(merchant_id=draft.merchant_id, active=True).order_by("id")
    for card in cards:
        mark = "✅ " if card.id == draft.card_id else ""
        builder.button(
            text=f"{mark}{card.name}"[:64],
            callback_data=WizardAction(op=WizardOp.CARD, value=str(card.id)),
        )
    await message.answer(
        _("<b>New campaign · 1/9</b>\nWhich card is it for?"),
        reply_markup=_markup(builder, *([1] * len(cards)), back=False),
    )


def _audience_markup(draft: Draft) -> Any:
    builder = InlineKeyboardBuilder()
    labels = {
        "new_within_days": _("New: joined in the last 30 days"),
        "close_to_reward": _("Close: 2 stamps or fewer to a reward"),
        "inactive_days": _("Lapsed: no visit for 30 days"),
        "birthday_this_month": _("Birthday this month"),
        "has_unused_voucher": _("Has an unused voucher"),
    }
    for name, _value in AUDIENCE_CHOICES:
        mark = "✅ " if name in draft.audience else "▫️ "
        builder.button(
            text=mark + labels[name], callback_data=WizardAction(op=WizardOp.FILTER, value=name)
        )
    builder.button(text=_("Continue ▶"), callback_data=WizardAction(op=WizardOp.NEXT))
    return _markup(builder, *([1] * (len(AUDIENCE_CHOICES) + 1)))


async def _audience_text(draft: Draft) -> str:
    card = await Card.get(id=draft.card_id)
    merchant = await Merchant.get(id=draft.merchant_id)
    count = await audience_count(card, draft.audience_filter, merchant.timezone)
    return "\n".join(
        [
            _("<b>New campaign · 2/9</b>\nWho should get it? Pick any; all picked must hold."),
            _("Now: {who} — {count} people.").format(
                who=escape("; ".join(audience_lines(draft.audience_filter))), count=count
            ),
        ]
    )


async def _ask_audience(message: Message, draft: Draft) -> None:
    await message.answer(await _audience_text(draft), reply_markup=_audience_markup(draft))


def _keep_button(builder: InlineKeyboardBuilder, keep: bool) -> int:
    if keep:
        builder.button(text=_("Keep as it is ▶"), callback_data=WizardAction(op=WizardOp.KEEP))
    return 1 if keep else 0


async def _ask_push(message: Message, draft: Draft, limit: int) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.push_text))
    builder.button(text=_("No push text ▶"), callback_data=WizardAction(op=WizardOp.SKIP))
    lines = [
        _("<b>New campaign · 3/9</b>\nSend the push text: the line the wallet card shows on "
          "the lock screen, up to {limit} characters.").format(limit=limit),
    ]  # fmt: skip
    if draft.push_text:
        lines.append(_("Now: {text}").format(text=escape(draft.push_text)))
    await message.answer("\n".join(lines), reply_markup=_markup(builder, *rows, 1))


async def _ask_voucher(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("No voucher"), callback_data=WizardAction(op=WizardOp.NO_VOUCHER))
    builder.button(text=_("🎟 Add a voucher"), callback_data=WizardAction(op=WizardOp.VOUCHER))
    lines = [_("<b>New campaign · 4/9</b>\nAttach a voucher that everyone reached receives?")]
    if draft.with_voucher and draft.voucher_title:
        lines.append(
            _("Now: {title}, valid {days} days").format(
                title=escape(draft.voucher_title), days=draft.voucher_days
            )
        )
    await message.answer("\n".join(lines), reply_markup=_markup(builder, 2))


async def _ask_voucher_title(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.voucher_title))
    await message.answer(
        _("What is the voucher for? Send its title, for example: Free cappuccino."),
        reply_markup=_markup(builder, *rows),
    )


async def _ask_voucher_days(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    for days in VOUCHER_DAYS:
        builder.button(
            text=_("{days} days").format(days=days),
            callback_data=WizardAction(op=WizardOp.DAYS, value=str(days)),
        )
    await message.answer(
        _("How many days is the voucher valid? Pick one or send a number from 1 to 3650."),
        reply_markup=_markup(builder, len(VOUCHER_DAYS)),
    )


def _channels_markup(draft: Draft) -> Any:
    builder = InlineKeyboardBuilder()
    choices = (
        ("wallet", _("Wallet card push"), any(c in draft.channels for c in WALLET)),
        (Channel.EMAIL.value, _("Email"), Channel.EMAIL in draft.channels),
        (Channel.TELEGRAM.value, _("Messenger"), Channel.TELEGRAM in draft.channels),
    )
    for value, label, on in choices:
        builder.button(
            text=("✅ " if on else "▫️ ") + label,
            callback_data=WizardAction(op=WizardOp.CHANNEL, value=value),
        )
    policy = (
        _("Send on: every channel they have")
        if draft.policy == DeliveryPolicy.EVERY_CHANNEL
        else _("Send on: only the first that reaches them")
    )
    builder.button(text="🔁 " + policy, callback_data=WizardAction(op=WizardOp.POLICY))
    builder.button(text=_("Continue ▶"), callback_data=WizardAction(op=WizardOp.NEXT))
    return _markup(builder, 1, 1, 1, 1, 1)


def _channels_text() -> str:
    return _("<b>New campaign · 5/9</b>\nWhere should it go? Tap to switch channels on or off.")


async def _ask_channels(message: Message, draft: Draft) -> None:
    await message.answer(_channels_text(), reply_markup=_channels_markup(draft))


async def _ask_message(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.message_text))
    await message.answer(
        _("<b>New campaign · 6/9</b>\nSend the message itself, with any formatting you like. "
          "Attach a photo to send it with the message. It goes to the chat, the email and "
          "the card's web page."),
        reply_markup=_markup(builder, *rows),
    )  # fmt: skip


async def _ask_when(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🚀 Send now"), callback_data=WizardAction(op=WizardOp.NOW))
    builder.button(text=_("🕒 Schedule"), callback_data=WizardAction(op=WizardOp.LATER))
    await message.answer(
        _("<b>New campaign · 8/9</b>\nSend it now or at a time you choose?"),
        reply_markup=_markup(builder, 2),
    )


async def _ask_schedule_at(message: Message, draft: Draft) -> None:
    merchant = await Merchant.get(id=draft.merchant_id)
    example = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(merchant.timezone))
    await message.answer(
        _("When? Send the date and time in your shop's time zone ({zone}), for example "
          "{example}.").format(zone=merchant.timezone, example=ltr(f"{example:%d.%m.%Y} 10:00")),
        reply_markup=_markup(InlineKeyboardBuilder()),
    )  # fmt: skip


async def _ask_confirm(message: Message, draft: Draft) -> None:
    merchant = await Merchant.get(id=draft.merchant_id)
    card = await Card.get(id=draft.card_id)
    when = (
        local_datetime(draft.send_time, merchant.timezone)
        if draft.send_time
        else _("right after you confirm")
    )
    lines = [
        _("<b>New campaign · 9/9</b> — please check:"),
        _("Card: {card}").format(card=escape(card.name)),
        _("Audience: {who}").format(who=escape("; ".join(audience_lines(draft.audience_filter)))),
        _("Channels: {channels}").format(channels=channels_line(draft.channels)),
    ]
    if draft.push_text:
        lines.append(_("Push text: {text}").format(text=escape(draft.push_text)))
    if draft.with_voucher and draft.voucher_title:
        lines.append(
            _("Voucher: {title}, valid {days} days").format(
                title=escape(draft.voucher_title), days=draft.voucher_days
            )
        )
    lines.append(_("Sending: {when}").format(when=when))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=WizardAction(op=WizardOp.CONFIRM))
    await message.answer("\n".join(lines), reply_markup=_markup(builder, 1))


# ---------------------------------------------------------------------------------------------
# Navigation


async def _show(
    step: str,
    message: Message,
    draft: Draft,
    *,
    bot: Bot,
    telegram_channel: DeliveryChannel,
    email_channel: EmailChannel,
    push_limit: int,
) -> None:
    if step == CampaignWizard.card.state:
        await _ask_card(message, draft)
    elif step == CampaignWizard.audience.state:
        await _ask_audience(message, draft)
    elif step == CampaignWizard.push.state:
        await _ask_push(message, draft, push_limit)
    elif step == CampaignWizard.voucher.state:
        await _ask_voucher(message, draft)
    elif step == CampaignWizard.voucher_title.state:
        await _ask_voucher_title(message, draft)
    elif step == CampaignWizard.voucher_days.state:
        await _ask_voucher_days(message, draft)
    elif step == CampaignWizard.channels.state:
        await _ask_channels(message, draft)
    elif step == CampaignWizard.message.state:
        await _ask_message(message, draft)
    elif step == CampaignWizard.preview.state:
        await _show_preview(message, draft, telegram_channel, email_channel)
    elif step == CampaignWizard.when.state:
        await _ask_when(message, draft)
    elif step == CampaignWizard.schedule_at.state:
        await _ask_schedule_at(message, draft)
    else:
        await _ask_confirm(message, draft)


class Steps:
    """What every wizard handler needs to move: the chat, the storage and the channels."""

    def __init__(
        self,
        message: Message,
        state: FSMContext,
        draft: Draft,
        services: dict[str, Any],
    ) -> None:
        self.message = message
        self.state = state
        self.draft = draft
        self._services = services
        self.push_limit: int = services["push_limit"]

    async def show(self, step: State) -> None:
        await self.state.set_state(step)
        await save_draft(self.state, self.draft)
        await _show(step.state or "", self.message, self.draft, **self._services)

    async def go(self, step: State) -> None:
        current = await self.state.get_state()
        if current:
            self.draft.history.append(current)
        await self.show(step)

    async def back(self) -> None:
        if not self.draft.history:
            await self.show(CampaignWizard.card)
            return
        previous = self.draft.history.pop()
        await self.state.set_state(previous)
        await save_draft(self.state, self.draft)
        await _show(previous, self.message, self.draft, **self._services)


def _services(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "bot": data["bot"],
        "telegram_channel": data["telegram_channel"],
        "email_channel": data["email_channel"],
        # The lock-screen line's length: STAMPBOT_PUSH_TEXT_LIMIT (20 unless configured).
        "push_limit": data["settings"].push_text_limit,
    }


async def _steps(
    event: Message | CallbackQuery, state: FSMContext, data: dict[str, Any]
) -> Steps | None:
    """The wizard for this person, or None (and a polite refusal) when they may not use it."""
    user = event.from_user
    message = event.message if isinstance(event, CallbackQuery) else event
    draft = await load_draft(state)
    if user is None or not isinstance(message, Message) or draft is None:
        if isinstance(event, CallbackQuery):
            await event.answer(button_expired())
        return None
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
    return Steps(message, state, draft, _services(data))


# ---------------------------------------------------------------------------------------------
# Entry points


async def start_wizard(
    message: Message, state: FSMContext, draft: Draft, data: dict[str, Any]
) -> None:
    await state.set_state(None)
    steps = Steps(message, state, draft, _services(data))
    await steps.show(CampaignWizard.card)


@router.message(Command("newcampaign"), IsStaff())
@router.message(F.text == NEW_CAMPAIGN_BUTTON, IsStaff())
async def new_campaign(message: Message, state: FSMContext, **data: Any) -> None:
    user = message.from_user
    if user is None:
        return
    merchant_id = await admin_merchant(state)
    if merchant_id is None:
        await message.answer(_("Open admin mode with /admin first."))
        return
    if await admin_seat(state, user.id, Permission.CAMPAIGNS) is None:
        await message.answer(_("Only the owner or a manager can create campaigns."))
        return
    await start_wizard(message, state, Draft(merchant_id=merchant_id), data)


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
async def back_pressed(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    if steps := await _steps(query, state, data):
        await steps.back()


# ---------------------------------------------------------------------------------------------
# 1. Card · 2. Audience


@router.callback_query(WizardAction.filter(F.op == WizardOp.CARD), CampaignWizard.card)
async def card_picked(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
    if steps is None:
        return
    card = await Card.get_or_none(
        id=int(callback_data.value) if callback_data.value.isdigit() else 0,
        merchant_id=steps.draft.merchant_id,
        active=True,
    )
    if card is None:
        # Another shop's card id, or one deactivated since: nothing to pick.
        await steps.message.answer(button_expired())
        return
    steps.draft.card_id = card.id
    await steps.go(CampaignWizard.audience)


@router.callback_query(WizardAction.filter(F.op == WizardOp.FILTER), CampaignWizard.audience)
async def audience_toggled(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
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
    await save_draft(state, steps.draft)
    await steps.message.edit_text(
        await _audience_text(steps.draft), reply_markup=_audience_markup(steps.draft)
    )


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.audience)
async def audience_done(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    if steps := await _steps(query, state, data):
        await steps.go(CampaignWizard.push)


# ---------------------------------------------------------------------------------------------
# 3. Push text


@router.message(CampaignWizard.push, ANSWER)
async def push_typed(message: Message, state: FSMContext, **data: Any) -> None:
    steps = await _steps(message, state, data)
    if steps is None or message.text is None:
        return
    text = " ".join(message.text.split())
    length = push_length(text)
    limit = steps.push_limit
    if not text or length > limit:
        await message.answer(
            _("That is {count} characters; the lock screen shows {limit}. Please send a "
              "shorter text.").format(count=ltr(str(length)), limit=limit)
        )  # fmt: skip
        return
    steps.draft.push_text = text
    await message.answer(
        _("✓ Push text: {text} ({count}/{limit} characters)").format(
            text=escape(text), count=length, limit=limit
        )
    )
    await steps.go(CampaignWizard.voucher)


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.SKIP, WizardOp.KEEP})), CampaignWizard.push
)
async def push_skipped(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
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
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
    if steps is None:
        return
    steps.draft.with_voucher = callback_data.op == WizardOp.VOUCHER
    if steps.draft.with_voucher:
        await steps.go(CampaignWizard.voucher_title)
    else:
        await steps.go(CampaignWizard.channels)


@router.message(CampaignWizard.voucher_title, ANSWER)
async def voucher_title_typed(message: Message, state: FSMContext, **data: Any) -> None:
    steps = await _steps(message, state, data)
    if steps is None or message.text is None:
        return
    title = " ".join(message.text.split())
    if not title or len(title) > MAX_VOUCHER_TITLE:
        await message.answer(
            _("A voucher title is 1 to {limit} characters. Please send it again.").format(
                limit=MAX_VOUCHER_TITLE
            )
        )
        return
    steps.draft.voucher_title = title
    await steps.go(CampaignWizard.voucher_days)


@router.callback_query(WizardAction.filter(F.op == WizardOp.KEEP), CampaignWizard.voucher_title)
async def voucher_title_kept(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    if steps := await _steps(query, state, data):
        await steps.go(CampaignWizard.voucher_days)


async def _voucher_days_set(steps: Steps, days: int) -> None:
    steps.draft.voucher_days = days
    await steps.go(CampaignWizard.channels)


@router.message(CampaignWizard.voucher_days, ANSWER)
async def voucher_days_typed(message: Message, state: FSMContext, **data: Any) -> None:
    steps = await _steps(message, state, data)
    if steps is None or message.text is None:
        return
    text = message.text.strip()
    if not text.isdecimal() or not 1 <= int(text) <= 3650:
        await message.answer(_("Please send a whole number of days from 1 to 3650."))
        return
    await _voucher_days_set(steps, int(text))


@router.callback_query(WizardAction.filter(F.op == WizardOp.DAYS), CampaignWizard.voucher_days)
async def voucher_days_picked(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
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
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
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
        if any(c in draft.channels for c in WALLET):
            draft.channels = [c for c in draft.channels if c not in WALLET]
        elif not draft.push_text:
            await steps.message.answer(
                _("A wallet push needs a push text. Go back to step 3 to write one.")
            )
            return
        else:
            draft.channels += [c.value for c in WALLET]
    elif callback_data.value in (Channel.EMAIL, Channel.TELEGRAM):
        if callback_data.value in draft.channels:
            draft.channels.remove(callback_data.value)
        else:
            draft.channels.append(callback_data.value)
    else:
        return
    await save_draft(state, draft)
    await steps.message.edit_text(_channels_text(), reply_markup=_channels_markup(draft))


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.channels)
async def channels_done(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    steps = await _steps(query, state, data)
    if steps is None:
        return
    if not steps.draft.channels:
        await steps.message.answer(_("Switch on at least one channel."))
        return
    await steps.go(CampaignWizard.message)


# ---------------------------------------------------------------------------------------------
# 6. Message


@router.message(CampaignWizard.message, ANSWER | F.photo)
async def message_sent(message: Message, state: FSMContext, **data: Any) -> None:
    steps = await _steps(message, state, data)
    if steps is None:
        return
    text = message.html_text if (message.text or message.caption) else ""
    if message.photo:
        steps.draft.photo_file_id = message.photo[-1].file_id
        if not text.strip():
            await save_draft(state, steps.draft)
            await message.answer(_("Got the photo. Now send the text that goes with it."))
            return
    if len(text) > MAX_MESSAGE:
        await message.answer(
            _("The message is too long; please keep it under {limit} characters.").format(
                limit=MAX_MESSAGE
            )
        )
        return
    steps.draft.message_text = text
    await steps.go(CampaignWizard.preview)


@router.callback_query(WizardAction.filter(F.op == WizardOp.KEEP), CampaignWizard.message)
async def message_kept(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    if steps := await _steps(query, state, data):
        await steps.go(CampaignWizard.preview)


# ---------------------------------------------------------------------------------------------
# 7. Preview, counts and a test to myself


async def _preview_message(
    draft: Draft, channel: str, address: str, merchant: Merchant
) -> OutboundMessage:
    language = current_locale()
    campaign = Campaign(push_text=draft.push_text, message_text=draft.message_text)
    return OutboundMessage(
        delivery_id=0,
        channel=channel,
        address=address,
        language=language,
        right_to_left=language in RIGHT_TO_LEFT,
        merchant_name=merchant.name,
        subject=subject_of(campaign, merchant.name),
        push_text=draft.push_text,
        html=draft.message_text,
        photo_file_id=draft.photo_file_id if channel == Channel.TELEGRAM else None,
    )


async def _show_preview(
    message: Message,
    draft: Draft,
    telegram_channel: DeliveryChannel,
    email_channel: EmailChannel,
) -> None:
    merchant = await Merchant.get(id=draft.merchant_id)
    await message.answer(_("<b>New campaign · 7/9</b> — the preview, as each channel shows it:"))
    if Channel.TELEGRAM in draft.channels:
        await message.answer(_("💬 In the chat:"))
        result = await telegram_channel.send(
            await _preview_message(draft, Channel.TELEGRAM, str(message.chat.id), merchant)
        )
        if result.outcome != Outcome.DELIVERED:
            await message.answer(
                _("Telegram refused this message ({reason}). Please go back and change it.")
                .format(reason=escape(result.detail or str(result.reason)))
            )  # fmt: skip
    if Channel.EMAIL in draft.channels:
        preview = await _preview_message(draft, Channel.EMAIL, "preview@example.com", merchant)
        rendered = email_channel.renderer.campaign(preview)
        await message.answer_document(
            BufferedInputFile(rendered.html.encode(), filename="email-preview.html"),
            caption=_("✉️ The email, subject: {subject}").format(subject=escape(rendered.subject))[
                :1024
            ],
        )
    if any(c in draft.channels for c in WALLET):
        await message.answer(
            _("📱 On the lock screen: {merchant} — {text}").format(
                merchant=escape(merchant.name), text=escape(draft.push_text)
            )
        )
    card = await Card.get(id=draft.card_id)
    counts = await reachable_counts(card, draft.audience_filter, merchant.timezone)
    total = await audience_count(card, draft.audience_filter, merchant.timezone)
    lines = [_("<b>Who it reaches</b> ({total} people on the card match):").format(total=total)]
    # The order of the channel step: wallet, email, messenger.
    if any(c in draft.channels for c in WALLET):
        wallet = sum(counts[c] for c in WALLET)
        lines.append("• " + _("Wallet card push: {count}").format(count=wallet))
    for channel in (Channel.EMAIL, Channel.TELEGRAM):
        if channel in draft.channels:
            lines.append(f"• {channel_name(channel)}: {counts[channel]}")
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🧪 Send a test to me"), callback_data=WizardAction(op=WizardOp.TEST))
    builder.button(text=_("Continue ▶"), callback_data=WizardAction(op=WizardOp.NEXT))
    await message.answer("\n".join(lines), reply_markup=_markup(builder, 1, 1))


@router.callback_query(WizardAction.filter(F.op == WizardOp.TEST), CampaignWizard.preview)
async def test_pressed(
    query: CallbackQuery,
    state: FSMContext,
    customer: Customer | None,
    telegram_channel: DeliveryChannel,
    email_channel: EmailChannel,
    **data: Any,
) -> None:
    data |= {"telegram_channel": telegram_channel, "email_channel": email_channel}
    steps = await _steps(query, state, data)
    if steps is None:
        return
    draft = steps.draft
    merchant = await Merchant.get(id=draft.merchant_id)
    report = []
    if Channel.TELEGRAM in draft.channels:
        result = await telegram_channel.send(
            await _preview_message(draft, Channel.TELEGRAM, str(steps.message.chat.id), merchant)
        )
        report.append(
            _("chat: sent") if result.outcome == Outcome.DELIVERED else _("chat: failed")
        )
    if Channel.EMAIL in draft.channels:
        if customer is not None and customer.email and customer.email_verified:
            result = await email_channel.send(
                await _preview_message(draft, Channel.EMAIL, customer.email, merchant)
            )
            report.append(
                _("email to {address}: sent").format(address=ltr(escape(customer.email)))
                if result.outcome == Outcome.DELIVERED
                else _("email: failed")
            )
        else:
            report.append(_("email: you have no confirmed address (see /settings)"))
    if any(c in draft.channels for c in WALLET):
        report.append(_("wallet: tests go to passes on phones, not to this chat"))
    await steps.message.answer(_("Test: {report}.").format(report="; ".join(report)))


@router.callback_query(WizardAction.filter(F.op == WizardOp.NEXT), CampaignWizard.preview)
async def preview_done(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    if steps := await _steps(query, state, data):
        await steps.go(CampaignWizard.when)


# ---------------------------------------------------------------------------------------------
# 8. When · 9. Confirm


@router.callback_query(
    WizardAction.filter(F.op.in_({WizardOp.NOW, WizardOp.LATER})), CampaignWizard.when
)
async def when_picked(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext, **data: Any
) -> None:
    steps = await _steps(query, state, data)
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
            parsed = datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
        if not with_year:
            parsed = parsed.replace(year=local_now.year)
            if parsed.replace(tzinfo=zone) < local_now:
                parsed = parsed.replace(year=local_now.year + 1)
        return parsed.replace(tzinfo=zone).astimezone(UTC)
    return None


@router.message(CampaignWizard.schedule_at, ANSWER)
async def schedule_typed(message: Message, state: FSMContext, **data: Any) -> None:
    steps = await _steps(message, state, data)
    if steps is None or message.text is None:
        return
    merchant = await Merchant.get(id=steps.draft.merchant_id)
    now = utcnow()
    at = parse_local_time(message.text, merchant.timezone, now)
    if at is None:
        await message.answer(
            _("Please send the date and time as DD.MM.YYYY HH:MM, for example 24.12.2026 10:00.")
        )
        return
    if at <= now:
        await message.answer(_("That time has already passed. Please send a time ahead."))
        return
    if at > now + MAX_SCHEDULE_AHEAD:
        await message.answer(_("Campaigns can be scheduled up to a year ahead."))
        return
    steps.draft.send_at = at.isoformat()
    await steps.go(CampaignWizard.confirm)


@router.callback_query(WizardAction.filter(F.op == WizardOp.CONFIRM), CampaignWizard.confirm)
async def confirmed(
    query: CallbackQuery, state: FSMContext, progress: CampaignProgress, **data: Any
) -> None:
    steps = await _steps(query, state, data)
    if steps is None or query.from_user is None:
        return
    draft = steps.draft
    seat = await admin_seat(state, query.from_user.id, Permission.CAMPAIGNS)
    assert seat is not None  # _steps checked it a moment ago
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
              "check it.").format(field=escape(refused.field))
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
    merchant = await Merchant.get(id=draft.merchant_id)
    if at is not None and campaign.status == CampaignStatus.SCHEDULED:
        await steps.message.answer(
            _("🕒 {name} is scheduled for {when}. /campaigns shows it.").format(
                name=f"<b>{escape(campaign.name)}</b>",
                when=local_datetime(at, merchant.timezone),
            )
        )
        progress.follow_when_started(steps.message.chat.id, campaign)
        return
    await progress.follow(steps.message.chat.id, campaign.id, merchant_id=merchant.id)


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
