"""One message in the admin chat that follows a campaign while it sends.

It is edited at most every ``interval`` seconds, only when its text changed (an identical edit
is refused by Telegram), shows sent / failed / waiting per channel with Pause, Resume and
Cancel buttons, and settles on a summary when the campaign ends. A scheduled campaign's message
is posted when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from tortoise.functions import Count

from handlers.callbacks import CampaignAction, CampaignOp
from handlers.campaign_texts import channel_name, status_name
from handlers.texts import current_locale, number, user_text
from loyalty.clock import ensure_utc, utcnow
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
            name=user_text(campaign.name), status=status_name(campaign.status)
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
                sent=number(by_status.get(DeliveryStatus.SENT, 0)),
                failed=number(by_status.get(DeliveryStatus.FAILED, 0)),
                waiting=number(waiting),
                skipped=number(by_status.get(DeliveryStatus.SKIPPED, 0)),
            )
        )  # fmt: skip
    if campaign.status in FINISHED:
        lines.append(_("/campaigns shows its statistics."))
    return "\n".join(lines)


def progress_markup(campaign: Campaign) -> InlineKeyboardMarkup | None:
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
    """Keeps every followed campaign's progress message current, from any bot process.

    Where the message is, its language, what it shows and when it was last looked at live on
    the campaign row. Each round claims the campaigns due for a look with a conditional update,
    so replicas never edit one message twice over, and a restarted process carries on.
    """

    def __init__(self, bot: Bot, i18n: I18n, *, interval: float = 3.0) -> None:
        self._bot = bot
        self._i18n = i18n
        self.interval = interval
        self._loop: asyncio.Task[None] | None = None

    async def follow(self, chat_id: int, campaign_id: int, *, merchant_id: int) -> None:
        """Follow the campaign in this chat: the message is posted now if it is sending (or
        about to), else when it starts, then kept current until it ends."""
        campaign = await Campaign.get(id=campaign_id, merchant_id=merchant_id)
        campaign.progress_chat_id = chat_id
        campaign.progress_language = current_locale()
        campaign.progress_message_id = None
        campaign.progress_digest = None
        campaign.progress_checked_at = utcnow()
        await campaign.save(update_fields=[*_PROGRESS_FIELDS, "updated_at"])
        await self._look(campaign, campaign.progress_checked_at)
        self.start()

    def start(self) -> None:
        """Run the rounds in the background (at start-up too: followers survive restarts)."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if not await self.pump():
                    return  # nothing followed: follow() starts the rounds again
            except Exception:
                logger.exception("progress round failed; trying again")

    async def pump(self, now: datetime | None = None) -> int:
        """One round: look at every followed campaign that is due. Returns how many are
        followed (0 ends the rounds)."""
        moment = ensure_utc(now)
        due = moment - timedelta(seconds=self.interval * 0.9)
        followed = await Campaign.filter(progress_chat_id__isnull=False)
        for campaign in followed:
            checked = campaign.progress_checked_at
            if checked is not None and checked > due:
                continue
            claim = Campaign.filter(id=campaign.id)
            claim = (
                claim.filter(progress_checked_at__isnull=True)
                if checked is None
                else claim.filter(progress_checked_at=checked)
            )
            if not await claim.update(progress_checked_at=moment):
                continue  # another process looks at it this round
            await self._look(campaign, moment)
        return len(followed)

    async def _look(self, campaign: Campaign, moment: datetime) -> None:
        chat_id = campaign.progress_chat_id
        if chat_id is None:
            return
        begun = campaign.started_at is not None or (
            campaign.status == CampaignStatus.SCHEDULED
            and campaign.scheduled_at is not None
            and campaign.scheduled_at <= moment
        )
        if campaign.progress_message_id is None and not begun:
            if campaign.status in FINISHED:
                await self._stop(campaign)  # stopped before it began: nothing to show
            return  # waits for its start
        # Rounds run outside any update, so the translator is set here, not by the middleware.
        language = campaign.progress_language or self._i18n.default_locale
        with self._i18n.context(), self._i18n.use_locale(language):
            text = progress_text(campaign, await delivery_counts(campaign.id))
            markup = progress_markup(campaign)
        digest = hashlib.sha256(f"{text}\n{markup!r}".encode()).hexdigest()[:32]
        try:
            if campaign.progress_message_id is None:
                sent = await self._bot.send_message(chat_id, text, reply_markup=markup)
                campaign.progress_message_id = sent.message_id
            elif digest != campaign.progress_digest:
                await self._bot.edit_message_text(
                    text=text,
                    chat_id=chat_id,
                    message_id=campaign.progress_message_id,
                    reply_markup=markup,
                )
        except TelegramAPIError as error:
            # The admin deleted the message, or blocked the bot: stop following.
            logger.info("progress of campaign %s stopped: %s", campaign.id, error)
            await self._stop(campaign)
            return
        campaign.progress_digest = digest
        if campaign.status in FINISHED:
            campaign.progress_chat_id = None  # the summary is on screen: done
        await Campaign.filter(id=campaign.id).update(
            progress_message_id=campaign.progress_message_id,
            progress_digest=digest,
            progress_chat_id=campaign.progress_chat_id,
        )

    @staticmethod
    async def _stop(campaign: Campaign) -> None:
        campaign.progress_chat_id = None
        await Campaign.filter(id=campaign.id).update(progress_chat_id=None)

    async def wait(self) -> None:
        """Until no campaign is followed any more (tests and the demo use it)."""
        # The followed campaigns are rows in the database: there is no event to await.
        while await self.pump():  # noqa: ASYNC110
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None


_PROGRESS_FIELDS = (
    "progress_chat_id",
    "progress_language",
    "progress_message_id",
    "progress_digest",
    "progress_checked_at",
)
