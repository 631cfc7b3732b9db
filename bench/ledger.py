"""Stamp and redeem operations per second on SQLite and PostgreSQL, sequential and 20 at once.

Against a baseline measured in the same run on the same backend: a bare write transaction
that locks a membership row and touches it, the floor under any ledger operation. Each
operation is one call and one transaction, as a cashier's press is.

Run: ``make bench`` (or ``.venv/bin/python bench/ledger.py --ops 2000``; ``--quick`` for 200).
Prints figures and records them (``var/bench/ledger.json``); nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from figures import Figures
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from loyalty.customers import customer_for_identity
from loyalty.memberships import join
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
from loyalty.stamps import add_stamps
from loyalty.vouchers import issue_voucher, redeem_voucher
from models import Card, Membership
from models.db import apply_migrations, close_db, init_db
from models.enums import Platform, RedeemVia, VoucherSource

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
CONCURRENCY = 20
BARE = "bare row-lock transaction"
SEQUENTIAL = "sequential"
SPREAD = f"{CONCURRENCY} concurrent, own cards"
CONTENDED = f"{CONCURRENCY} concurrent, one card"


async def _setup(members: int) -> tuple[int, Card, list[Membership]]:
    shop = await create_merchant(
        MerchantSpec(name="Bench café"),
        CardSpec(
            name="Bench card",
            stamps_needed=10,
            reward_text="Coffee",
            max_stamps_per_call=3,
            stamp_cooldown_seconds=0,
        ),
        invite_ttl=timedelta(hours=1),
    )
    found = []
    for n in range(members):
        person = await customer_for_identity(Platform.TELEGRAM, str(10_000 + n))
        found.append((await join(person, shop.card)).membership)
    return shop.merchant.id, shop.card, found


async def _timed(ops: int, run: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await run()
    return ops / (time.perf_counter() - started)


async def _touch(membership_id: int) -> None:
    """The baseline: one transaction that locks the membership row and writes it."""
    async with in_transaction():
        await Membership.select_for_update().get(id=membership_id)
        await Membership.filter(id=membership_id).update(visits=F("visits"))


async def _each(ops: int, ids: list[int], call: Callable[[int, int], Awaitable[object]]) -> None:
    for i in range(ops):
        await call(ids[i % len(ids)], i)


async def _spread(ops: int, ids: list[int], call: Callable[[int, int], Awaitable[object]]) -> None:
    """``CONCURRENCY`` callers at once, each on its own row."""

    async def worker(row: int) -> None:
        for i in range(ops // CONCURRENCY):
            await call(row, i)

    await asyncio.gather(*(worker(row) for row in ids[:CONCURRENCY]))


async def _measure(url: str, ops: int) -> dict[str, float]:
    await apply_migrations(url)
    await init_db(url)
    try:
        merchant_id, card, members = await _setup(CONCURRENCY)
        ids = [m.id for m in members]

        async def stamp(membership_id: int, i: int) -> None:
            await add_stamps(membership_id, 1 + i % 3, merchant_id=merchant_id)

        async def touch(membership_id: int, i: int) -> None:
            await _touch(membership_id)

        async def contended() -> None:
            await asyncio.gather(*(_each(ops // CONCURRENCY, ids[:1], stamp)
                                   for _ in range(CONCURRENCY)))  # fmt: skip

        # Warm up untimed: the pool opens its connections, the plans are cached.
        await _spread(2 * CONCURRENCY, ids, touch)
        await _each(2 * CONCURRENCY, ids, stamp)
        figures = {
            f"{BARE}, {SEQUENTIAL}": await _timed(ops, lambda: _each(ops, ids, touch)),
            f"{BARE}, {SPREAD}": await _timed(ops, lambda: _spread(ops, ids, touch)),
            f"stamp, {SEQUENTIAL}": await _timed(ops, lambda: _each(ops, ids, stamp)),
            f"stamp, {SPREAD}": await _timed(ops, lambda: _spread(ops, ids, stamp)),
            f"stamp, {CONTENDED}": await _timed(ops, contended),
        }
        # Vouchers to redeem, two sets so each measurement redeems fresh ones (untimed).
        vouchers: list[list[int]] = [[], []]
        for n in range(2 * ops):
            made = await issue_voucher(
                members[n % len(members)], card, source=VoucherSource.MANUAL, title="Coffee",
                validity_days=None,
            )  # fmt: skip
            vouchers[n // ops].append(made.id)

        def redeem(pool: list[int]) -> Callable[[int, int], Awaitable[object]]:
            left = iter(pool)

            async def call(row: int, i: int) -> None:
                await redeem_voucher(next(left), merchant_id=merchant_id, via=RedeemVia.CODE)

            return call

        figures[f"redeem, {SEQUENTIAL}"] = await _timed(
            ops, lambda: _each(ops, ids, redeem(vouchers[0]))
        )
        figures[f"redeem, {SPREAD}"] = await _timed(
            ops, lambda: _spread(ops, ids, redeem(vouchers[1]))
        )
        return figures
    finally:
        await close_db()


async def _pg_database(name: str, create: bool) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _one_backend(backend: str, ops: int) -> dict[str, float]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await _measure(f"sqlite://{tmp}/bench.sqlite3", ops)
    name = f"stampbot_bench_{os.getpid()}"
    await _pg_database(name, create=True)
    try:
        base = PG_ADMIN.rsplit("/", 1)[0]
        return await _measure(f"{base}/{name}?maxsize=25", ops)
    finally:
        await _pg_database(name, create=False)


def record(results: dict[str, dict[str, float]]) -> Figures:
    """Each operation against the bare transaction of the same backend and concurrency."""
    figures = Figures("ledger")
    for backend, measured in results.items():
        for name, value in measured.items():
            if name.startswith(BARE):
                continue
            mode = SEQUENTIAL if name.endswith(SEQUENTIAL) else SPREAD
            figures.add(
                f"{name.split(',')[0]} ops/s, {backend}, {name.split(', ', 1)[1]}",
                value, "ops/s", baseline=measured[f"{BARE}, {mode}"],
                baseline_name=f"{BARE}, {mode}",
            )  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=1000, help="calls per measurement")
    parser.add_argument("--quick", action="store_true", help="200 calls per measurement")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    ops = 200 if args.quick else args.ops
    if args.backend:
        print(json.dumps(asyncio.run(_one_backend(args.backend, ops))))
        return
    # One process per backend: Tortoise keeps per-dialect query builders on the model classes,
    # so a process cannot switch from SQLite to PostgreSQL.
    results: dict[str, dict[str, float]] = {}
    for label, backend in (("SQLite", "sqlite"), ("PostgreSQL", "postgres")):
        out = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--backend", backend, "--ops", str(ops)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])

    print(f"ledger operations per second ({ops} calls each; 1 call = 1 transaction)")
    modes = list(next(iter(results.values())))
    print(f"{'':<52}" + "".join(f"{label:>14}" for label in results))
    for mode in modes:
        print(f"{mode:<52}" + "".join(f"{results[b][mode]:>14.0f}" for b in results))
    print(f"saved {record(results).save()}")


if __name__ == "__main__":
    main()
