"""Automation scheduler figures on PostgreSQL (a fresh database per run).

1. 100,000 enrolments due at once fired into delivery rows (target < 10 s), against the
   campaign snapshot of the same 100,000 people measured in the same run (the engine's
   set-wise baseline: one INSERT … SELECT);
2. a scan with nothing due while 1,000,000 enrolments wait (target < 5 ms), against a bare
   ``SELECT 1`` round trip on the same connection pool.

Run: ``make bench`` or ``.venv/bin/python bench/automation_scheduler.py`` (``--people N``,
``--waiting N``; ``--quick``: 20,000 and 100,000).
Prints figures and records them (``var/bench/automation_scheduler.json``); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from figures import Figures
from tortoise import Tortoise

from automations.chain_yaml import load
from automations.engine import Scheduler, claim, enrol, switch
from campaigns.audience import snapshot
from campaigns.service import create_campaign, send_now
from campaigns.spec import CampaignSpec
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
from models import Automation, Delivery
from models.db import apply_migrations, close_db, init_db
from models.enums import Channel

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
# Noon in Kyiv: outside the quiet hours, so every send goes at once.
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
CHAIN = """\
name: Bench welcome
trigger: {kind: joined}
reentry: {rule: every_time}
steps:
  - id: hello
    send: {channels: [telegram], text: "Welcome! Your first coffee stamp is waiting."}
"""


async def _seed(card_id: int, people: int) -> None:
    conn = Tortoise.get_connection("default")
    await conn.execute_script(
        "INSERT INTO customer (first_name, language, email_verified, created_at) "
        f"SELECT 'P' || g, 'en', FALSE, now() FROM generate_series(1, {people}) g;"
        "INSERT INTO identity (customer_id, platform, external_id, reachable, created_at) "
        "SELECT id, 'telegram', (1000000 + id)::text, TRUE, now() FROM customer;"
        "INSERT INTO membership (customer_id, card_id, status, balance, visits, public_token, "
        f"joined_at) SELECT id, {card_id}, 'active', 0, 0, md5(random()::text || id), now() "
        "FROM customer;"
    )


async def _automation(merchant_id: int, card_id: int, name: str) -> Automation:
    chain = load(CHAIN.replace("Bench welcome", name))
    made = await Automation.create(
        merchant_id=merchant_id, card_id=card_id, name=name,
        chain=chain.model_dump(mode="json", by_alias=True), trigger=chain.trigger.kind,
    )  # fmt: skip
    await switch(made, True, now=NOW - timedelta(days=1))
    return made


async def _wait_many(merchant_id: int, card_id: int, people: int, waiting: int) -> None:
    """``waiting`` enrolments due tomorrow, spread over as many automations as it takes."""
    conn = Tortoise.get_connection("default")
    tomorrow = (NOW + timedelta(days=1)).isoformat()
    for n in range(-(-waiting // people)):
        made = await _automation(merchant_id, card_id, f"Waiting {n}")
        count = min(people, waiting - n * people)
        await conn.execute_script(
            "INSERT INTO enrollment (automation_id, customer_id, event_key, status, step, "
            f"due_at, entered_at) SELECT {made.id}, id, id || ':joined', 'waiting', 'hello', "
            f"'{tomorrow}'::timestamptz, now() FROM customer WHERE id <= {count};"
        )
    await conn.execute_script("ANALYZE enrollment;")


async def _median_ms(calls: int, make: object) -> float:
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        await make()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def run(people: int, waiting: int) -> None:
    name = f"stampbot_bench_automations_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}?maxsize=10"
    figures = Figures("automation_scheduler")
    try:
        await apply_migrations(url)
        await init_db(url)
        shop = await create_merchant(
            MerchantSpec(name="Bench café", timezone="Europe/Kyiv"),
            CardSpec(name="Coffee card", stamps_needed=10, reward_text="Coffee"),
            invite_ttl=timedelta(hours=1),
        )
        merchant_id, card_id = shop.merchant.id, shop.card.id
        await _seed(card_id, people)

        # Baseline: the campaign snapshot of the same people into delivery rows.
        campaign = await send_now(
            await create_campaign(
                merchant_id,
                CampaignSpec(card_id=card_id, channels=(Channel.TELEGRAM,), message_text="Hi"),
            )
        )
        started = time.perf_counter()
        await snapshot(campaign.id, now=NOW)
        baseline = time.perf_counter() - started
        await Delivery.filter(campaign_id=campaign.id).delete()

        made = await _automation(merchant_id, card_id, "Bench welcome")
        started = time.perf_counter()
        enrolled = await enrol(made, [(c, "joined") for c in range(1, people + 1)], now=NOW)
        enrolling = time.perf_counter() - started
        scheduler = Scheduler("bench", batch_size=5_000)
        started = time.perf_counter()
        await scheduler.run_until_idle(NOW)
        firing = time.perf_counter() - started
        rows = await Delivery.filter(enrollment_id__isnull=False).count()
        print(
            f"1. {enrolled:,} enrolled in {enrolling:.2f} s; {rows:,} due fired into delivery "
            f"rows in {firing:.2f} s ({rows / firing:,.0f}/s; target < 10 s). Baseline: the "
            f"campaign snapshot of the same {people:,} people {baseline:.2f} s; "
            f"ratio {firing / baseline:.1f}×"
        )
        snapshot_name = f"campaign snapshot of the same {people:,} people"
        figures.add(
            "automation firing rate", rows / firing, "rows/s", baseline=people / baseline,
            baseline_name=snapshot_name,
        )  # fmt: skip
        figures.add(
            f"{rows:,} enrolments due fired", firing, "s", baseline=baseline,
            baseline_name=snapshot_name, target="< 10 s", met=firing < 10,
        )  # fmt: skip

        await _wait_many(merchant_id, card_id, people, waiting)
        conn = Tortoise.get_connection("default")
        lease = timedelta(minutes=2)

        async def empty_scan() -> None:
            assert await claim("bench", limit=1000, lease=lease, now=NOW) == []

        async def round_trip() -> None:
            await conn.execute_query("SELECT 1")

        for _ in range(5):  # warm the plan cache and the pool
            await empty_scan()
        scan_ms = await _median_ms(200, empty_scan)
        trip_ms = await _median_ms(200, round_trip)
        total = await conn.execute_query_dict(
            "SELECT COUNT(*) AS n FROM enrollment WHERE status = 'waiting'"
        )
        print(
            f"2. a scan with nothing due, {int(total[0]['n']):,} enrolments waiting: median "
            f"{scan_ms:.2f} ms (target < 5 ms); a bare SELECT 1 {trip_ms:.2f} ms; "
            f"ratio {scan_ms / trip_ms:.1f}×"
        )
        figures.add(
            f"scan with nothing due, {int(total[0]['n']):,} waiting", scan_ms, "ms",
            baseline=trip_ms, baseline_name="bare SELECT 1", target="< 5 ms", met=scan_ms < 5,
        )  # fmt: skip
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"saved {figures.save()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--waiting", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 people, 100,000 waiting")
    args = parser.parse_args()
    if args.quick:
        args.people, args.waiting = 20_000, 100_000
    asyncio.run(run(args.people, args.waiting))


if __name__ == "__main__":
    main()
