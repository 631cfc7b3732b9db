"""One message in the admin chat that follows a campaign while it sends.

It is edited at most every ``interval`` seconds, only when its text changed (an identical edit
is refused by Telegram), shows sent / failed / waiting per channel with Pause, Resume and
Stop buttons, and settles on a summary with a 📊 Results button when the campaign ends. A
scheduled campaign's message is posted when it starts; until its first message goes out it says
"starting…", not "scheduled". The results digests of the next day and week
(:class:`CampaignDigests`) go to the same chat, in the same language.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from campaigns.digest import Digest
from campaigns.progress import (
    WAITING,
    Followed,
    claim_due,
    delivery_counts,
    shown,
    start_following,
    stop_following,
)
from handlers.callbacks import CampaignAction, CampaignOp
from handlers.campaign_names import campaign_title
from handlers.campaign_texts import channel_name, status_name
from handlers.texts import current_locale, ltr, number
from loyalty.clock import ensure_utc, utcnow
from models.enums import CampaignStatus, DeliveryStatus

logger = logging.getLogger(__name__)


def _starting(campaign: Followed, counts: dict[str, dict[str, int]]) -> bool:
    """Sent now (or its time came), but no message has gone out yet."""
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
        return False
    went = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
    return not any(by_status.get(s, 0) for by_status in counts.values() for s in went)


def progress_text(campaign: Followed, counts: dict[str, dict[str, int]]) -> str:
    title = campaign_title(
        campaign.name, campaign.message_text, campaign.created_at, campaign.timezone
    )
    status = _("starting…") if _starting(campaign, counts) else status_name(campaign.status)
    lines = [_("📣 <b>{name}</b> — {status}").format(name=title, status=status)]
    for channel in campaign.channels:
        by_status = counts.get(channel, {})
        waiting = sum(by_status.get(s, 0) for s in WAITING)
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
    return "\n".join(lines)


def results_button(builder: InlineKeyboardBuilder, merchant_id: int, campaign_id: int) -> None:
    builder.button(
        text=_("📊 Results"),
        callback_data=CampaignAction(
            op=CampaignOp.RESULTS, merchant_id=merchant_id, campaign_id=campaign_id
        ),
    )


def progress_markup(campaign: Followed) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if campaign.finished:
        results_button(builder, campaign.merchant_id, campaign.campaign_id)
        return builder.as_markup()
    ids = {"merchant_id": campaign.merchant_id, "campaign_id": campaign.campaign_id}
    if campaign.status == CampaignStatus.PAUSED:
        builder.button(
            text=_("▶ Resume"), callback_data=CampaignAction(op=CampaignOp.RESUME, **ids)
        )
    else:
        builder.button(text=_("⏸ Pause"), callback_data=CampaignAction(op=CampaignOp.PAUSE, **ids))
    builder.button(
        text=_("⏹ Stop sending"), callback_data=CampaignAction(op=CampaignOp.CANCEL, **ids)
    )
    return builder.as_markup()


def digest_text(digest: Digest) -> str:
    title = campaign_title(digest.name, digest.message_text, digest.created_at, digest.timezone)
    when = _("A day after sending") if digest.stage == 1 else _("A week after sending")
    got = ngettext("{count} got it", "{count} got it", digest.people)
    back = ngettext("{count} came back", "{count} came back", digest.visitors)
    used = ngettext("{count} voucher used", "{count} vouchers used", digest.redeemed)
    return _("{when}. {name}: {got}, {back}, {used}.").format(
        when=when,
        name=f"<b>{title}</b>",
        got=got.format(count=ltr(number(digest.people))),
        back=back.format(count=ltr(number(digest.visitors))),
        used=used.format(count=ltr(number(digest.redeemed))),
    )


class CampaignDigests:
    """Posts the results digests the worker claims (``campaigns.digest``): in the chat that
    followed the campaign, in the language it was followed in, with a 📊 Details button."""

    def __init__(self, bot: Bot, i18n: I18n) -> None:
        self._bot = bot
        self._i18n = i18n

    async def post(self, digest: Digest) -> bool:
        language = digest.language or self._i18n.default_locale
        with self._i18n.context(), self._i18n.use_locale(language):
            text = digest_text(digest)
            builder = InlineKeyboardBuilder()
            builder.button(
                text=_("📊 Details"),
                callback_data=CampaignAction(
                    op=CampaignOp.RESULTS,
                    merchant_id=digest.merchant_id,
                    campaign_id=digest.campaign_id,
                ),
            )
        try:
            await self._bot.send_message(digest.chat_id, text, reply_markup=builder.as_markup())
        except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as error:
            logger.info("digest of campaign %s waits: %s", digest.campaign_id, error)
            return False
        except TelegramAPIError as error:
            # Blocked, or the chat is gone: this digest can never arrive.
            logger.info("digest of campaign %s dropped: %s", digest.campaign_id, error)
        return True


class CampaignProgress:
    """Keeps every followed campaign's progress message current, from any bot process.

    Which campaigns are due and which process looks at them is ``campaigns.progress``'s
    business; this draws the message and posts or edits it.
    """

    def __init__(self, bot: Bot, i18n: I18n, *, interval: float = 3.0) -> None:
        self._bot = bot
        self._i18n = i18n
        self.interval = interval
        self._loop: asyncio.Task[None] | None = None

    async def follow(self, chat_id: int, campaign_id: int, *, merchant_id: int) -> None:
        """Follow the campaign in this chat: the message is posted now if it is sending (or
        about to), else when it starts, then kept current until it ends."""
        now = utcnow()
        campaign = await start_following(
            campaign_id,
            merchant_id=merchant_id,
            chat_id=chat_id,
            language=current_locale(),
            now=now,
        )
        await self._look(campaign, now)
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
        share = await claim_due(moment, every=timedelta(seconds=self.interval * 0.9))
        for campaign in share.claimed:
            await self._look(campaign, moment)
        return share.followed

    async def _look(self, campaign: Followed, moment: datetime) -> None:
        if campaign.message_id is None and not campaign.begun(moment):
            if campaign.finished:
                await stop_following(campaign.campaign_id)  # stopped before it began
            return  # waits for its start
        # Rounds run outside any update, so the translator is set here, not by the middleware.
        language = campaign.language or self._i18n.default_locale
        with self._i18n.context(), self._i18n.use_locale(language):
            text = progress_text(campaign, await delivery_counts(campaign.campaign_id))
            markup = progress_markup(campaign)
        digest = hashlib.sha256(f"{text}\n{markup!r}".encode()).hexdigest()[:32]
        message_id = campaign.message_id
        try:
            if message_id is None:
                sent = await self._bot.send_message(campaign.chat_id, text, reply_markup=markup)
                message_id = sent.message_id
            elif digest != campaign.digest:
                await self._bot.edit_message_text(
                    text=text,
                    chat_id=campaign.chat_id,
                    message_id=message_id,
                    reply_markup=markup,
                )
        except TelegramAPIError as error:
            # The admin deleted the message, or blocked the bot: stop following.
            logger.info("progress of campaign %s stopped: %s", campaign.campaign_id, error)
            await stop_following(campaign.campaign_id)
            return
        await shown(campaign, message_id=message_id, digest=digest)

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
