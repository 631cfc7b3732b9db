"""Delivery engine figures on PostgreSQL against the fake Bot API (in its own process).

1. audience snapshot: 100,000 recipients into delivery rows (target < 5 s), then (not with
   ``--quick``) 1,000,000 (target < 15 s) and the same 100,000 again among the million, each
   against a bare ``CREATE TABLE … AS SELECT`` of the same people measured in the same run
   (the floor of a set-wise copy); a snapshot past four times its target is cancelled;
2. the campaign pipeline with no rate limit: messages/s and engine CPU per message (target
   < 0.5 ms), against bare aiogram ``send_message`` calls, 64 at once, to the same fake;
3. 20,000 messages at a 1,000/s limit: wall time vs the ideal 20 s (target within 5%), 429s;
4. 600 messages at the default 30/s: wall time vs the ideal 20 s (target within 5%), 429s.

Run: ``make bench`` or ``.venv/bin/python bench/broadcast.py`` (``--quick``: no 1,000,000
snapshot, a quarter of the paced messages; ``--snapshots``: the snapshots of 1. only, to
measure a change to them without minutes of sending). Prints figures and records them
(``var/bench/broadcast.json``); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import asyncpg
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from figures import Figures

from bot.app import freeze_startup_heap
from campaigns.audience import snapshot
from campaigns.composer import Composer
from campaigns.service import cancel, create_campaign, send_now
from campaigns.spec import CampaignSpec
from campaigns.worker import DeliveryWorker
from channels.ratelimit import MemoryRateLimiter, Rate, within_rolling_second
from channels.telegram import TelegramChannel
from fakes.loopback import free_port
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.links import LinkSigner
from loyalty.merchants import CardSpec, MerchantSpec, create_card, create_merchant
from models import Campaign, Card, Delivery
from models.db import apply_migrations, close_db, init_db
from models.enums import CampaignStatus, Channel

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
TOKEN = "123456:TEST-TOKEN"
ROOT = Path(__file__).resolve().parent.parent
MESSAGE = "<b>Autumn menu</b> is here: pumpkin latte and cinnamon buns."


class FakeServer:
    def __init__(self, strict_per_second: int = 0) -> None:
        self.port = free_port()
        self.strict = strict_per_second
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> FakeServer:
        args = [sys.executable, "-m", "fakes.telegram", str(self.port)]
        if self.strict:
            args += ["--strict-per-second", str(self.strict)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)  # noqa: S603
        assert self.process.stdout is not None
        self.process.stdout.readline()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stats(self) -> dict[str, int]:
        url = f"{self.url}/bot{TOKEN}/getBenchStats"
        async with aiohttp.ClientSession() as http, http.post(url) as response:
            result: dict[str, int] = (await response.json())["result"]
            return result


async def _seed(card_sizes: dict[int, int]) -> None:
    """Customers 1..max with Telegram identities (more are added to those already there), and
    each card's first N of them as members."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query("SELECT COALESCE(MAX(id), 0) AS n FROM customer")
    have, people = int(rows[0]["n"]), max(card_sizes.values())
    await conn.execute_script(
        "INSERT INTO customer (first_name, language, email_verified, created_at) "
        f"SELECT 'P' || g, 'en', FALSE, now() FROM generate_series({have + 1}, {people}) g;"
        "INSERT INTO identity (customer_id, platform, external_id, reachable, created_at) "
        f"SELECT id, 'telegram', (1000000 + id)::text, TRUE, now() FROM customer "
        f"WHERE id > {have};"
    )
    for card_id, size in card_sizes.items():
        await conn.execute_script(
            "INSERT INTO membership (customer_id, card_id, status, balance, visits, "
            "public_token, joined_at) "
            f"SELECT id, {card_id}, 'active', 0, 0, md5(random()::text || id || '{card_id}'), "
            f"now() FROM customer WHERE id <= {size};"
        )
    await conn.execute_script("ANALYZE customer; ANALYZE identity; ANALYZE membership;")


