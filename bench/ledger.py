"""Stamp operations per second on SQLite and PostgreSQL, sequential and 20 at once.

Run: ``make bench`` (or ``.venv/bin/python bench/ledger.py --ops 2000``). Prints figures only;
nothing here asserts a speed.
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

from loyalty.customers import customer_for_identity
from loyalty.memberships import join
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
from loyalty.stamps import add_stamps
from models.db import apply_migrations, close_db, init_db
from models.enums import Platform

PG_ADMIN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
CONCURRENCY = 20


async def _setup(members: int) -> tuple[int, list[int]]:
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
    ids = []
    for n in range(members):
        person = await customer_for_identity(Platform.TELEGRAM, str(10_000 + n))
        ids.append((await join(person, shop.card)).membership.id)
    return shop.merchant.id, ids


async def _timed(ops: int, run: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await run()
    return ops / (time.perf_counter() - started)


async def _measure(url: str, ops: int) -> dict[str, float]:
    await apply_migrations(url)
    await init_db(url)
    try:
        merchant_id, members = await _setup(CONCURRENCY)

        async def sequential() -> None:
            for i in range(ops):
                await add_stamps(members[i % len(members)], 1 + i % 3, merchant_id=merchant_id)

        async def spread() -> None:
            async def worker(membership_id: int) -> None:
                for i in range(ops // CONCURRENCY):
                    await add_stamps(membership_id, 1 + i % 3, merchant_id=merchant_id)

            await asyncio.gather(*(worker(m) for m in members))

        async def contended() -> None:
            async def worker(worker_no: int) -> None:
                for _ in range(ops // CONCURRENCY):
                    await add_stamps(members[0], 1, merchant_id=merchant_id)

            await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))

        return {
            "sequential": await _timed(ops, sequential),
            f"{CONCURRENCY} concurrent, own cards": await _timed(ops, spread),
            f"{CONCURRENCY} concurrent, one card": await _timed(ops, contended),
        }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=1000, help="stamp calls per measurement")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(asyncio.run(_one_backend(args.backend, args.ops))))
        return
    # One process per backend: Tortoise keeps per-dialect query builders on the model classes,
    # so a process cannot switch from SQLite to PostgreSQL.
    results: dict[str, dict[str, float]] = {}
    for label, backend in (("SQLite", "sqlite"), ("PostgreSQL", "postgres")):
        out = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--backend", backend, "--ops", str(args.ops)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])

    print(f"stamp operations per second ({args.ops} calls each; 1 call = 1 transaction)")
    modes = list(next(iter(results.values())))
    print(f"{'backend':<12}" + "".join(f"{mode:>30}" for mode in modes))
    for backend, figures in results.items():
        print(f"{backend:<12}" + "".join(f"{figures[mode]:>30.0f}" for mode in modes))
    if len(results) == 2:
        sqlite, pg = results["SQLite"], results["PostgreSQL"]
        ratios = "".join(f"{pg[mode] / sqlite[mode]:>30.2f}" for mode in modes)
        print(f"{'PG / SQLite':<12}" + ratios)


if __name__ == "__main__":
    main()
