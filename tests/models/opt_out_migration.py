"""Run in a subprocess by test_migrations: migrate an old database with customer-wide opt-outs.

Applies the migrations before ``per_shop_optouts``, stores what an older version stored, then
applies the rest and prints the opt-out rows as JSON. A process of its own, because aerich and
Tortoise keep global state that the test session's database connection also uses.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import shutil
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import Tortoise

from models.db import APP, MIGRATIONS_DIR, dialect_of, tortoise_config
from tests import factories

MIGRATION = "per_shop_optouts"


async def _upgrade(url: str, location: Path) -> None:
    command = Command(tortoise_config(url), app=APP, location=str(location))
    async with command:
        await command.init()
        await command.upgrade(run_in_transaction=True)


async def _old_data(url: str) -> dict[str, int]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        cafe = await factories.merchant("Cafe")
        bakery = await factories.merchant("Bakery")
        await factories.merchant("Florist")
        both = await factories.member(cafe, telegram_id=1)
        await factories.member(bakery, telegram_id=1)
        nowhere = await factories.customer(telegram_id=2)
        conn = Tortoise.get_connection("default")
        for customer_id in (both.customer_id, nowhere.id):
            await conn.execute_query(
                "INSERT INTO channel_opt_out (customer_id, channel, created_at) "
                + ("VALUES ($1, 'email', now())" if "postgres" in url else
                   "VALUES (?, 'email', CURRENT_TIMESTAMP)"),
                [customer_id],
            )  # fmt: skip
        return {
            "customer": both.customer_id,
            "cafe": cafe.merchant.id,
            "bakery": bakery.merchant.id,
        }
    finally:
        await Tortoise.close_connections()


async def _opt_outs(url: str) -> list[list[Any]]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        _, rows = await Tortoise.get_connection("default").execute_query(
            "SELECT customer_id, merchant_id, channel FROM channel_opt_out "
            "ORDER BY customer_id, merchant_id"
        )
        return [[row["customer_id"], row["merchant_id"], row["channel"]] for row in rows]
    finally:
        await Tortoise.close_connections()


async def _in_context(work: Coroutine[Any, Any, Any]) -> Any:
    return await asyncio.create_task(work, context=contextvars.Context())


async def main(url: str, scratch: Path) -> None:
    source = MIGRATIONS_DIR / dialect_of(url) / APP
    location = scratch / "migrations"
    (location / APP).mkdir(parents=True)
    (ours,) = source.glob(f"*_{MIGRATION}.py")
    number = int(ours.name.split("_", 1)[0])
    later = [p for p in source.glob("*.py") if int(p.name.split("_", 1)[0]) >= number]
    for path in sorted(source.glob("*.py")):
        if path not in later:
            shutil.copy(path, location / APP / path.name)
    await _in_context(_upgrade(url, location))
    ids = await _in_context(_old_data(url))
    for path in later:
        shutil.copy(path, location / APP / path.name)
    await _in_context(_upgrade(url, location))
    print(json.dumps({"ids": ids, "rows": await _in_context(_opt_outs(url))}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
