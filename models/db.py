"""Database set-up: the Tortoise configuration and the aerich migrations per dialect.

aerich writes plain SQL per dialect, so SQLite and PostgreSQL each keep their own migration
folder, generated from the same models (``make migrations NAME=…`` regenerates both).
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import functools
import logging
import os
import re
import zlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import OperationalError

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
APP = "models"


def dialect_of(db_url: str) -> str:
    scheme = db_url.split("://", 1)[0]
    if scheme == "sqlite":
        return "sqlite"
    if scheme in {"postgres", "postgresql", "asyncpg", "psycopg"}:
        return "postgres"
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def tortoise_config(db_url: str, *, migrations: bool = True) -> dict[str, Any]:
    """``migrations``: with aerich's own model, as aerich needs; the running processes go
    without, so they never load aerich (and the numpy it pulls in: 14 MB a process)."""
    models = ["models", "aerich.models"] if migrations else ["models"]
    connection: str | dict[str, Any] = db_url
    if not migrations and dialect_of(db_url) == "postgres":
        connection = expand_db_url(db_url)
        connection["credentials"]["reset"] = keep_session
    return {
        "connections": {"default": connection},
        "apps": {APP: {"models": models, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a pooled PostgreSQL connection needs on its way back to the pool beyond asyncpg's
    own rollback of a transaction left open (which runs first, whatever reset is given):
    nothing.

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` at every release, and Tortoise takes a pooled connection for every query outside a
    transaction: one more round trip each, 22 for a cashier's stamp (a profile of the webhook
    bench). None of it has anything to undo here: settings are ``SET LOCAL``, advisory locks are
    transaction locks (the migration lock has a connection of its own, closed after), nothing
    listens, and cursors live inside transactions. Session state set on a pooled connection
    would now outlive its query; ``tests/models/test_db.py`` keeps that from creeping in."""


def migrations_location(db_url: str) -> str:
    return str(MIGRATIONS_DIR / dialect_of(db_url))


def _ensure_sqlite_dir(db_url: str) -> None:
    """The folder, and the database file made readable by its owner only (0600).

    The file holds personal data. SQLite gives its journal and WAL files the database file's
    mode, so creating this one 0600 before SQLite does covers them all.
    """
    if dialect_of(db_url) == "sqlite":
        path = db_url.removeprefix("sqlite://").split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))


# What the database drivers log at DEBUG includes the query's parameters: join, invite and
# voucher tokens, wallet authentication tokens. Any string that could be one is blanked out.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_=.~+/-]{12,}")
_QUOTED_TOKEN = re.compile(r"'[A-Za-z0-9_=.~+/-]{12,}'")
REDACTED = "<redacted>"


def _redact(value: object) -> object:
    if isinstance(value, str) and _TOKEN_LIKE.fullmatch(value):
        return REDACTED
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


