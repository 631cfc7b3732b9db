"""The campaign wizard: the message, then one summary screen with the defaults filled in
(the only card, everyone, every channel that reaches someone, the message's first line on the
lock screen) and a Change button for each of them, then Send now or Schedule.

The summary is one message edited in place by every button; a typed answer gets a fresh
summary below it. Nothing is sent without the summary and a Yes. State lives in the FSM storage
(Redis when configured), so a restart or another replica continues the conversation: the
draft, and the shop as ``campaigns.views`` read it when the wizard opened. A new campaign is
also kept as a draft row at every summary, so leaving the wizard in any way keeps it under
/campaigns → Drafts. Every step re-checks the staff member's role at the shop; the campaign
service checks the rest when it is confirmed. What each screen shows is in
``handlers.wizard.screens``.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from campaigns.author import (
    card_voucher_days,
    own_passes,
    push_to_own_pass,
    set_test_email,
    wallet_senders,
)
from campaigns.errors import CampaignNotFound, InvalidCampaign, WrongCampaignState
from campaigns.preview import send_test
from campaigns.service import (
    create_campaign,
    delete_campaign,
    get_campaign,
    schedule,
    send_now,
    update_campaign,
)
from campaigns.spec import (
    MAX_MESSAGE,
    MAX_VOUCHER_DAYS,
    MAX_VOUCHER_TITLE,
    TEMPLATE_NAME,
    check_send_time,
    push_length,
)
from campaigns.views import campaign_shop
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat, enter_admin_mode
from handlers.callbacks import CampaignAction, CampaignOp, WizardAction, WizardOp, parse_db_id
from handlers.campaign_texts import WALLET, campaign_title, field_name, status_name
from handlers.texts import back_label, button_expired, current_locale, number, separated, user_text
from handlers.wizard.draft import Draft, first_line, load_draft, save_draft
from handlers.wizard.screens import (
    AUDIENCE_CHOICES,
    HOLDOUT_CHOICES,
    MAX_CUSTOM_HOLDOUT,
    NUMBER_RANGES,
    VOUCHER_DAYS,
    CampaignWizard,
    Screen,
    WizardServices,
    apply_defaults,
    audience_screen,
    card_screen,
    channels_screen,
    confirm_schedule_screen,
    confirm_send_screen,
    draft_title,
    holdout_prompt,
    message_text_prompt,
    more_screen,
    number_prompt,
    offered_channels,
    other_time_text,
    push_screen,
    rename_prompt,
    short_when,
    slots_screen,
    summary,
    template_prompt,
    time_slots,
    typed_answer_markup,
    voucher_days_screen,
    voucher_title_screen,
    zone_name,
)
from loyalty.clock import utcnow
from loyalty.errors import InvalidEmail
from loyalty.profile import normalized_email
from loyalty.staff import Permission, seat_at
from models.enums import CampaignStatus, Channel, DeliveryPolicy

if TYPE_CHECKING:
    from campaigns.preview import MailChannel
    from campaigns.views import CampaignShop
    from channels.base import DeliveryChannel
    from handlers.campaign_progress import CampaignProgress
    from models import Campaign, Customer, Staff
    from wallets.service import Wallets

logger = logging.getLogger(__name__)
router = Router(name="wizard")

NEW_CAMPAIGN_BUTTON = __("📣 New campaign")
# Commands (and /start links from scanning a customer's QR) are never answers to a step: the
# counter and the customer commands keep working in the middle of a campaign.
COMMAND = F.text.startswith("/")
ANSWER = F.text & ~COMMAND
# Sends claimed in this process, for a bot without Redis (tests of the embedded default).
_claimed: set[str] = set()


def _op(*ops: WizardOp) -> CallbackQueryFilter:
    return WizardAction.filter(F.op.in_(set(ops)))


class Steps:
    """What every wizard handler needs to move: the chat, the storage, the draft and its shop.

    ``message`` is the screen (the bot's message) for a button, or the owner's typed message.
    """

    def __init__(
        self,
        message: Message,
        state: FSMContext,
        draft: Draft,
        shop: CampaignShop,
        seat: Staff,
        services: WizardServices,
        *,
        pressed: bool,
    ) -> None:
        self.message = message
        self.state = state
        self.draft = draft
        self.shop = shop
        # The seat _steps checked for this event: role and shop as of now.
        self.seat = seat
        self.services = services
        self.pressed = pressed
        self.push_limit = services.push_limit

    async def keep(self) -> None:
        await save_draft(self.state, self.draft)

    async def show(self, step: State, screen: Screen) -> None:
        """Draw ``screen`` at ``step``: into the pressed message, or below a typed answer (the
        screen above it loses its buttons, so only the newest one acts)."""
        text, markup = screen
        await self.state.set_state(step)
        if self.pressed:
            with suppress(TelegramBadRequest):  # "message is not modified": the same screen
                await self.message.edit_text(text, reply_markup=markup)
            self.draft.screen_id = self.message.message_id
        else:
            if self.draft.screen_id is not None and self.message.bot is not None:
                with suppress(TelegramBadRequest):
                    await self.message.bot.edit_message_reply_markup(
                        chat_id=self.message.chat.id, message_id=self.draft.screen_id
                    )
            sent = await self.message.answer(text, reply_markup=markup)
            self.draft.screen_id = sent.message_id
        await self.keep()

    async def summary(self) -> None:
        screen = await summary(self.draft, self.shop, self.services)
        await self.persist()
        await self.show(CampaignWizard.summary, screen)

    async def persist(self) -> None:
        """Keep a new campaign as a draft row, so nothing typed is lost however the wizard is
        left; an edit of a scheduled campaign changes nothing until it is confirmed."""
        draft = self.draft
        if not draft.autosave or not draft.message_text:
            return
        try:
            spec = draft.spec(self.push_limit)
            if draft.campaign_id is None:
                made = await create_campaign(draft.merchant_id, spec, created_by_id=self.seat.id)
                draft.campaign_id = made.id
            else:
                stored = await get_campaign(draft.campaign_id, merchant_id=draft.merchant_id)
                if stored.status == CampaignStatus.DRAFT:
                    await update_campaign(stored, spec)
        except (InvalidCampaign, CampaignNotFound, WrongCampaignState) as refused:
            logger.info("wizard draft not kept: %s", refused)


def wizard_services(
    push_limit: int,
    wallets: Wallets | None,
    telegram_channel: DeliveryChannel,
    email_channel: MailChannel,
    *,
    paid_chats: tuple[Channel, ...] = (),
) -> WizardServices:
    """What the steps use, built once per process by the composition root (none of it changes
    between updates). ``push_limit``: STAMPBOT_PUSH_TEXT_LIMIT (20 unless configured);
    ``paid_chats``: the messengers besides Telegram the bot has an account on."""
    return WizardServices(
        push_limit=push_limit,
        wallet_channels=wallet_channels(wallets),
        telegram_channel=telegram_channel,
        email_channel=email_channel,
        wallet_senders=wallet_senders(wallets),
        paid_chats=paid_chats,
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
            await _close_left_screen(event)
        return None
    draft, shop = loaded
    seat = await admin_seat(state, user.id, Permission.CAMPAIGNS)
    if seat is None or seat.merchant_id != draft.merchant_id:
        await state.set_state(None)
        await save_draft(state, None)
        if isinstance(event, CallbackQuery):
            await event.answer(button_expired())
            await _close_left_screen(event)
        else:
            await message.answer(_("Only the owner or a manager can create campaigns."))
        return None
    pressed = isinstance(event, CallbackQuery)
    if isinstance(event, CallbackQuery):
        if draft.screen_id is not None and message.message_id != draft.screen_id:
            # A button on an older screen of this draft: only the newest one acts.
            await event.answer(button_expired())
            return None
        await event.answer()
    return Steps(message, state, draft, shop, seat, wizard, pressed=pressed)


async def _close_left_screen(query: CallbackQuery) -> None:
    """A wizard screen left behind by a draft that ended (left with /exit, its two days of
    conversation state gone) closes at its first tap, saying where the draft is, instead of
    answering every tap with a toast (review U9). Only a message that still carries the pressed
    button is touched: after a send or a Discard it is the progress or the kept-draft note,
    which a double tap must leave as it is."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = message.reply_markup.inline_keyboard
    if not any(button.callback_data == query.data for row in rows for button in row):
        return
    with suppress(TelegramBadRequest):
        await message.edit_text(
            _("This campaign screen has closed. Drafts are kept in /campaigns → Drafts; "
              "/newcampaign starts a new one.")
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Entry points


async def start_wizard(
    message: Message, state: FSMContext, seat: Staff, draft: Draft, services: WizardServices
) -> None:
    """Open the wizard on ``draft``: the shop is read here, once for the whole flow. A new
    campaign asks for the card (only when the shop has several) and then the message; an
    existing one opens its summary, each part one Change away."""
    await state.set_state(None)
    shop = await campaign_shop(draft.merchant_id)
    if draft.card_id is None and len(shop.cards) == 1:
        draft.card_id = shop.cards[0].id
    await save_draft(state, draft, shop)
    steps = Steps(message, state, draft, shop, seat, services, pressed=False)
    if shop.card(draft.card_id) is None:
        await steps.show(CampaignWizard.card, card_screen(draft, shop))
    elif not draft.message_text:
        await steps.show(CampaignWizard.message, message_text_prompt(draft))
    else:
        await steps.summary()


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


async def _leave(steps: Steps) -> tuple[str, InlineKeyboardMarkup | None]:
    """Close the wizard and say where the campaign is: kept as a draft (with a way to throw it
    away), or, for an edit of a scheduled campaign, unchanged."""
    await steps.persist()
    draft = steps.draft
    await steps.state.set_state(None)
    await save_draft(steps.state, None)
    if not draft.autosave or draft.campaign_id is None:
        if draft.campaign_id is not None:
            return _("Your changes were not saved; the campaign stays as it was."), None
        return _("The campaign was not created. /admin opens the menu."), None
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🗑 Discard it"),
        callback_data=WizardAction(op=WizardOp.DELETE, value=str(draft.campaign_id)),
    )
    return _("Saved as a draft. /campaigns → Drafts to finish it."), builder.as_markup()


@router.message(Command("cancel"), CampaignWizard())
async def cancel_command(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(message, state, wizard):
        text, markup = await _leave(steps)
        await message.answer(text, reply_markup=markup)


@router.callback_query(_op(WizardOp.CANCEL), CampaignWizard())
async def cancel_pressed(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        text, markup = await _leave(steps)
        await steps.message.edit_text(text, reply_markup=markup)


@router.callback_query(_op(WizardOp.DELETE))
async def discard_pressed(
    query: CallbackQuery, callback_data: WizardAction, state: FSMContext
) -> None:
    """ "Discard it" under a draft kept by Discard: only a draft of the presser's shop goes."""
    campaign_id = parse_db_id(callback_data.value)
    seat = await admin_seat(state, query.from_user.id, Permission.CAMPAIGNS)
    if seat is None or campaign_id is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        campaign = await get_campaign(campaign_id, merchant_id=seat.merchant_id)
    except CampaignNotFound:
        await query.answer(button_expired())
        return
    if campaign.status != CampaignStatus.DRAFT:
        await query.answer(button_expired())
        return
    loaded = await load_draft(state)
    if loaded is not None and loaded[0].campaign_id == campaign_id:
        # Discarded while being edited again: the wizard on it closes too.
        await state.set_state(None)
        await save_draft(state, None)
    await delete_campaign(campaign)
    await query.answer()
    await query.message.edit_text(_("Discarded. /admin opens the menu."))


@router.callback_query(_op(WizardOp.DONE, WizardOp.BACK), CampaignWizard())
async def back_to_summary(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.summary()


# ---------------------------------------------------------------------------------------------
# The card (only with several) and the message


@router.callback_query(_op(WizardOp.CARD), CampaignWizard.summary)
async def card_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.card, card_screen(steps.draft, steps.shop))


@router.callback_query(_op(WizardOp.CARD), CampaignWizard.card)
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
    if steps.draft.message_text:
        await steps.summary()
    else:
        await steps.show(CampaignWizard.message, message_text_prompt(steps.draft))


@router.callback_query(_op(WizardOp.KEEP), CampaignWizard.summary)
async def message_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.message, message_text_prompt(steps.draft))


async def _preview(steps: Steps) -> None:
    """One copy of the chat message, exactly as customers get it (through the adapter and the
    composer campaigns use), above the summary."""
    spec = steps.draft.spec(steps.push_limit)
    tried = await send_test(
        replace(spec, channels=(Channel.TELEGRAM,), channel_order=()),
        steps.services.telegram_channel,
        channel=Channel.TELEGRAM,
        address=str(steps.message.chat.id),
        merchant_name=steps.shop.name,
        language=current_locale(),
    )
    if not tried.delivered:
        await steps.message.answer(
            _("Telegram refused this message ({reason}). Please send it again, changed.")
            .format(reason=user_text(tried.detail))
        )  # fmt: skip


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
    await _preview(steps)
    await steps.summary()


# ---------------------------------------------------------------------------------------------
# Audience


@router.callback_query(_op(WizardOp.FILTER), CampaignWizard.summary)
async def audience_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.audience, await audience_screen(steps.draft, steps.shop))


@router.callback_query(_op(WizardOp.FILTER), CampaignWizard.audience)
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
    name = callback_data.value
    if name not in choices:
        return
    audience = steps.draft.audience
    if name in audience:
        del audience[name]
    else:
        audience[name] = choices[name]
        _one_birthday_filter(audience, name)
    await steps.show(CampaignWizard.audience, await audience_screen(steps.draft, steps.shop))


def _one_birthday_filter(audience: dict[str, int | bool], chosen: str) -> None:
    """ "This month" and "in the next N days" are two ways to say one thing: keep the last."""
    other = {"birthday_this_month": "birthday_within_days"}
    other |= {v: k for k, v in other.items()}
    if chosen in other:
        audience.pop(other[chosen], None)


@router.callback_query(_op(WizardOp.SKIP), CampaignWizard.audience)
async def audience_number_asked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None or callback_data.value not in NUMBER_RANGES:
        return
    steps.draft.asking = callback_data.value
    await steps.show(
        CampaignWizard.audience_number,
        (number_prompt(callback_data.value), typed_answer_markup()),
    )


def _whole_number(text: str, low: int, high: int) -> int | None:
    cleaned = text.strip()
    if cleaned.isascii() and cleaned.isdecimal() and len(cleaned) <= len(str(high)):
        value = int(cleaned)
        return value if low <= value <= high else None
    return None


@router.message(CampaignWizard.audience_number, ANSWER)
async def audience_number_typed(
    message: Message, state: FSMContext, wizard: WizardServices
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    name = steps.draft.asking
    if name not in NUMBER_RANGES:
        await steps.summary()
        return
    low, high = NUMBER_RANGES[name]
    value = _whole_number(message.text, low, high)
    if value is None:
        await message.answer(
            _("Please send a whole number from {low} to {high}.").format(
                low=number(low), high=number(high)
            )
        )
        return
    steps.draft.audience[name] = value
    _one_birthday_filter(steps.draft.audience, name)
    steps.draft.asking = ""
    await steps.show(CampaignWizard.audience, await audience_screen(steps.draft, steps.shop))


# ---------------------------------------------------------------------------------------------
# Channels


@router.callback_query(_op(WizardOp.CHANNEL), CampaignWizard.summary)
async def channels_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        screen = await channels_screen(steps.draft, steps.shop, wizard)
        await steps.show(CampaignWizard.channels, screen)


@router.callback_query(_op(WizardOp.CHANNEL), CampaignWizard.channels)
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
    offered = {c.value for c in offered_channels(wizard, steps.shop)}
    value = callback_data.value
    if value not in offered:
        await steps.message.answer(button_expired())
        return
    if value in draft.channels:
        if len(draft.channels) == 1:
            await steps.message.answer(_("Keep at least one channel on."))
            return
        draft.channels.remove(value)
    elif value in WALLET and not draft.push_text:
        await steps.message.answer(
            _("A wallet pass needs a lock-screen line. Set one with “Lock-screen line” first.")
        )
        return
    else:
        draft.channels.append(value)
    draft.channels_auto = False
    await steps.show(CampaignWizard.channels, await channels_screen(draft, steps.shop, wizard))


# ---------------------------------------------------------------------------------------------
# Lock-screen line


@router.callback_query(_op(WizardOp.SKIP), CampaignWizard.summary)
async def push_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.push, push_screen(steps.draft, steps.push_limit))


@router.callback_query(_op(WizardOp.KEEP, WizardOp.SKIP), CampaignWizard.push)
async def push_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft = steps.draft
    if callback_data.op == WizardOp.KEEP:
        draft.push_auto = True
        draft.push_text = first_line(draft.message_text, steps.push_limit)
    else:
        draft.push_auto = False
        draft.push_text = ""
        # No line, no wallet push: the lock screen would have nothing to show.
        draft.channels = [c for c in draft.channels if c not in WALLET] or [Channel.TELEGRAM]
    await steps.summary()


@router.message(CampaignWizard.push, ANSWER)
async def push_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    text = " ".join(message.text.split())
    limit = steps.push_limit
    if (length := push_length(text)) > limit:
        await message.answer(
            ngettext(
                "That is {count} character; the lock screen shows {limit}. Please send a "
                "shorter one.",
                "That is {count} characters; the lock screen shows {limit}. Please send a "
                "shorter one.",
                length,
            ).format(count=number(length), limit=number(limit))
        )  # fmt: skip
        return
    steps.draft.push_text = text
    steps.draft.push_auto = False
    await steps.summary()


# ---------------------------------------------------------------------------------------------
# Voucher


@router.callback_query(_op(WizardOp.VOUCHER), CampaignWizard.summary)
async def voucher_change(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.voucher_title, voucher_title_screen(steps.draft))


@router.callback_query(_op(WizardOp.NO_VOUCHER), CampaignWizard.voucher_title)
async def voucher_removed(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        steps.draft.with_voucher = False
        steps.draft.voucher_title = None
        steps.draft.voucher_days = None
        await steps.summary()


async def _card_validity(draft: Draft) -> int:
    return await card_voucher_days(draft.merchant_id, draft.card_id)


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
    await steps.show(
        CampaignWizard.voucher_days, voucher_days_screen(await _card_validity(steps.draft))
    )


async def _voucher_days_set(steps: Steps, days: int) -> None:
    steps.draft.voucher_days = days
    steps.draft.with_voucher = True
    await steps.summary()


@router.message(CampaignWizard.voucher_days, ANSWER)
async def voucher_days_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    days = _whole_number(message.text, 1, MAX_VOUCHER_DAYS)
    if days is None:
        await message.answer(_("Please send a whole number of days from 1 to 3650."))
        return
    await _voucher_days_set(steps, days)


@router.callback_query(_op(WizardOp.DAYS), CampaignWizard.voucher_days)
async def voucher_days_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    offered = {*VOUCHER_DAYS, await _card_validity(steps.draft)}
    days = _whole_number(callback_data.value, 1, MAX_VOUCHER_DAYS)
    if days is None or days not in offered:
        await steps.message.answer(button_expired())
        return
    await _voucher_days_set(steps, days)


# ---------------------------------------------------------------------------------------------
# More options: comparison group, once-only and its order, the name


@router.callback_query(_op(WizardOp.POLICY), CampaignWizard.summary)
async def more_opened(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.more, more_screen(steps.draft, wizard))


@router.callback_query(
    _op(WizardOp.FILTER, WizardOp.POLICY, WizardOp.CHANNEL), CampaignWizard.more
)
async def more_changed(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft, value = steps.draft, callback_data.value
    if callback_data.op == WizardOp.FILTER:
        percent = _whole_number(value, 0, MAX_CUSTOM_HOLDOUT)
        if percent is None or percent not in HOLDOUT_CHOICES:
            await steps.message.answer(button_expired())
            return
        draft.holdout_percent = percent
    elif callback_data.op == WizardOp.POLICY and value in ("every", "once"):
        draft.policy = (
            DeliveryPolicy.EVERY_CHANNEL.value
            if value == "every"
            else DeliveryPolicy.FIRST_REACHABLE.value
        )
    elif callback_data.op == WizardOp.CHANNEL and value in draft.channels:
        order = [c.value for c in draft.ordered_channels()]
        at = order.index(value)
        if at > 0:
            order[at - 1], order[at] = order[at], order[at - 1]
        draft.channel_order = order
    else:
        await steps.message.answer(button_expired())
        return
    await steps.show(CampaignWizard.more, more_screen(draft, wizard))


@router.callback_query(_op(WizardOp.TEMPLATE), CampaignWizard.more)
async def template_asked(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    own_number = Channel.WHATSAPP in steps.shop.own_chats
    prompt = template_prompt(steps.draft.whatsapp_template, own_number=own_number)
    await steps.show(CampaignWizard.whatsapp_template, (prompt, typed_answer_markup()))


@router.message(CampaignWizard.whatsapp_template, ANSWER)
async def template_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    name = message.text.strip()
    if name in ("-", "—"):
        name = ""
    elif not TEMPLATE_NAME.fullmatch(name):
        await message.answer(
            _(
                "A template name is lower-case Latin letters, digits and underscores, as "
                "WhatsApp Manager shows it. Please send it again."
            )
        )
        return
    steps.draft.whatsapp_template = name
    await steps.show(CampaignWizard.more, more_screen(steps.draft, wizard))


@router.callback_query(_op(WizardOp.SKIP, WizardOp.KEEP), CampaignWizard.more)
async def more_typed_asked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if callback_data.op == WizardOp.SKIP:
        await steps.show(CampaignWizard.holdout, (holdout_prompt(), typed_answer_markup()))
    else:
        current = draft_title(steps.draft, steps.shop)
        await steps.show(CampaignWizard.rename, (rename_prompt(current), typed_answer_markup()))


@router.message(CampaignWizard.holdout, ANSWER)
async def holdout_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    percent = _whole_number(message.text.removesuffix("%"), 1, MAX_CUSTOM_HOLDOUT)
    if percent is None:
        await message.answer(_("Please send a whole number from 1 to 50."))
        return
    steps.draft.holdout_percent = percent
    await steps.summary()


@router.message(CampaignWizard.rename, ANSWER)
async def rename_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    name = " ".join(message.text.split())
    if not 1 <= len(name) <= 120:
        await message.answer(_("A campaign name is 1 to 120 characters. Please send it again."))
        return
    steps.draft.name = name
    await steps.summary()


# ---------------------------------------------------------------------------------------------
# A test to myself: the chat, my test email, my own wallet pass


async def _wallet_test(steps: Steps, customer: Customer | None) -> list[str]:
    draft = steps.draft
    wanted = [c for c in WALLET if c in draft.channels]
    if not wanted:
        return []
    passes = await own_passes(customer.id if customer else None, draft.card_id)
    senders = dict(steps.services.wallet_senders)
    report = []
    for channel in wanted:
        address = passes.get(channel)
        if address is None or channel not in senders:
            continue
        tried = await push_to_own_pass(
            draft.spec(steps.push_limit),
            senders[channel],
            channel=channel,
            address=address,
            merchant_name=steps.shop.name,
            language=current_locale(),
        )
        report.append(_("your wallet pass: updated") if tried.delivered else _("wallet: failed"))
    if not report:
        report.append(_("wallet: you have no pass of this card on a phone"))
    return report


@router.callback_query(_op(WizardOp.TEST), CampaignWizard.summary)
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
    markup = None
    if Channel.TELEGRAM in draft.channels:
        tried = await send_test(
            spec,
            wizard.telegram_channel,
            channel=Channel.TELEGRAM,
            address=str(steps.message.chat.id),
            **sender,
        )
        report.append(_("chat: sent") if tried.delivered else _("chat: failed"))
    if Channel.EMAIL in draft.channels:
        address = (
            customer.email
            if customer is not None and customer.email and customer.email_verified
            else steps.seat.test_email
        )
        if address:
            tried = await send_test(
                spec, wizard.email_channel, channel=Channel.EMAIL, address=address, **sender
            )
            report.append(
                _("email to {address}: sent").format(address=user_text(address))
                if tried.delivered
                else _("email: failed")
            )
        else:
            report.append(_("email: you have no test address yet"))
            builder = InlineKeyboardBuilder()
            builder.button(
                text=_("✉️ Set my test email"), callback_data=WizardAction(op=WizardOp.EMAIL)
            )
            markup = builder.as_markup()
    report += await _wallet_test(steps, customer)
    await steps.message.answer(
        _("Test: {report}.").format(report=separated(report)), reply_markup=markup
    )


@router.callback_query(_op(WizardOp.EMAIL), CampaignWizard.summary)
async def test_email_asked(query: CallbackQuery, state: FSMContext) -> None:
    # Pressed under the test report, not the summary: the summary stays as it is.
    if await load_draft(state) is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    await query.answer()
    await state.set_state(CampaignWizard.test_email)
    await query.message.edit_text(
        _("Send the email address your tests should go to (only you get them)."),
        reply_markup=typed_answer_markup(),
    )


@router.message(CampaignWizard.test_email, ANSWER)
async def test_email_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None or message.text is None:
        return
    try:
        address = normalized_email(message.text)
    except InvalidEmail:
        await message.answer(
            _("That doesn't look like an email address. Please send it again, for example "
              "name@example.com.")
        )  # fmt: skip
        return
    await set_test_email(steps.seat.id, address)
    await message.answer(
        _("Your tests go to {address} now. Tap “Send me a test” again.").format(
            address=user_text(address)
        )
    )
    await steps.summary()


# ---------------------------------------------------------------------------------------------
# Send now · Schedule


@router.callback_query(_op(WizardOp.NOW), CampaignWizard.summary)
async def send_asked(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        found = await apply_defaults(steps.draft, steps.shop, wizard)
        await steps.show(CampaignWizard.confirm_send, confirm_send_screen(steps.draft, found))


@router.callback_query(_op(WizardOp.CONFIRM), CampaignWizard.summary)
async def keep_time_asked(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if steps.draft.send_time is None:
        await steps.summary()
        return
    found = await apply_defaults(steps.draft, steps.shop, wizard)
    await steps.show(
        CampaignWizard.confirm_schedule, confirm_schedule_screen(steps.draft, steps.shop, found)
    )


@router.callback_query(_op(WizardOp.LATER), CampaignWizard.summary)
async def slots_shown(query: CallbackQuery, state: FSMContext, wizard: WizardServices) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(CampaignWizard.slots, slots_screen(steps.shop, utcnow()))


def _slot(value: str, timezone: str) -> datetime | None:
    """The slot a button carries, if it is one of the slots offered now (not a forged time)."""
    minutes = _whole_number(value, 0, 10**9)
    if minutes is None:
        return None
    at = datetime.fromtimestamp(minutes * 60, UTC)
    offered = {moment for _label, moment in time_slots(timezone, utcnow())}
    return at if at in offered else None


@router.callback_query(_op(WizardOp.DAYS), CampaignWizard.slots)
async def slot_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    at = _slot(callback_data.value, steps.shop.timezone)
    if at is None:
        await steps.show(CampaignWizard.slots, slots_screen(steps.shop, utcnow()))
        return
    await _ask_schedule(steps, at)


async def _ask_schedule(steps: Steps, at: datetime) -> None:
    steps.draft.send_at = at.isoformat()
    found = await apply_defaults(steps.draft, steps.shop, steps.services)
    await steps.show(
        CampaignWizard.confirm_schedule, confirm_schedule_screen(steps.draft, steps.shop, found)
    )


@router.callback_query(_op(WizardOp.NEXT), CampaignWizard.slots)
async def other_time_asked(
    query: CallbackQuery, state: FSMContext, wizard: WizardServices
) -> None:
    if steps := await _steps(query, state, wizard):
        await steps.show(
            CampaignWizard.schedule_at, (other_time_text(steps.shop), typed_answer_markup())
        )


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


async def _typed_time(message: Message, timezone: str) -> datetime | None:
    """The time typed, or None after saying what is wrong with it."""
    now = utcnow()
    at = parse_local_time(message.text or "", timezone, now)
    if at is None:
        await message.answer(
            _("Please send the date and time as DD.MM.YYYY HH:MM, for example 24.12.2026 10:00.")
        )
        return None
    if at <= now:
        await message.answer(_("That time has already passed. Please send a time ahead."))
        return None
    try:
        check_send_time(at, now)
    except InvalidCampaign:
        await message.answer(_("Campaigns can be scheduled up to a year ahead."))
        return None
    return at


@router.message(CampaignWizard.schedule_at, ANSWER)
async def schedule_typed(
    message: Message,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None:
        return
    if (at := await _typed_time(message, steps.shop.timezone)) is not None:
        await _ask_schedule(steps, at)


async def _claim(state: FSMContext, nonce: str) -> bool:
    """True for the first Yes of a draft only: two taps (even on two replicas at once) cannot
    both send."""
    key = f"stampbot:wizard:sent:{state.key.chat_id}:{nonce}"
    storage = state.storage
    if isinstance(storage, RedisStorage):
        return bool(await storage.redis.set(key, "1", nx=True, ex=24 * 3600))
    if key in _claimed:
        return False
    _claimed.add(key)
    return True


@router.callback_query(_op(WizardOp.YES), CampaignWizard.confirm_send)
@router.callback_query(_op(WizardOp.YES), CampaignWizard.confirm_schedule)
async def confirmed(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    progress: CampaignProgress,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    draft, seat = steps.draft, steps.seat
    if callback_data.value != draft.nonce or not await _claim(state, draft.nonce):
        await steps.message.answer(button_expired())
        return
    now_step = await state.get_state()
    at = draft.send_time if now_step == CampaignWizard.confirm_schedule.state else None
    # Leave the confirm step before the slow part, so a double tap finds no step to confirm.
    await state.set_state(None)
    found = await apply_defaults(draft, steps.shop, wizard)
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
        draft.nonce = Draft(merchant_id=draft.merchant_id).nonce
        await save_draft(state, draft)
        await state.set_state(CampaignWizard.summary)
        await steps.message.answer(
            _("Part of this campaign is not valid any more ({field}). Please change it on the "
              "summary.").format(field=field_name(refused.field))
        )  # fmt: skip
        return
    except WrongCampaignState as refused:
        await save_draft(state, None)
        await steps.message.edit_text(
            _("This campaign is {status} now, so it can no longer be changed. /campaigns "
              "shows it.").format(status=status_name(refused.status))
        )  # fmt: skip
        return
    except CampaignNotFound:
        await save_draft(state, None)
        await steps.message.edit_text(_("This campaign was deleted in the meantime."))
        return
    await save_draft(state, None)
    title = bold_title(campaign, steps.shop.timezone)
    if at is not None and campaign.status == CampaignStatus.SCHEDULED:
        await steps.message.edit_text(
            _("🕒 {name} is scheduled for {when} ({zone}). /campaigns shows it.").format(
                name=title,
                when=short_when(at, steps.shop.timezone),
                zone=zone_name(steps.shop.timezone),
            )
        )
    else:
        await steps.message.edit_text(
            ngettext(
                "🚀 {name}: sending to {count} person.",
                "🚀 {name}: sending to {count} people.",
                found.people,
            ).format(name=title, count=number(found.people))
        )
    await progress.follow(steps.message.chat.id, campaign.id, merchant_id=draft.merchant_id)


def bold_title(campaign: Campaign, timezone: str) -> str:
    shown = campaign_title(campaign.name, campaign.message_text, campaign.created_at, timezone)
    return f"<b>{user_text(shown)}</b>"


# ---------------------------------------------------------------------------------------------
# Change time, from a scheduled campaign's detail


def _detail_back(campaign: Campaign) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=back_label(),
        callback_data=CampaignAction(
            op=CampaignOp.SHOW, merchant_id=campaign.merchant_id, campaign_id=campaign.id
        ),
    )
    return builder.as_markup()


@router.callback_query(CampaignAction.filter(F.op == CampaignOp.CHANGE_TIME))
async def change_time_pressed(
    query: CallbackQuery, callback_data: CampaignAction, state: FSMContext
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.CAMPAIGNS)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    try:
        campaign = await get_campaign(callback_data.campaign_id, merchant_id=seat.merchant_id)
    except CampaignNotFound:
        await query.answer(button_expired())
        return
    if campaign.status != CampaignStatus.SCHEDULED:
        await query.answer(
            _("Not possible now: the campaign is {status}.").format(
                status=status_name(campaign.status)
            ),
            show_alert=True,
        )
        return
    await query.answer()
    await enter_admin_mode(state, seat.merchant_id)
    shop = await campaign_shop(seat.merchant_id)
    draft = Draft.of_campaign(campaign)
    draft.screen_id = query.message.message_id
    await save_draft(state, draft, shop)
    await state.set_state(CampaignWizard.reschedule)
    text, markup = slots_screen(shop, utcnow(), back=False)
    builder = InlineKeyboardBuilder.from_markup(markup) if markup else InlineKeyboardBuilder()
    builder.row(*_detail_back(campaign).inline_keyboard[0])
    title = bold_title(campaign, shop.timezone)
    await query.message.edit_text(f"{title}\n{text}", reply_markup=builder.as_markup())


async def _move_to(steps: Steps, at: datetime) -> None:
    draft = steps.draft
    await steps.state.set_state(None)
    await save_draft(steps.state, None)
    try:
        campaign = await get_campaign(draft.campaign_id or 0, merchant_id=draft.merchant_id)
        if campaign.status != CampaignStatus.SCHEDULED:
            raise WrongCampaignState("scheduled", campaign.status)
        campaign = await schedule(campaign, at=at)
    except WrongCampaignState as refused:
        await steps.message.answer(
            _("This campaign is {status} now, so it can no longer be changed. /campaigns "
              "shows it.").format(status=status_name(refused.status))
        )  # fmt: skip
        return
    except (CampaignNotFound, InvalidCampaign):
        await steps.message.answer(_("This campaign was deleted in the meantime."))
        return
    text = _("🕒 {name} now goes out {when} ({zone}).").format(
        name=bold_title(campaign, steps.shop.timezone),
        when=short_when(at, steps.shop.timezone),
        zone=zone_name(steps.shop.timezone),
    )
    if steps.pressed:
        await steps.message.edit_text(text, reply_markup=_detail_back(campaign))
    else:
        await steps.message.answer(text, reply_markup=_detail_back(campaign))


@router.callback_query(_op(WizardOp.DAYS, WizardOp.NEXT), CampaignWizard.reschedule)
async def reschedule_picked(
    query: CallbackQuery,
    callback_data: WizardAction,
    state: FSMContext,
    wizard: WizardServices,
) -> None:
    steps = await _steps(query, state, wizard)
    if steps is None:
        return
    if callback_data.op == WizardOp.NEXT:
        await steps.show(CampaignWizard.reschedule_at, (other_time_text(steps.shop), None))
        return
    at = _slot(callback_data.value, steps.shop.timezone)
    if at is None:
        await steps.message.answer(button_expired())
        return
    await _move_to(steps, at)


@router.message(CampaignWizard.reschedule_at, ANSWER)
async def reschedule_typed(message: Message, state: FSMContext, wizard: WizardServices) -> None:
    steps = await _steps(message, state, wizard)
    if steps is None:
        return
    if (at := await _typed_time(message, steps.shop.timezone)) is not None:
        await _move_to(steps, at)


@router.message(CampaignWizard(), ~COMMAND)
async def unexpected_input(message: Message, state: FSMContext) -> None:
    """Anything a step does not take: say what it wants instead of the customer help."""
    step = await state.get_state()
    if step == CampaignWizard.message.state:
        await message.answer(_("Please send the message as text, or a photo with a caption."))
    elif step in (
        CampaignWizard.push.state,
        CampaignWizard.voucher_title.state,
        CampaignWizard.voucher_days.state,
        CampaignWizard.schedule_at.state,
        CampaignWizard.audience_number.state,
        CampaignWizard.holdout.state,
        CampaignWizard.rename.state,
        CampaignWizard.whatsapp_template.state,
        CampaignWizard.test_email.state,
        CampaignWizard.reschedule_at.state,
    ):
        await message.answer(_("Please answer with text, or use the buttons above."))
    else:
        await message.answer(_("Please use the buttons above, or /cancel to stop."))


@router.callback_query(WizardAction.filter())
async def no_step_took_it(query: CallbackQuery, state: FSMContext) -> None:
    """A wizard button no step above took: a double tap the first tap already moved on from, a
    forged one, or a screen whose draft is gone (left with /exit, its conversation state
    expired). The last kind closes instead of toasting at every tap; a live draft's screen is
    never touched here."""
    await query.answer(button_expired())
    if await state.get_state() is None or await load_draft(state) is None:
        await _close_left_screen(query)
