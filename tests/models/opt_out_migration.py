"""Run in a subprocess by test_migrations: migrate an old database with customer-wide opt-outs.

Applies the migrations before ``per_shop_optouts``, stores what an older version stored, then
applies the rest and prints the opt-out rows as JSON. A process of its own, because aerich and
Tortoise keep global state that the test session's database connection also uses.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import shutil
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import Tortoise

from models.db import APP, MIGRATIONS_DIR, dialect_of, tortoise_config

MIGRATION = "per_shop_optouts"


async def _upgrade(url: str, location: Path) -> None:
    command = Command(tortoise_config(url), app=APP, location=str(location))
    async with command:
        await command.init()
        await command.upgrade(run_in_transaction=True)


async def _old_data(url: str) -> dict[str, int]:
    """Rows as the schema before the migration holds them, written in SQL: the models of today
    have columns that schema does not have yet."""
    await Tortoise.init(config=tortoise_config(url))
    pg = "postgres" in url

    def sql(text: str) -> str:
        if not pg:
            return text.replace("now()", "CURRENT_TIMESTAMP")
        count = 0

        def numbered(_: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"${count}"

        return re.sub(r"\?", numbered, text)

    conn = Tortoise.get_connection("default")

    async def insert(text: str, values: list[Any]) -> int:
        await conn.execute_query(sql(text), values)
        _, rows = await conn.execute_query(
            "SELECT lastval() AS id" if pg else "SELECT last_insert_rowid() AS id"
        )
        return int(rows[0]["id"])

    try:
        shops: dict[str, int] = {}
        cards: dict[str, int] = {}
        for name in ("Cafe", "Bakery", "Florist"):
            shops[name] = await insert(
                "INSERT INTO merchant (name, timezone, default_language, background_color, "
                "foreground_color, accent_color, created_at) "
                "VALUES (?, 'UTC', 'en', '#000000', '#FFFFFF', '#F59E0B', now())",
                [name],
            )
            cards[name] = await insert(
                "INSERT INTO card (merchant_id, name, stamps_needed, reward_text, "
                "voucher_validity_days, max_stamps_per_call, stamp_cooldown_seconds, "
                "join_token, active, created_at) "
                "VALUES (?, 'Card', 10, 'Coffee', 30, 5, 0, ?, ?, now())",
                [shops[name], f"join-{name}", True],
            )
        both = await insert(
            "INSERT INTO customer (email_verified, created_at) VALUES (?, now())", [False]
        )
        nowhere = await insert(
            "INSERT INTO customer (email_verified, created_at) VALUES (?, now())", [False]
        )
        for name in ("Cafe", "Bakery"):
            await insert(
                "INSERT INTO membership (card_id, customer_id, status, balance, visits, "
                "public_token, joined_at) VALUES (?, ?, 'active', 0, 0, ?, now())",
                [cards[name], both, f"member-{name}"],
            )
        for customer_id in (both, nowhere):
            await insert(
                "INSERT INTO channel_opt_out (customer_id, channel, created_at) "
                "VALUES (?, 'email', now())",
                [customer_id],
            )
        return {"customer": both, "cafe": shops["Cafe"], "bakery": shops["Bakery"]}
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
