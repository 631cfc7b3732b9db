"""Dispatch cost: the CPU one update takes through stampbot's Dispatcher, in this process.

``bench/webhook.py`` times whole webhook answers against a bare aiogram echo bot; this script
looks inside one of them. Each update is parsed (``Update.model_validate``, as the webhook
does) and fed to the real Dispatcher (``feed_webhook_update``), on PostgreSQL and Redis, with
the fake Bot API answering the bot's calls in this process too; what a stamp puts on the
notice queue is sent before the next update, and counted with it. For each kind of update — a
cashier's "+1" press, ``/card`` and ``/vouchers`` from a member, ``/start <join link>`` from
someone new, a forged button only the fallback answers ("this button has expired") — it reports
the CPU per update (``time.process_time``, median and mean; and the median of what answering
it took outside the handler that took it: parsing, middlewares, routing and filters, the part
the dispatch costs; the fake Bot API's share of the handler's calls counts as the handler's)
and, from a second batch, how many
times per update aiogram checked a handler's filters, unpacked a ``CallbackData`` and let a
router propagate the update, and how many times pydantic validated something.

The baseline is the same dispatcher without its savings (the callback gates of
``bot.callback_gates``), fed in rounds that take turns with it, so that whatever else the
machine does weighs on both alike.

Run: ``.venv/bin/python bench/dispatch.py [--quick] [--profile DIR] [kind …]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib
import json
import logging
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import webhook
from figures import Figures

from fakes.telegram import FakeTelegramAPI

REDIS = os.environ.get("STAMPBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KINDS = ("stamp", "card", "voucher", "join", "expired")
# Counted per update by a wrapper around each (cProfile would count a coroutine once more for
# every time it was resumed): label, class, method.
COUNTED = (
    ("filter checks", "aiogram.dispatcher.event.handler:HandlerObject", "check"),
    ("CallbackData.unpack", "aiogram.filters.callback_data:CallbackData", "unpack"),
    ("router propagations", "aiogram.dispatcher.router:Router", "_propagate_event"),
)
# And from a profile, C functions, which cProfile counts exactly: label, name.
PROFILED = (("validate_python", "<method 'validate_python' of"),)
ROUNDS = 8
BASELINE = "without callback gates"


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    variant: str  # the dispatcher as built, or without one of its savings
    count: int
    cpu_ms: float  # per update, the notices it queued included: the median
    mean_ms: float  # and the mean (with the garbage collections, a slow moment of the machine)
    outside_ms: float  # the median of the CPU outside the handler and the notices: parsing,
    # middlewares, routing, filters
    counts: dict[str, float]  # per update, from the counted batch


@contextlib.contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Counts the calls of each of COUNTED while in the block."""
    calls = dict.fromkeys((label for label, _, _ in COUNTED), 0)
    undo = []
    for label, where, name in COUNTED:
        module, owner = where.split(":")
        cls = getattr(importlib.import_module(module), owner)
        original = cls.__dict__[name]
        undo.append((cls, name, original))
        setattr(cls, name, _counted(original, label, calls))
    try:
        yield calls
    finally:
        for cls, name, original in undo:
            setattr(cls, name, original)


def _counted(original: Any, label: str, calls: dict[str, int]) -> Any:
    if isinstance(original, classmethod):
        function = original.__func__

        def one(cls: Any, *args: Any, **kwargs: Any) -> Any:
            calls[label] += 1
            return function(cls, *args, **kwargs)

        return classmethod(one)

    def call(*args: Any, **kwargs: Any) -> Any:
        calls[label] += 1
        return original(*args, **kwargs)  # a coroutine function's coroutine: aiogram awaits it

    return call


def profiled(profile: cProfile.Profile, updates: int) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    found = dict.fromkeys((label for label, _ in PROFILED), 0.0)
    for (_, _, name), (_, calls, *_) in stats.items():
        for label, prefix in PROFILED:
            if name.startswith(prefix):
                found[label] += calls / updates
    return found