async def _bare_copy(card_id: int) -> float:
    """Seconds to copy the same people's rows set-wise with nothing else: the baseline."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    started = time.perf_counter()
    await conn.execute_script(
        "CREATE TABLE bench_copy AS SELECT m.id AS membership_id, m.customer_id, "
        "i.external_id FROM membership m JOIN identity i ON i.customer_id = m.customer_id "
        f"AND i.platform = 'telegram' WHERE m.card_id = {card_id} AND m.status = 'active';"
    )
    seconds = time.perf_counter() - started
    await conn.execute_script("DROP TABLE bench_copy;")
    return seconds


async def _snapshot(
    merchant_id: int, card: Card, people: int, target: float, figures: Figures, among: str = ""
) -> None:
    """Time one snapshot; past four times its target it is cancelled (rolled back) and
    recorded as that long, so a slow plan cannot hold up the whole bench. ``among`` says what
    else the database holds."""
    campaign = await _campaign(merchant_id, card)
    give_up = 4 * target
    started = time.perf_counter()
    try:
        taken = await asyncio.wait_for(snapshot(campaign.id), give_up)
    except TimeoutError:
        taken = None
    seconds = time.perf_counter() - started
    copy = await _bare_copy(card.id)
    name = f"audience snapshot, {people:,} recipients{among}"
    if taken is None:
        seconds, name = give_up, f"{name} (cancelled at {give_up:.0f} s)"
    else:
        assert taken.rows == people, taken
    print(
        f"1. {name}: {seconds:.2f} s (target < {target:.0f} s); "
        f"a bare copy of the same people {copy:.2f} s, ratio {seconds / copy:.1f}×"
    )
    figures.add(
        name, seconds, "s", baseline=copy,
        baseline_name="bare CREATE TABLE AS SELECT of the same people",
        target=f"< {target:.0f} s", met=taken is not None and seconds < target,
    )  # fmt: skip
    await cancel(await Campaign.get(id=campaign.id))
    await Delivery.filter(campaign_id=campaign.id).delete()


async def _bare_sends(count: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``count`` bare aiogram sends, 64 at once: the baseline."""
    with FakeServer() as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
        gate = asyncio.Semaphore(64)

        async def one(chat_id: int) -> None:
            async with gate:
                await bot.send_message(chat_id, MESSAGE, parse_mode="HTML")

        try:
            await asyncio.gather(*(one(2_000_000 + n) for n in range(64)))  # warm the pool
            cpu, started = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one(3_000_000 + n) for n in range(count)))
            return time.perf_counter() - started, time.process_time() - cpu
        finally:
            await bot.session.close()


async def _campaign(merchant_id: int, card: Card) -> Campaign:
    spec = CampaignSpec(
        card_id=card.id,
        channels=(Channel.TELEGRAM,),
        message_text=MESSAGE,
    )
    return await send_now(await create_campaign(merchant_id, spec))


class TimedTelegramChannel(TelegramChannel):
    """Records when each request leaves, to tell our pacing from the server's view of it."""

    departures: ClassVar[list[float]] = []

    async def _send_part(self, chat_id: int | str, part: Any, message: Any, markup: Any) -> int:
        self.departures.append(time.monotonic())
        return await super()._send_part(chat_id, part, message, markup)


