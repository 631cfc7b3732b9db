"""Chaos: the delivery engine under faults, on loopback only, bounded in time.

A multi-channel campaign (Telegram, email over SMTP, Apple Wallet pushes over APNs) of 20,000
messages is sent as one slice per fault, each slice to people of its own, while a welcome
automation enrols more people in every slice and sends them its Telegram message. Real
``stampbot worker`` processes (two) send, against a PostgreSQL database made for the run, a
``redis-server`` of the run's own on a free port (the machine's Redis is never touched) and
the loopback fakes in this process (Bot API, APNs; an SMTP server whose handler fails on
purpose). The faults, one slice each:

- none: the baseline of the same run;
- kill -9 of a worker while it holds a batch, and a new worker started in its place;
- the Redis server killed and started again 3 s later (an empty Redis: limits restart);
- ``pg_terminate_backend`` of every worker connection, ten times over 3 s, mid-transaction;
- 429 with retry_after from the Bot API and APNs, 421 from SMTP, at random (25%, 4 s);
- 5xx (500, 502 / 500, 503 / 451) at random;
- timeouts: the Bot API carries the message out and hangs up, APNs answers after the client
  gave up (its timeout is 1 s here), at random.

For each slice it counts, from what the fakes received and from the delivery rows: delivered
(the person got it), failed with reason (a final failure recorded), lost (neither: must be 0)
and duplicated (copies past the first; bounded by the rows in flight when the fault hit: the
rows leased at a kill, a Redis or PostgreSQL fault, and the answers that never came back).

Run: ``make chaos`` (or ``.venv/bin/python bench/chaos.py``; ``--quick``: 2,000 messages).
Prints one table and records lost (target 0) and duplicated (target: at most the rows in
flight) per fault (``var/bench/chaos.json``). Exits 1 when a message was lost, a duplicate
count passed its bound or a worker died on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from figures import Figures

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
WORKER_APP = "stampbot-chaos-worker"
TOPIC = "pass.dev.stampbot.chaos"
FAULT_RATE = 0.25
FAULT_WINDOW = 4.0
# Of every slice's people: all on Telegram, 2 in 5 with a verified email, 3 in 10 with a pass
# on a device: 1.7 messages a person.
MESSAGES_PER_PERSON = 1.7
AUTOMATION_SHARE = 0.1
CHAIN = """\
name: Chaos welcome
trigger: {kind: joined}
reentry: {rule: every_time}
steps:
  - id: hello
    send: {channels: [telegram], text: "Welcome aboard! Your first stamp is waiting."}
"""


# --- counting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One delivery row as the database has it at the end, and its address on its channel."""

    customer_id: int
    channel: str
    status: str
    reason: str | None
    address: str


@dataclass
class Tally:
    rows: int = 0
    delivered: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    # Rows the snapshot made as skipped (no verified email, no pass on a device): not counted.
    skipped: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicated: int = 0
    # Of the lost: rows recorded as sent that the platform never received.
    sent_unseen: int = 0
    # Of the delivered: rows recorded as failed although the platform took the message.
    failed_but_received: int = 0
    duplicated_on: Counter[str] = field(default_factory=Counter)


def tally(rows: Iterable[Row], received: Callable[[str, str], int]) -> Tally:
    """``received(channel, address)``: how many copies that address got on that channel.

    Delivered: the address got it at least once. Failed: a final failure is recorded and
    nothing arrived. Lost: nothing arrived and no final failure is recorded (still pending,
    still leased, or recorded as sent yet never received). Duplicated: copies past the first.
    Each person is in one slice and gets one message per channel there, so copies to an
    address are copies of that row."""
    out = Tally()
    for row in rows:
        if row.status == "skipped":
            out.skipped[row.reason or "?"] += 1
            continue
        out.rows += 1
        copies = received(row.channel, row.address)
        out.duplicated += max(0, copies - 1)
        out.duplicated_on[row.channel] += max(0, copies - 1)
        if copies:
            out.delivered += 1
            out.failed_but_received += row.status == "failed"
        elif row.status == "failed":
            out.failed[row.reason or "?"] += 1
        else:
            out.lost += 1
            out.sent_unseen += row.status == "sent"
    return out


