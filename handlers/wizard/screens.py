"""What the campaign wizard shows: the one summary screen and the screens its Change buttons
open (each drawn into the same message), the send and schedule confirmations, the slots.

The handlers in ``handlers.wizard.flow`` move between these screens; nothing here changes state
but the defaults the summary fills in (``apply_defaults``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_skeleton, format_time, get_timezone, get_timezone_location

from campaigns.audience import audience_count, reachable_counts, reachable_people
from campaigns.composer import subject_of
from campaigns.spec import push_length
from handlers.callbacks import WizardAction, WizardOp
from handlers.campaign_texts import (
    WALLET,
    audience_lines,
    campaign_title,
    channel_name,
    voucher_summary,
)
from handlers.texts import (
    and_list,
    back_label,
    current_locale,
    ltr,
    number,
    picked_label,
    user_text,
)
from handlers.wizard.draft import CHANNEL_STEP_ORDER, PAID_CHATS, Draft, first_line
from loyalty.clock import utcnow
from models.enums import Channel, DeliveryPolicy

if TYPE_CHECKING:
    from campaigns.preview import MailChannel
    from campaigns.views import CampaignShop, CardChoice
    from channels.base import DeliveryChannel

# The audience filters: name → the number a small shop usually means (None: a yes/no filter),
# and the custom numbers each may take.
AUDIENCE_CHOICES: tuple[tuple[str, int | bool], ...] = (
    ("new_within_days", 30),
    ("close_to_reward", 2),
    ("inactive_days", 30),
    ("birthday_this_month", True),
    ("birthday_within_days", 7),
    ("has_unused_voucher", True),
)
NUMBER_RANGES = {
    "new_within_days": (1, 3650),
    "close_to_reward": (1, 100),
    "inactive_days": (1, 3650),
    "birthday_within_days": (1, 90),
}
VOUCHER_DAYS = (7, 14, 30, 90)
HOLDOUT_CHOICES = (0, 5, 10)
MAX_CUSTOM_HOLDOUT = 50


@dataclass(frozen=True, slots=True)
class WizardServices:
    """What the screens need besides the draft: the lock-screen line's length
    (STAMPBOT_PUSH_TEXT_LIMIT), the wallets this bot can push to, and the adapters previews
    and tests go through (the ones campaigns use, with their rate limits)."""

    push_limit: int
    wallet_channels: tuple[Channel, ...]
    telegram_channel: DeliveryChannel
    email_channel: MailChannel
    wallet_senders: tuple[tuple[Channel, DeliveryChannel], ...] = ()
    # The messengers besides Telegram this bot has an account on (Viber, WhatsApp): offered
    # as channels of their own, because the shop pays for what a bot sends there.
    paid_chats: tuple[Channel, ...] = ()


class CampaignWizard(StatesGroup):
    card = State()
    message = State()
    summary = State()
    confirm_send = State()
    slots = State()
    schedule_at = State()
    confirm_schedule = State()
    audience = State()
    audience_number = State()
    channels = State()
    push = State()
    voucher_title = State()
    voucher_days = State()
    more = State()
    holdout = State()
    rename = State()
    whatsapp_template = State()
    test_email = State()
    # Opened by "Change time" on a scheduled campaign's detail: a slot moves it at once.
    reschedule = State()
    reschedule_at = State()


Screen = tuple[str, InlineKeyboardMarkup | None]


def _button(builder: InlineKeyboardBuilder, text: str, op: WizardOp, value: str = "") -> None:
    builder.button(text=text, callback_data=WizardAction(op=op, value=value))


def _back_to_summary(builder: InlineKeyboardBuilder) -> None:
    _button(builder, back_label(), WizardOp.DONE)


# ---------------------------------------------------------------------------------------------
# Words


def zone_name(timezone: str) -> str:
    """ "Kyiv time", as the locale names the zone's city, rather than "Europe/Kyiv"."""
    try:
        city = get_timezone_location(
            get_timezone(timezone), locale=current_locale(), return_city=True
        )
    except (LookupError, ValueError):
        city = timezone
    return _("{city} time").format(city=city)


