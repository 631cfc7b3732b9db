"""The automation scheduler: enrol people, then fire each one's due step exactly once.

Durable in the database, so a restart loses no waiting enrolment and any number of workers
share the work:

- **Enrol.** One row per (automation, trigger event) — the unique ``event_key`` makes a trigger
  seen twice, or by two workers, enrol once. The re-entry rule is part of the same statement:
  "never" uses the person as the key, "not within N days" looks for an earlier enrolment under
  a per-automation advisory lock on PostgreSQL (SQLite has one writer anyway). The holdout
  group is picked by the same stable hash as a campaign's and sent nothing.
- **Claim.** Due rows are leased with ``FOR UPDATE SKIP LOCKED`` (as the delivery outbox does):
  disjoint batches per worker; a worker killed mid-batch leaves a lease that expires.
- **Fire.** Rows are fired set-wise, one statement per (automation, step), inside one
  transaction that writes the step's log row (unique per enrolment and step), does what the
  step does — delivery rows for the outbox, vouchers, a branch's answer — and moves the
  enrolment on. A kill -9 rolls all of it back; a worker that lost its lease meets the unique
  log row and does nothing. So a step fires once, whoever races.

Sends go through the campaign machinery: each send step of an automation has its own campaign
row (status ``automation``), and firing inserts delivery rows for it, which the delivery
worker composes, rate-limits and retries like any campaign's. Quiet hours hold a send until
the window ends (the step is not fired, so it is not logged); the frequency cap skips it with
the reason ``frequency_cap`` and the chain goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from automations.chain import REFERRER_KEY_SUFFIX, Chain, Condition, Send, Step
from automations.timing import QuietHours, wait_until
from campaigns.sql import Params, connection, is_postgres
from loyalty.clock import ensure_utc
from loyalty.vouchers import issue_voucher
from models import Automation, Campaign, Card, Enrollment, Membership, Merchant
from models.enums import (
    MESSENGERS,
    CampaignStatus,
    Channel,
    DeliveryPolicy,
    DeliveryStatus,
    EnrollmentStatus,
    MembershipStatus,
    ResumeMode,
    VoucherSource,
)

logger = logging.getLogger(__name__)

_NEVER = datetime.min.replace(tzinfo=UTC)
# A failed tick's enrolments are tried again this soon (the lease's end moved forward).
RETRY_FAILED = timedelta(seconds=10)
# Deliveries that count against the frequency cap: messages on their way or gone.
_COUNTED = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.SENDING.value,
    DeliveryStatus.SENT.value,
)


@dataclass(frozen=True, slots=True)
class Fired:
    claimed: int
    sent: int
    skipped: int
    held: int  # sends held back by quiet hours
    finished: int


# Enrolment --------------------------------------------------------------------------------


async def enrol(
    automation: Automation, people: Iterable[tuple[int, str]], *, now: datetime | None = None
) -> int:
    """Enrol each (customer id, event key) the rules allow; returns how many were enrolled.

    The event key names the occurrence for that person ("inactive:2026-11-02", "joined"); the
    same person and key enrol once. The count is exact unless other enrolments of the same
    automation commit meanwhile (it is for logs and tests).
    """
    moment = ensure_utc(now)
    chain = Chain.model_validate(automation.chain)
    rows = list(people)
    if not rows or not automation.enabled:
        return 0
    first = chain.steps[0].id
    rule = chain.reentry.rule
    async with in_transaction() as conn:
        postgres = is_postgres(conn)
        if postgres and rule == "not_within":
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [automation.id])
        p = Params(postgres)
        a_id, c_id, key, at, step = p(automation.id), p(0), p(""), p(moment), p(first)
        held = f"((({c_id} * 7919) + {a_id}) % 100) < {p(chain.holdout)}"
        status = (
            f"CASE WHEN {held} THEN {p(EnrollmentStatus.HELD_OUT.value)} "
            f"ELSE {p(EnrollmentStatus.WAITING.value)} END"
        )
        earlier = ""
        if rule == "not_within":
            assert chain.reentry.days is not None
            since = p(moment - timedelta(days=chain.reentry.days))
            earlier = (
                "AND NOT EXISTS (SELECT 1 FROM enrollment x WHERE x.automation_id = "
                f"{a_id} AND x.customer_id = {c_id} AND x.entered_at > {since}) "
            )
        sql = (
            "INSERT INTO enrollment (automation_id, customer_id, event_key, status, step, "
            f"due_at, entered_at) SELECT {a_id}, {c_id}, {key}, {status}, {step}, {at}, {at} "
            f"WHERE 1 = 1 {earlier}ON CONFLICT (automation_id, event_key) DO NOTHING"
        )
        template = list(p.values)
        batch = []
        for customer_id, event_key in rows:
            values = list(template)
            values[1] = customer_id
            # Keys are per person; "never again" is one key per person, so the unique pair
            # refuses the second time whatever the event.
            values[2] = f"{customer_id}:" + ("once" if rule == "never" else event_key)[:80]
            batch.append(values)
        before = await _count(conn, automation.id)
        await conn.execute_many(sql, batch)
        return await _count(conn, automation.id) - before


async def _count(conn: BaseDBAsyncClient, automation_id: int) -> int:
    p = Params(is_postgres(conn))
    rows = await conn.execute_query_dict(
        f"SELECT COUNT(*) AS n FROM enrollment WHERE automation_id = {p(automation_id)}", p.values
    )
    return int(rows[0]["n"])


# Switching on and off ---------------------------------------------------------------------


async def switch(automation: Automation, on: bool, *, now: datetime | None = None) -> None:
    """Switch on or off. Back on under "resume", every waiting enrolment's due time moves on
    by the time the automation was off, so nothing fires in a burst; under "skip", the sends
    that fell due meanwhile are skipped when their turn comes (``switched_on_at`` says which).
    """
    moment = ensure_utc(now)
    if on == automation.enabled:
        return
    async with in_transaction() as conn:
        if on:
            if automation.switched_off_at is not None and automation.resume_mode == (
                ResumeMode.RESUME
            ):
                await _shift_waiting(conn, automation.id, moment - automation.switched_off_at)
            automation.switched_on_at = moment
        else:
            automation.switched_off_at = moment
        automation.enabled = on
        await automation.save(update_fields=["enabled", "switched_on_at", "switched_off_at"])
        if on:
            await sync_step_campaigns(automation)


async def _shift_waiting(conn: BaseDBAsyncClient, automation_id: int, by: timedelta) -> None:
    waiting = await Enrollment.filter(
        automation_id=automation_id, status=EnrollmentStatus.WAITING
    ).values_list("id", "due_at")
    p = Params(is_postgres(conn))
    a, b = p(None), p(None)
    await conn.execute_many(
        f"UPDATE enrollment SET due_at = {a} WHERE id = {b}",
        [[due + by, enrollment_id] for enrollment_id, due in waiting if due is not None],
    )


async def sync_step_campaigns(automation: Automation) -> dict[str, int]:
    """One campaign row per send step (its message, push, voucher, channels), kept in step
    with the chain; returns step id → campaign id."""
    chain = Chain.model_validate(automation.chain)
    card_id = automation.card_id or await _first_card(automation.merchant_id)
    existing = {
        c.automation_step: c
        for c in await Campaign.filter(automation_id=automation.id)
        if c.automation_step is not None
    }
    found: dict[str, int] = {}
    for step in chain.steps:
        if step.send is None:
            continue
        fields = _campaign_fields(automation, step.id, step.send, card_id)
        campaign = existing.get(step.id)
        if campaign is None:
            campaign = await Campaign.create(**fields)
        else:
            campaign.update_from_dict(fields)
            await campaign.save()
        found[step.id] = campaign.id
    return found


def _campaign_fields(
    automation: Automation, step_id: str, send: Send, card_id: int
) -> dict[str, Any]:
    return {
        "merchant_id": automation.merchant_id,
        "card_id": card_id,
        "name": f"{automation.name[:80]} · {step_id}",
        "status": CampaignStatus.AUTOMATION,
        "push_text": send.push,
        "voucher_title": send.voucher.title if send.voucher else None,
        "voucher_validity_days": send.voucher.days if send.voucher else None,
        "channels": [c.value for c in send.channels],
        "channel_order": [c.value for c in send.channels],
        "delivery_policy": DeliveryPolicy(send.policy),
        "message_text": send.text,
        "automation_id": automation.id,
        "automation_step": step_id,
    }


async def _first_card(merchant_id: int) -> int:
    card = await Card.filter(merchant_id=merchant_id).order_by("id").first()
    if card is None:
        raise ValueError("the shop has no card")
    return card.id


# Claiming and firing ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    customer_id: int
    due_at: datetime
    entered_at: datetime
    automation_id: int = 0
    step: str = ""


async def claim(worker_id: str, *, limit: int, lease: timedelta, now: datetime) -> list[int]:
    """Lease up to ``limit`` due enrolments of switched-on automations; their ids."""
    return sorted(row.id for row in await _claim(worker_id, limit=limit, lease=lease, now=now))


async def _claim(worker_id: str, *, limit: int, lease: timedelta, now: datetime) -> list[_Row]:
    """The leased rows themselves, from the ``UPDATE … RETURNING``: no second read."""
    conn = connection()
    postgres = is_postgres(conn)
    p = Params(postgres)
    lock = " FOR UPDATE OF e SKIP LOCKED" if postgres else ""
    sql = (
        f"UPDATE enrollment SET lease_expires_at = {p(now + lease)}, leased_by = {p(worker_id)} "
        "WHERE id IN (SELECT e.id FROM enrollment e JOIN automation a ON a.id = e.automation_id "
        f"WHERE e.status = {p(EnrollmentStatus.WAITING.value)} AND e.due_at <= {p(now)} "
        f"AND a.enabled = {p(True)} "
        f"AND (e.lease_expires_at IS NULL OR e.lease_expires_at < {p(now)}) "
        f"ORDER BY e.due_at, e.id LIMIT {p(limit)}{lock}) "
        "RETURNING id, automation_id, customer_id, step, due_at, entered_at"
    )
    rows = await conn.execute_query_dict(sql, p.values)
    return [
        _Row(
            int(row["id"]),
            int(row["customer_id"]),
            _moment(row["due_at"]),
            _moment(row["entered_at"]),
            int(row["automation_id"]),
            str(row["step"]),
        )
        for row in rows
    ]


def _moment(value: object) -> datetime:
    """A timestamp as the driver gives it: asyncpg a datetime, SQLite its ISO text."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    # Times are stored in UTC; a driver that drops the zone still means UTC.
    return ensure_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class Scheduler:
    """Fires due steps; one per worker process (``worker_id`` names its leases)."""

    def __init__(
        self, worker_id: str, *, batch_size: int = 1000, lease: timedelta = timedelta(minutes=2)
    ) -> None:
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease = lease

    async def tick(self, now: datetime | None = None) -> Fired:
        """One batch: claim due enrolments and fire one step for each."""
        moment = ensure_utc(now)
        rows = await _claim(self.worker_id, limit=self.batch_size, lease=self.lease, now=moment)
        if not rows:
            return Fired(0, 0, 0, 0, 0)
        groups: dict[tuple[int, str], list[_Row]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r.id):
            groups[(row.automation_id, row.step)].append(row)
        totals = [0, 0, 0, 0]
        try:
            for (automation_id, step_id), group in groups.items():
                automation = await Automation.get(id=automation_id)
                merchant = await Merchant.get(id=automation.merchant_id)
                counts = await self._fire(automation, merchant, step_id, group, moment)
                totals = [a + b for a, b in zip(totals, counts, strict=True)]
        except Exception:
            await self._hand_back([r.id for r in rows], moment)
            raise
        return Fired(len(rows), *totals)

    async def _hand_back(self, ids: list[int], now: datetime) -> None:
        """A failed tick (a PostgreSQL connection cut mid-transaction) rolled its step back;
        the enrolments it still holds are due again in ``RETRY_FAILED``, not after the whole
        lease (two minutes) — the groups that fired before the failure hold none any more."""
        try:
            p = Params(is_postgres(connection()))
            await connection().execute_query(
                f"UPDATE enrollment SET lease_expires_at = {p(now + RETRY_FAILED)} "
                f"WHERE {p.among('id', ids)} AND leased_by = {p(self.worker_id)}",
                p.values,
            )
        except Exception:
            logger.warning("%d enrolments of a failed tick wait for their lease", len(ids))

    async def run_until_idle(self, now: datetime | None = None, *, rounds: int = 1000) -> int:
        """Tick until nothing is due at ``now`` (tests and the bench); how many were claimed."""
        claimed = 0
        for _ in range(rounds):
            fired = await self.tick(now)
            if fired.claimed == 0:
                break
            claimed += fired.claimed
        return claimed

    async def _fire(
        self,
        automation: Automation,
        merchant: Merchant,
        step_id: str,
        rows: list[_Row],
        now: datetime,
    ) -> tuple[int, int, int, int]:
        chain = Chain.model_validate(automation.chain)
        if step_id not in {s.id for s in chain.steps}:
            # The chain was edited and the step is gone: end these enrolments, loudly.
            logger.warning("automation %s has no step %r any more", automation.id, step_id)
            async with in_transaction() as conn:
                await self._finish(conn, [r.id for r in rows], EnrollmentStatus.DONE, now)
            return 0, 0, 0, len(rows)
        step = chain.by_id(step_id)
        zone = ZoneInfo(merchant.timezone)
        async with in_transaction() as conn:
            if step.wait is not None:
                fired = await self._log(conn, rows, step_id, "waited", None, now)
                ends = wait_until(step.wait, now, zone)
                await self._advance_each(conn, dict.fromkeys(fired, ends), chain.following(step))
                return 0, 0, 0, 0
            if step.stop is not None:
                fired = await self._log(conn, rows, step_id, "stopped", None, now)
                await self._finish(conn, fired, EnrollmentStatus.STOPPED, now)
                return 0, 0, 0, len(fired)
            if step.if_ is not None:
                return await self._branch(conn, chain, step, step.if_, automation, rows, now)
            if step.issue is not None:
                fired = await self._log(conn, rows, step_id, "issued", None, now)
                await self._issue(automation, fired, rows, step.issue.title, step.issue.days, now)
                return 0, 0, 0, await self._move_on(conn, fired, chain.following(step), now)
            assert step.send is not None
            quiet = QuietHours(merchant.quiet_from_minute, merchant.quiet_until_minute)
            release = quiet.release(now, zone)
            if release is not None:
                await self._advance_each(conn, {r.id: release for r in rows}, step_id)
                return 0, 0, len(rows), 0
            return await self._send(conn, chain, step, step.send, automation, merchant, rows, now)

    async def _send(
        self,
        conn: BaseDBAsyncClient,
        chain: Chain,
        step: Step,
        send: Send,
        automation: Automation,
        merchant: Merchant,
        rows: list[_Row],
        now: datetime,
    ) -> tuple[int, int, int, int]:
        missed = set()
        if automation.resume_mode == ResumeMode.SKIP and automation.switched_on_at is not None:
            missed = {r.id for r in rows if r.due_at < automation.switched_on_at}
        capped = await self._capped(conn, merchant, [r for r in rows if r.id not in missed], now)
        fired_missed = await self._log(
            conn, [r for r in rows if r.id in missed], step.id, "skipped", "switched_off", now
        )
        fired_capped = await self._log(
            conn, [r for r in rows if r.id in capped], step.id, "skipped", "frequency_cap", now
        )
        sending = [r for r in rows if r.id not in missed and r.id not in capped]
        fired_sent = await self._log(conn, sending, step.id, "sent", None, now)
        campaign_id = await self._step_campaign(automation, step.id)
        await self._deliveries(conn, campaign_id, send, fired_sent, fired_capped, now)
        if send.voucher is not None and fired_sent:
            await self._issue(
                automation, fired_sent, rows, send.voucher.title, send.voucher.days, now,
                campaign_id=campaign_id,
            )  # fmt: skip
        fired = fired_sent + fired_capped + fired_missed
        finished = await self._move_on(conn, fired, chain.following(step), now)
        return len(fired_sent), len(fired_capped) + len(fired_missed), 0, finished

    async def _step_campaign(self, automation: Automation, step_id: str) -> int:
        campaign = await Campaign.get_or_none(automation_id=automation.id, automation_step=step_id)
        if campaign is not None:
            return campaign.id
        return (await sync_step_campaigns(automation))[step_id]

    async def _capped(
        self, conn: BaseDBAsyncClient, merchant: Merchant, rows: list[_Row], now: datetime
    ) -> set[int]:
        """The enrolments whose person already had the shop's cap of marketing messages."""
        if not rows:
            return set()
        p = Params(is_postgres(conn))
        # The people as a VALUES list joined by hash: with an IN list the planner, on the
        # stale statistics of a burst of new rows, filters every delivery row against all of
        # them (0.5 s a batch of 5,000), where the join probes the customer index.
        people = ", ".join(f"({p(customer)})" for customer in {r.customer_id for r in rows})
        sql = (
            "SELECT d.customer_id AS customer_id, COUNT(DISTINCT "
            "CAST(d.campaign_id AS TEXT) || ':' || CAST(COALESCE(d.enrollment_id, 0) AS TEXT)) "
            f"AS n FROM (VALUES {people}) AS v JOIN delivery d ON d.customer_id = v.column1 "
            f"JOIN campaign k ON k.id = d.campaign_id WHERE k.merchant_id = {p(merchant.id)} "
            f"AND d.created_at > {p(now - timedelta(days=merchant.frequency_days))} "
            f"AND d.status IN ({', '.join(p(s) for s in _COUNTED)}) GROUP BY d.customer_id"
        )
        counts = {
            int(r["customer_id"]): int(r["n"])
            for r in await conn.execute_query_dict(sql, p.values)
        }
        over = {c for c, n in counts.items() if n >= merchant.frequency_cap}
        return {r.id for r in rows if r.customer_id in over}

    async def _deliveries(
        self,
        conn: BaseDBAsyncClient,
        campaign_id: int,
        send: Send,
        sent: Sequence[int],
        capped: Sequence[int],
        now: datetime,
    ) -> None:
        """Delivery rows for the outbox (the first channel pending, the others pending too or
        standing by under "first reachable"), and one skipped row per capped person, so the
        step's statistics count them with the reason."""
        postgres = is_postgres(conn)
        groups: list[tuple[str, DeliveryStatus, str | None, Sequence[int]]] = []
        for index, channel in enumerate(send.channels):
            standby = send.policy == DeliveryPolicy.FIRST_REACHABLE.value and index > 0
            status = DeliveryStatus.STANDBY if standby else DeliveryStatus.PENDING
            groups.append((channel.value, status, None, sent))
        groups.append((send.channels[0].value, DeliveryStatus.SKIPPED, "frequency_cap", capped))
        for channel_name, status, reason, ids in groups:
            if not ids:
                continue
            p = Params(postgres)
            # Typed placeholders: PostgreSQL cannot infer a parameter's type in a SELECT list.
            at = p(now)
            reason_sql = p(reason) if reason is not None else "NULL"
            sql = (
                "INSERT INTO delivery (campaign_id, customer_id, channel, status, reason, "
                f"attempts, next_attempt_at, created_at, enrollment_id) SELECT {p(campaign_id)}, "
                f"e.customer_id, {p(channel_name)}, {p(status.value)}, {reason_sql}, 0, "
                f"{at}, {at}, e.id FROM enrollment e WHERE {p.among('e.id', ids)} "
                "ON CONFLICT (enrollment_id, campaign_id, channel) "
                "WHERE enrollment_id IS NOT NULL DO NOTHING"
            )
            await conn.execute_query(sql, p.values)

    async def _issue(
        self,
        automation: Automation,
        fired: Sequence[int],
        rows: list[_Row],
        title: str,
        days: int,
        now: datetime,
        *,
        campaign_id: int | None = None,
    ) -> None:
        people = {r.id: r.customer_id for r in rows}
        wanted = {people[i] for i in fired}
        memberships = Membership.filter(customer_id__in=wanted, status=MembershipStatus.ACTIVE)
        if automation.card_id is not None:
            memberships = memberships.filter(card_id=automation.card_id)
        else:
            # A shop-wide automation: the card each person uses most lately gets the voucher.
            memberships = memberships.filter(card__merchant_id=automation.merchant_id)
        chosen: dict[int, Membership] = {}
        # Sorted here: the dialects put a NULL last visit first (PostgreSQL) or last (SQLite).
        for membership in sorted(
            await memberships.select_related("card"),
            key=lambda m: (m.last_visit_at or _NEVER, m.joined_at),
            reverse=True,
        ):
            chosen.setdefault(membership.customer_id, membership)
        for membership in chosen.values():
            await issue_voucher(
                membership, membership.card, source=VoucherSource.AUTOMATION, title=title,
                validity_days=days, now=now, campaign_id=campaign_id,
            )  # fmt: skip

    async def _branch(
        self,
        conn: BaseDBAsyncClient,
        chain: Chain,
        step: Step,
        condition: Condition,
        automation: Automation,
        rows: list[_Row],
        now: datetime,
    ) -> tuple[int, int, int, int]:
        yes = await _holds(conn, condition, automation, rows)
        fired_yes = await self._log(
            conn, [r for r in rows if r.id in yes], step.id, "yes", None, now
        )
        fired_no = await self._log(
            conn, [r for r in rows if r.id not in yes], step.id, "no", None, now
        )
        finished = 0
        for fired, answer in ((fired_yes, True), (fired_no, False)):
            following = chain.following(step, answer=answer)
            finished += await self._move_on(conn, fired, following, now)
        return 0, 0, 0, finished

    async def _move_on(
        self, conn: BaseDBAsyncClient, fired: Sequence[int], following: str | None, now: datetime
    ) -> int:
        """After a step: the next one is due at once, or the chain is done; how many finished."""
        if following is None:
            await self._finish(conn, fired, EnrollmentStatus.DONE, now)
            return len(fired)
        await self._advance_each(conn, dict.fromkeys(fired, now), following)
        return 0

    async def _log(
        self,
        conn: BaseDBAsyncClient,
        rows: Sequence[_Row],
        step_id: str,
        outcome: str,
        reason: str | None,
        now: datetime,
    ) -> list[int]:
        """Write the step's log row for each enrolment this worker still holds; the ids whose
        row is new — the only ones the step may act for."""
        if not rows:
            return []
        p = Params(is_postgres(conn))
        sql = (
            "INSERT INTO enrollment_step (enrollment_id, step, outcome, reason, fired_at) "
            f"SELECT e.id, {p(step_id)}, {p(outcome)}, {p(reason or '')}, {p(now)} "
            f"FROM enrollment e WHERE {p.among('e.id', (r.id for r in rows))} "
            f"AND e.leased_by = {p(self.worker_id)} "
            "ON CONFLICT (enrollment_id, step) DO NOTHING RETURNING enrollment_id"
        )
        rows_back = await conn.execute_query_dict(sql, p.values)
        return sorted(int(r["enrollment_id"]) for r in rows_back)

    async def _advance_each(
        self, conn: BaseDBAsyncClient, due: dict[int, datetime], step_id: str | None
    ) -> None:
        if not due:
            return
        if step_id is None:
            await self._finish(conn, list(due), EnrollmentStatus.DONE, min(due.values()))
            return
        by_time: dict[datetime, list[int]] = defaultdict(list)
        for enrollment_id, when in due.items():
            by_time[when].append(enrollment_id)
        for when, ids in by_time.items():
            p = Params(is_postgres(conn))
            await conn.execute_query(
                f"UPDATE enrollment SET step = {p(step_id)}, due_at = {p(when)}, "
                "lease_expires_at = NULL, leased_by = NULL "
                f"WHERE {p.among('id', ids)} AND leased_by = {p(self.worker_id)}",
                p.values,
            )

    async def _finish(
        self,
        conn: BaseDBAsyncClient,
        ids: Sequence[int],
        status: EnrollmentStatus,
        now: datetime,
    ) -> None:
        if not ids:
            return
        p = Params(is_postgres(conn))
        await conn.execute_query(
            f"UPDATE enrollment SET status = {p(status.value)}, step = NULL, due_at = NULL, "
            f"finished_at = {p(now)}, lease_expires_at = NULL, leased_by = NULL "
            f"WHERE {p.among('id', ids)}",
            p.values,
        )