def missing_rows(enrolled: Iterable[int], with_rows: Iterable[int]) -> list[int]:
    """Enrolled people the automation never made a delivery row for (lost as well)."""
    have = set(with_rows)
    return sorted(set(enrolled) - have)


# --- the SMTP server that fails on purpose -----------------------------------------------


class FlakySmtp:
    """An aiosmtpd handler: keeps who received a message, or answers one of ``codes`` (421,
    451…) with probability ``rate`` instead of accepting it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.rate = 0.0
        self.codes: tuple[str, ...] = ()
        self.rng = random.Random(17)
        self.taken: Counter[str] = Counter()

    def fail_at_random(self, rate: float, codes: tuple[str, ...]) -> None:
        self.rate, self.codes = rate, codes

    def clear(self) -> None:
        self.rate, self.codes = 0.0, ()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.codes and self.rng.random() < self.rate:
            code = self.rng.choice(self.codes)
            self.taken[code[:3]] += 1
            return code
        self.received.extend(str(address).lower() for address in envelope.rcpt_tos)
        return "250 OK"


# --- the processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A redis-server of this run alone, no persistence; kill -9 and start again on its port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.folder),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


class Workers:
    """``stampbot worker`` processes; each one's log (stderr) in a file of its own."""

    def __init__(self, folder: Path) -> None:
        self.env: dict[str, str] = {}
        self.folder = folder
        self.running: list[subprocess.Popen[bytes]] = []
        self.killed: list[int] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = self.folder / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "worker"], env=self.env, cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        self.running.append(process)
        return process

    @staticmethod
    def worker_id(process: subprocess.Popen[bytes]) -> str:
        return f"{socket.gethostname()}:{process.pid}"

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self.killed.append(process.pid)
        self.running.remove(process)

    def died(self) -> list[int]:
        """Workers that exited without being killed here: a crash."""
        return [p.pid for p in self.running if p.poll() is not None]

    async def stop(self, seconds: float = 20) -> list[int]:
        """SIGTERM, then SIGKILL past ``seconds``; the pids that needed the SIGKILL. Waits on
        the loop: the fakes in this process must go on answering the workers' goodbyes."""
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(p.poll() is None for p in self.running):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        stuck = [p for p in self.running if p.poll() is None]
        for process in stuck:
            process.kill()
            process.wait()
        return [p.pid for p in stuck]

    def errors(self) -> Counter[str]:
        """The kinds of errors the workers logged: the last line of each traceback."""
        kinds: Counter[str] = Counter()
        for log in self.logs:
            lines = log.read_text(errors="replace").splitlines()
            for n, line in enumerate(lines):
                if line.startswith("Traceback"):
                    tail = next(
                        (lines[m] for m in range(n + 1, len(lines)) if not lines[m][:1].isspace()),
                        "?",
                    )
                    kinds[tail.split(":")[0][:80]] += 1
        return kinds


# --- the run ------------------------------------------------------------------------------


@dataclass
class Slice:
    name: str
    card_id: int
    people: list[int]
    welcome: list[int]
    campaign_id: int = 0
    in_flight: int = 0
    note: str = ""
    seconds: float = 0.0
    finished: bool = False


