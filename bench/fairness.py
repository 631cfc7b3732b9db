"""Fair across shops: a small shop's campaign while a big one is sending, on one bot's limit.

PostgreSQL, the fake Bot API in its own process, strict at Telegram's 30 messages/s; one
delivery worker as ``stampbot worker`` builds it by default (``bot.delivery.build_worker``: a
batch of about 1.5 s of sending, 45 rows at 30/s, 64 sends at once); then batches of 30 and of
100 (the default before the batch followed the rate) for comparison.

1. Shop A's 20,000-message campaign is sending (two seconds in); shop B starts a 50-message
   one. B's completion time with the fair claim (shops take turns in every batch), against the
   old claim (oldest rows first) measured in the same run: B waits behind A's rows; that run
   is stopped after a while, and its figure is what the rows ahead of B take at the rate
   measured, with B's sent count at the stop to show it had not started;
2. service messages during the campaign: the wait of notices (the priority lane) against a
   campaign send asked for at the same moment; the busiest second the fake saw;
3. the claim's cost (EXPLAIN ANALYZE, median of 5, rolled back) with A's rows in the queue
   and (not with ``--quick``) with 1,000,000 due rows: the fair claim against the old one, and
   the fair claim with the index it is designed for, pending rows by (campaign_id,
   next_attempt_at, id), which the schema does not have yet (made here for the measurement);
4. the same on SQLite (the embedded default), timed (median of 3, rolled back), with 100,000
   due rows, and 1,000,000 rows (750,000 due) without ``--quick``.

Run: ``.venv/bin/python bench/fairness.py`` (``--quick``: no 1,000,000-row claim, a shorter
old-claim run). Prints figures and records them (``var/bench/fairness.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from broadcast import MESSAGE, PG_ADMIN, TOKEN, FakeServer
from figures import Figures

import campaigns.worker
from bot.config import Settings
from bot.delivery import build_worker
from campaigns.composer import Composer
from campaigns.outbox import Claimed, claim_statement
from campaigns.service import cancel, create_campaign, send_now
from campaigns.spec import CampaignSpec
from campaigns.sql import Params, connection
from campaigns.worker import DeliveryWorker
from channels.ratelimit import MemoryRateLimiter, acquire, within_rolling_second
from channels.telegram import GLOBAL_KEY, TelegramBudget
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.clock import utcnow
from loyalty.links import LinkSigner
from loyalty.merchants import CardSpec, MerchantSpec, NewMerchant, create_merchant
from models import Campaign, Delivery
from models.db import apply_migrations, close_db, init_db
from models.enums import CampaignStatus, Channel, DeliveryStatus

LIMIT = 30
FAIR_CLAIM = campaigns.worker.claim
BIG, SMALL = 20_000, 50
PROPOSED_INDEX = (
    "CREATE INDEX bench_delivery_due ON delivery (campaign_id, next_attempt_at, id) "
    "WHERE status = 'pending'"
)


async def fifo_claim(
    worker_id: str, *, limit: int, lease: timedelta, now: datetime
) -> list[Claimed]:
    """The claim before this change: the oldest due rows of all, whoever's they are."""
    sql, values = fifo_statement(worker_id, limit=limit, lease=lease, now=now)
    rows = await connection().execute_query_dict(sql, values)
    return sorted((Claimed(**row) for row in rows), key=lambda row: row.id)


def fifo_statement(
    worker_id: str, *, limit: int, lease: timedelta, now: datetime, postgres: bool = True
) -> tuple[str, list[Any]]:
    p = Params(postgres)
    lock = " FOR UPDATE OF d SKIP LOCKED" if postgres else ""
    sql = (
        f"UPDATE delivery SET status = {p(DeliveryStatus.SENDING.value)}, "
        f"lease_expires_at = {p(now + lease)}, leased_by = {p(worker_id)}, "
        "attempts = attempts + 1 "
        "WHERE id IN (SELECT d.id FROM delivery d JOIN campaign k ON k.id = d.campaign_id "
        f"WHERE k.status IN ({p(CampaignStatus.SENDING.value)}, "
        f"{p(CampaignStatus.AUTOMATION.value)}) AND ("
        f"(d.status = {p(DeliveryStatus.PENDING.value)} AND d.next_attempt_at <= {p(now)}) OR "
        f"(d.status = {p(DeliveryStatus.SENDING.value)} AND d.lease_expires_at < {p(now)})) "
        f"ORDER BY d.next_attempt_at, d.id LIMIT {p(limit)}{lock}) "
        "RETURNING id, campaign_id, customer_id, channel, attempts"
    )
    return sql, p.values