class Feeder:
    """Builds one kind's updates (webhook.Driver's, from people it numbers) and feeds them."""

    def __init__(self, fake: FakeTelegramAPI, shop: webhook.Shop, runtime: Any) -> None:
        self.driver = webhook.Driver(fake, shop)
        self.runtime = runtime
        self.next = {
            "stamp": webhook.BASE["stamp"] + 1,
            "card": webhook.BASE["card"] + 1,
            "voucher": webhook.MIX_BASE["voucher"] + 1,
            "join": webhook.BASE["join"] + 1,
            "expired": webhook.BASE["start"] + 1,
        }

    def bodies(self, kind: str, count: int) -> list[bytes]:
        first = self.next[kind]
        self.next[kind] += count
        if kind != "expired":
            return [self.driver.one(kind, n) for n in range(first, first + count)]
        fake = self.driver.fake
        made = []
        for n in range(first, first + count):
            person = self.driver.user(n)
            screen = fake._store_message(
                person.private_chat(), from_bot=True, sender=fake.bot_sender, text="Old"
            )
            update = fake.callback_update(person, screen, "gone:1:2", check_button=False)
            made.append(json.dumps(update).encode())
        return made

    async def feed(self, bodies: list[bytes]) -> list[tuple[float, float]]:
        """Each update's CPU seconds, the notices it queued included, and of them those spent
        answering it outside the handler that took it: parsing, middlewares, routing, filters
        (not the notices)."""
        from aiogram.types import Update

        runtime = self.runtime
        spent = []
        with handler_time(runtime.dispatcher) as inside:
            for body in bodies:
                inside[0] = 0.0
                started = time.process_time()
                update = Update.model_validate(json.loads(body), context={"bot": runtime.bot})
                await runtime.dispatcher.feed_webhook_update(runtime.bot, update)
                answered = time.process_time()
                await runtime.notices.drain()
                total = time.process_time() - started
                spent.append((total, answered - started - inside[0]))
        return spent