class Chaos:
    def __init__(self, folder: Path, people: int, quick: bool) -> None:
        self.folder = folder
        self.people = people
        self.quick = quick
        self.db_name = f"stampbot_chaos_{os.getpid()}"
        self.db_url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{self.db_name}"
        self.redis = RedisServer(folder)
        self.smtp = FlakySmtp()
        self.monitor: asyncpg.Connection | None = None
        self.slices: list[Slice] = []
        self.automation_id = 0
        self.workers = Workers(folder)

    # The fakes are made in ``run`` (they need the loop); typed loosely to keep imports late.
    telegram: Any
    apns: Any

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        assert self.monitor is not None
        rows: list[asyncpg.Record] = await self.monitor.fetch(query, *args)
        return rows

    async def value(self, query: str, *args: object) -> int:
        rows = await self.sql(query, *args)
        return int(rows[0][0] or 0)

    # -- seeding --

    async def seed(self, names: list[str]) -> None:
        from automations.chain_yaml import load
        from automations.engine import switch
        from loyalty.merchants import CardSpec, MerchantSpec, create_card, create_merchant
        from models import Automation, Merchant

        shop = await create_merchant(
            MerchantSpec(name="Chaos café"),
            CardSpec(name="Welcome card", stamps_needed=10, reward_text="Coffee"),
            invite_ttl=timedelta(hours=1),
        )
        # No quiet hours, no frequency cap: every message goes now, whatever the clock says.
        await Merchant.filter(id=shop.merchant.id).update(
            quiet_from_minute=0, quiet_until_minute=0, frequency_cap=10_000
        )
        self.merchant_id = shop.merchant.id
        chain = load(CHAIN)
        automation = await Automation.create(
            merchant_id=shop.merchant.id, card_id=shop.card.id, name="Chaos welcome",
            chain=chain.model_dump(mode="json", by_alias=True), trigger=chain.trigger.kind,
        )  # fmt: skip
        await switch(automation, True)
        self.automation_id = automation.id
        welcome = max(5, int(self.people * AUTOMATION_SHARE))
        for n, name in enumerate(names):
            card = await create_card(
                shop.merchant, CardSpec(name=f"Slice {n}", stamps_needed=10, reward_text="x")
            )
            people = await self._people(f"s{n}", card.id, self.people, channels=True)
            greeted = await self._people(f"w{n}", shop.card.id, welcome, channels=False)
            self.slices.append(Slice(name, card.id, people, greeted))
        for (token,) in await self.sql("SELECT push_token FROM pass_registration"):
            self.apns.add_device(token)
        await self.sql("ANALYZE")

    async def _people(self, tag: str, card_id: int, count: int, *, channels: bool) -> list[int]:
        """``count`` customers on Telegram (and, when ``channels``, 2 in 5 with a verified
        email, 3 in 10 with a pass on a device), members of the card since a month."""
        email = f"'{tag}-' || g || '@chaos.test'" if channels else "NULL"
        rows = await self.sql(
            "INSERT INTO customer (first_name, language, email, email_verified, created_at) "
            f"SELECT '{tag}-' || g, 'en', CASE WHEN g % 5 < 2 THEN {email} END, "
            f"{'g % 5 < 2' if channels else 'FALSE'}, now() "
            "FROM generate_series(1, $1::int) g RETURNING id",
            count,
        )
        ids = sorted(int(r["id"]) for r in rows)
        await self.sql(
            "INSERT INTO identity (customer_id, platform, external_id, reachable, created_at) "
            "SELECT id, 'telegram', (10000000 + id)::text, TRUE, now() FROM unnest($1::int[]) id",
            ids,
        )
        await self.sql(
            "INSERT INTO membership (customer_id, card_id, status, balance, visits, "
            "public_token, joined_at) SELECT id, $2::int, 'active', 0, 0, "
            "md5(random()::text || id), now() - interval '30 days' FROM unnest($1::int[]) id",
            ids, card_id,
        )  # fmt: skip
        if channels:
            with_pass = [c for n, c in enumerate(ids, 1) if n % 10 < 3]
            await self.sql(
                "INSERT INTO wallet_pass (membership_id, serial_number, authentication_token, "
                "campaign_message, update_tag, updated_at, created_at) SELECT m.id, "
                "'S' || m.customer_id, md5(m.public_token), '', 0, now(), now() FROM membership m "
                "WHERE m.customer_id = ANY($1::int[]) AND m.card_id = $2::int",
                with_pass, card_id,
            )  # fmt: skip
            await self.sql(
                "INSERT INTO pass_registration (wallet_pass_id, device_library_identifier, "
                "push_token, created_at, updated_at) SELECT w.id, 'D' || w.id, "
                "lpad(to_hex(w.id), 64, '0'), now(), now() FROM wallet_pass w "
                "JOIN membership m ON m.id = w.membership_id WHERE m.card_id = $1::int",
                card_id,
            )
        return ids

    # -- one slice --

    async def run_slice(self, piece: Slice, fault: Callable[[Slice], Awaitable[None]]) -> None:
        from automations.engine import enrol
        from campaigns.service import create_campaign, send_now
        from campaigns.spec import CampaignSpec
        from models import Automation
        from models.enums import Channel

        started = time.monotonic()
        print(f"  {piece.name}: from {datetime.now(UTC):%H:%M:%S}", end="", flush=True)
        spec = CampaignSpec(
            card_id=piece.card_id,
            channels=(Channel.TELEGRAM, Channel.EMAIL, Channel.APPLE_WALLET),
            message_text=f"<b>Winter menu</b> ({piece.name}): mulled cider and gingerbread.",
            push_text="Winter menu is here",
            name=f"Chaos: {piece.name}",
        )
        campaign = await send_now(await create_campaign(self.merchant_id, spec))
        piece.campaign_id = campaign.id
        automation = await Automation.get(id=self.automation_id)
        await enrol(automation, [(c, f"slice-{piece.card_id}") for c in piece.welcome])
        await fault(piece)
        deadline = started + (60 if self.quick else 180)
        while time.monotonic() < deadline:
            if await self._slice_done(piece):
                piece.finished = True
                break
            await asyncio.sleep(0.25)
        piece.seconds = time.monotonic() - started

    async def _slice_done(self, piece: Slice) -> bool:
        status = await self.sql("SELECT status FROM campaign WHERE id = $1", piece.campaign_id)
        if status[0]["status"] != "done":
            return False
        open_welcome = await self.value(
            "SELECT count(*) FROM enrollment WHERE automation_id = $1 "
            "AND customer_id = ANY($2::int[]) AND status NOT IN ('done', 'stopped', 'held_out')",
            self.automation_id, piece.welcome,
        )  # fmt: skip
        open_rows = await self.value(
            "SELECT count(*) FROM delivery d JOIN campaign k ON k.id = d.campaign_id "
            "WHERE k.automation_id = $1 AND d.customer_id = ANY($2::int[]) "
            "AND d.status IN ('pending', 'sending')",
            self.automation_id, piece.welcome,
        )  # fmt: skip
        return open_welcome == 0 and open_rows == 0

    async def wait_until_sending(self, piece: Slice, share: float = 0.15) -> None:
        """Until ``share`` of the slice's campaign rows are final: the fault hits mid-send."""
        total = await self.value(
            "SELECT count(*) FROM delivery WHERE campaign_id = $1", piece.campaign_id
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = await self.value(
                "SELECT count(*) FROM delivery WHERE campaign_id = $1 "
                "AND status IN ('sent', 'failed')",
                piece.campaign_id,
            )
            if total and done >= total * share:
                return
            if not total:
                total = await self.value(
                    "SELECT count(*) FROM delivery WHERE campaign_id = $1", piece.campaign_id
                )
            await asyncio.sleep(0.02)

    async def workers_connected(self, count: int, seconds: float = 60) -> None:
        """Until ``count`` workers hold database connections: started, not only spawned."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await self.value(
                "SELECT count(DISTINCT client_port) FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = $2",
                self.db_name, WORKER_APP,
            ) >= count:  # fmt: skip
                return
            await asyncio.sleep(0.1)

    async def leased(self, worker_id: str | None = None) -> int:
        if worker_id is None:
            return await self.value("SELECT count(*) FROM delivery WHERE status = 'sending'")
        return await self.value(
            "SELECT count(*) FROM delivery WHERE status = 'sending' AND leased_by = $1", worker_id
        )

    # -- the faults --

    async def no_fault(self, piece: Slice) -> None:
        piece.note = "baseline"

    async def kill_worker(self, piece: Slice) -> None:
        await self.wait_until_sending(piece)
        # The first worker seen holding a batch (leases are in the database: no event).
        victim = self.workers.running[0]
        worker_id = Workers.worker_id(victim)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            held = {Workers.worker_id(p): p for p in self.workers.running if p.poll() is None}
            rows = await self.sql(
                "SELECT leased_by FROM delivery WHERE status = 'sending' "
                "AND leased_by = ANY($1::text[]) LIMIT 1",
                list(held),
            )
            if rows:
                worker_id = rows[0]["leased_by"]
                victim = held[worker_id]
                break
            await asyncio.sleep(0.005)
        self.workers.kill(victim)
        piece.in_flight = await self.leased(worker_id)
        self.workers.start()
        piece.note = (
            f"worker {victim.pid} killed holding {piece.in_flight} rows; a new one started"
        )

    async def restart_redis(self, piece: Slice) -> None:
        await self.wait_until_sending(piece)
        piece.in_flight = await self.leased()
        await self.redis.kill()
        await asyncio.sleep(3)
        await self.redis.start()
        piece.note = f"Redis down 3 s with {piece.in_flight} rows leased"

    async def terminate_postgres(self, piece: Slice) -> None:
        await self.wait_until_sending(piece)
        terminated = busy = 0
        leased: set[int] = set()
        for _ in range(10):
            leased |= {
                int(r[0])
                for r in await self.sql("SELECT id FROM delivery WHERE status = 'sending'")
            }
            piece.in_flight = len(leased)
            rows = await self.sql(
                "SELECT pid, state FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = $2",
                self.db_name, WORKER_APP,
            )  # fmt: skip
            busy += sum(r["state"] in ("active", "idle in transaction") for r in rows)
            terminated += await self.value(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND application_name = $2) t",
                self.db_name, WORKER_APP,
            )  # fmt: skip
            await asyncio.sleep(0.3)
        piece.note = f"{terminated} connections terminated ({busy} in a query or transaction)"

    def platform_fault(self, kind: str) -> Callable[[Slice], Awaitable[None]]:
        from fakes.telegram import BAD_GATEWAY_HTML, Fault

        telegram: tuple[Fault, ...]
        apns: tuple[tuple[int, str], ...]
        smtp: tuple[str, ...]
        late: float | None
        if kind == "429":
            telegram = (Fault(status=429, retry_after=1),)
            apns, late, smtp = ((429, "TooManyRequests"),), None, ("421 4.7.0 Try again later",)
        elif kind == "5xx":
            telegram = (
                Fault(status=500, description="Internal Server Error"),
                Fault(status=502, raw_body=BAD_GATEWAY_HTML),
            )
            apns = ((500, "InternalServerError"), (503, "ServiceUnavailable"))
            late, smtp = None, ("451 4.3.0 Local error in processing",)
        else:
            telegram, apns, late, smtp = (Fault(hang_up=True),), (), 2.0, ()

        async def fault(piece: Slice) -> None:
            plan = self.telegram.fail_at_random(FAULT_RATE, telegram, seed=1)
            pushes = self.apns.fail_at_random(FAULT_RATE, apns, late_by=late, seed=2)
            self.smtp.taken.clear()
            if smtp:
                self.smtp.fail_at_random(FAULT_RATE, smtp)
            # On until every row of the slice was tried once (each channel meets the faults),
            # for FAULT_WINDOW seconds at least and 15 s at most.
            began = time.monotonic()
            await asyncio.sleep(FAULT_WINDOW)
            while time.monotonic() - began < 15 and await self.value(  # noqa: ASYNC110
                "SELECT count(*) FROM delivery WHERE campaign_id = $1 AND attempts = 0 "
                "AND status <> 'skipped'",
                piece.campaign_id,
            ):
                await asyncio.sleep(0.1)
            window = time.monotonic() - began
            self.telegram.clear_faults()
            self.apns.clear_failures()
            self.smtp.clear()
            taken = plan.taken + pushes.taken + self.smtp.taken
            # Only an answer that never came back can double a message.
            piece.in_flight = taken["hang_up"] + taken["late"]
            shown = ", ".join(f"{n} × {k}" for k, n in sorted(taken.items()))
            piece.note = f"{window:.1f} s of faults: {shown or 'none drawn'}"

        return fault

    # -- the count --

    async def pace(self, piece: Slice) -> str:
        """Each channel's messages/s in the slice, first to last recorded send."""
        rows = await self.sql(
            "SELECT channel, count(*), extract(epoch FROM max(sent_at) - min(sent_at)) "
            "FROM delivery WHERE campaign_id = $1 AND status = 'sent' GROUP BY channel "
            "ORDER BY channel",
            piece.campaign_id,
        )
        paces = []
        for channel, sent, span in rows:
            seconds = float(span or 0)
            paces.append(f"{channel} {sent / seconds:,.0f}/s" if seconds >= 1 else
                         f"{channel} {sent} in < 1 s")  # fmt: skip
        return ", ".join(paces)

    async def count(self, piece: Slice) -> tuple[Tally, Tally]:
        sent_to = Counter(m.chat_id for m in self.telegram.sent_messages())
        mailed = Counter(self.smtp.received)
        pushed = Counter(p.token for p in self.apns.pushes)

        def received(channel: str, address: str) -> int:
            if channel == "telegram":
                return sent_to[int(address)] if address else 0
            if channel == "email":
                return mailed[address.lower()]
            return pushed[address]

        query = (
            "SELECT d.customer_id, d.channel, d.status, d.reason, "
            "CASE d.channel WHEN 'telegram' THEN i.external_id WHEN 'email' THEN c.email "
            "ELSE r.push_token END AS address FROM delivery d "
            "JOIN customer c ON c.id = d.customer_id "
            "LEFT JOIN identity i ON i.customer_id = c.id AND i.platform = 'telegram' "
            "LEFT JOIN membership m ON m.customer_id = c.id "
            "LEFT JOIN wallet_pass w ON w.membership_id = m.id "
            "LEFT JOIN pass_registration r ON r.wallet_pass_id = w.id "
        )
        campaign_rows = [
            Row(int(r[0]), r[1], r[2], r[3], r[4] or "")
            for r in await self.sql(query + "WHERE d.campaign_id = $1", piece.campaign_id)
        ]
        welcome = [
            Row(int(r[0]), r[1], r[2], r[3], r[4] or "")
            for r in await self.sql(
                query + "JOIN campaign k ON k.id = d.campaign_id WHERE k.automation_id = $1 "
                "AND d.customer_id = ANY($2::int[])",
                self.automation_id, piece.welcome,
            )
        ]  # fmt: skip
        auto = tally(welcome, received)
        enrolled = [
            int(r[0])
            for r in await self.sql(
                "SELECT customer_id FROM enrollment WHERE automation_id = $1 "
                "AND customer_id = ANY($2::int[]) AND status <> 'held_out'",
                self.automation_id, piece.welcome,
            )
        ]  # fmt: skip
        never = missing_rows(enrolled, (r.customer_id for r in welcome))
        unseen = [c for c in never if not sent_to[10_000_000 + c]]
        auto.rows += len(never)
        auto.lost += len(unseen)
        auto.delivered += len(never) - len(unseen)
        return tally(campaign_rows, received), auto


PHASES = ("none", "kill -9 worker", "Redis restart", "PG terminate", "429", "5xx", "timeouts")


def _print_table(results: list[tuple[Slice, Tally, Tally]]) -> None:
    head = (
        f"{'fault':<16}{'rows':>6}{'deliv.':>8}{'lost':>6}{'dup.':>6}{'in flight':>11}"
        f"{'s':>6}  failed by reason / welcome automation"
    )
    print(head)
    print("-" * len(head))
    for piece, campaign, auto in results:
        failed = ", ".join(f"{n} {r}" for r, n in campaign.failed.most_common()) or "-"
        print(
            f"{piece.name:<16}{campaign.rows:>6}{campaign.delivered:>8}{campaign.lost:>6}"
            f"{campaign.duplicated:>6}{piece.in_flight:>11}{piece.seconds:>6.1f}  {failed}"
        )
        auto_failed = ", ".join(f"{n} {r}" for r, n in auto.failed.most_common()) or "no failures"
        print(
            f"{'':<16}{'welcome: ' + str(auto.rows):>6} rows, {auto.delivered} delivered, "
            f"{auto.lost} lost, {auto.duplicated} duplicated, {auto_failed}"
        )
        extra = []
        if campaign.duplicated:
            on = ", ".join(f"{n} {c}" for c, n in campaign.duplicated_on.most_common() if n)
            extra.append(f"duplicates on {on}")
        if campaign.sent_unseen:
            extra.append(f"{campaign.sent_unseen} recorded sent but never received")
        if campaign.failed_but_received:
            extra.append(f"{campaign.failed_but_received} recorded failed but received")
        if not piece.finished:
            extra.append("NOT FINISHED by its deadline")
        print(f"{'':<16}{piece.note}{'; ' if extra else ''}{'; '.join(extra)}")


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="stampbot-chaos-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def run(
    messages: int,
    quick: bool,
    phases: tuple[str, ...],
    *,
    workers: int = 2,
    keep_logs: bool = False,
    figures_dir: Path | None = None,
) -> int:
    from aiosmtpd.controller import Controller

    from fakes.apns import DEFAULT_KEY_ID, DEFAULT_TEAM_ID, FakeAPNs
    from fakes.telegram import FakeTelegramAPI
    from models.db import apply_migrations, close_db, init_db

    started = time.monotonic()
    per_slice = max(20, round(messages / len(phases) / MESSAGES_PER_PERSON))
    admin = await asyncpg.connect(PG_ADMIN)
    with _scratch() as folder:
        chaos = Chaos(folder, per_slice, quick)
        await admin.execute(f'CREATE DATABASE "{chaos.db_name}"')
        smtp = Controller(chaos.smtp, hostname="127.0.0.1", port=free_port())
        chaos.telegram = FakeTelegramAPI(port=free_port())
        chaos.apns = FakeAPNs(topic=TOPIC, idle_timeout=600)
        results: list[tuple[Slice, Tally, Tally]] = []
        died: list[int] = []
        stuck: list[int] = []
        errors: Counter[str] = Counter()
        try:
            await apply_migrations(chaos.db_url)
            await init_db(f"{chaos.db_url}?application_name=stampbot-chaos-bench")
            chaos.monitor = await asyncpg.connect(
                chaos.db_url, server_settings={"application_name": "stampbot-chaos-monitor"}
            )
            smtp.start()
            await chaos.telegram.__aenter__()
            await chaos.apns.start()
            key = chaos.apns.register_key()
            await chaos.redis.start()
            env = {k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")} | {
                "STAMPBOT_DATABASE_URL": f"{chaos.db_url}?application_name={WORKER_APP}",
                "STAMPBOT_REDIS_URL": chaos.redis.url,
                "STAMPBOT_BOT_TOKEN": chaos.telegram.token,
                "STAMPBOT_TELEGRAM_API_URL": chaos.telegram.base_url,
                "STAMPBOT_TELEGRAM_PER_SECOND": "1000",
                "STAMPBOT_VAR_DIR": str(folder / "var"),
                "STAMPBOT_LOG_LEVEL": os.environ.get("CHAOS_LOG_LEVEL", "WARNING"),
                "STAMPBOT_SIGNING_KEY": "c" * 32,
                # A killed worker's rows are taken over after 10 s, not the default 2 min.
                "STAMPBOT_DELIVERY_LEASE_SECONDS": "10",
                "STAMPBOT_SMTP_HOST": "127.0.0.1",
                "STAMPBOT_SMTP_PORT": str(smtp.port),
                "STAMPBOT_SMTP_STARTTLS": "false",
                "STAMPBOT_MAIL_FROM": "cafe@chaos.test",
                "STAMPBOT_APNS_KEY_ID": DEFAULT_KEY_ID,
                "STAMPBOT_APNS_TEAM_ID": DEFAULT_TEAM_ID,
                "STAMPBOT_APNS_KEY": key,
                "STAMPBOT_APNS_HOST": "127.0.0.1",
                "STAMPBOT_APNS_PORT": str(chaos.apns.port),
                "STAMPBOT_APNS_CA_FILE": str(chaos.apns.ca_file),
                "STAMPBOT_APNS_TIMEOUT_SECONDS": "1",
                "STAMPBOT_APPLE_PASS_TYPE_ID": TOPIC,
            }
            chaos.workers.env = env
            for _ in range(workers):
                chaos.workers.start()
            # Seeded while the workers start (aiogram alone takes seconds to import).
            await chaos.seed(list(phases))
            print(f"seeded in {time.monotonic() - started:.1f} s", flush=True)
            await chaos.workers_connected(workers)
            print(f"workers up at {time.monotonic() - started:.1f} s", flush=True)
            faults: dict[str, Callable[[Slice], Awaitable[None]]] = {
                "none": chaos.no_fault,
                "kill -9 worker": chaos.kill_worker,
                "Redis restart": chaos.restart_redis,
                "PG terminate": chaos.terminate_postgres,
                "429": chaos.platform_fault("429"),
                "5xx": chaos.platform_fault("5xx"),
                "timeouts": chaos.platform_fault("timeouts"),
            }
            for piece in chaos.slices:
                await chaos.run_slice(piece, faults[piece.name])
                print(f", {piece.seconds:.1f} s ({await chaos.pace(piece)})", flush=True)
            await asyncio.sleep(1)  # a straggler that would double a message has time to show
            died = chaos.workers.died()
            for piece in chaos.slices:
                results.append((piece, *await chaos.count(piece)))
            print(f"counted at {time.monotonic() - started:.1f} s", flush=True)
        finally:
            stuck = await chaos.workers.stop()
            errors = chaos.workers.errors()
            if keep_logs:
                for log in chaos.workers.logs:
                    shutil.copy(log, ROOT / "var" / f"chaos-{log.name}")
            await chaos.redis.kill()
            await chaos.telegram.__aexit__(None, None, None)
            await chaos.apns.stop()
            smtp.stop()
            if chaos.monitor is not None:
                await chaos.monitor.close()
            await close_db()
            await admin.execute(f'DROP DATABASE IF EXISTS "{chaos.db_name}" WITH (FORCE)')
            await admin.close()
    elapsed = time.monotonic() - started
    total = sum(c.rows + a.rows for _, c, a in results)
    print(
        f"\nchaos: {total:,} messages ({per_slice:,} people a slice, {workers} workers), "
        f"{elapsed:.0f} s in all"
    )
    _print_table(results)
    shown = ", ".join(f"{n} × {k}" for k, n in errors.most_common()) or "none"
    print(f"worker tracebacks logged: {shown}")
    if died:
        print(f"workers that died on their own: {died}")
    if stuck:
        print(f"workers that did not stop within 20 s of SIGTERM: {stuck}")
    figures = Figures("chaos")
    bad = bool(died or stuck)
    for piece, campaign, auto in results:
        lost = campaign.lost + auto.lost
        duplicated = campaign.duplicated + auto.duplicated
        figures.add(
            f"chaos, {piece.name}: lost", lost, "messages", baseline=campaign.rows + auto.rows,
            baseline_name="delivery rows of the slice", target="= 0", met=lost == 0,
        )  # fmt: skip
        figures.add(
            f"chaos, {piece.name}: duplicated", duplicated, "messages",
            baseline=piece.in_flight, baseline_name="rows in flight when the fault hit",
            target="<= in flight", met=duplicated <= piece.in_flight,
        )  # fmt: skip
        bad = bad or lost > 0 or duplicated > piece.in_flight or not piece.finished
    figures.add("chaos run time", elapsed, "s", target="< 300 s", met=elapsed < 300)
    print(f"saved {figures.save() if figures_dir is None else figures.save(figures_dir)}")
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 messages")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated, of: {', '.join(PHASES)}"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-logs", action="store_true", help="copy worker logs to var/")
    parser.add_argument("--figures", type=Path, default=None, help="where to save the figures")
    args = parser.parse_args()
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phases: {unknown}")
    messages = 2_000 if args.quick else args.messages
    sys.exit(
        asyncio.run(
            run(
                messages, args.quick, phases, workers=args.workers, keep_logs=args.keep_logs,
                figures_dir=args.figures,
            )
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