async def _seed(first: int, people: int, card_id: int) -> None:
    """Customers ``first`` … ``first + people - 1``, with Telegram identities, card members."""
    conn = connection()
    last = first + people - 1
    await conn.execute_script(
        "INSERT INTO customer (id, first_name, language, email_verified, created_at) "
        f"SELECT g, 'P' || g, 'en', FALSE, now() FROM generate_series({first}, {last}) g;"
        "INSERT INTO identity (customer_id, platform, external_id, reachable, created_at) "
        f"SELECT g, 'telegram', (1000000 + g)::text, TRUE, now() "
        f"FROM generate_series({first}, {last}) g;"
        "INSERT INTO membership (customer_id, card_id, status, balance, visits, "
        "public_token, joined_at) "
        f"SELECT g, {card_id}, 'active', 0, 0, md5(random()::text || g), now() "
        f"FROM generate_series({first}, {last}) g;"
        "SELECT setval('customer_id_seq', (SELECT MAX(id) FROM customer));"
        "ANALYZE customer; ANALYZE identity; ANALYZE membership;"
    )


async def _campaign(shop: NewMerchant) -> Campaign:
    spec = CampaignSpec(card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text=MESSAGE)
    return await send_now(await create_campaign(shop.merchant.id, spec))


async def _sent(campaign_id: int) -> int:
    return await Delivery.filter(campaign_id=campaign_id, status=DeliveryStatus.SENT).count()


