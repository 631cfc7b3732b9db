"""Hand-written SQL for the bulk paths, with parameters bound by the driver of either dialect.

The ORM would build these statements row by row; a single INSERT … SELECT moves 100,000
recipients in one round trip. Values always travel as bound parameters, so datetimes are stored
exactly as the ORM stores them (SQLite keeps them as text in the driver's format).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.schema_generator.DIALECT == "postgres"


@dataclass
class Params:
    """Collects values and hands out a numbered placeholder for each (``$n`` or ``?n``).

    Numbered on both dialects, so a fragment may appear twice in a statement and the textual
    order of placeholders need not match the order the values were added in.
    """

    postgres: bool
    values: list[Any] = field(default_factory=list)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        if not self.postgres:
            return f"?{len(self.values)}"
        # PostgreSQL must know each parameter's type even where the context does not say it
        # (a SELECT list, or a fragment this statement does not use).
        return f"${len(self.values)}{_PG_CAST.get(type(value), '')}"

    def among(self, column: str, ids: Iterable[int]) -> str:
        """``column`` is one of ``ids``: one array parameter on PostgreSQL, so the statement's
        text (and asyncpg's prepared statement) is the same for every batch size; SQLite,
        which has no arrays, gets an ``IN`` list."""
        listed = list(ids)
        if self.postgres:
            self.values.append(listed)
            return f"{column} = ANY(${len(self.values)}::bigint[])"
        return f"{column} IN ({', '.join(self(i) for i in listed)})"


_PG_CAST = {str: "::text", int: "::bigint", bool: "::boolean", datetime: "::timestamptz"}
