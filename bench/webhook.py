"""Webhook speed: stampbot against a bare aiogram echo bot, same fake Bot API, same driver.

Both bots run as processes of their own and answer webhooks as production does (the update is
handled before the HTTP answer, so an answer's latency is the whole handling, the bot's calls
to the Bot API included; only a stamp's notice to the customer is sent after the answer, from
stampbot's notice queue, still within the bot's Telegram limit). This process is the driver and
the loopback Bot API: it posts real update JSON, built before the clock starts, and times each
answer.

Scenarios, each from people the bot has never heard from in that scenario:

- ``start``: ``/start`` from someone with no card (stampbot: a customer look-up, a text answer);
- ``card``: ``/card`` from a member (their card image with the personal QR, as a photo);
- ``stamp``: a cashier pressing "+1" on a customer's stamp screen (the ledger row, the edited
  screen; then the customer's notice);
- ``join``: ``/start <join link>`` from someone new (customer, membership, the first card);
- ``mix``: a shop's day in every ten updates — one join, three card views, four stamps and two
  voucher views (``/vouchers`` from a member holding one: the voucher with its QR, as a photo).

The echo bot answers every message with its text and every button with an empty answer.
Loads: a closed loop with 64 updates in flight (throughput), and an open loop at a fixed rate
(200/s; joins 20/s) whose latencies count from the moment each update was due, so a queue in
the bot shows. PostgreSQL and Redis as in production. The memory of both processes (RSS) is
read when they are up and idle and after each load.

After each load with stamps the driver waits until every stamped customer's notice has reached
the fake Bot API (at 30 messages a second, the bot's limit, that can take a while): their CPU
is the load's too, so the CPU per update is read after them. A second table gives the notices'
lag (from the moment the stamp was due to the notice's arrival) and the most notices on their
way at once (stamps answered whose notice had not arrived yet), as extra figures without a
target. Prints markdown tables, records the headline figures (``var/bench/webhook.json``);
asserts nothing.

Run: ``make bench`` or ``.venv/bin/python bench/webhook.py [--quick] [scenario …]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
from figures import Figures

from fakes.loopback import free_port
from fakes.telegram import DEFAULT_TOKEN, FakeTelegramAPI, FakeUser

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("STAMPBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
HERE = str(Path(__file__).resolve())
ROOT = Path(HERE).parent.parent
# The child echo bot reads the same secret from its environment.
SECRET = os.environ.setdefault("STAMPBOT_BENCH_SECRET", secrets.token_urlsafe(32))
IN_FLIGHT = 64
FAILURES: list[str] = []  # the first few, printed at the end
SCENARIOS = ("start", "card", "stamp", "join", "mix")
# People per scenario: numbered ranges, so the seed and the fake agree without a list. The mix
# counts its updates from 1 and takes each kind's people from a range of its own.
BASE = {"start": 5_000_000, "card": 6_000_000, "stamp": 7_000_000, "join": 8_000_000, "mix": 0}
CASHIERS = 9_000_000
MIX_BASE = {"join": 10_000_000, "card": 11_000_000, "stamp": 12_000_000, "voucher": 13_000_000}
MIX = ("join", "card", "stamp", "card", "stamp", "voucher", "card", "stamp", "voucher", "stamp")
# The targets: /start at least half the echo bot's rate, the mix's p99 at 200/s, and
# the idle bot within this much memory of the idle echo bot.
START_RATIO = 0.5
MIX_P99_MS = 50.0
IDLE_RSS_OVER_ECHO_MB = 50.0
# A cashier presses at most this many buttons in a run: under the flood limit's burst.
PRESSES_PER_CASHIER = 4
# How long after a load the driver waits for the last stamp notices (30/s at most).
NOTICE_WAIT = 120.0


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    rate: float | None  # None: closed loop with IN_FLIGHT updates in flight
    count: int


@dataclass(frozen=True, slots=True)
class Result:
    bot: str
    scenario: str
    load: str
    sent: int
    failed: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # the bot process's CPU per update: what the machine's load does not change
    rate: float | None  # the load's: None for the closed loop
    notices: Notices | None = None  # stampbot's stamp notices, where the load has stamps


@dataclass(frozen=True, slots=True)
class Notices:
    """The customers' stamp notices of one load, as the fake Bot API received them."""

    count: int
    missing: int  # stamps whose customer heard nothing within NOTICE_WAIT
    p50_ms: float  # from the moment the stamp was due to the notice's arrival
    p99_ms: float
    max_ms: float
    deepest: int  # stamps answered whose notice had not arrived yet, at the worst moment


