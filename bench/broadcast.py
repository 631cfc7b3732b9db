"""Delivery engine figures on PostgreSQL against the fake Bot API (in its own process).

1. audience snapshot: 100,000 recipients into delivery rows (target < 5 s);
2. engine CPU per message with no rate limit (target < 1 ms, so one worker feeds 1,000/s);
3. 20,000 messages at a 1,000/s limit: wall time vs the ideal 20 s (target within 5%), 429s;
4. 600 messages at the default 30/s: wall time vs the ideal 20 s (target within 5%), 429s.

Run: ``make bench`` or ``.venv/bin/python bench/broadcast.py``. Prints figures; asserts nothing.
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
from models import Campaign, Card
from models.db import apply_migrations, close_db, init_db
from models.enums import CampaignStatus, Channel

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
TOKEN = "123456:TEST-TOKEN"
ROOT = Path(__file__).resolve().parent.parent


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
    """Customers 1..max with Telegram identities, and each card's first N of them as members."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    people = max(card_sizes.values())
    await conn.execute_script(
        "INSERT INTO customer (first_name, language, email_verified, created_at) "
        f"SELECT 'P' || g, 'en', FALSE, now() FROM generate_series(1, {people}) g;"
        "INSERT INTO identity (customer_id, platform, external_id, reachable, created_at) "
        "SELECT id, 'telegram', (1000000 + id)::text, TRUE, now() FROM customer;"
    )
    for card_id, size in card_sizes.items():
        await conn.execute_script(
            "INSERT INTO membership (customer_id, card_id, status, balance, visits, "
            "public_token, joined_at) "
            f"SELECT id, {card_id}, 'active', 0, 0, md5(random()::text || id || '{card_id}'), "
            f"now() FROM customer WHERE id <= {size};"
        )


async def _campaign(merchant_id: int, card: Card) -> Campaign:
    spec = CampaignSpec(
        card_id=card.id,
        channels=(Channel.TELEGRAM,),
        message_text="<b>Autumn menu</b> is here: pumpkin latte and cinnamon buns.",
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


async def run(people: int) -> None:
    name = f"stampbot_bench_broadcast_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}?maxsize=20"
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
            for n in ("Overhead", "Paid broadcast", "Default rate")
        ]
        sizes = {cards[0].id: people, cards[1].id: 5_000, cards[2].id: 20_000, cards[3].id: 600}
        await _seed(sizes)

        campaign = await _campaign(shop.merchant.id, cards[0])
        started = time.perf_counter()
        taken = await snapshot(campaign.id)
        seconds = time.perf_counter() - started
        assert taken is not None
        print(f"1. snapshot of {taken.rows:,} recipients: {seconds:.2f} s (target < 5 s)")
        await cancel(await Campaign.get(id=campaign.id))

        wall, cpu, stats = await _deliver(
            shop.merchant.id, cards[1], per_second=1_000_000, strict=0, loops=1, batch=500
        )
        sent = stats["sent"]
        print(
            f"2. no rate limit: {sent:,} messages in {wall:.2f} s ({sent / wall:,.0f}/s); "
            f"engine CPU {cpu / sent * 1000:.3f} ms per message (target < 1 ms)"
        )
        for card, limit, count in ((cards[2], 1000, 20_000), (cards[3], 30, 600)):
            wall, _, stats = await _deliver(
                shop.merchant.id, card, per_second=limit, strict=limit, loops=1,
                batch=100,
            )  # fmt: skip
            ideal = count / limit
            print(
                f"{3 if limit == 1000 else 4}. {count:,} messages at {limit}/s: {wall:.2f} s, "
                f"ideal {ideal:.0f} s, {(wall / ideal - 1) * 100:+.1f}% (target within 5%); "
                f"{stats['rate_limited']} answered 429 by the strict fake"
            )
            departures = TimedTelegramChannel.departures
            span = max(departures) - min(departures)
            print(
                f"   first to last request {span:.2f} s ({count / span:,.0f}/s); busiest rolling "
                f"second as sent: {busiest_second(departures)}"
            )
    finally:
        await close_db()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.people))


if __name__ == "__main__":
    main()
