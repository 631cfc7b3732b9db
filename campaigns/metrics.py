"""Prometheus metrics of the delivery engine and the automations, in the process's registry.

Counters move where the work happens (``record`` counts each delivery's result); the queue
gauges are read from the database at scrape time (``refresh``), so every process — web or
worker — reports the same shared queue, and a scrape costs two indexed counts.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge

from campaigns.sql import Params, connection, is_postgres
from loyalty.clock import ensure_utc
from models.enums import Channel, DeliveryStatus, EnrollmentStatus

SENDS = Counter(
    "stampbot_deliveries_total",
    "Delivery attempts recorded by the outbox, by channel and result.",
    ["channel", "result"],
)
RETRIES = Counter(
    "stampbot_delivery_retries_total",
    "Deliveries put back for another attempt, by channel and reason.",
    ["channel", "reason"],
)
QUEUE = Gauge(
    "stampbot_delivery_queue",
    "Delivery rows waiting to be sent (pending or being sent), by channel.",
    ["channel"],
)
ENROLMENTS_DUE = Gauge(
    "stampbot_automation_enrolments_due",
    "Automation enrolments whose next step is due now.",
)


def count_result(channel: str, result: str, reason: str | None = None) -> None:
    SENDS.labels(channel=channel, result=result).inc()
    if result == "retry":
        RETRIES.labels(channel=channel, reason=reason or "unknown").inc()


async def refresh(now: datetime | None = None) -> None:
    """Read the queue depth per channel and the due enrolments into the gauges."""
    moment = ensure_utc(now)
    conn = connection()
    p = Params(is_postgres(conn))
    waiting = f"{p(DeliveryStatus.PENDING.value)}, {p(DeliveryStatus.SENDING.value)}"
    rows = await conn.execute_query_dict(
        f"SELECT channel, COUNT(*) AS n FROM delivery WHERE status IN ({waiting}) "  # noqa: S608
        "GROUP BY channel",
        p.values,
    )
    seen = {str(r["channel"]): int(r["n"]) for r in rows}
    # Every channel, so an empty queue reads 0 rather than being absent or stale.
    for channel in {c.value for c in Channel} | set(seen):
        QUEUE.labels(channel=channel).set(seen.get(channel, 0))
    p = Params(is_postgres(conn))
    due = await conn.execute_query_dict(
        "SELECT COUNT(*) AS n FROM enrollment "  # noqa: S608
        f"WHERE status = {p(EnrollmentStatus.WAITING.value)} AND due_at <= {p(moment)}",
        p.values,
    )
    ENROLMENTS_DUE.set(int(due[0]["n"]))

