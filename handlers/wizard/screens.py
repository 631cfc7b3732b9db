"""What each step of the campaign wizard shows: its question, buttons and the previews.

The handlers in ``handlers.wizard.flow`` move between these screens; nothing here changes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from campaigns.audience import audience_count, reachable_counts, reachable_people
from campaigns.preview import mail_preview, send_test
from handlers.callbacks import WizardAction, WizardOp
from handlers.campaign_texts import (
    WALLET,
    audience_lines,
    channel_name,
    channels_line,
    voucher_summary,
)
from handlers.texts import and_list, current_locale, local_datetime, ltr, number, user_text
from handlers.wizard.draft import Draft
from loyalty.clock import utcnow
from models.enums import Channel, DeliveryPolicy

if TYPE_CHECKING:
    from campaigns.preview import MailChannel
    from campaigns.views import CampaignShop, CardChoice
    from channels.base import DeliveryChannel

# The audience switches the wizard offers, with the values a small shop usually means.
AUDIENCE_CHOICES: tuple[tuple[str, int | bool], ...] = (
    ("new_within_days", 30),
    ("close_to_reward", 2),
    ("inactive_days", 30),
    ("birthday_this_month", True),
    ("has_unused_voucher", True),
)
VOUCHER_DAYS = (7, 14, 30, 90)


@dataclass(frozen=True, slots=True)
class WizardServices:
    """What the steps need besides the draft: the lock-screen line's length
    (STAMPBOT_PUSH_TEXT_LIMIT), the wallets this bot can push to, and the adapters the
    preview goes through (the ones campaigns use, with their rate limits)."""

    push_limit: int
    wallet_channels: tuple[Channel, ...]
    telegram_channel: DeliveryChannel
    email_channel: MailChannel


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


def nav_markup(
    builder: InlineKeyboardBuilder, *rows: int, back: bool = True
) -> InlineKeyboardMarkup:
    _nav(builder, back=back)
    builder.adjust(*rows, 2 if back else 1)
    return builder.as_markup()


# ---------------------------------------------------------------------------------------------
# Steps: each one shows its question; ``_go`` moves forward and remembers where it came from.


async def _ask_card(message: Message, draft: Draft, shop: CampaignShop) -> None:
    builder = InlineKeyboardBuilder()
    cards = shop.cards
    for card in cards:
        mark = "✅ " if card.id == draft.card_id else ""
        builder.button(
            text=mark + user_text(card.name, html=False, limit=60),
            callback_data=WizardAction(op=WizardOp.CARD, value=str(card.id)),
        )
    await message.answer(
        _("<b>New campaign · 1/9</b>\nWhich card is it for?"),
        reply_markup=nav_markup(builder, *([1] * len(cards)), back=False),
    )


def audience_markup(draft: Draft) -> InlineKeyboardMarkup:
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
    return nav_markup(builder, *([1] * (len(AUDIENCE_CHOICES) + 1)))


def chosen_card(draft: Draft, shop: CampaignShop) -> CardChoice:
    """The card picked at step 1 (the steps after it are reached only with one picked)."""
    card = shop.card(draft.card_id)
    if card is None:
        raise LookupError(f"card {draft.card_id} is not one of the shop's active cards")
    return card


async def audience_text(draft: Draft, shop: CampaignShop) -> str:
    card = chosen_card(draft, shop)
    count = await audience_count(card, draft.audience_filter, shop.timezone)
    return "\n".join(
        [
            _("<b>New campaign · 2/9</b>\nWho should get it? Pick any; all picked must hold."),
            ngettext("Now: {who} — {count} person.", "Now: {who} — {count} people.", count).format(
                who=escape(and_list(audience_lines(draft.audience_filter))), count=number(count)
            ),
        ]
    )


async def _ask_audience(message: Message, draft: Draft, shop: CampaignShop) -> None:
    await message.answer(await audience_text(draft, shop), reply_markup=audience_markup(draft))


def _keep_button(builder: InlineKeyboardBuilder, keep: bool) -> int:
    if keep:
        builder.button(text=_("Keep as it is ▶"), callback_data=WizardAction(op=WizardOp.KEEP))
    return 1 if keep else 0


async def _ask_push(message: Message, draft: Draft, limit: int) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.push_text))
    builder.button(text=_("No push text ▶"), callback_data=WizardAction(op=WizardOp.SKIP))
    lines = [
        ngettext(
            "<b>New campaign · 3/9</b>\nSend the push text: the line the wallet card shows on "
            "the lock screen, up to {limit} character.",
            "<b>New campaign · 3/9</b>\nSend the push text: the line the wallet card shows on "
            "the lock screen, up to {limit} characters.",
            limit,
        ).format(limit=number(limit)),
    ]  # fmt: skip
    if draft.push_text:
        lines.append(_("Now: {text}").format(text=user_text(draft.push_text)))
    await message.answer("\n".join(lines), reply_markup=nav_markup(builder, *rows, 1))


async def _ask_voucher(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("No voucher"), callback_data=WizardAction(op=WizardOp.NO_VOUCHER))
    builder.button(text=_("🎟 Add a voucher"), callback_data=WizardAction(op=WizardOp.VOUCHER))
    lines = [_("<b>New campaign · 4/9</b>\nAttach a voucher that everyone reached receives?")]
    if draft.with_voucher and draft.voucher_title:
        lines.append(voucher_summary(draft.voucher_title, draft.voucher_days or 0, now=True))
    await message.answer("\n".join(lines), reply_markup=nav_markup(builder, 2))


async def _ask_voucher_title(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.voucher_title))
    await message.answer(
        _("What is the voucher for? Send its title, for example: Free cappuccino."),
        reply_markup=nav_markup(builder, *rows),
    )


async def _ask_voucher_days(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    for days in VOUCHER_DAYS:
        builder.button(
            text=ngettext("{days} day", "{days} days", days).format(days=number(days)),
            callback_data=WizardAction(op=WizardOp.DAYS, value=str(days)),
        )
    await message.answer(
        _("How many days is the voucher valid? Pick one or send a number from 1 to 3650."),
        reply_markup=nav_markup(builder, len(VOUCHER_DAYS)),
    )


def wallet_not_set_up() -> str:
    return _(
        "Wallet card pushes are not set up for this bot: they need Apple Wallet (APNs) or "
        "Google Wallet in its settings."
    )


def channels_markup(draft: Draft, wallet_channels: tuple[Channel, ...]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    wallet = _("Wallet card push") if wallet_channels else _("Wallet card push (not set up)")
    choices = (
        ("wallet", wallet, any(c in draft.channels for c in WALLET)),
        (Channel.EMAIL.value, _("Email"), Channel.EMAIL in draft.channels),
        (Channel.TELEGRAM.value, _("Messenger"), Channel.TELEGRAM in draft.channels),
    )
    for value, label, on in choices:
        mark = "✅ " if on else "▫️ " if value != "wallet" or wallet_channels else "🚫 "
        builder.button(
            text=mark + label,
            callback_data=WizardAction(op=WizardOp.CHANNEL, value=value),
        )
    policy = (
        _("Send on: every channel they have")
        if draft.policy == DeliveryPolicy.EVERY_CHANNEL
        else _("Send on: only the first that reaches them")
    )
    builder.button(text="🔁 " + policy, callback_data=WizardAction(op=WizardOp.POLICY))
    builder.button(text=_("Continue ▶"), callback_data=WizardAction(op=WizardOp.NEXT))
    return nav_markup(builder, 1, 1, 1, 1, 1)


def channels_text() -> str:
    return _("<b>New campaign · 5/9</b>\nWhere should it go? Tap to switch channels on or off.")


async def _ask_channels(
    message: Message, draft: Draft, wallet_channels: tuple[Channel, ...]
) -> None:
    await message.answer(channels_text(), reply_markup=channels_markup(draft, wallet_channels))


async def _ask_message(message: Message, draft: Draft) -> None:
    builder = InlineKeyboardBuilder()
    rows = [1] * _keep_button(builder, bool(draft.message_text))
    await message.answer(
        _("<b>New campaign · 6/9</b>\nSend the message itself, with any formatting you like. "
          "Attach a photo to send it with the message. It goes to the chat, the email and "
          "the card's web page."),
        reply_markup=nav_markup(builder, *rows),
    )  # fmt: skip


async def _ask_when(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🚀 Send now"), callback_data=WizardAction(op=WizardOp.NOW))
    builder.button(text=_("🕒 Schedule"), callback_data=WizardAction(op=WizardOp.LATER))
    await message.answer(
        _("<b>New campaign · 8/9</b>\nSend it now or at a time you choose?"),
        reply_markup=nav_markup(builder, 2),
    )


async def _ask_schedule_at(message: Message, shop: CampaignShop) -> None:
    example = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(shop.timezone))
    await message.answer(
        _("When? Send the date and time in your shop's time zone ({zone}), for example "
          "{example}.").format(zone=shop.timezone, example=ltr(f"{example:%d.%m.%Y} 10:00")),
        reply_markup=nav_markup(InlineKeyboardBuilder()),
    )  # fmt: skip


async def _ask_confirm(message: Message, draft: Draft, shop: CampaignShop) -> None:
    card = chosen_card(draft, shop)
    when = (
        local_datetime(draft.send_time, shop.timezone)
        if draft.send_time
        else _("right after you confirm")
    )
    lines = [
        _("<b>New campaign · 9/9</b> — please check:"),
        _("Card: {card}").format(card=user_text(card.name)),
        _("Audience: {who}").format(who=escape(and_list(audience_lines(draft.audience_filter)))),
        _("Channels: {channels}").format(channels=channels_line(draft.channels)),
    ]
    if draft.push_text:
        lines.append(_("Push text: {text}").format(text=user_text(draft.push_text)))
    if draft.with_voucher and draft.voucher_title:
        lines.append(voucher_summary(draft.voucher_title, draft.voucher_days or 0))
    lines.append(_("Sending: {when}").format(when=when))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=WizardAction(op=WizardOp.CONFIRM))
    await message.answer("\n".join(lines), reply_markup=nav_markup(builder, 1))


# ---------------------------------------------------------------------------------------------
# Navigation


CARD_STEP = str(CampaignWizard.card.state)
# Steps 2 to 9 are about the card picked at step 1.
NEEDS_CARD = frozenset(str(step.state) for step in CampaignWizard.__states__) - {CARD_STEP}


def reachable(step: str, draft: Draft, shop: CampaignShop) -> str:
    """``step``, or the card step when no card of this shop is picked (pick one again)."""
    if step in NEEDS_CARD and shop.card(draft.card_id) is None:
        return CARD_STEP
    return step


async def show_step(
    step: str,
    message: Message,
    draft: Draft,
    shop: CampaignShop,
    services: WizardServices,
) -> None:
    if step == CampaignWizard.card.state:
        await _ask_card(message, draft, shop)
    elif step == CampaignWizard.audience.state:
        await _ask_audience(message, draft, shop)
    elif step == CampaignWizard.push.state:
        await _ask_push(message, draft, services.push_limit)
    elif step == CampaignWizard.voucher.state:
        await _ask_voucher(message, draft)
    elif step == CampaignWizard.voucher_title.state:
        await _ask_voucher_title(message, draft)
    elif step == CampaignWizard.voucher_days.state:
        await _ask_voucher_days(message, draft)
    elif step == CampaignWizard.channels.state:
        await _ask_channels(message, draft, services.wallet_channels)
    elif step == CampaignWizard.message.state:
        await _ask_message(message, draft)
    elif step == CampaignWizard.preview.state:
        await _show_preview(message, draft, shop, services)
    elif step == CampaignWizard.when.state:
        await _ask_when(message)
    elif step == CampaignWizard.schedule_at.state:
        await _ask_schedule_at(message, shop)
    else:
        await _ask_confirm(message, draft, shop)


async def _show_preview(
    message: Message, draft: Draft, shop: CampaignShop, services: WizardServices
) -> None:
    spec = draft.spec(services.push_limit)
    language = current_locale()
    await message.answer(_("<b>New campaign · 7/9</b> — the preview, as each channel shows it:"))
    if Channel.TELEGRAM in draft.channels:
        await message.answer(_("💬 In the chat:"))
        tried = await send_test(
            spec,
            services.telegram_channel,
            channel=Channel.TELEGRAM,
            address=str(message.chat.id),
            merchant_name=shop.name,
            language=language,
        )
        if not tried.delivered:
            await message.answer(
                _("Telegram refused this message ({reason}). Please go back and change it.")
                .format(reason=escape(tried.detail))
            )  # fmt: skip
    if Channel.EMAIL in draft.channels:
        mail = mail_preview(
            spec, services.email_channel, merchant_name=shop.name, language=language
        )
        await message.answer_document(
            BufferedInputFile(mail.html.encode(), filename="email-preview.html"),
            caption=_("✉️ The email, subject: {subject}").format(subject=user_text(mail.subject))[
                :1024
            ],
        )
    if any(c in draft.channels for c in WALLET):
        await message.answer(
            _("📱 On the lock screen: {merchant} — {text}").format(
                merchant=user_text(shop.name), text=user_text(draft.push_text)
            )
        )
    card = chosen_card(draft, shop)
    counts = await reachable_counts(card, draft.audience_filter, shop.timezone)
    total = await audience_count(card, draft.audience_filter, shop.timezone)
    lines = [
        ngettext(
            "<b>Who it reaches</b> ({total} person on the card matches):",
            "<b>Who it reaches</b> ({total} people on the card match):",
            total,
        ).format(total=number(total))
    ]
    # The order of the channel step: wallet, email, messenger.
    if wallets := tuple(c for c in WALLET if c in draft.channels):
        # One person with the card in both wallets gets one push on each, but is one person.
        wallet = await reachable_people(card, draft.audience_filter, shop.timezone, wallets)
        lines.append("• " + _("Wallet card push: {count}").format(count=number(wallet)))
    for channel in (Channel.EMAIL, Channel.TELEGRAM):
        if channel in draft.channels:
            lines.append(f"• {channel_name(channel)}: {number(counts[channel])}")
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🧪 Send a test to me"), callback_data=WizardAction(op=WizardOp.TEST))
    builder.button(text=_("Continue ▶"), callback_data=WizardAction(op=WizardOp.NEXT))
    await message.answer("\n".join(lines), reply_markup=nav_markup(builder, 1, 1))