class SqlParameterRedactor(logging.Filter):
    """Drops token-like SQL parameters from tortoise's and aiosqlite's DEBUG records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _QUOTED_TOKEN.sub(f"'{REDACTED}'", record.msg)
        return True

    @staticmethod
    def _clean(arg: object) -> object:
        if isinstance(arg, functools.partial):
            # aiosqlite logs the call it runs, whose repr holds the SQL and its parameters.
            return getattr(arg.func, "__qualname__", "a database call")
        if isinstance(arg, str):
            return _QUOTED_TOKEN.sub(f"'{REDACTED}'", arg)
        return _redact(arg)


_REDACTOR = SqlParameterRedactor()


def redact_sql_logs() -> None:
    """Install the redactor on the loggers the drivers write queries to (idempotent)."""
    for name in ("tortoise.db_client", "aiosqlite"):
        logging.getLogger(name).addFilter(_REDACTOR)


async def init_db(db_url: str) -> None:
    """Connect the ORM for the whole process.

    Tortoise 1.x keeps its state in a context variable; the global fallback makes it visible to
    every task (aiogram handlers, aiohttp requests, workers), not only those started after init.
    """
    _ensure_sqlite_dir(db_url)
    redact_sql_logs()
    await Tortoise.init(
        config=tortoise_config(db_url, migrations=False), _enable_global_fallback=True
    )


async def close_db() -> None:
    await Tortoise.close_connections()


async def _isolated(work: Coroutine[Any, Any, T]) -> T:
    """Run aerich in a context of its own.

    aerich initialises Tortoise in the current context and leaves it marked as initialised
    after closing; a second migration in the same process would then find closed connections.
    """
    return await asyncio.create_task(work, context=contextvars.Context())


async def apply_migrations(db_url: str) -> list[str]:
    """Bring the database up to the newest migration; returns the versions applied now.

    Every ``run``, ``web`` and ``worker`` migrates at start, so replicas starting together
    take turns: without the lock two of them apply the same migration and one crashes
    (PostgreSQL: duplicate type; SQLite: duplicate column). The later one finds nothing to do.
    """
    _ensure_sqlite_dir(db_url)
    # Look before queueing: when nothing is pending (every start but the first after an
    # upgrade) the replicas go on at once instead of taking turns over nothing; a worker that
    # waited its turn would start seconds behind the others.
    if not await _isolated(_pending(db_url)):
        return []
    async with _migration_lock(db_url):
        return await _isolated(_upgrade(db_url))


# pg_advisory_lock takes a bigint; any fixed number that other software is unlikely to use.
MIGRATION_LOCK_KEY = zlib.crc32(b"stampbot migrations")


@asynccontextmanager
async def _migration_lock(db_url: str) -> AsyncIterator[None]:
    """PostgreSQL: a session advisory lock (released when its connection closes, even if the
    process dies). SQLite: an exclusive ``flock`` on a file next to the database."""
    credentials = expand_db_url(db_url)["credentials"]
    if dialect_of(db_url) == "postgres":
        connection = await asyncpg.connect(
            host=credentials.get("host"),
            port=credentials.get("port"),
            user=credentials.get("user"),
            password=credentials.get("password"),
            database=credentials.get("database"),
        )
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()
        return
    path = credentials.get("file_path", "")
    if not path or path == ":memory:":
        yield  # a private in-memory database: nobody to take turns with
        return
    # Owner-only like the database beside it (an empty file, but nobody else's business).
    descriptor = os.open(f"{path}.migrate-lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def _pending(db_url: str) -> bool:
    """Whether any migration is not applied yet (a new database counts: no aerich table).

    Read from aerich's table as ``heads`` would, without loading aerich: every start asks,
    and only the first one after an upgrade has anything to apply."""
    await Tortoise.init(config=tortoise_config(db_url, migrations=False))
    try:
        try:
            applied = await _applied(Tortoise.get_connection("default"))
        except OperationalError:
            return True
        return not _migration_files(dialect_of(db_url)) <= applied
    finally:
        await Tortoise.close_connections()


def _migration_files(dialect: str) -> set[str]:
    return {p.name for p in (MIGRATIONS_DIR / dialect / APP).glob("[0-9]*_*.py")}


async def _applied(conn: Any) -> set[str]:
    rows = await conn.execute_query_dict("SELECT version FROM aerich WHERE app = 'models'")
    return {str(row["version"]) for row in rows}


async def _upgrade(db_url: str) -> list[str]:
    from aerich import Command

    command = Command(tortoise_config(db_url), app=APP, location=migrations_location(db_url))
    async with command:
        await command.init()
        return await command.upgrade(run_in_transaction=True)


async def make_migration(db_url: str, name: str, location: str | None = None) -> str | None:
    """Write the next migration for ``db_url``'s dialect (development only).

    Returns the new file's name, ``"initial"`` for the first one, or an empty result when the
    models match the migrations.
    """
    _ensure_sqlite_dir(db_url)
    return await _isolated(_make_migration(db_url, name, location or migrations_location(db_url)))


async def _make_migration(db_url: str, name: str, location: str) -> str | None:
    from aerich import Command

    command = Command(tortoise_config(db_url), app=APP, location=location)
    async with command:
        if not (Path(location) / APP).exists():
            await command.init_migrations(safe=True)
            return "initial"
        await command.init(offline=True)
        result: str | None = await command.migrate(name, no_input=True, offline=True)
        return result


async def schema_is_current() -> bool:
    """Whether every migration file of the connected dialect is applied (a readiness check: a
    replica started on older code than the newest migration, or before migrating, is not
    ready). Reads the ``aerich`` table on the process's own connection; cheap for a probe.
    """
    conn = Tortoise.get_connection("default")
    dialect = "postgres" if conn.schema_generator.DIALECT == "postgres" else "sqlite"
    return _migration_files(dialect) <= await _applied(conn)


async def database_answers() -> bool:
    """A round trip on the process's connection (a readiness check)."""
    await Tortoise.get_connection("default").execute_query("SELECT 1")
    return True
