"""The delivery worker: starts due campaigns, drains the outbox, finishes campaigns, and posts
the results digests a day and a week after (``campaigns.digest``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.audience import snapshot
from campaigns.composer import Composer
from campaigns.digest import DigestPoster, send_due_digests
from campaigns.outbox import (
    Claimed,
    activate_fallbacks,
    claim,
    extend_leases,
    finish_campaigns,
    hand_back,
    record,
)
from channels.base import (
    BatchChannel,
    DeliveryChannel,
    DeliveryResult,
    OutboundMessage,
    Outcome,
    Reason,
)
from loyalty.clock import ensure_utc
from loyalty.profile import mark_customer_unreachable
from models import Campaign, Customer
from models.enums import MESSENGERS, CampaignStatus, Channel, DeliveryPolicy
from wallets.apple_registry import forget_push_tokens
from wallets.service import Wallets, forget_google_object

logger = logging.getLogger(__name__)
# How often one channel's crash with one error type logs its full traceback.
TRACEBACK_EVERY = 60.0
# A batch that follows the channel's rate (``batch_for_rate``): this many seconds of sending,
# within these bounds.
BATCH_SECONDS = 1.5
SMALLEST_BATCH, LARGEST_BATCH = 10, 100


def batch_for_rate(per_second: float) -> int:
    """Rows per claim for a bot sending ``per_second``: about :data:`BATCH_SECONDS` of sends.

    A claimed batch is queued to send ahead of the next claim, so its size is how long a
    campaign that starts now waits behind the ones already sending, however fairly the claim
    shares each batch: 100 rows at 30/s held a 50-message campaign 3.3 s behind a 20,000 one.
    At least :data:`SMALLEST_BATCH`, so a slow bot still claims in few round trips; at most
    :data:`LARGEST_BATCH`, which at 1,000/s is a tenth of a second and keeps the pipeline
    (two batches in hand, ``DeliveryWorker.run``) full.
    """
    return max(SMALLEST_BATCH, min(LARGEST_BATCH, round(per_second * BATCH_SECONDS)))


@dataclass(frozen=True, slots=True)
class Tick:
    started_campaigns: int
    claimed: int
    sent: int
    retried: int
    failed: int
    finished_campaigns: int
    digests: int = 0


def _batches(channel: DeliveryChannel) -> bool:
    return isinstance(channel, BatchChannel)


async def _stopped(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class DeliveryWorker:
    def __init__(
        self,
        channels: Mapping[str, DeliveryChannel],
        composer: Composer,
        *,
        worker_id: str | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(seconds=120),
        concurrency: int = 64,
        wallets: Wallets | None = None,
        digests: DigestPoster | None = None,
        digest_every: timedelta = timedelta(minutes=1),
    ) -> None:
        self.channels = dict(channels)
        self.composer = composer
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = batch_size
        self.lease = lease
        self._slots = asyncio.Semaphore(concurrency)
        # Told when a campaign hands out vouchers, so passes on phones show them at once.
        self.wallets = wallets
        # Results digests: looked for once every ``digest_every``, not on every batch.
        self.digests = digests
        self.digest_every = digest_every
        self._digests_due: datetime | None = None
        # When each (channel, error type) last logged its traceback: see ``_crashed``.
        self._tracebacks: dict[tuple[str, str], float] = {}

    async def start_due(self, now: datetime) -> int:
        due = await Campaign.filter(
            status=CampaignStatus.SCHEDULED, scheduled_at__lte=now
        ).values_list("id", flat=True)
        started = 0
        for campaign_id in due:
            taken = await snapshot(int(str(campaign_id)), now=now)
            if taken is not None:
                started += 1
                logger.info(
                    "campaign %s started: %d rows for %d people (%d held out)",
                    campaign_id, taken.rows, taken.people, taken.holdout,
                )  # fmt: skip
                if self.wallets is not None:
                    passes = await self.wallets.campaign_vouchers_issued(int(str(campaign_id)))
                    if passes:
                        logger.info("campaign %s: %d wallet passes updated", campaign_id, passes)
        return started

    async def _send_all(
        self, pending: list[tuple[Claimed, OutboundMessage]]
    ) -> list[tuple[Claimed, DeliveryResult]]:
        """Every message of a batch at once: one by one, except that a channel which sends
        many in a call (:class:`~channels.base.BatchChannel`) gets all of its own together."""
        single: list[tuple[Claimed, OutboundMessage]] = []
        grouped: dict[str, list[tuple[Claimed, OutboundMessage]]] = {}
        # Asked once per channel, not per row: a runtime protocol check is slow.
        batching = {name for name, channel in self.channels.items() if _batches(channel)}
        for row, message in pending:
            if row.channel in batching:
                grouped.setdefault(row.channel, []).append((row, message))
            else:
                single.append((row, message))
        sent, batches = await asyncio.gather(
            asyncio.gather(*(self._send(row, message) for row, message in single)),
            asyncio.gather(*(self._send_many(group) for group in grouped.values())),
        )
        results = list(zip((row for row, _ in single), sent, strict=True))
        for group, outcomes in zip(grouped.values(), batches, strict=True):
            results += zip((row for row, _ in group), outcomes, strict=True)
        return results

    async def _send_many(
        self, group: list[tuple[Claimed, OutboundMessage]]
    ) -> list[DeliveryResult]:
        channel = self.channels[group[0][0].channel]
        assert isinstance(channel, BatchChannel)
        try:
            results = await channel.send_many([message for _, message in group])
        except Exception as exc:
            self._crashed(group[0][0], exc)
            return [DeliveryResult.retry(Reason.SERVER_ERROR, detail=type(exc).__name__)] * len(
                group
            )
        if len(results) != len(group):  # an adapter's bug: retry rather than misattribute
            logger.error("channel %s answered %d of %d", channel.name, len(results), len(group))
            return [DeliveryResult.retry(Reason.SERVER_ERROR, detail="results")] * len(group)
        return results

    async def _send(self, row: Claimed, message: OutboundMessage) -> DeliveryResult:
        channel = self.channels.get(row.channel)
        if channel is None:
            return DeliveryResult.failed(Reason.UNREACHABLE, detail="channel not configured")
        async with self._slots:
            try:
                return await channel.send(message)
            except Exception as exc:
                # A bug in one adapter must not take the batch down; retrying is the safe answer.
                self._crashed(row, exc)
                return DeliveryResult.retry(Reason.SERVER_ERROR, detail=type(exc).__name__)

    def _crashed(self, row: Claimed, exc: Exception) -> None:
        """One traceback per channel and error type a minute, a line for the others: while
        Redis restarted, every message of every batch logged the same traceback (746 in the
        chaos run's three seconds without Redis)."""
        key = (row.channel, type(exc).__name__)
        now = time.monotonic()
        if now - self._tracebacks.get(key, -TRACEBACK_EVERY) >= TRACEBACK_EVERY:
            self._tracebacks[key] = now
            logger.exception("channel %s crashed on delivery %s", row.channel, row.id)
        else:
            logger.warning(
                "channel %s crashed on delivery %s: %s: %s (traceback logged already)",
                row.channel, row.id, type(exc).__name__, exc,
            )  # fmt: skip

    async def tick(
        self, now: datetime | None = None, *, claimed: asyncio.Future[int] | None = None
    ) -> Tick:
        """One batch: start due campaigns, claim, compose, send, record, finish campaigns.

        ``claimed`` gets the batch size once its messages are queued to send.
        """
        moment = ensure_utc(now)
        started = await self.start_due(moment)
        rows = await claim(self.worker_id, limit=self.batch_size, lease=self.lease, now=moment)
        keeper = asyncio.create_task(self._keep_leased(rows, moment)) if rows else None
        try:
            done = await self._deliver(rows, started, moment, now, claimed)
        except Exception:
            await _stopped(keeper)
            await self._hand_back(rows, moment)
            raise
        await _stopped(keeper)
        return done

    async def _keep_leased(self, rows: list[Claimed], moment: datetime) -> None:
        """Renew the batch's leases every third of the lease while it is in hand. Only a dead
        worker's rows are taken over then, not those of a batch that is merely slow: without
        this, a batch outliving its lease was sent again by another worker meanwhile."""
        every = self.lease.total_seconds() / 3
        began = time.monotonic()
        while True:
            await asyncio.sleep(every)
            # On the tick's clock (tests pass their own ``now``), moved on by the time spent.
            until = moment + timedelta(seconds=time.monotonic() - began) + self.lease
            try:
                await extend_leases(self.worker_id, rows, until=until)
            except Exception:
                logger.warning("could not renew the leases of a batch of %d rows", len(rows))

    async def _hand_back(self, rows: list[Claimed], now: datetime) -> None:
        """After a failed batch its rows are due again after a backoff (seconds), not after
        the lease: a PostgreSQL connection cut mid-batch held them for the whole lease (two
        minutes by default) although the worker was up again at once."""
        try:
            await hand_back(self.worker_id, rows, now=now)
        except Exception:
            logger.warning("%d rows of a failed batch wait for their lease", len(rows))

    async def _deliver(
        self,
        rows: list[Claimed],
        started: int,
        moment: datetime,
        now: datetime | None,
        claimed: asyncio.Future[int] | None,
    ) -> Tick:
        """The rest of a tick, once ``rows`` are claimed: compose, send, record, finish."""
        results: list[tuple[Claimed, DeliveryResult]] = []
        if not rows and claimed is not None:
            claimed.set_result(0)
        if rows:
            composed = await self.composer.compose(rows)
            pending = [(row, m) for row, m in composed if isinstance(m, OutboundMessage)]
            results = [(row, r) for row, r in composed if isinstance(r, DeliveryResult)]
            sending = asyncio.create_task(self._send_all(pending))
            if claimed is not None:
                claimed.set_result(len(rows))
            results += await sending
        done_at = ensure_utc(None) if now is None else moment
        # Apple Wallet: the devices APNs called gone, whatever became of the push.
        await forget_push_tokens(
            token
            for row, r in results
            if row.channel == Channel.APPLE_WALLET
            for token in r.forget
        )
        recorded = await record(self.worker_id, results, now=done_at)
        await self._after_failures(results, done_at)
        finished = await self.finish_campaigns(done_at)
        digests = await self.send_digests(moment)
        return Tick(
            started, len(rows), recorded.sent, recorded.retried, recorded.failed, finished, digests
        )

    async def send_digests(self, now: datetime) -> int:
        """The digests due by ``now``, at most once per ``digest_every`` in this process; any
        number of workers may run it, each digest is claimed by one of them."""
        if self.digests is None or (self._digests_due is not None and now < self._digests_due):
            return 0
        self._digests_due = now + self.digest_every  # set first: overlapping ticks skip it
        try:
            return await send_due_digests(now, self.digests)
        except Exception:
            logger.exception("results digests failed; trying again next round")
            return 0

    async def _after_failures(
        self, results: list[tuple[Claimed, DeliveryResult]], now: datetime
    ) -> None:
        # A skipped row (WhatsApp's window closed) goes on to the next channel as a failed one.
        failed = [(row, r) for row, r in results if r.outcome in (Outcome.FAILED, Outcome.SKIPPED)]
        if not failed:
            return
        for row, result in failed:
            if result.unreachable and (platform := MESSENGERS.get(Channel(row.channel))):
                await mark_customer_unreachable(row.customer_id, platform)
            elif result.unreachable and row.channel == Channel.EMAIL:
                await Customer.filter(id=row.customer_id).update(email_verified=False)
            elif result.unreachable and row.channel == Channel.GOOGLE_WALLET:
                campaign = await self.composer.campaign(row.campaign_id)
                await forget_google_object(row.customer_id, campaign.card_id)
            # Apple Wallet: its dead push tokens were forgotten before recording.
        campaign_ids = {row.campaign_id for row, _ in failed}
        first_reachable = set(
            await Campaign.filter(
                id__in=campaign_ids, delivery_policy=DeliveryPolicy.FIRST_REACHABLE
            ).values_list("id", flat=True)
        )
        await activate_fallbacks(
            [row for row, _ in failed if row.campaign_id in first_reachable], now=now
        )

    async def finish_campaigns(self, now: datetime) -> int:
        finished = await finish_campaigns(now)
        for campaign_id in finished:
            logger.info("campaign %s done", campaign_id)
        return len(finished)

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0, overlap: int = 2) -> None:
        """Work until ``stop`` is set; sleep ``idle`` seconds whenever there is nothing to do.

        Up to ``overlap`` ticks run at once: the next batch is claimed and composed while the
        previous one is still sending, so a rate-limited channel never idles while the database
        records and claims. Sends still leave in claim order, as they queue on one semaphore.
        """
        running: set[asyncio.Task[Tick | None]] = set()
        try:
            while not stop.is_set():
                claimed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
                task = asyncio.create_task(self._logged_tick(claimed))
                running.add(task)
                task.add_done_callback(running.discard)
                # Settled once the batch is queued to send, or cancelled if the tick failed.
                await asyncio.wait([claimed])
                if claimed.cancelled() or claimed.result() == 0:
                    await asyncio.wait([task])
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=idle)
                while len(running) >= overlap:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # A stop lets the batches in hand finish, so their rows are recorded, not re-leased.
            if running:
                await asyncio.wait(running)

    async def _logged_tick(self, claimed: asyncio.Future[int]) -> Tick | None:
        try:
            return await self.tick(claimed=claimed)
        except Exception:
            logger.exception("worker tick failed; retrying shortly")
            return None
        finally:
            if not claimed.done():
                claimed.cancel()
