"""One message in the admin chat that follows a campaign while it sends.

It is edited at most every ``interval`` seconds, only when its text changed (an identical edit
is refused by Telegram), shows sent / failed / waiting per channel with Pause, Resume and
Cancel buttons, and settles on a summary when the campaign ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from tortoise.functions import Count

from handlers.callbacks import CampaignAction, CampaignOp
from handlers.campaign_texts import channel_name, status_name
from handlers.texts import current_locale
from models import Campaign, Delivery
from models.enums import CampaignStatus, DeliveryStatus

logger = logging.getLogger(__name__)
FINISHED = (CampaignStatus.DONE, CampaignStatus.CANCELLED, CampaignStatus.FAILED)


async def delivery_counts(campaign_id: int) -> dict[str, dict[str, int]]:
    """channel → status → rows, counted by the database."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id)
        .annotate(n=Count("id"))
        .group_by("channel", "status")
        .values("channel", "status", "n")
    )
    counts: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[str(row["channel"])][str(row["status"])] = int(row["n"])
    return dict(counts)


def progress_text(campaign: Campaign, counts: dict[str, dict[str, int]]) -> str:
    lines = [
        _("📣 <b>{name}</b> — {status}").format(
            name=escape(campaign.name), status=status_name(campaign.status)
        )
    ]
    for channel in campaign.channels:
        by_status = counts.get(channel, {})
        waiting = sum(
            by_status.get(s, 0)
            for s in (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.STANDBY)
        )
        lines.append(
            _("{channel}: {sent} sent, {failed} failed, {waiting} waiting, {skipped} skipped")
            .format(
                channel=channel_name(channel),
                sent=by_status.get(DeliveryStatus.SENT, 0),
                failed=by_status.get(DeliveryStatus.FAILED, 0),
                waiting=waiting,
                skipped=by_status.get(DeliveryStatus.SKIPPED, 0),
            )
        )  # fmt: skip
    if campaign.status in FINISHED:
        lines.append(_("/campaigns shows its statistics."))
    return "\n".join(lines)


def progress_markup(campaign: Campaign) -> Any:
    if campaign.status in FINISHED:
        return None
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": campaign.merchant_id, "campaign_id": campaign.id}
    if campaign.status == CampaignStatus.PAUSED:
        builder.button(
            text=_("▶ Resume"), callback_data=CampaignAction(op=CampaignOp.RESUME, **ids)
        )
    else:
        builder.button(text=_("⏸ Pause"), callback_data=CampaignAction(op=CampaignOp.PAUSE, **ids))
    builder.button(text=_("⏹ Cancel"), callback_data=CampaignAction(op=CampaignOp.CANCEL, **ids))
    return builder.as_markup()


class CampaignProgress:
    def __init__(self, bot: Bot, i18n: I18n, *, interval: float = 3.0) -> None:
        self._bot = bot
        self._i18n = i18n
        self.interval = interval
        self._tasks: dict[tuple[int, int], asyncio.Task[None]] = {}
        # Scheduled campaigns whose progress message waits for the start:
        # id → (chat, locale, the campaign's created_at, so a reused id is never mistaken).
        self._waiting: dict[int, tuple[int, str, datetime]] = {}
        self._watcher: asyncio.Task[None] | None = None

    async def follow(self, chat_id: int, campaign_id: int, *, merchant_id: int) -> None:
        """Post the progress message now and keep it current in the background."""
        campaign = await Campaign.get(id=campaign_id, merchant_id=merchant_id)
        self._waiting.pop(campaign_id, None)
        await self._start(chat_id, campaign, current_locale())

    def follow_when_started(self, chat_id: int, campaign: Campaign) -> None:
        """Post the progress message once a scheduled campaign starts sending.

        One query per interval watches every waiting campaign, however many there are; the
        watch lives in this process, so after a restart /campaigns is where to look.
        """
        self._waiting[campaign.id] = (chat_id, current_locale(), campaign.created_at)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch_scheduled())

    async def _start(self, chat_id: int, campaign: Campaign, locale: str) -> None:
        with self._i18n.use_locale(locale):
            text = progress_text(campaign, await delivery_counts(campaign.id))
            markup = progress_markup(campaign)
        sent = await self._bot.send_message(chat_id, text, reply_markup=markup)
        key = (chat_id, campaign.id)
        if old := self._tasks.pop(key, None):
            old.cancel()
        task = asyncio.create_task(
            self._follow(chat_id, sent.message_id, campaign.id, locale, (text, markup))
        )
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._tasks.pop(key, None) if done is task else None)

    async def _watch_scheduled(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.interval)
            campaigns = [
                c
                for c in await Campaign.filter(id__in=list(self._waiting))
                if c.created_at == self._waiting[c.id][2]
            ]
            found = {c.id for c in campaigns}
            for gone in set(self._waiting) - found:
                del self._waiting[gone]  # deleted while it waited
            for campaign in campaigns:
                if campaign.started_at is None and campaign.status not in FINISHED:
                    continue
                chat_id, locale, _created = self._waiting.pop(campaign.id)
                if campaign.status == CampaignStatus.CANCELLED and campaign.started_at is None:
                    continue  # stopped before it began: nothing to follow
                try:
                    await self._start(chat_id, campaign, locale)
                except TelegramAPIError as error:
                    logger.info("progress of campaign %s not posted: %s", campaign.id, error)

    async def _follow(
        self,
        chat_id: int,
        message_id: int,
        campaign_id: int,
        locale: str,
        on_screen: tuple[str, Any],
    ) -> None:
        shown, last_markup = on_screen
        while True:
            await asyncio.sleep(self.interval)
            campaign = await Campaign.get_or_none(id=campaign_id)
            if campaign is None:
                return
            with self._i18n.use_locale(locale):
                text = progress_text(campaign, await delivery_counts(campaign_id))
                markup = progress_markup(campaign)
            if text != shown or repr(markup) != repr(last_markup):
                try:
                    await self._bot.edit_message_text(
                        text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                    )
                except TelegramAPIError as error:
                    # The admin deleted the message, or blocked the bot: stop following.
                    logger.info("progress of campaign %s stopped: %s", campaign_id, error)
                    return
                shown, last_markup = text, markup
            if campaign.status in FINISHED:
                return

    async def wait(self) -> None:
        """Until every followed campaign has finished (tests and a clean shutdown use it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        self._waiting.clear()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for task in list(self._tasks.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