async def _until(check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Poll the database (no event to await) until ``check`` holds or ``seconds`` pass."""
    ends = time.perf_counter() + seconds
    while time.perf_counter() < ends:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


def _composer() -> Composer:
    signer = LinkSigner(b"f" * 32, "http://127.0.0.1")
    return Composer(signer, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)


class Run:
    """One worker on one limiter to the strict fake, and the notices' budget beside it.

    ``batch``: None for the worker exactly as ``stampbot worker`` builds it by default
    (``bot.delivery.build_worker``: its batch follows the 30/s rate), else that batch size on
    the same channel."""

    def __init__(self, fake: FakeServer, batch: int | None, var_dir: Path) -> None:
        self.limiter = MemoryRateLimiter()
        settings = Settings(
            var_dir=var_dir,
            telegram={"token": TOKEN, "api_url": fake.url},
            delivery={"telegram_per_second": LIMIT},
        )
        self.rate = within_rolling_second(settings.delivery.telegram_per_second)
        self.bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
        self.worker = build_worker(
            settings, self.bot, self.limiter, LinkSigner(b"f" * 32, "http://127.0.0.1")
        )
        self.worker.worker_id = "bench"
        if batch is not None:
            self.worker.batch_size = batch
        self.budget = TelegramBudget(self.limiter, self.rate)


async def _small_behind_big(
    big: NewMerchant,
    small: NewMerchant,
    *,
    fair: bool,
    give_up: float,
    batch: int | None = None,
) -> dict[str, float]:
    """B's completion time (or what the rows ahead of it would take), A's rate, notices."""
    campaigns.worker.claim = FAIR_CLAIM if fair else fifo_claim
    with FakeServer(LIMIT) as fake, tempfile.TemporaryDirectory() as var_dir:
        run = Run(fake, batch, Path(var_dir))
        stop = asyncio.Event()
        working = asyncio.create_task(run.worker.run(stop, idle=0.05))
        try:
            a = await _campaign(big)
            await _until(lambda: _has_sent(a.id, 60), 60)
            a_sent_at_start = await _sent(a.id)
            b = await _campaign(small)
            started = time.perf_counter()
            notices: list[float] = []
            control: asyncio.Task[float] | None = None
            if fair:
                await asyncio.sleep(1.0)
                control = asyncio.create_task(
                    acquire(run.limiter, GLOBAL_KEY, run.rate)  # a campaign send, for scale
                )
                for n in range(5):
                    chat_id = 5_000_000 + n
                    notices.append(await run.budget.service_slot(chat_id))
                    await run.bot.send_message(chat_id, "+1 stamp at Corner bakery!")
            done = await _until(lambda: _is_done(b.id), give_up)
            elapsed = time.perf_counter() - started
            b_sent = await _sent(b.id)
            a_rate = (await _sent(a.id) - a_sent_at_start) / elapsed
            queued = await control if control is not None else 0.0
        finally:
            stop.set()
            await working
            await run.bot.session.close()
        stats = await fake.stats()
    ahead = BIG - a_sent_at_start
    for campaign in (a, b):
        stored = await Campaign.get(id=campaign.id)
        if stored.status != CampaignStatus.DONE:
            await cancel(stored)
    await Delivery.filter(campaign_id__in=[a.id, b.id]).delete()
    return {
        "done": float(done), "elapsed": elapsed, "b_sent": b_sent, "a_rate": a_rate,
        "projected": ahead / max(a_rate, 1e-9), "notice_max": max(notices, default=0.0),
        "notice_median": statistics.median(notices) if notices else 0.0, "queued": queued,
        "busiest": stats["busiest_second"], "rate_limited": stats["rate_limited"],
        "batch": run.worker.batch_size,
    }  # fmt: skip


async def _has_sent(campaign_id: int, count: int) -> bool:
    return await _sent(campaign_id) >= count


async def _is_done(campaign_id: int) -> bool:
    return (await Campaign.get(id=campaign_id)).status == CampaignStatus.DONE


async def _explain_ms(dsn: str, statement: tuple[str, list[Any]], repeat: int = 5) -> float:
    """Median execution time of the statement by EXPLAIN ANALYZE, rolled back each time."""
    sql, values = statement
    conn = await asyncpg.connect(dsn)
    times = []
    try:
        for _ in range(repeat):
            transaction = conn.transaction()
            await transaction.start()
            try:
                plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *values)
            finally:
                await transaction.rollback()
            times.append(float(json.loads(plan)[0]["Execution Time"]))
    finally:
        await conn.close()
    return statistics.median(times)


async def _claim_costs(dsn: str, label: str, figures: Figures) -> None:
    now = utcnow() + timedelta(seconds=1)
    args: dict[str, Any] = {"limit": 100, "lease": timedelta(seconds=120), "now": now}
    fair = await _explain_ms(dsn, claim_statement("x", postgres=True, **args))
    old = await _explain_ms(dsn, fifo_statement("x", **args))
    await connection().execute_script(PROPOSED_INDEX + "; ANALYZE delivery;")
    indexed = await _explain_ms(dsn, claim_statement("x", postgres=True, **args))
    old_indexed = await _explain_ms(dsn, fifo_statement("x", **args))
    await connection().execute_script("DROP INDEX bench_delivery_due;")
    print(
        f"3. claim of 100 with {label}: fair {fair:.1f} ms, old {old:.1f} ms (EXPLAIN ANALYZE, "
        f"median of 5); with the proposed index: fair {indexed:.2f} ms, old {old_indexed:.1f} ms"
    )
    old_name = "old claim (oldest rows first), same rows"
    figures.add(f"fair claim, {label}", fair, "ms", baseline=old, baseline_name=old_name)
    figures.add(
        f"fair claim, {label}, with index (campaign_id, next_attempt_at, id) on pending rows",
        indexed, "ms", baseline=old_indexed, baseline_name=old_name + ", same index",
        target="< 10 ms", met=indexed < 10,
    )  # fmt: skip


async def _million_due(shop: NewMerchant) -> None:
    """A sending campaign of 1,000,000 rows, a quarter of them sent already."""
    conn = connection()
    a = await create_campaign(
        shop.merchant.id,
        CampaignSpec(card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text=MESSAGE),
    )
    await Campaign.filter(id=a.id).update(status=CampaignStatus.SENDING)
    await conn.execute_script(
        "INSERT INTO customer (id, first_name, language, email_verified, created_at) "
        "SELECT g, 'P' || g, 'en', FALSE, now() FROM generate_series(100001, 1100000) g;"
        "INSERT INTO delivery (campaign_id, customer_id, channel, status, attempts, "
        "next_attempt_at, created_at) "
        f"SELECT {a.id}, g, 'telegram', CASE WHEN g <= 350000 THEN 'sent' ELSE 'pending' END, "
        "0, now() - interval '1 hour', now() FROM generate_series(100001, 1100000) g;"
        "ANALYZE delivery; ANALYZE campaign;"
    )


async def run(quick: bool) -> None:
    name = f"stampbot_bench_fairness_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    url, dsn = f"{base}/{name}?maxsize=20", f"{base}/{name}"
    figures = Figures("fairness")
    give_up = 15.0 if quick else 45.0
    try:
        await apply_migrations(url)
        await init_db(url)
        shops = []
        for shop_name, size, first in (("Big roastery", BIG, 1), ("Corner bakery", SMALL, 30_001)):
            shop = await create_merchant(
                MerchantSpec(name=shop_name),
                CardSpec(name="Card", stamps_needed=10, reward_text="Coffee"),
                invite_ttl=timedelta(hours=1),
            )
            await _seed(first, size, shop.card.id)
            shops.append(shop)
        big, small = shops
        fair = await _small_behind_big(big, small, fair=True, give_up=60)
        old = await _small_behind_big(big, small, fair=False, give_up=give_up)
        small_batches = await _small_behind_big(big, small, fair=True, give_up=60, batch=30)
        hundred = await _small_behind_big(big, small, fair=True, give_up=60, batch=100)
        print(
            f"1. shop B's {SMALL} messages behind shop A's {BIG:,} at {LIMIT}/s, the worker as "
            f"`stampbot worker` builds it (batches of {fair['batch']:.0f}): fair claim "
            f"{fair['elapsed']:.1f} s (A meanwhile at {fair['a_rate']:.1f}/s); old claim: "
            f"{old['b_sent']:.0f} of B's sent after {old['elapsed']:.0f} s, the {BIG:,} rows "
            f"ahead take {old['projected']:.0f} s at the {old['a_rate']:.1f}/s measured"
        )
        figures.add(
            f"small campaign ({SMALL}) done while a {BIG:,} one sends, {LIMIT}/s",
            fair["elapsed"], "s", baseline=old["projected"],
            baseline_name="old claim: B behind A's rows (projected from the rate measured)",
            target="< 10 s", met=bool(fair["done"]) and fair["elapsed"] < 10,
        )  # fmt: skip
        print(
            f"   with batches of 30 and of 100 (the worker's batch_size; a batch is what is "
            f"queued to send ahead of the next claim): {small_batches['elapsed']:.1f} s, "
            f"{hundred['elapsed']:.1f} s"
        )
        figures.add(
            f"small campaign ({SMALL}) done while a {BIG:,} one sends, batches of 30",
            small_batches["elapsed"], "s", baseline=fair["elapsed"],
            baseline_name="the default batch, following the rate", target="< 10 s",
            met=bool(small_batches["done"]) and small_batches["elapsed"] < 10,
        )  # fmt: skip
        figures.add(
            f"small campaign ({SMALL}) done while a {BIG:,} one sends, batches of 100",
            hundred["elapsed"], "s", baseline=fair["elapsed"],
            baseline_name="the default batch, following the rate", target="< 10 s",
            met=bool(hundred["done"]) and hundred["elapsed"] < 10,
        )  # fmt: skip
        print(
            f"2. five notices during the campaign: wait median {fair['notice_median'] * 1000:.0f}"
            f" ms, max {fair['notice_max'] * 1000:.0f} ms; a campaign send asked for with them "
            f"{fair['queued'] * 1000:.0f} ms. Busiest second at the fake: {fair['busiest']} "
            f"(limit {LIMIT}), 429 answers: {fair['rate_limited']} (old-claim run: "
            f"{old['busiest']}, {old['rate_limited']})"
        )
        figures.add(
            "service notice wait during a campaign at full rate (max of 5)",
            fair["notice_max"] * 1000, "ms", baseline=fair["queued"] * 1000,
            baseline_name="a campaign send asked for at the same moment",
            target="< 300 ms", met=fair["notice_max"] < 0.3,
        )  # fmt: skip
        figures.add(
            "busiest second at the fake Bot API, campaign + notices", fair["busiest"],
            "messages", target=f"<= {LIMIT}",
            met=fair["busiest"] <= LIMIT and fair["rate_limited"] == 0,
        )  # fmt: skip
        # The queue as the fair run would leave it mid-campaign: A's rows pending, B's too.
        for shop in shops:
            await _campaign(shop)
        await DeliveryWorker({}, _composer()).start_due(utcnow())
        await _claim_costs(dsn, f"{BIG + SMALL:,} due rows", figures)
        if not quick:
            await _million_due(big)
            await _claim_costs(dsn, "1,000,000 more rows (750,000 due)", figures)
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    with tempfile.TemporaryDirectory() as folder:
        await _sqlite_claim_costs(f"sqlite://{folder}/bench.sqlite3", quick, figures)
    print(f"saved {figures.save()}")


async def _sqlite_claim_costs(url: str, quick: bool, figures: Figures) -> None:
    """A big campaign (a quarter sent) and a small one, both sending, on a SQLite file."""
    total = 100_000 if quick else 1_000_000
    await apply_migrations(url)
    await init_db(url)
    try:
        conn = connection()
        ids = []
        for shop_name in ("Big roastery", "Corner bakery"):
            shop = await create_merchant(
                MerchantSpec(name=shop_name),
                CardSpec(name="Card", stamps_needed=10, reward_text="Coffee"),
                invite_ttl=timedelta(hours=1),
            )
            spec = CampaignSpec(
                card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text=MESSAGE
            )
            ids.append((await create_campaign(shop.merchant.id, spec)).id)
        await Campaign.filter(id__in=ids).update(status=CampaignStatus.SENDING)
        then, now = utcnow() - timedelta(hours=1), utcnow()
        await conn.execute_query(
            "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?1) "
            "INSERT INTO customer (id, first_name, language, email_verified, created_at) "
            "SELECT x, 'P', 'en', 0, ?2 FROM g",
            [total + SMALL, then],
        )
        for campaign_id, where, due in (
            (ids[0], f"id <= {total}", then), (ids[1], f"id > {total}", now)
        ):  # fmt: skip
            await conn.execute_query(
                "INSERT INTO delivery (campaign_id, customer_id, channel, status, attempts, "
                f"next_attempt_at, created_at) SELECT {campaign_id}, id, 'telegram', "
                f"CASE WHEN id <= {total // 4} THEN 'sent' ELSE 'pending' END, 0, ?1, ?1 "
                f"FROM customer WHERE {where}",
                [due],
            )
        await conn.execute_script("ANALYZE;")
        at = utcnow() + timedelta(seconds=1)
        args: dict[str, Any] = {"limit": 100, "lease": timedelta(seconds=120), "now": at}

        async def timed(statement: tuple[str, list[Any]]) -> float:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                await conn.execute_query("BEGIN")
                await conn.execute_query_dict(*statement)
                await conn.execute_query("ROLLBACK")
                times.append((time.perf_counter() - started) * 1000)
            return statistics.median(times)

        fair = await timed(claim_statement("x", postgres=False, **args))
        old = await timed(fifo_statement("x", postgres=False, **args))
        await conn.execute_script(PROPOSED_INDEX + "; ANALYZE;")
        indexed = await timed(claim_statement("x", postgres=False, **args))
        label = f"{total:,} rows ({total * 3 // 4:,} due)"
        print(
            f"4. SQLite claim of 100 with {label}: fair {fair:.0f} ms, old {old:.0f} ms "
            f"(median of 3); with the proposed index: fair {indexed:.1f} ms"
        )
        old_name = "old claim (oldest rows first), same rows"
        figures.add(
            f"fair claim, SQLite, {label}", fair, "ms", baseline=old, baseline_name=old_name
        )
        figures.add(
            f"fair claim, SQLite, {label}, with the proposed index", indexed, "ms",
            baseline=old, baseline_name=old_name + ", without it",
        )  # fmt: skip
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="no 1,000,000-row claim")
    args = parser.parse_args()
    asyncio.run(run(args.quick))


if __name__ == "__main__":
    main()