def busiest_second(times: list[float]) -> int:
    """The most requests in any rolling one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _workers(
    fake: FakeServer, per_second: float, count: int, batch: int
) -> tuple[list[DeliveryWorker], list[Bot]]:
    limiter = MemoryRateLimiter()
    composer = Composer(
        LinkSigner(b"b" * 32, "http://127.0.0.1"), supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT
    )
    bots, workers = [], []
    for n in range(count):
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
        channel = TimedTelegramChannel(
            bot,
            limiter,
            global_rate=within_rolling_second(per_second),
            per_chat_rate=Rate(per_second=1.0, burst=1),
        )
        workers.append(
            DeliveryWorker(
                {"telegram": channel}, composer, worker_id=f"bench-{n}", batch_size=batch,
                lease=timedelta(seconds=60), concurrency=64,
            )
        )  # fmt: skip
        bots.append(bot)
    return workers, bots


async def _drain(campaign: Campaign, workers: list[DeliveryWorker]) -> float:
    """Each worker runs as ``stampbot worker`` does; stop them when the campaign is done."""
    started = time.perf_counter()
    stop = asyncio.Event()
    running = [asyncio.create_task(w.run(stop, idle=0.01)) for w in workers]
    # The status lives in the database: there is no event to await.
    while (await Campaign.get(id=campaign.id)).status != CampaignStatus.DONE:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*running)
    return elapsed


async def _deliver(
    merchant_id: int, card: Card, *, per_second: float, strict: int, loops: int, batch: int
) -> tuple[float, float, dict[str, int]]:
    TimedTelegramChannel.departures.clear()
    freeze_startup_heap()
    with FakeServer(strict) as fake:
        workers, bots = _workers(fake, per_second, loops, batch)
        try:
            campaign = await _campaign(merchant_id, card)
            cpu = time.process_time()
            wall = await _drain(campaign, workers)
            cpu = time.process_time() - cpu
            return wall, cpu, await fake.stats()
        finally:
            for bot in bots:
                await bot.session.close()


async def _sending(
    merchant_id: int, cards: list[Card], paced: tuple[tuple[int, int], ...], figures: Figures
) -> None:
    """Parts 2 to 4: the pipeline with no rate limit, then at each of ``paced`` (limit, count)."""
    wall, cpu, stats = await _deliver(
        merchant_id, cards[1], per_second=1_000_000, strict=0, loops=1, batch=500
    )
    sent = stats["sent"]
    bare_wall, bare_cpu = await _bare_sends(sent)
    cpu_ms, bare_ms = cpu / sent * 1000, bare_cpu / sent * 1000
    print(
        f"2. no rate limit: {sent:,} messages in {wall:.2f} s ({sent / wall:,.0f}/s); "
        f"engine CPU {cpu_ms:.3f} ms per message (target < 0.5 ms). Bare aiogram "
        f"send_message, 64 at once: {sent / bare_wall:,.0f}/s, {bare_ms:.3f} ms CPU each"
    )
    bare = "bare aiogram send_message, 64 at once"
    figures.add(
        "campaign pipeline, no rate limit", sent / wall, "messages/s",
        baseline=sent / bare_wall, baseline_name=bare,
    )  # fmt: skip
    figures.add(
        "campaign pipeline CPU per message", cpu_ms, "ms", baseline=bare_ms,
        baseline_name=bare, target="< 0.5 ms", met=cpu_ms < 0.5,
    )  # fmt: skip
    for number, card, (limit, count) in zip((3, 4), cards[2:4], paced, strict=True):
        wall, _, stats = await _deliver(
            merchant_id, card, per_second=limit, strict=limit, loops=1,
            batch=100,
        )  # fmt: skip
        ideal = count / limit
        print(
            f"{number}. {count:,} messages at {limit}/s: {wall:.2f} s, "
            f"ideal {ideal:.0f} s, {(wall / ideal - 1) * 100:+.1f}% (target within 5%); "
            f"{stats['rate_limited']} answered 429 by the strict fake"
        )
        departures = TimedTelegramChannel.departures
        span = max(departures) - min(departures)
        print(
            f"   first to last request {span:.2f} s ({count / span:,.0f}/s); busiest rolling "
            f"second as sent: {busiest_second(departures)}"
        )
        figures.add(
            f"{count:,} messages at {limit:,}/s, wall time", wall, "s", baseline=ideal,
            baseline_name=f"ideal {count:,} / {limit:,}/s", target="<= 1.05x",
            met=wall <= ideal * 1.05,
        )  # fmt: skip
        figures.add(
            f"{count:,} messages at {limit:,}/s, 429 answers", stats["rate_limited"], "",
            target="= 0", met=stats["rate_limited"] == 0,
        )  # fmt: skip


async def run(people: int, quick: bool, snapshots: bool) -> None:
    name = f"stampbot_bench_broadcast_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}?maxsize=20"
    figures = Figures("broadcast")
    paced = ((1000, 5_000), (30, 150)) if quick else ((1000, 20_000), (30, 600))
    try:
        await apply_migrations(url)
        await init_db(url)
        shop = await create_merchant(
            MerchantSpec(name="Bench café"),
            CardSpec(name="Snapshot card", stamps_needed=10, reward_text="Coffee"),
            invite_ttl=timedelta(hours=1),
        )
        cards = [shop.card] + [
            await create_card(shop.merchant, CardSpec(name=n, stamps_needed=10, reward_text="x"))
            for n in ("Overhead", "Paid broadcast", "Default rate", "Million")
        ]
        sizes = {cards[0].id: people, cards[1].id: 5_000}
        sizes.update({card.id: count for card, (_, count) in zip(cards[2:4], paced, strict=True)})
        await _seed(sizes)
        await _snapshot(shop.merchant.id, cards[0], people, 5, figures)

        if not snapshots:
            await _sending(shop.merchant.id, cards, paced, figures)
        if not quick:
            await _seed({cards[4].id: 1_000_000})
            await _snapshot(shop.merchant.id, cards[4], 1_000_000, 15, figures)
            # The same 100,000 again, now among a million people: what a bigger database costs.
            among = ", 1,000,000 people in the database"
            await _snapshot(shop.merchant.id, cards[0], people, 5, figures, among)
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"saved {figures.save()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="no 1,000,000 snapshot, fewer sends")
    parser.add_argument(
        "--snapshots", action="store_true", help="the audience snapshots only, no sending"
    )
    args = parser.parse_args()
    asyncio.run(run(args.people, args.quick, args.snapshots))


if __name__ == "__main__":
    main()
