"""How campaigns read in the admin chat: statuses, channels, audiences, statistics."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape, unescape
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.numbers import format_percent

from campaigns.spec import AudienceFilter
from campaigns.stats import CampaignStats
from handlers.texts import (
    and_list,
    current_locale,
    local_date,
    local_datetime,
    ltr,
    number,
    separated,
    signed,
    user_text,
)
from models.enums import CampaignStatus, Channel

if TYPE_CHECKING:
    from campaigns.views import CampaignDetail

# The wallets: a lock-screen line on the card's pass.
WALLET = (Channel.APPLE_WALLET, Channel.GOOGLE_WALLET)
# A name as ``campaigns.spec.default_name`` makes it: ``<cardId>_<dd.mm.yyyyHH:MM>``.
_DEFAULT_NAME = re.compile(r"\d+_\d{2}\.\d{2}\.\d{4}\d{2}:\d{2}")
_TAG = re.compile(r"<[^>]+>")


def status_name(status: str) -> str:
    names = {
        CampaignStatus.DRAFT: _("draft"),
        CampaignStatus.SCHEDULED: _("scheduled"),
        CampaignStatus.SENDING: _("sending"),
        CampaignStatus.PAUSED: _("paused"),
        CampaignStatus.DONE: _("sent"),
        CampaignStatus.CANCELLED: _("cancelled"),
    }
    return names.get(CampaignStatus(status), _("failed"))


def channel_name(channel: str) -> str:
    names = {
        # The platform by its name: customers and owners know "Telegram", not "Messenger".
        Channel.TELEGRAM: _("Telegram chat"),
        Channel.EMAIL: _("Email"),
        Channel.APPLE_WALLET: _("Apple Wallet"),
        Channel.GOOGLE_WALLET: _("Google Wallet"),
        Channel.VIBER: _("Viber chat"),
        Channel.WHATSAPP: _("WhatsApp chat"),
    }
    return names.get(Channel(channel), str(channel))


def reason_name(reason: str) -> str:
    names = {
        "bot_blocked": _("blocked the bot"),
        "chat_not_found": _("chat not found"),
        "user_deactivated": _("account deleted"),
        "address_rejected": _("address rejected"),
        "mailbox_unavailable": _("mailbox unavailable"),
        "unsubscribed": _("unsubscribed"),
        "opted_out": _("opted out"),
        "no_address": _("no address"),
        "not_verified": _("email not confirmed"),
        "unreachable": _("unreachable"),
        "pass_removed": _("pass removed"),
        "quota_silent": _("added without a notification (daily limit)"),
        "cancelled": _("cancelled"),
        "too_many_attempts": _("gave up after retries"),
        "holdout": _("holdout group"),
        "rate_limited": _("rate limited"),
        "server_error": _("server error"),
        "network_error": _("network error"),
        "bad_request": _("message refused"),
        "account_blocked": _("our messenger account is blocked"),
        "outside_window": _("no reply in 24 hours, no template"),
    }
    # A reason code added later is still no internal name on the staff's screen.
    return names.get(reason, _("other"))


def audience_lines(audience: AudienceFilter) -> list[str]:
    lines = []
    if (days := audience.new_within_days) is not None:
        lines.append(
            ngettext(
                "joined in the last {days} day", "joined in the last {days} days", days
            ).format(days=ltr(number(days)))
        )
    if (count := audience.close_to_reward) is not None:
        lines.append(
            ngettext(
                "{count} stamp or fewer from a reward",
                "{count} stamps or fewer from a reward",
                count,
            ).format(count=ltr(number(count)))
        )
    if (days := audience.inactive_days) is not None:
        lines.append(
            ngettext("no visit for {days} day", "no visit for {days} days", days).format(
                days=ltr(number(days))
            )
        )
    if audience.birthday_this_month:
        lines.append(_("birthday this month"))
    if (days := audience.birthday_within_days) is not None:
        lines.append(
            ngettext(
                "birthday in the next {days} day", "birthday in the next {days} days", days
            ).format(days=ltr(number(days)))
        )
    if audience.has_unused_voucher:
        lines.append(_("holds an unused voucher"))
    return lines or [_("everyone on the card")]


def channels_line(channels: list[str]) -> str:
    names = []
    for channel in channels:
        name = _("Wallet pass (lock screen)") if channel in WALLET else channel_name(channel)
        if name not in names:
            names.append(name)
    return and_list(names) or "—"


def voucher_summary(title: str, days: int, *, now: bool = False) -> str:
    """The voucher a campaign attaches: its title and how many days it stays valid."""
    if now:
        text = ngettext("Now: {title}, valid {days} day", "Now: {title}, valid {days} days", days)
    else:
        text = ngettext(
            "Voucher: {title}, valid {days} day", "Voucher: {title}, valid {days} days", days
        )
    return text.format(title=user_text(title), days=number(days))


def field_name(field: str) -> str:
    """The wizard step a refused part of a campaign belongs to, never the internal field name."""
    names = {
        "card_id": _("Card"),
        "new_within_days": _("Audience"),
        "close_to_reward": _("Audience"),
        "inactive_days": _("Audience"),
        "birthday_within_days": _("Audience"),
        "push_text": _("Lock-screen line"),
        "push_text_limit": _("Lock-screen line"),
        "voucher": _("Voucher"),
        "channels": _("Channels"),
        "channel_order": _("Channels"),
        "message_text": _("Message"),
        "scheduled_at": _("Sending time"),
        "holdout_percent": _("Comparison group"),
        "name": _("Campaign name"),
        "whatsapp_template": _("WhatsApp template"),
        "whatsapp_template_language": _("WhatsApp template"),
    }
    return names.get(field, _("Campaign"))


def campaign_title(name: str, message_text: str, created: datetime, timezone: str) -> str:
    """How a campaign is called in the chat: its own name, or, for the stored default
    ``<cardId>_<date>``, the message's first line and the day it was made ("Autumn menu · 2 Dec").
    """
    if not _DEFAULT_NAME.fullmatch(name):
        return name
    for line in unescape(_TAG.sub("", message_text)).splitlines():
        if text := " ".join(line.split()):
            short = text if len(text) <= 40 else text[:39] + "…"
            return f"{short} · {local_date(created, timezone)}"
    return local_date(created, timezone)


def when_line(campaign: CampaignDetail, timezone: str) -> str:
    if campaign.finished_at is not None:
        return _("Finished {when}").format(when=local_datetime(campaign.finished_at, timezone))
    if campaign.started_at is not None:
        return _("Started {when}").format(when=local_datetime(campaign.started_at, timezone))
    if campaign.scheduled_at is not None:
        return _("Scheduled for {when}").format(
            when=local_datetime(campaign.scheduled_at, timezone)
        )
    return _("Not scheduled yet")


def _outcome_phrase(channel: str, reason: str, count: int) -> str:
    """One reason a message did not go or did not arrive, as a sentence part with its count:
    "2 have no email", "1 hasn't confirmed theirs", "1 blocked the bot"."""
    n = ltr(number(count))
    if reason == "no_address" and channel == Channel.EMAIL:
        text = ngettext("{count} has no email", "{count} have no email", count)
    elif reason == "no_address" and channel in WALLET:
        text = ngettext("{count} has no pass", "{count} have no pass", count)
    elif reason in ("no_address", "unreachable") and channel == Channel.TELEGRAM:
        text = ngettext(
            "{count} can't get chat messages", "{count} can't get chat messages", count
        )
    elif reason == "not_verified":
        text = ngettext(
            "{count} hasn't confirmed theirs", "{count} haven't confirmed theirs", count
        )
    elif reason == "unsubscribed":
        text = ngettext("{count} unsubscribed", "{count} unsubscribed", count)
    elif reason == "opted_out":
        text = ngettext(
            "{count} turned these messages off", "{count} turned these messages off", count
        )
    elif reason == "pass_removed":
        text = ngettext("{count} removed the pass", "{count} removed the pass", count)
    elif reason == "cancelled":
        text = ngettext(
            "{count} was left when it was stopped", "{count} were left when it was stopped", count
        )
    elif reason == "bot_blocked":
        text = ngettext("{count} blocked the bot", "{count} blocked the bot", count)
    elif reason == "user_deactivated":
        text = ngettext("{count} deleted their account", "{count} deleted their accounts", count)
    else:
        return f"{reason_name(reason)} {n}"
    return text.format(count=n)


def _percent(rate: float) -> str:
    return ltr(format_percent(rate, locale=current_locale()))


def stats_lines(stats: CampaignStats) -> list[str]:
    lines = []
    for channel in stats.channels.values():
        if channel.channel == Channel.TELEGRAM:
            # Telegram tells a bot nothing about reads, and chat links are not tracked.
            line = _(
                "<b>{channel}</b>: {sent} of {targeted} sent; opens and clicks: "
                "not measured in Telegram"
            )
        elif channel.channel in (Channel.VIBER, Channel.WHATSAPP):
            # The messenger's own receipts; its chat links are not tracked.
            line = _(
                "<b>{channel}</b>: {sent} of {targeted} sent, {delivered} delivered, {opened} read"
            )
        else:
            line = _(
                "<b>{channel}</b>: {sent} of {targeted} sent, {opened} opened, {clicked} clicked"
            )
        lines.append(
            line.format(
                channel=channel_name(channel.channel),
                sent=number(channel.sent),
                targeted=number(channel.targeted),
                delivered=number(channel.delivered),
                opened=number(channel.opened),
                clicked=number(channel.clicked),
            )
        )
        if channel.pending:
            lines.append("  " + _("waiting: {count}").format(count=number(channel.pending)))
        if channel.silent:
            lines.append(f"  {reason_name('quota_silent')}: {number(channel.silent)}")
        # "not delivered", not "failed": that word is also a campaign's status.
        details = ((_("not delivered: {reasons}"), channel.failed),
                   (_("not sent: {reasons}"), channel.skipped))  # fmt: skip
        for label, counts in details:
            if counts:
                detail = separated(
                    _outcome_phrase(channel.channel, reason, count)
                    for reason, count in sorted(counts.items(), key=lambda item: -item[1])
                )
                lines.append("  " + label.format(reasons=escape(detail, quote=False)))
    reached = stats.reached
    days = stats.window.days
    lines.append(
        ngettext(
            "Within {days} day: {visitors} of {people} came back (visits: {visits}); "
            "vouchers redeemed: {redeemed}",
            "Within {days} days: {visitors} of {people} came back (visits: {visits}); "
            "vouchers redeemed: {redeemed}",
            days,
        ).format(
            days=number(days),
            visitors=number(reached.visitors),
            people=number(reached.people),
            visits=number(reached.visits),
            redeemed=number(reached.redeemed),
        )
    )
    if stats.holdout is not None and stats.uplift is not None:
        people = stats.holdout.people
        lines.append(
            ngettext(
                "Compared with {people} person who didn't get it: {without} came back without "
                "it, {with_it} with it ({change} points)",
                "Compared with {people} people who didn't get it: {without} came back without "
                "it, {with_it} with it ({change} points)",
                people,
            ).format(
                people=number(people),
                without=_percent(stats.holdout.visit_rate),
                with_it=_percent(reached.visit_rate),
                change=signed(stats.uplift),
            )
        )
    return lines
