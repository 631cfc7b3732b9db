"""The delivery rows as a durable queue: claim under a lease, record what happened.

On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets any number of workers claim disjoint batches;
SQLite has one writer at a time, so the same statement without it is already exclusive. A
worker that dies leaves its rows ``sending`` with a lease that expires; the next claim takes
them again, so nothing is lost and at most the rows in flight at the crash are sent twice.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from campaigns.metrics import count_result
from campaigns.sql import Params, connection, is_postgres
from channels.base import DeliveryResult, Outcome, Reason
from models.enums import CampaignStatus, DeliveryStatus

MAX_ATTEMPTS = 8
BACKOFF_BASE = 5.0
BACKOFF_CAP = 1800.0


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    campaign_id: int
    customer_id: int
    channel: str
    attempts: int


async def claim(worker_id: str, *, limit: int, lease: timedelta, now: datetime) -> list[Claimed]:
    """Lease up to ``limit`` due rows, shared fairly between the shops with due rows.

    One bot serves many shops, so a batch must not be one big campaign's oldest rows while a
    small campaign waits behind all of them: each campaign's due rows are ranked (oldest
    first), then each shop's, and the batch takes the first row of every shop, then the second,
    and so on (round-robin; a shop with several campaigns alternates between them, and what a
    small shop leaves unused goes to the others). The rows come back in that order, which is
    the order they are sent in.

    On PostgreSQL the ranking runs on at most ``limit`` rows per sending campaign, each locked
    with ``SKIP LOCKED`` as it is read, so workers claiming at once take disjoint rows and none
    waits; rows a claim locked but did not take are free again when its statement ends. An
    index of pending rows by (campaign_id, next_attempt_at, id) makes that a few index pages
    per campaign; without one they are found through (status, next_attempt_at), at about the
    cost of taking the oldest rows of all. SQLite takes each campaign's rows the same way,
    without locks (one writer at a time).
    """
    conn = connection()
    sql, values = claim_statement(
        worker_id, limit=limit, lease=lease, now=now, postgres=is_postgres(conn)
    )
    # execute_query would drop the RETURNING rows of an UPDATE on asyncpg.
    rows = await conn.execute_query_dict(sql, values)
    return _round_robin([Claimed(**row) for row in rows])


def claim_statement(
    worker_id: str, *, limit: int, lease: timedelta, now: datetime, postgres: bool
) -> tuple[str, list[Any]]:
    """The UPDATE … RETURNING that :func:`claim` runs, and its values (benchmarks EXPLAIN
    it)."""
    p = Params(postgres)
    # An automation's send steps are campaigns that never finish (status "automation").
    sending = f"{p(CampaignStatus.SENDING.value)}, {p(CampaignStatus.AUTOMATION.value)}"
    pending, leased = p(DeliveryStatus.PENDING.value), p(DeliveryStatus.SENDING.value)
    at, share = p(now), p(limit)
    if postgres:
        due = (
            # Fresh and retried rows: the oldest ``limit`` of each campaign.
            "fresh AS (SELECT c.id, c.next_attempt_at, k.id AS campaign_id, k.merchant_id "
            "FROM campaign k CROSS JOIN LATERAL (SELECT d.id, d.next_attempt_at FROM delivery d "
            f"WHERE d.campaign_id = k.id AND d.status = {pending} AND d.next_attempt_at <= {at} "
            f"ORDER BY d.next_attempt_at, d.id LIMIT {share} FOR UPDATE SKIP LOCKED) c "
            f"WHERE k.status IN ({sending})), "
            # Rows whose worker died: few (at most the rows in flight), found by status.
            "stale AS (SELECT d.id, d.next_attempt_at, k.id AS campaign_id, k.merchant_id "
            "FROM delivery d JOIN campaign k ON k.id = d.campaign_id "
            f"WHERE k.status IN ({sending}) AND d.status = {leased} "
            f"AND d.lease_expires_at < {at} ORDER BY d.lease_expires_at LIMIT {share} "
            "FOR UPDATE OF d SKIP LOCKED), "
            "due AS (SELECT * FROM fresh UNION ALL SELECT * FROM stale), "
        )
    else:
        # No LATERAL: a correlated IN takes each campaign's oldest ``limit``, as above.
        due = (
            "due AS (SELECT d.id, d.next_attempt_at, k.id AS campaign_id, k.merchant_id "
            "FROM campaign k JOIN delivery d ON d.id IN (SELECT x.id FROM delivery x "
            f"WHERE x.campaign_id = k.id AND x.status = {pending} AND x.next_attempt_at <= {at} "
            f"ORDER BY x.next_attempt_at, x.id LIMIT {share}) WHERE k.status IN ({sending}) "
            "UNION ALL SELECT d.id, d.next_attempt_at, k.id, k.merchant_id "
            "FROM delivery d JOIN campaign k ON k.id = d.campaign_id "
            f"WHERE k.status IN ({sending}) AND d.status = {leased} "
            f"AND d.lease_expires_at < {at}), "
        )
    sql = (
        f"WITH {due}"
        "by_campaign AS (SELECT id, merchant_id, next_attempt_at, ROW_NUMBER() OVER ("
        "PARTITION BY campaign_id ORDER BY next_attempt_at, id) AS turn FROM due), "
        "by_shop AS (SELECT id, next_attempt_at, ROW_NUMBER() OVER ("
        "PARTITION BY merchant_id ORDER BY turn, next_attempt_at, id) AS shop_turn "
        f"FROM by_campaign WHERE turn <= {share}) "
        f"UPDATE delivery SET status = {leased}, lease_expires_at = {p(now + lease)}, "
        f"leased_by = {p(worker_id)}, attempts = attempts + 1 "
        "WHERE id IN (SELECT id FROM by_shop "
        f"ORDER BY shop_turn, next_attempt_at, id LIMIT {share}) "
        "RETURNING id, campaign_id, customer_id, channel, attempts"
    )
    return sql, p.values


def _round_robin(rows: list[Claimed]) -> list[Claimed]:
    """The batch in sending order: each campaign's rows by id, the campaigns taking turns
    (RETURNING keeps no order; the shops' shares were already settled by the claim)."""
    by_campaign: dict[int, list[Claimed]] = {}
    for row in sorted(rows, key=lambda row: row.id):
        by_campaign.setdefault(row.campaign_id, []).append(row)
    queues = sorted(by_campaign.values(), key=lambda queue: queue[0].id)
    return [row for turn in itertools.zip_longest(*queues) for row in turn if row is not None]


def backoff(attempts: int) -> float:
    """Exponential with full jitter, so retries of a whole batch do not arrive together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading load, not secrecy


@dataclass(frozen=True, slots=True)
class Settled:
    """What one result makes of its row: the status it goes to, the reason stored with it,
    and for a retry when it is due again."""

    status: DeliveryStatus
    reason: str | None
    retry_at: datetime | None = None


def settle(row: Claimed, result: DeliveryResult, *, now: datetime) -> Settled:
    """The rules of the queue for one result, which :func:`record` writes for a send and
    ``campaigns.receipts`` for a platform's later word on it: a retry waits what the platform
    asked (else :func:`backoff`) until the row has had :data:`MAX_ATTEMPTS`, then fails with
    the retry's reason."""
    if result.outcome == Outcome.DELIVERED:
        # Delivered with a reason: e.g. quota_silent, a wallet message without notification.
        kept = result.reason.value if result.reason is not None else None
        return Settled(DeliveryStatus.SENT, kept)
    if result.outcome == Outcome.RETRY and row.attempts < MAX_ATTEMPTS:
        wait = result.retry_after if result.retry_after is not None else backoff(row.attempts)
        reason = (result.reason or Reason.SERVER_ERROR).value
        return Settled(DeliveryStatus.PENDING, reason, now + timedelta(seconds=wait))
    if result.outcome == Outcome.SKIPPED:
        return Settled(DeliveryStatus.SKIPPED, (result.reason or Reason.NO_ADDRESS).value)
    return Settled(DeliveryStatus.FAILED, (result.reason or Reason.TOO_MANY_ATTEMPTS).value)


_COUNTED_AS = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.PENDING: "retry",
    DeliveryStatus.SKIPPED: "skipped",
    DeliveryStatus.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    sent: int
    retried: int
    failed: int


async def record(
    worker_id: str, results: list[tuple[Claimed, DeliveryResult]], *, now: datetime
) -> Recorded:
    """Store each result; the ``leased_by`` condition ignores rows another worker took over."""
    conn = connection()
    postgres = is_postgres(conn)
    sent, retried, failed, skipped = [], [], [], []
    # Counted once written: a scrape between the two saw a send counted and still queued.
    counted: list[tuple[str, str, str | None]] = []
    for row, result in results:
        settled = settle(row, result, now=now)
        if settled.status == DeliveryStatus.SENT:
            sent.append([now, result.external_id, settled.reason, row.id, worker_id])
        elif settled.status == DeliveryStatus.PENDING:
            retried.append([settled.retry_at, settled.reason, row.id, worker_id])
        elif settled.status == DeliveryStatus.SKIPPED:
            skipped.append([settled.reason, row.id, worker_id])
        else:
            failed.append([settled.reason, row.id, worker_id])
        outcome = _COUNTED_AS[settled.status]
        counted.append((row.channel, outcome, settled.reason if outcome == "retry" else None))

    def placeholders(count: int) -> list[str]:
        p = Params(postgres)
        return [p(None) for _ in range(count)]

    if sent:
        a, b, c, d, e = placeholders(5)
        await conn.execute_many(
            f"UPDATE delivery SET status = '{DeliveryStatus.SENT.value}', sent_at = {a}, "
            f"external_id = {b}, reason = {c}, lease_expires_at = NULL "
            f"WHERE id = {d} AND leased_by = {e}",
            sent,
        )
    if retried:
        a, b, c, d = placeholders(4)
        await conn.execute_many(
            f"UPDATE delivery SET status = '{DeliveryStatus.PENDING.value}', "
            f"next_attempt_at = {a}, reason = {b}, lease_expires_at = NULL "
            f"WHERE id = {c} AND leased_by = {d}",
            retried,
        )
    for status, rows in ((DeliveryStatus.FAILED, failed), (DeliveryStatus.SKIPPED, skipped)):
        if rows:
            a, b, c = placeholders(3)
            await conn.execute_many(
                f"UPDATE delivery SET status = '{status.value}', reason = {a}, "
                f"lease_expires_at = NULL WHERE id = {b} AND leased_by = {c}",
                rows,
            )
    for channel, outcome, why in counted:
        count_result(channel, outcome, why)
    return Recorded(sent=len(sent), retried=len(retried), failed=len(failed))


async def extend_leases(worker_id: str, rows: list[Claimed], *, until: datetime) -> None:
    """The rows this worker still holds stay its own until ``until``: a batch that takes
    longer than its lease (a slow channel, a storm of 429s) is not taken over and sent twice
    by another worker while this one is still sending it."""
    if not rows:
        return
    conn = connection()
    p = Params(is_postgres(conn))
    await conn.execute_query(
        f"UPDATE delivery SET lease_expires_at = {p(until)} "
        f"WHERE {p.among('id', (row.id for row in rows))} AND leased_by = {p(worker_id)} "
        f"AND status = {p(DeliveryStatus.SENDING.value)}",
        p.values,
    )


async def hand_back(worker_id: str, rows: list[Claimed], *, now: datetime) -> None:
    """Rows this worker claimed but could not record (its batch failed: the database went
    away mid-batch, a bug) are due again after the usual backoff instead of after their lease.

    Only rows still ``sending`` under this worker's lease change: those already recorded, or
    taken over by another worker, are left alone. A row that had been sent before the failure
    is sent again, as it would be once its lease ran out: within the rows in flight."""
    if not rows:
        return
    conn = connection()
    p = Params(is_postgres(conn))
    a, b, c = p(None), p(None), p(None)
    await conn.execute_many(
        f"UPDATE delivery SET status = '{DeliveryStatus.PENDING.value}', next_attempt_at = {a}, "
        f"lease_expires_at = NULL WHERE id = {b} AND leased_by = {c} "
        f"AND status = '{DeliveryStatus.SENDING.value}'",
        [[now + timedelta(seconds=backoff(row.attempts)), row.id, worker_id] for row in rows],
    )


async def activate_fallbacks(rows: list[Claimed], *, now: datetime) -> int:
    """Under "first reachable", hand each permanently failed person to their next channel."""
    if not rows:
        return 0
    conn = connection()
    postgres = is_postgres(conn)
    p = Params(postgres)
    a, b, c = p(None), p(None), p(None)
    standby = DeliveryStatus.STANDBY.value
    sql = (
        f"UPDATE delivery SET status = '{DeliveryStatus.PENDING.value}', next_attempt_at = {a} "
        "WHERE id = (SELECT MIN(id) FROM delivery WHERE campaign_id = "
        f"{b} AND customer_id = {c} AND status = '{standby}')"
    )
    await conn.execute_many(sql, [[now, row.campaign_id, row.customer_id] for row in rows])
    return len(rows)


async def finish_campaigns(now: datetime) -> list[int]:
    """Mark sending campaigns with nothing left to send as done; returns their ids."""
    conn = connection()
    p = Params(is_postgres(conn))
    open_states = f"{p(DeliveryStatus.PENDING.value)}, {p(DeliveryStatus.SENDING.value)}"
    sql = (
        f"UPDATE campaign SET status = {p(CampaignStatus.DONE.value)}, finished_at = {p(now)} "
        f"WHERE status = {p(CampaignStatus.SENDING.value)} AND NOT EXISTS ("
        "SELECT 1 FROM delivery d WHERE d.campaign_id = campaign.id "
        f"AND d.status IN ({open_states})) RETURNING id"
    )
    rows = await conn.execute_query_dict(sql, p.values)
    return [int(row["id"]) for row in rows]