@contextlib.contextmanager
def handler_time(dispatcher: Any) -> Iterator[list[float]]:
    """Adds up the CPU seconds spent in handlers (not the dispatcher's own, which every update
    goes through) while in the block, in its one item; the time other tasks take while a
    handler waits counts as the handler's."""
    from aiogram.dispatcher.event.handler import HandlerObject

    inside = [0.0]
    original = HandlerObject.call
    own = dispatcher._listen_update

    async def call(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        if self.callback == own:
            return await original(self, *args, **kwargs)
        started = time.process_time()
        try:
            return await original(self, *args, **kwargs)
        finally:
            inside[0] += time.process_time() - started

    setattr(HandlerObject, "call", call)  # noqa: B010 - a method, put back below
    try:
        yield inside
    finally:
        setattr(HandlerObject, "call", original)  # noqa: B010


def variants(dispatcher: Any) -> dict[str, Callable[[], object]]:
    """The dispatcher as built, and without each saving: name, how to make it so."""
    from bot.callback_gates import gate_callbacks, remove_gates

    return {
        "as built": lambda: gate_callbacks(dispatcher),
        BASELINE: lambda: remove_gates(dispatcher),
    }


async def measure(feeder: Feeder, kind: str, count: int, dump: Path | None) -> list[Row]:
    """``count`` updates of ``kind`` for each variant, in rounds that take turns, then a
    counted (and profiled) batch of each."""
    chosen = made = variants(feeder.runtime.dispatcher)
    await feeder.feed(feeder.bodies(kind, 20))  # warm: caches, prepared statements
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in chosen}
    for _ in range(ROUNDS):
        for name, make in chosen.items():
            make()
            cpu[name] += await feeder.feed(feeder.bodies(kind, count // ROUNDS))
    rows = []
    for name, make in chosen.items():
        make()
        bodies = feeder.bodies(kind, max(count // 4, 10))
        profile = cProfile.Profile()
        with counting() as calls:
            profile.enable()
            await feeder.feed(bodies)
            profile.disable()
        if dump is not None:
            profile.dump_stats(dump / f"{kind}-{name.replace(' ', '-')}.prof")
        counts = {label: n / len(bodies) for label, n in calls.items()}
        spent = cpu[name]
        rows.append(
            Row(
                kind, name, len(spent), statistics.median(t for t, _ in spent) * 1000,
                statistics.fmean(t for t, _ in spent) * 1000,
                statistics.median(o for _, o in spent) * 1000,
                counts | profiled(profile, len(bodies)),
            )
        )  # fmt: skip
    made["as built"]()
    return rows


def table(rows: list[Row]) -> str:
    labels = [label for label, _, _ in COUNTED] + [label for label, _ in PROFILED]
    lines = [
        "| update | dispatcher | n | CPU ms/update, median / mean | outside the handler | "
        + " | ".join(f"{label} /update" for label in labels)
        + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(labels),
    ]
    for row in rows:
        counts = " | ".join(f"{row.counts[label]:.1f}" for label in labels)
        lines.append(
            f"| {row.kind} | {row.variant} | {row.count} | {row.cpu_ms:.2f} / {row.mean_ms:.2f} "
            f"| {row.outside_ms:.2f} | {counts} |"
        )
    return "\n".join(lines)


@contextlib.asynccontextmanager
async def runtime_on(db_url: str, fake: FakeTelegramAPI) -> AsyncIterator[Any]:
    from bot.config import Settings
    from bot.factory import bot_runtime
    from models.db import close_db, init_db

    await init_db(db_url)
    try:
        with tempfile.TemporaryDirectory() as var:
            settings = Settings(
                telegram={"token": fake.token, "api_url": fake.base_url,
                          "username": "stampbot_bench_bot"},
                redis={"url": REDIS},
                database={"url": db_url},
                var_dir=Path(var),
                # Flood control still asks Redis, as in production, but never drops a press.
                flood={"per_second": 1000.0, "burst": 100_000},
            )  # fmt: skip
            async with bot_runtime(settings) as runtime:
                yield runtime
    finally:
        await close_db()


async def run(kinds: Sequence[str], quick: bool, dump: Path | None) -> list[Row]:
    from redis.asyncio import Redis

    logging.basicConfig(level=logging.ERROR)
    async with Redis.from_url(REDIS) as redis:
        await redis.flushdb()
    count = 160 if quick else 480
    async with webhook.database() as db_url, FakeTelegramAPI() as fake:
        shop = await webhook.seed(db_url, quick=True)  # a few thousand people of each kind
        async with runtime_on(db_url, fake) as runtime:
            feeder = Feeder(fake, shop, runtime)
            return [r for kind in kinds for r in await measure(feeder, kind, count, dump)]


def record(rows: list[Row]) -> Figures:
    figures = Figures("dispatch")
    base = {row.kind: row for row in rows if row.variant == BASELINE}
    name = f"the same dispatcher {BASELINE}, taking turns"
    for row in rows:
        if row.variant == BASELINE:
            continue
        other = base[row.kind]
        figures.add(
            f"{row.kind}: CPU per update, in process, median", row.cpu_ms, "ms",
            baseline=other.cpu_ms, baseline_name=name,
        )  # fmt: skip
        figures.add(
            f"{row.kind}: CPU per update outside the handler, median", row.outside_ms, "ms",
            baseline=other.outside_ms, baseline_name=name,
        )  # fmt: skip
        for label, value in row.counts.items():
            figures.add(
                f"{row.kind}: {label} per update", value, "calls",
                baseline=other.counts[label], baseline_name=name,
            )  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a third of the updates")
    parser.add_argument("--profile", type=Path, help="write each batch's cProfile here")
    parser.add_argument("kinds", nargs="*", help=f"some of {', '.join(KINDS)}")
    args = parser.parse_args()
    if unknown := set(args.kinds) - set(KINDS):
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    rows = asyncio.run(run(args.kinds or KINDS, args.quick, args.profile))
    cores = os.cpu_count()
    print(f"dispatch: stampbot's Dispatcher in process, PostgreSQL + Redis, {cores} cores\n")
    print(table(rows))
    print(f"saved {record(rows).save()}")


if __name__ == "__main__":
    main()