async def _holds(
    conn: BaseDBAsyncClient, condition: Condition, automation: Automation, rows: list[_Row]
) -> set[int]:
    """The enrolments for which the branch's condition holds (one query for the batch)."""
    p = Params(is_postgres(conn))
    among = p.among("e.id", (r.id for r in rows))
    card = automation.card_id

    def membership() -> str:
        on_card = f"AND m.card_id = {p(card)} " if card is not None else ""
        return f"SELECT 1 FROM membership m WHERE m.customer_id = e.customer_id {on_card}"

    if condition.opened_last is not None:
        test = (
            "EXISTS (SELECT 1 FROM delivery d WHERE d.enrollment_id = e.id "
            "AND d.opened_at IS NOT NULL)"
        )
        wanted = condition.opened_last
    elif condition.visited_since_enrolment is not None:
        test = f"EXISTS ({membership()}AND m.last_visit_at > e.entered_at)"
        wanted = condition.visited_since_enrolment
    elif condition.has_unused_voucher is not None:
        test = (
            "EXISTS (SELECT 1 FROM voucher v JOIN membership m ON m.id = v.membership_id "
            f"WHERE m.customer_id = e.customer_id AND v.status = {p('issued')}"
            + (f" AND m.card_id = {p(card)}" if card is not None else "")
            + ")"
        )
        wanted = condition.has_unused_voucher
    elif condition.referrer is not None:
        # The friend-visited scan keys the member's enrolment "...:referrer" (triggers.py).
        test = f"e.event_key LIKE {p('%' + REFERRER_KEY_SUFFIX)}"
        wanted = condition.referrer
    elif condition.birthday_known is not None:
        test = (
            "EXISTS (SELECT 1 FROM customer c WHERE c.id = e.customer_id "
            "AND c.birth_month IS NOT NULL)"
        )
        wanted = condition.birthday_known
    else:
        assert condition.reachable_on is not None
        test = _reachable(p, condition.reachable_on)
        wanted = True
    sql = f"SELECT e.id AS id FROM enrollment e WHERE {among} AND {test}"
    matched = {int(r["id"]) for r in await conn.execute_query_dict(sql, p.values)}
    return matched if wanted else {r.id for r in rows} - matched


