"""How campaigns read in the admin chat: statuses, channels, audiences, statistics."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from campaigns.spec import AudienceFilter
from campaigns.stats import CampaignStats
from handlers.texts import local_datetime, ltr
from models import Campaign
from models.enums import CampaignStatus, Channel

# The wizard offers one "wallet" switch: a pass lives in Apple or Google Wallet, not both.
WALLET = (Channel.APPLE_WALLET, Channel.GOOGLE_WALLET)


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
        Channel.TELEGRAM: _("Messenger"),
        Channel.EMAIL: _("Email"),
        Channel.APPLE_WALLET: _("Apple Wallet"),
        Channel.GOOGLE_WALLET: _("Google Wallet"),
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
    }
    return names.get(reason, reason.replace("_", " "))


def audience_lines(audience: AudienceFilter) -> list[str]:
    lines = []
    if audience.new_within_days is not None:
        lines.append(
            _("joined in the last {days} days").format(days=ltr(str(audience.new_within_days)))
        )
    if audience.close_to_reward is not None:
        lines.append(
            _("{count} stamps or fewer from a reward").format(
                count=ltr(str(audience.close_to_reward))
            )
        )
    if audience.inactive_days is not None:
        lines.append(_("no visit for {days} days").format(days=ltr(str(audience.inactive_days))))
    if audience.birthday_this_month:
        lines.append(_("birthday this month"))
    if audience.has_unused_voucher:
        lines.append(_("holds an unused voucher"))
    return lines or [_("everyone on the card")]


def channels_line(channels: list[str]) -> str:
    names = []
    for channel in channels:
        name = _("Wallet card push") if channel in WALLET else channel_name(channel)
        if name not in names:
            names.append(name)
    return ", ".join(names) or "—"


def when_line(campaign: Campaign, timezone: str) -> str:
    if campaign.finished_at is not None:
        return _("Finished {when}").format(when=local_datetime(campaign.finished_at, timezone))
    if campaign.started_at is not None:
        return _("Started {when}").format(when=local_datetime(campaign.started_at, timezone))
    if campaign.scheduled_at is not None:
        return _("Scheduled for {when}").format(
            when=local_datetime(campaign.scheduled_at, timezone)
        )
    return _("Not scheduled yet")


def stats_lines(stats: CampaignStats) -> list[str]:
    lines = []
    for channel in stats.channels.values():
        lines.append(
            _(
                "<b>{channel}</b>: {sent} of {targeted} sent, {opened} opened, {clicked} clicked"
            ).format(
                channel=channel_name(channel.channel),
                sent=channel.sent,
                targeted=channel.targeted,
                opened=channel.opened,
                clicked=channel.clicked,
            )
        )
        if channel.pending:
            lines.append("  " + _("waiting: {count}").format(count=channel.pending))
        if channel.silent:
            lines.append(f"  {reason_name('quota_silent')}: {channel.silent}")
        for label, counts in ((_("failed"), channel.failed), (_("skipped"), channel.skipped)):
            if counts:
                detail = ", ".join(
                    f"{reason_name(reason)} {count}" for reason, count in sorted(counts.items())
                )
                lines.append(f"  {label}: {escape(detail)}")
    reached = stats.reached
    lines.append(
        _(
            "Within {days} days: {visitors} of {people} people came back "
            "({visits} visits), {redeemed} vouchers redeemed"
        ).format(
            days=stats.window.days,
            visitors=reached.visitors,
            people=reached.people,
            visits=reached.visits,
            redeemed=reached.redeemed,
        )
    )
    if stats.holdout is not None and stats.uplift is not None:
        lines.append(
            _("Holdout group: {visitors} of {people} came back; uplift {uplift} points").format(
                visitors=stats.holdout.visitors,
                people=stats.holdout.people,
                uplift=ltr(f"{stats.uplift:+.1f}"),
            )
        )
    return lines