def loads(scenario: str, quick: bool) -> list[Load]:
    scale = 4 if quick else 1
    if scenario == "join":
        return [Load("closed 64", None, 600 // scale), Load("open 20/s", 20.0, 300 // scale)]
    if scenario == "mix":  # half the others' updates: its voucher photos cost the most CPU
        return [Load("closed 64", None, 1200 // scale), Load("open 200/s", 200.0, 1000 // scale)]
    return [Load("closed 64", None, 2400 // scale), Load("open 200/s", 200.0, 2000 // scale)]


def people(scenario: str, quick: bool) -> int:
    warm = 100
    return sum(load.count for load in loads(scenario, quick)) * 2 + warm * 4


# -- the two bots --------------------------------------------------------------------------


def echo_main(port: int, api: str) -> None:
    """The baseline: aiogram's own webhook handler and one handler per update type."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    bot = Bot(DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=SECRET, handle_in_background=False
    ).register(app, path="/webhook")
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@contextlib.contextmanager
def process(args: Sequence[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
        log.close()


async def wait_ready(url: str, child: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if child.poll() is not None:
                raise RuntimeError(f"{url}: the bot exited with {child.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stampbot_env(db_url: str, api: str, port: int, log_level: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        STAMPBOT_DATABASE_URL=db_url,
        STAMPBOT_REDIS_URL=REDIS,
        STAMPBOT_BOT_TOKEN=DEFAULT_TOKEN,
        STAMPBOT_BOT_USERNAME="stampbot_bench_bot",
        STAMPBOT_TELEGRAM_API_URL=api,
        STAMPBOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        STAMPBOT_WEB_HOST="127.0.0.1",
        STAMPBOT_WEB_PORT=str(port),
        STAMPBOT_WEBHOOK_SECRET=SECRET,
        STAMPBOT_SIGNING_KEY=secrets.token_urlsafe(32),
        STAMPBOT_LOG_LEVEL=log_level,
    )
    return env


# -- the shop and its people ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    join_payload: str
    stamp_members: dict[int, int]  # telegram id -> membership id
    stamp_screens: dict[int, tuple[int, str]]  # customer telegram id -> (cashier id, data)


def member_ranges(kind: str, quick: bool) -> list[tuple[int, int]]:
    """(first telegram id, count) of the members a scenario's ``kind`` of update comes from."""
    mix = (MIX_BASE[kind] + 1, people("mix", quick))
    return [mix] if kind == "voucher" else [(BASE[kind] + 1, people(kind, quick)), mix]


async def seed(db_url: str, quick: bool) -> Shop:
    """One café: a card without cooldown, members to view and stamp, cashiers to stamp them,
    members holding a voucher."""
    from tortoise import Tortoise

    from handlers.callbacks import StampAction
    from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
    from loyalty.tokens import LinkKind, new_counter_code, payload
    from models.db import apply_migrations, close_db, init_db

    await apply_migrations(db_url)
    await init_db(db_url)
    try:
        shop = await create_merchant(
            MerchantSpec(name="Кав'ярня Bench", timezone="Europe/Kyiv"),
            CardSpec(name="Coffee card", stamps_needed=10, reward_text="Free cappuccino",
                     stamp_cooldown_seconds=0),
            invite_ttl=timedelta(hours=1),
        )  # fmt: skip
        conn = Tortoise.get_connection("default")
        card_id, merchant_id = shop.card.id, shop.merchant.id
        for kind in ("card", "stamp", "voucher"):
            for first, count in member_ranges(kind, quick):
                await conn.execute_script(
                    "INSERT INTO customer (first_name, language, email_verified, created_at) "
                    f"SELECT 'M' || g, 'uk', FALSE, now() FROM generate_series({first}, "
                    f"{first + count - 1}) g;"
                    "INSERT INTO identity (customer_id, platform, external_id, reachable, "
                    f"created_at) SELECT id, 'telegram', substr(first_name, 2), TRUE, now() "
                    f"FROM customer WHERE first_name LIKE 'M%' AND substr(first_name, 2)::bigint"
                    f" >= {first} AND substr(first_name, 2)::bigint < {first + count};"
                    "INSERT INTO membership (customer_id, card_id, status, balance, visits, "
                    "public_token, counter_code, joined_at) "
                    f"SELECT customer_id, {card_id}, 'active', 0, 0, md5(random()::text || id), "
                    f"NULL, now() FROM identity WHERE external_id::bigint >= {first} "
                    f"AND external_id::bigint < {first + count};"
                )
        # Every member made by joining has the till code the card's caption shows; so do
        # these (without one, each first view would make it: an UPDATE and a SELECT more).
        _, rows = await conn.execute_query("SELECT id FROM membership", [])
        ids = [int(row["id"]) for row in rows]
        codes: set[str] = set()
        while len(codes) < len(ids):
            codes.add(new_counter_code())
        await conn.execute_query(
            "UPDATE membership m SET counter_code = v.code FROM unnest($1::bigint[], "
            "$2::text[]) AS v(id, code) WHERE m.id = v.id",
            [ids, sorted(codes)],
        )
        [(first, count)] = member_ranges("voucher", quick)
        await conn.execute_script(
            "INSERT INTO voucher (merchant_id, card_id, membership_id, source, title, code, "
            f"token, status, issued_at) SELECT {merchant_id}, {card_id}, m.id, 'manual', "
            "'Free cappuccino', 'B' || lpad(m.id::text, 11, '0'), md5(random()::text || m.id), "
            "'issued', now() FROM membership m JOIN identity i ON i.customer_id = m.customer_id "
            f"WHERE i.external_id::bigint >= {first} AND i.external_id::bigint < {first + count};"
        )
        members: dict[int, int] = {}
        for first, count in member_ranges("stamp", quick):
            _, rows = await conn.execute_query(
                "SELECT i.external_id, m.id FROM identity i JOIN membership m "
                "ON m.customer_id = i.customer_id WHERE i.external_id::bigint >= $1 "
                "AND i.external_id::bigint < $2",
                [first, first + count],
            )
            members.update({int(row["external_id"]): int(row["id"]) for row in rows})
        cashiers = len(members) // PRESSES_PER_CASHIER + 1
        await conn.execute_script(
            "INSERT INTO staff (merchant_id, telegram_user_id, display_name, role, active, "
            f"created_at) SELECT {merchant_id}, {CASHIERS} + g, 'Cashier ' || g, 'cashier', "
            f"TRUE, now() FROM generate_series(1, {cashiers}) g;"
        )
        screens = {}
        for n, (telegram_id, membership_id) in enumerate(sorted(members.items())):
            data = StampAction(membership_id=membership_id, count=1, nonce=f"b{n:014d}").pack()
            screens[telegram_id] = (CASHIERS + 1 + n // PRESSES_PER_CASHIER, data)
        return Shop(payload(LinkKind.JOIN, shop.card.join_token), members, screens)
    finally:
        await close_db()


# -- the driver ----------------------------------------------------------------------------


class Driver:
    """Builds each scenario's updates on the fake, then posts them to one bot."""

    def __init__(self, fake: FakeTelegramAPI, shop: Shop) -> None:
        self.fake = fake
        self.shop = shop
        self.users: dict[int, FakeUser] = {}

    def user(self, telegram_id: int) -> FakeUser:
        if (found := self.users.get(telegram_id)) is None:
            found = self.fake.add_user(telegram_id, f"P{telegram_id}", language_code="uk")
            self.users[telegram_id] = found
        return found

    def updates(self, scenario: str, first: int, count: int) -> list[bytes]:
        """``count`` updates of ``scenario`` from people ``first``, ``first + 1`` … (the mix:
        its updates number ``first`` … , each kind from its own range)."""
        if scenario == "mix":
            kinds = [(MIX[n % len(MIX)], n) for n in range(first, first + count)]
            return [self.one(kind, MIX_BASE[kind] + n) for kind, n in kinds]
        return [self.one(scenario, n) for n in range(first, first + count)]

    def one(self, kind: str, telegram_id: int) -> bytes:
        person = self.user(telegram_id)
        if kind == "start":
            update = self.fake.message_update(person, "/start")
        elif kind == "card":
            update = self.fake.message_update(person, "/card")
        elif kind == "voucher":
            update = self.fake.message_update(person, "/vouchers")
        elif kind == "join":
            update = self.fake.message_update(person, f"/start {self.shop.join_payload}")
        else:
            cashier_id, data = self.shop.stamp_screens[telegram_id]
            cashier = self.user(cashier_id)
            screen = self.fake._store_message(  # a stamp screen the bot had sent
                cashier.private_chat(),
                from_bot=True,
                sender=self.fake.bot_sender,
                text=f"P{telegram_id} · Coffee card\n0/10 stamps\nHow many stamps?",
                reply_markup={"inline_keyboard": [[{"text": "+1", "callback_data": data}]]},
            )
            update = self.fake.callback_update(cashier, screen, data)
        return json.dumps(update).encode()


async def post(http: aiohttp.ClientSession, url: str, body: bytes, fake: FakeTelegramAPI) -> bool:
    """Whether the bot answered 200. A method in the answer is run by the fake, as Telegram
    runs it (both bots' work is in the bench either way). A connection refused or reset (a bot
    far behind an open loop on a loaded machine) is a failed update, counted, not the end of
    the run."""
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        async with http.post(url, data=body, headers=headers) as response:
            answered = await fake.webhook_answered(response)
            if response.status != 200 and len(FAILURES) < 3:
                FAILURES.append(f"{url}: {response.status} {answered.body[:200]!r}")
            return response.status == 200
    except aiohttp.ClientError as exc:
        if len(FAILURES) < 3:
            FAILURES.append(f"{url}: {type(exc).__name__}: {exc}")
        return False


@dataclass(slots=True)
class Run:
    """One load's answers: ``due[i]`` and ``answered[i]`` are the wall-clock times (the fake's
    clock) update ``i`` was due and answered at."""

    elapsed: float
    latencies: list[float]
    failed: int
    due: list[float]
    answered: list[float]


async def closed_loop(url: str, bodies: list[bytes], fake: FakeTelegramAPI) -> Run:
    run = Run(0.0, [], 0, [0.0] * len(bodies), [0.0] * len(bodies))
    queue = iter(enumerate(bodies))
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for n, body in queue:
                started, run.due[n] = time.perf_counter(), time.time()
                ok = await post(http, url, body, fake)
                run.latencies.append(time.perf_counter() - started)
                run.answered[n] = time.time()
                run.failed += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        run.elapsed = time.perf_counter() - started
        return run


async def open_loop(url: str, bodies: list[bytes], rate: float, fake: FakeTelegramAPI) -> Run:
    """Each update is due at ``i / rate``; its latency counts from then, not from when sent."""
    run = Run(0.0, [], 0, [0.0] * len(bodies), [0.0] * len(bodies))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(n: int, body: bytes, due: float) -> None:
            ok = await post(http, url, body, fake)
            run.latencies.append(time.perf_counter() - due)
            run.answered[n] = time.time()
            run.failed += not ok

        started, wall = time.perf_counter(), time.time()
        tasks = []
        for n, body in enumerate(bodies):
            due = started + n / rate
            run.due[n] = wall + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(n, body, due)))
        await asyncio.gather(*tasks)
        run.elapsed = time.perf_counter() - started
        return run


def stamped(scenario: str, first: int, count: int) -> dict[int, int]:
    """The stamp updates among ``Driver.updates(scenario, first, count)``: their index, by the
    telegram id of the customer each stamps."""
    if scenario == "stamp":
        return {first + n: n for n in range(count)}
    if scenario != "mix":
        return {}
    return {
        MIX_BASE["stamp"] + first + n: n
        for n in range(count)
        if MIX[(first + n) % len(MIX)] == "stamp"
    }


async def notices_of(fake: FakeTelegramAPI, customers: dict[int, int], run: Run) -> Notices:
    """Wait (up to NOTICE_WAIT) until each stamped customer's notice reached the fake, then
    time them: from when the stamp was due, and how many were on their way at once."""
    arrived: dict[int, float] = {}
    seen = 0
    deadline = time.monotonic() + NOTICE_WAIT
    while len(arrived) < len(customers) and time.monotonic() < deadline:
        calls = fake.calls()
        for call in calls[seen:]:
            chat = call.params.get("chat_id")
            if call.method == "sendMessage" and chat is not None:
                chat = int(chat)
                if chat in customers and chat not in arrived:
                    arrived[chat] = call.timestamp
        seen = len(calls)
        await asyncio.sleep(0.1)
    lags = [arrived[chat] - run.due[n] for chat, n in customers.items() if chat in arrived]
    # Queue depth as the driver sees it: +1 when a stamp is answered, -1 when its notice lands.
    events = sorted(
        [(run.answered[n], 1) for n in customers.values()] + [(at, -1) for at in arrived.values()]
    )
    depth = deepest = 0
    for _, step in events:
        depth += step
        deepest = max(deepest, depth)
    return Notices(
        len(lags), len(customers) - len(lags), percentile(lags, 50), percentile(lags, 99),
        max(lags, default=0.0) * 1000, deepest,
    )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process in MB (Linux ``/proc``; ``VmHWM`` is its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if values else 0


async def measure(
    driver: Driver,
    bots: dict[str, tuple[str, int]],
    scenario: str,
    quick: bool,
    loaded_rss: dict[str, float],
) -> list[Result]:
    """Every load of one scenario on both bots; ``loaded_rss`` keeps each bot's largest RSS
    seen right after a load."""
    results = []
    next_person = {bot: BASE[scenario] + 1 for bot in bots}
    for load in [Load("warm-up", None, 100), *loads(scenario, quick)]:
        for bot, (url, pid) in bots.items():
            bodies = driver.updates(scenario, next_person[bot], load.count)
            next_person[bot] += load.count
            first = next_person[bot] - load.count
            cpu = cpu_seconds(pid)
            if load.rate is None:
                run = await closed_loop(url, bodies, driver.fake)
            else:
                run = await open_loop(url, bodies, load.rate, driver.fake)
            # Stampbot tells the stamped customers after answering: their notices' CPU is the
            # load's too, so it is read once they have all arrived.
            customers = stamped(scenario, first, load.count) if bot == "stampbot" else {}
            notices = await notices_of(driver.fake, customers, run) if customers else None
            cpu = cpu_seconds(pid) - cpu
            loaded_rss[bot] = max(loaded_rss.get(bot, 0.0), rss_mb(pid))
            if load.name == "warm-up":
                continue
            results.append(
                Result(
                    bot, scenario, load.name, len(bodies), run.failed,
                    len(bodies) / run.elapsed, percentile(run.latencies, 50),
                    percentile(run.latencies, 99), cpu / len(bodies) * 1000, load.rate,
                    notices,
                )
            )  # fmt: skip
        # The echo bot's people are fresh for stampbot too: both start from the same range.
        next_person = {bot: max(next_person.values()) for bot in bots}
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | load | echo /s | stampbot /s | ratio | echo p50/p99 ms "
        "| stampbot p50/p99 ms | CPU ms/update echo / stampbot | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r.bot, r.scenario, r.load): r for r in results}
    for r in results:
        if r.bot != "stampbot":
            continue
        echo = by_key[("echo", r.scenario, r.load)]
        lines.append(
            f"| {r.scenario} | {r.load} | {echo.per_second:.0f} | {r.per_second:.0f} "
            f"| {r.per_second / echo.per_second:.2f}× | {echo.p50_ms:.1f} / {echo.p99_ms:.1f} "
            f"| {r.p50_ms:.1f} / {r.p99_ms:.1f} | {echo.cpu_ms:.2f} / {r.cpu_ms:.2f} "
            f"| {r.failed + echo.failed} |"
        )
    told = [r for r in results if r.notices is not None]
    if told:
        lines += [
            "",
            "| scenario | load | stamp notices | lag p50 / p99 / max ms | deepest queue |",
            "|---|---|---:|---:|---:|",
        ]
        for r in told:
            assert r.notices is not None
            n = r.notices
            missing = f" ({n.missing} missing)" if n.missing else ""
            lines.append(
                f"| {r.scenario} | {r.load} | {n.count}{missing} "
                f"| {n.p50_ms:.0f} / {n.p99_ms:.0f} / {n.max_ms:.0f} | {n.deepest} |"
            )
    return "\n".join(lines)


def record(results: list[Result], idle_rss: dict[str, float], loaded: dict[str, float]) -> Figures:
    """The headline figures: stampbot against the echo bot, under the same load."""
    figures = Figures("webhook")
    echo = {(r.scenario, r.load): r for r in results if r.bot == "echo"}
    base = "bare aiogram echo bot"
    for r in results:
        if r.bot != "stampbot":
            continue
        other = echo[(r.scenario, r.load)]
        if r.rate is None:
            met = r.per_second / other.per_second >= START_RATIO if r.scenario == "start" else None
            figures.add(
                f"{r.scenario}, {r.load} in flight", r.per_second, "updates/s",
                baseline=other.per_second, baseline_name=base,
                target=f">= {START_RATIO}x" if r.scenario == "start" else "", met=met,
            )  # fmt: skip
            continue
        if r.scenario == "mix":
            figures.add(
                f"mix, {r.load}, p50", r.p50_ms, "ms", baseline=other.p50_ms,
                baseline_name=base,
            )  # fmt: skip
        mix = r.scenario == "mix"
        figures.add(
            f"{r.scenario}, {r.load}, p99", r.p99_ms, "ms", baseline=other.p99_ms,
            baseline_name=base, target=f"< {MIX_P99_MS:.0f} ms" if mix else "",
            met=r.p99_ms < MIX_P99_MS if mix else None,
        )  # fmt: skip
        if mix:
            figures.add(
                f"mix, {r.load}, CPU per update", r.cpu_ms, "ms", baseline=other.cpu_ms,
                baseline_name=base,
            )  # fmt: skip
        if mix and r.notices is not None:
            figures.add(f"mix, {r.load}, stamp notice lag, p50", r.notices.p50_ms, "ms")
            figures.add(f"mix, {r.load}, stamp notice lag, p99", r.notices.p99_ms, "ms")
            figures.add(
                f"mix, {r.load}, notices on their way at most", r.notices.deepest, "notices"
            )
    if idle_rss:
        over = idle_rss["stampbot"] - idle_rss["echo"]
        figures.add(
            "bot process RSS, idle", idle_rss["stampbot"], "MB", baseline=idle_rss["echo"],
            baseline_name=f"{base}, idle",
        )  # fmt: skip
        figures.add(
            "bot process RSS, idle, above the echo bot", over, "MB",
            target=f"<= {IDLE_RSS_OVER_ECHO_MB:.0f} MB", met=over <= IDLE_RSS_OVER_ECHO_MB,
        )  # fmt: skip
        figures.add(
            "bot process RSS, under load", loaded["stampbot"], "MB", baseline=loaded["echo"],
            baseline_name=f"{base}, under the same load",
        )  # fmt: skip
    return figures


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[str]:
    name = f"stampbot_bench_webhook_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run(scenarios: Sequence[str], quick: bool, log_level: str, profile: Path | None) -> None:
    from redis.asyncio import Redis

    async with Redis.from_url(REDIS) as redis:  # flood buckets and caches of an earlier run
        await redis.flushdb()
    async with database() as db_url, FakeTelegramAPI() as fake:
        shop = await seed(db_url, quick)
        echo_port, bot_port = free_port(), free_port()
        python = sys.executable
        stampbot = [python, "-m", "bot", "web"]
        if profile is not None and profile.suffix == ".prof":  # cProfile: CPU per function
            stampbot[1:1] = ["-m", "cProfile", "-o", str(profile)]
        elif profile is not None:  # pyinstrument (dev extra): where the wall time goes
            stampbot[1:1] = ["-m", "pyinstrument", "-r", "text", "-o", str(profile)]
        echo = [python, HERE, "--echo", str(echo_port), fake.base_url]
        env = stampbot_env(db_url, fake.base_url, bot_port, log_level)
        with process(echo, dict(os.environ)) as echo_child, process(stampbot, env) as child:
            await wait_ready(f"http://127.0.0.1:{echo_port}/webhook", echo_child)
            await wait_ready(f"http://127.0.0.1:{bot_port}/healthz", child)
            bots = {
                "echo": (f"http://127.0.0.1:{echo_port}/webhook", echo_child.pid),
                "stampbot": (f"http://127.0.0.1:{bot_port}/telegram/webhook", child.pid),
            }
            await asyncio.sleep(1)  # settled: what each holds doing nothing
            idle_rss = {bot: rss_mb(pid) for bot, (_, pid) in bots.items()}
            loaded_rss: dict[str, float] = {}
            driver = Driver(fake, shop)
            results: list[Result] = []
            for scenario in scenarios:
                results += await measure(driver, bots, scenario, quick, loaded_rss)
                print(f"… {scenario} done", file=sys.stderr, flush=True)
    print(f"webhook: stampbot `web` (log level {log_level}) vs a bare aiogram echo bot, "
          f"PostgreSQL + Redis, {os.cpu_count()} cores\n")  # fmt: skip
    print(table(results))
    print(
        "\nRSS MB idle / largest after a load: echo "
        f"{idle_rss['echo']:.0f} / {loaded_rss['echo']:.0f}, stampbot "
        f"{idle_rss['stampbot']:.0f} / {loaded_rss['stampbot']:.0f}"
    )
    for failure in FAILURES:
        print(f"\nfailed: {failure}")
    print(f"saved {record(results, idle_rss, loaded_rss).save()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--echo", nargs=2, metavar=("PORT", "API"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a quarter of the updates")
    parser.add_argument("--log-level", default="INFO", help="stampbot's STAMPBOT_LOG_LEVEL")
    parser.add_argument("--profile", type=Path, help="write stampbot's profile to this file")
    parser.add_argument("scenarios", nargs="*", help=f"some of {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.echo:
        echo_main(int(args.echo[0]), args.echo[1])
        return
    asyncio.run(run(args.scenarios or SCENARIOS, args.quick, args.log_level, args.profile))


if __name__ == "__main__":
    main()