def short_when(moment: datetime, timezone: str) -> str:
    """ "Thu, Dec 3, 10:00 AM": weekday, day and time, the way the locale writes them."""
    local = moment.astimezone(ZoneInfo(timezone))
    locale = current_locale()
    day = format_skeleton("MMMEd", local, locale=locale)
    return ltr(f"{day}, {format_time(local, 'short', locale=locale)}")


def wallet_label(channel: Channel, configured: tuple[Channel, ...]) -> str:
    """One wallet is "the wallet pass"; with both, Apple and Google are named apart."""
    if len(configured) > 1:
        return channel_name(channel)
    return _("Wallet pass (lock screen)")


def via_name(channel: Channel, configured: tuple[Channel, ...]) -> str:
    return wallet_label(channel, configured) if channel in WALLET else channel_name(channel)


def draft_title(draft: Draft, shop: CampaignShop) -> str:
    """The name the summary shows: the chat's "first line · date" for a default name."""
    if draft.name:
        return campaign_title(draft.name, draft.message_text, utcnow(), shop.timezone)
    return campaign_title("0_01.01.200000:00", draft.message_text, utcnow(), shop.timezone)


def audience_words(draft: Draft) -> str:
    return escape(and_list(audience_lines(draft.audience_filter)))


def policy_words(draft: Draft, configured: tuple[Channel, ...]) -> str:
    if draft.policy == DeliveryPolicy.EVERY_CHANNEL:
        return _("on each of their channels")
    order = " → ".join(via_name(c, configured) for c in draft.ordered_channels())
    return _("once only, trying {order}").format(order=order)


# ---------------------------------------------------------------------------------------------
# The reach and the defaults


@dataclass(frozen=True, slots=True)
class Reach:
    total: int  # people on the card who match the audience
    by_channel: dict[Channel, int]
    people: int  # of them, reached by at least one chosen channel


def chosen_card(draft: Draft, shop: CampaignShop) -> CardChoice:
    card = shop.card(draft.card_id)
    if card is None:
        raise LookupError(f"card {draft.card_id} is not one of the shop's active cards")
    return card


def offered_channels(services: WizardServices, shop: CampaignShop) -> tuple[Channel, ...]:
    """The channels this bot can send on for ``shop``, in the channel screen's order, the paid
    chats last: a paid chat when the deployment has a shared account on it or the shop its own
    (its Viber bot, its WhatsApp number), which sends to the people who came through it."""
    return tuple(
        c
        for c in CHANNEL_STEP_ORDER
        if (c in WALLET and c in services.wallet_channels)
        or (c in PAID_CHATS and (c in services.paid_chats or c in shop.own_chats))
        or c not in (*WALLET, *PAID_CHATS)
    )


async def reach(draft: Draft, shop: CampaignShop) -> Reach:
    card = chosen_card(draft, shop)
    audience = draft.audience_filter
    counts = await reachable_counts(card, audience, shop.timezone)
    total = await audience_count(card, audience, shop.timezone)
    channels = tuple(Channel(c) for c in draft.channels)
    people = await reachable_people(card, audience, shop.timezone, channels)
    return Reach(total, counts, people)


async def apply_defaults(draft: Draft, shop: CampaignShop, services: WizardServices) -> Reach:
    """Fill in what the owner did not choose: the lock-screen line from the message's first
    line, and every channel that reaches someone (the chat when none does yet)."""
    if draft.push_auto:
        draft.push_text = first_line(draft.message_text, services.push_limit)
    found = await reach(draft, shop)
    if draft.channels_auto:
        picked = [
            c.value
            for c in offered_channels(services, shop)
            # A paid chat is the owner's choice, never a default.
            if found.by_channel[c] > 0
            and (c not in WALLET or draft.push_text)
            and c not in PAID_CHATS
        ]
        draft.channels = picked or [Channel.TELEGRAM.value]
        found = await reach(draft, shop)
    return found