def _reachable(p: Params, channel: Channel) -> str:
    if channel == Channel.EMAIL:
        return (
            "EXISTS (SELECT 1 FROM customer c WHERE c.id = e.customer_id "
            f"AND c.email IS NOT NULL AND c.email_verified = {p(True)})"
        )
    if (platform := MESSENGERS.get(channel)) is not None:
        return (
            "EXISTS (SELECT 1 FROM identity i WHERE i.customer_id = e.customer_id "
            f"AND i.platform = {p(platform.value)} AND i.reachable = {p(True)})"
        )
    if channel == Channel.APPLE_WALLET:
        return (
            "EXISTS (SELECT 1 FROM wallet_pass w JOIN membership m ON m.id = w.membership_id "
            "WHERE m.customer_id = e.customer_id)"
        )
    return (
        "EXISTS (SELECT 1 FROM google_wallet_object g JOIN membership m "
        "ON m.id = g.membership_id WHERE m.customer_id = e.customer_id)"
    )


async def run_scheduler(
    scheduler: Scheduler,
    stop: asyncio.Event,
    *,
    idle: float = 5.0,
    scan_every: timedelta = timedelta(seconds=60),
) -> None:
    """Scan the triggers every ``scan_every`` and fire due steps until ``stop`` is set: batch
    after batch while there is work, then a pause of ``idle`` seconds. Runs in every worker
    process; event keys and leases share the work."""
    from automations.triggers import scan

    scanned: datetime | None = None
    while not stop.is_set():
        try:
            now = ensure_utc(None)
            if scanned is None or now - scanned >= scan_every:
                scanned = now
                if enrolled := await scan(now):
                    logger.info("automations: %d people enrolled", enrolled)
            fired = await scheduler.tick()
        except Exception:
            logger.exception("automation scheduler tick failed; trying again shortly")
            fired = Fired(0, 0, 0, 0, 0)
        if fired.claimed:
            logger.info(
                "automations: %d due, %d sent, %d skipped, %d held by quiet hours, %d finished",
                fired.claimed, fired.sent, fired.skipped, fired.held, fired.finished,
            )  # fmt: skip
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=idle)