# ---------------------------------------------------------------------------------------------
# The summary


def _warnings(
    draft: Draft, shop: CampaignShop, found: Reach, services: WizardServices
) -> list[str]:
    """Every channel of this bot that reaches nobody in the audience, chosen or not: the owner
    learns it now, not from the statistics afterwards."""
    configured = services.wallet_channels
    chosen = draft.ordered_channels()
    rest = [c for c in offered_channels(services, shop) if c not in chosen]
    lines = []
    for channel in (*chosen, *rest):
        if found.by_channel[channel]:
            continue
        if channel == Channel.EMAIL:
            lines.append(_("⚠️ Email reaches nobody yet — 0 customers have confirmed an email."))
        elif channel in WALLET:
            lines.append(
                _("⚠️ {channel} reaches nobody yet — nobody has the pass on a phone.").format(
                    channel=via_name(channel, configured)
                )
            )
        elif channel in PAID_CHATS:
            if channel in chosen:
                lines.append(
                    _("⚠️ {channel} reaches nobody in this audience yet.").format(
                        channel=channel_name(channel)
                    )
                )
        else:
            lines.append(_("⚠️ Telegram chat reaches nobody in this audience yet."))
    return lines


def summary_text(draft: Draft, shop: CampaignShop, services: WizardServices, found: Reach) -> str:
    configured = services.wallet_channels
    if draft.campaign_id is not None and draft.name:
        title = _("<b>Editing “{name}”</b>").format(name=user_text(draft_title(draft, shop)))
    else:
        title = _("<b>Ready to send — {shop}</b>").format(shop=user_text(shop.name))
    lines = [title]
    if len(shop.cards) > 1:
        lines.append(_("Card: {card}").format(card=user_text(chosen_card(draft, shop).name)))
    lines.append(
        ngettext("To: {who} · {count} person", "To: {who} · {count} people", found.total).format(
            who=audience_words(draft), count=number(found.total)
        )
    )
    via = " · ".join(
        f"{via_name(c, configured)} {number(found.by_channel[c])}"
        for c in draft.ordered_channels()
    )
    lines.append(_("Via: {channels}").format(channels=via))
    lines += _warnings(draft, shop, found, services)
    if draft.push_text:
        lines.append(_("Lock-screen line: “{text}”").format(text=user_text(draft.push_text)))
    else:
        lines.append(_("Lock-screen line: none"))
    if Channel.EMAIL in draft.ordered_channels():
        # The email's subject is the lock-screen line (or the first line): said, not silent.
        lines.append(
            _("Email subject: “{text}”").format(text=user_text(subject_of(draft, shop.name)))
        )
    if draft.with_voucher and draft.voucher_title:
        lines.append(
            ngettext(
                "Gift voucher: {title}, valid {days} day",
                "Gift voucher: {title}, valid {days} days",
                draft.voucher_days or 0,
            ).format(title=user_text(draft.voucher_title), days=number(draft.voucher_days or 0))
        )
    else:
        lines.append(_("Gift voucher: none"))
    if draft.holdout_percent:
        lines.append(
            _("Comparison group: {share} get nothing, to measure the effect").format(
                share=ltr(f"{number(draft.holdout_percent)}%")
            )
        )
    else:
        lines.append(_("Comparison group: off"))
    if len(draft.channels) > 1:
        lines.append(
            _("Someone on several channels gets it {how}.").format(
                how=policy_words(draft, configured)
            )
        )
    if draft.send_time is not None:
        lines.append(
            _("Sending: {when} ({zone})").format(
                when=short_when(draft.send_time, shop.timezone), zone=zone_name(shop.timezone)
            )
        )
    return "\n".join(lines)


def summary_markup(draft: Draft, shop: CampaignShop, found: Reach) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _button(
        builder,
        ngettext(
            "🚀 Send to {count} person now", "🚀 Send to {count} people now", found.people
        ).format(count=number(found.people)),
        WizardOp.NOW,
    )
    if draft.send_time is not None:
        _button(
            builder,
            _("🕒 Schedule for {when}").format(when=short_when(draft.send_time, shop.timezone)),
            WizardOp.CONFIRM,
            value="keep",
        )
        _button(builder, _("Change time"), WizardOp.LATER)
    else:
        _button(builder, _("🕒 Schedule"), WizardOp.LATER)
    changes = [
        (_("Audience"), WizardOp.FILTER),
        (_("Channels"), WizardOp.CHANNEL),
        (_("Voucher") if draft.with_voucher else _("Add voucher"), WizardOp.VOUCHER),
        (_("Lock-screen line"), WizardOp.SKIP),
        (_("Message"), WizardOp.KEEP),
        (_("More options"), WizardOp.POLICY),
        (_("Send me a test"), WizardOp.TEST),
    ]
    if len(shop.cards) > 1:
        changes.insert(0, (_("Card"), WizardOp.CARD))
    for label, op in changes:
        _button(builder, label, op)
    _button(builder, _("✖ Discard"), WizardOp.CANCEL)
    first = [1, 2] if draft.send_time is not None else [1, 1]
    pairs = [2] * (len(changes) // 2) + [1] * (len(changes) % 2)
    builder.adjust(*first, *pairs, 1)
    return builder.as_markup()


async def summary(draft: Draft, shop: CampaignShop, services: WizardServices) -> Screen:
    found = await apply_defaults(draft, shop, services)
    return summary_text(draft, shop, services, found), summary_markup(draft, shop, found)


# ---------------------------------------------------------------------------------------------
# Confirmations and time slots


def confirm_send_screen(draft: Draft, found: Reach) -> Screen:
    builder = InlineKeyboardBuilder()
    _button(builder, _("Yes, send"), WizardOp.YES, draft.nonce)
    _button(builder, _("Not yet"), WizardOp.DONE)
    builder.adjust(2)
    text = ngettext(
        "Send to {count} person now? This can't be undone.",
        "Send to {count} people now? This can't be undone.",
        found.people,
    ).format(count=number(found.people))
    return text, builder.as_markup()


def confirm_schedule_screen(draft: Draft, shop: CampaignShop, found: Reach) -> Screen:
    at = draft.send_time
    assert at is not None
    builder = InlineKeyboardBuilder()
    when = short_when(at, shop.timezone)
    _button(builder, _("🕒 Schedule for {when}").format(when=when), WizardOp.YES, draft.nonce)
    _button(builder, _("Not yet"), WizardOp.DONE)
    builder.adjust(1)
    text = ngettext(
        "Send to {count} person on {when} ({zone})?",
        "Send to {count} people on {when} ({zone})?",
        found.people,
    ).format(count=number(found.people), when=when, zone=zone_name(shop.timezone))
    return text, builder.as_markup()


def time_slots(timezone: str, now: datetime) -> list[tuple[str, datetime]]:
    """Today 17:00 while it is ahead, tomorrow 10:00, and the coming Saturday 09:00, in the
    shop's zone; each label says the day the way the owner says it."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    locale = current_locale()
    slots: list[tuple[str, datetime]] = []

    def at(day: datetime, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=zone)

    today = at(local, 17)
    if today > local + timedelta(minutes=10):
        slots.append(
            (_("Today {time}").format(time=format_time(today, "short", locale=locale)), today)
        )
    tomorrow = at(local + timedelta(days=1), 10)
    slots.append(
        (_("Tomorrow {time}").format(time=format_time(tomorrow, "short", locale=locale)), tomorrow)
    )
    ahead = (5 - local.weekday()) % 7 or 7
    saturday = at(local + timedelta(days=ahead), 9)
    if saturday.date() != tomorrow.date():
        day = format_skeleton("E", saturday, locale=locale)
        slots.append((f"{day} {format_time(saturday, 'short', locale=locale)}", saturday))
    return [(label, moment.astimezone(UTC)) for label, moment in slots]


def slots_screen(shop: CampaignShop, now: datetime, *, back: bool = True) -> Screen:
    builder = InlineKeyboardBuilder()
    slots = time_slots(shop.timezone, now)
    for label, moment in slots:
        _button(builder, label, WizardOp.DAYS, str(int(moment.timestamp()) // 60))
    _button(builder, _("Other time…"), WizardOp.NEXT)
    if back:
        _back_to_summary(builder)
    builder.adjust(len(slots), 1, 1)
    text = _("When should it go out? Times are {zone}.").format(zone=zone_name(shop.timezone))
    return text, builder.as_markup()


def other_time_text(shop: CampaignShop) -> str:
    example = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(shop.timezone))
    return _("Send the date and time ({zone}), for example {example}.").format(
        zone=zone_name(shop.timezone), example=ltr(f"{example:%d.%m.%Y} 10:00")
    )


# ---------------------------------------------------------------------------------------------
# The Change screens


def card_screen(draft: Draft, shop: CampaignShop) -> Screen:
    builder = InlineKeyboardBuilder()
    for card in shop.cards:
        name = user_text(card.name, html=False, limit=60)
        _button(builder, picked_label(name, card.id == draft.card_id), WizardOp.CARD, str(card.id))
    builder.adjust(1)
    return _("<b>New campaign</b>\nWhich card is it for?"), builder.as_markup()


def message_text_prompt(draft: Draft) -> Screen:
    builder = InlineKeyboardBuilder()
    if draft.message_text:
        _back_to_summary(builder)
    return (
        _("<b>New campaign</b>\nSend me the message (text, or a photo with a caption). "
          "Customers get it in the chat as you write it."),
        builder.as_markup() if draft.message_text else None,
    )  # fmt: skip


def _filter_label(name: str, value: int | bool | None) -> str:
    n = value if isinstance(value, int) and not isinstance(value, bool) else 0
    labels = {
        "new_within_days": ngettext(
            "New: joined in the last {n} day", "New: joined in the last {n} days", n
        ),
        "close_to_reward": ngettext(
            "Close: {n} stamp or fewer to a reward", "Close: {n} stamps or fewer to a reward", n
        ),
        "inactive_days": ngettext(
            "Lapsed: no visit for {n} day", "Lapsed: no visit for {n} days", n
        ),
        "birthday_this_month": _("Birthday this month"),
        "birthday_within_days": ngettext(
            "Birthday in the next {n} day", "Birthday in the next {n} days", n
        ),
        "has_unused_voucher": _("Has an unused voucher"),
    }
    return labels[name].format(n=number(n))


async def audience_screen(draft: Draft, shop: CampaignShop) -> Screen:
    card = chosen_card(draft, shop)
    count = await audience_count(card, draft.audience_filter, shop.timezone)
    builder = InlineKeyboardBuilder()
    rows = []
    for name, default in AUDIENCE_CHOICES:
        on = name in draft.audience
        value = draft.audience.get(name, default)
        state = _("On") if on else _("Off")
        # The state first: a long label is cut at its end on a narrow phone.
        _button(builder, f"{state} · {_filter_label(name, value)}", WizardOp.FILTER, name)
        if name in NUMBER_RANGES:
            _button(builder, _("Other number"), WizardOp.SKIP, name)
            rows.append(2)
        else:
            rows.append(1)
    _back_to_summary(builder)
    builder.adjust(*rows, 1)
    text = "\n".join(
        [
            _("<b>Who gets it?</b> Tap to narrow down — people must match every filter you "
              "tick."),
            ngettext("Now: {who} — {count} person.", "Now: {who} — {count} people.", count).format(
                who=audience_words(draft), count=number(count)
            ),
        ]
    )  # fmt: skip
    return text, builder.as_markup()


def number_prompt(name: str) -> str:
    low, high = NUMBER_RANGES[name]
    questions = {
        "new_within_days": _("Joined in the last how many days? Send a number from {low} "
                             "to {high}."),
        "close_to_reward": _("At most how many stamps from a reward? Send a number from "
                             "{low} to {high}."),
        "inactive_days": _("No visit for how many days? Send a number from {low} to {high}."),
        "birthday_within_days": _("Birthday within how many days from today? Send a number "
                                  "from {low} to {high}."),
    }  # fmt: skip
    return questions[name].format(low=number(low), high=number(high))


async def channels_screen(draft: Draft, shop: CampaignShop, services: WizardServices) -> Screen:
    found = await reach(draft, shop)
    configured = services.wallet_channels
    builder = InlineKeyboardBuilder()
    for channel in offered_channels(services, shop):
        state = _("On") if channel in draft.channels else _("Off")
        _button(
            builder,
            f"{state} · "
            + ngettext(
                "{channel} · {count} person",
                "{channel} · {count} people",
                found.by_channel[channel],
            ).format(
                channel=via_name(channel, configured),
                count=number(found.by_channel[channel]),
            ),
            WizardOp.CHANNEL,
            channel.value,
        )
    _back_to_summary(builder)
    builder.adjust(1)
    lines = [_("<b>Where should it go?</b> Tap a channel to switch it on or off.")]
    if not configured:
        lines.append(wallet_not_set_up())
    if paid := [c for c in offered_channels(services, shop) if c in PAID_CHATS]:
        lines.append(
            _(
                "{channels}: the messenger charges the shop for each message a bot starts, "
                "so these are off unless you switch them on."
            ).format(channels=and_list([channel_name(c) for c in paid]))
        )
    return "\n".join(lines), builder.as_markup()


def wallet_not_set_up() -> str:
    return _(
        "Wallet passes are not set up for this bot: they need Apple Wallet (APNs) or "
        "Google Wallet in its settings."
    )


def push_screen(draft: Draft, limit: int) -> Screen:
    builder = InlineKeyboardBuilder()
    suggestion = first_line(draft.message_text, limit)
    if suggestion and suggestion != draft.push_text:
        _button(builder, _("Use “{text}”").format(text=suggestion), WizardOp.KEEP)
    _button(builder, _("Skip — no lock-screen line"), WizardOp.SKIP)
    _back_to_summary(builder)
    builder.adjust(1)
    text = ngettext(
        "<b>Lock-screen line</b> for people with the card in Apple or Google Wallet (max "
        "{limit} character). Send your own, or pick below.",
        "<b>Lock-screen line</b> for people with the card in Apple or Google Wallet (max "
        "{limit} characters). Send your own, or pick below.",
        limit,
    ).format(limit=number(limit))
    if draft.push_text:
        text += "\n" + _("Now: “{text}” ({count} of {limit})").format(
            text=user_text(draft.push_text),
            count=number(push_length(draft.push_text)),
            limit=number(limit),
        )
    return text, builder.as_markup()


def voucher_title_screen(draft: Draft) -> Screen:
    builder = InlineKeyboardBuilder()
    if draft.with_voucher:
        _button(builder, _("No voucher"), WizardOp.NO_VOUCHER)
    _back_to_summary(builder)
    builder.adjust(1)
    lines = [_("<b>Add a gift voucher?</b> Everyone in the audience gets one. Send its "
               "title, for example: Free cappuccino.")]  # fmt: skip
    if draft.with_voucher and draft.voucher_title:
        lines.append(voucher_summary(draft.voucher_title, draft.voucher_days or 0, now=True))
    return "\n".join(lines), builder.as_markup()


def voucher_days_screen(card_days: int) -> Screen:
    builder = InlineKeyboardBuilder()
    choices = sorted({card_days, *VOUCHER_DAYS})
    for days in choices:
        label = ngettext("{days} day", "{days} days", days).format(days=number(days))
        if days == card_days:
            label = _("{days} (as the card)").format(days=label)
        _button(builder, label, WizardOp.DAYS, str(days))
    _back_to_summary(builder)
    builder.adjust(3, 2, 1)
    return (
        _("How many days is the voucher valid? Pick one or send a number from 1 to 3650."),
        builder.as_markup(),
    )


def more_screen(draft: Draft, services: WizardServices) -> Screen:
    configured = services.wallet_channels
    builder = InlineKeyboardBuilder()
    rows = []
    for percent in HOLDOUT_CHOICES:
        label = _("off") if percent == 0 else f"{number(percent)}%"
        _button(
            builder,
            picked_label(label, draft.holdout_percent == percent),
            WizardOp.FILTER,
            str(percent),
        )
    custom = draft.holdout_percent not in HOLDOUT_CHOICES
    _button(builder, picked_label(_("Other %"), custom), WizardOp.SKIP)
    rows.append(4)
    every = draft.policy == DeliveryPolicy.EVERY_CHANNEL
    _button(builder, picked_label(_("On each channel"), every), WizardOp.POLICY, "every")
    _button(builder, picked_label(_("Once only"), not every), WizardOp.POLICY, "once")
    rows.append(2)
    ordered = draft.ordered_channels()
    if not every and len(ordered) > 1:
        for channel in ordered[1:]:
            _button(
                builder,
                _("Try {channel} earlier").format(channel=via_name(channel, configured)),
                WizardOp.CHANNEL,
                channel.value,
            )
            rows.append(1)
    if Channel.WHATSAPP in draft.channels:
        _button(builder, _("WhatsApp template"), WizardOp.TEMPLATE)
        rows.append(1)
    _button(builder, _("✏️ Rename"), WizardOp.KEEP)
    _back_to_summary(builder)
    rows += [1, 1]
    builder.adjust(*rows)
    holdout = (
        _("Comparison group: off")
        if not draft.holdout_percent
        else _("Comparison group: {share} get nothing, to measure the effect").format(
            share=ltr(f"{number(draft.holdout_percent)}%")
        )
    )
    lines = [
        _("<b>More options</b>"),
        holdout,
        _("Someone on several channels gets it {how}.").format(
            how=policy_words(draft, configured)
        ),
    ]
    if Channel.WHATSAPP in draft.channels:
        lines.append(template_words(draft.whatsapp_template))
    return "\n".join(lines), builder.as_markup()


def template_words(name: str) -> str:
    if name:
        return _("WhatsApp template for people who have not written in 24 hours: {name}").format(
            name=ltr(user_text(name))
        )
    return _("No WhatsApp template: people who have not written in 24 hours are skipped there.")


def template_prompt(current: str, *, own_number: bool = False) -> str:
    """``own_number``: the shop has a WhatsApp number of its own, whose customers get the
    template from that number, so it must be approved there (templates are per account)."""
    if own_number:
        ask = _(
            "Send the name of a message template WhatsApp approved for your own number, as "
            "in its WhatsApp Manager (for example: autumn_offer), or - for none. Where the "
            "number lacks it, people who have not written in 24 hours are skipped."
        )
    else:
        ask = _(
            "Send the name of a message template WhatsApp approved for this number, as in "
            "WhatsApp Manager (for example: autumn_offer), or - for none."
        )
    return "\n".join((ask, template_words(current)))


def holdout_prompt() -> str:
    return _("What share should get nothing, for comparison? Send a whole number from 1 to 50.")


def rename_prompt(current: str) -> str:
    return _("Send the campaign's new name (up to 120 characters). Now: {name}").format(
        name=user_text(current)
    )


def typed_answer_markup() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _back_to_summary(builder)
    return builder.as_markup()
