"""Test backends: the suite runs on PostgreSQL, and its data rooms again on SQLite (``--db``;
the Makefile's ``SQLITE_TESTS`` says which).

PostgreSQL and Redis are required, never skipped: if either is unreachable the session stops
with an error, so CI goes red instead of quietly testing less.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from redis.asyncio import Redis
from tortoise import Tortoise

from models.db import apply_migrations, close_db, init_db

# The bot, its webhook and the fake Bot API, for every test that talks to the bot.
pytest_plugins = (
    "tests.chat",
    "tests.google_wallet_fixtures",
    "tests.apple_wallet_fixtures",
    "tests.viber_fixtures",
    "tests.whatsapp_fixtures",
)

PG_ADMIN_DSN = os.environ.get("STAMPBOT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("STAMPBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    url: str

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("STAMPBOT_TEST_DB", "sqlite"),
        help="database backend for the whole run",
    )


def _pg_database_name() -> str:
    return f"stampbot_test_{os.getpid()}_{secrets.token_hex(4)}"


def pytest_configure(config: pytest.Config) -> None:
    backend = config.getoption("--db")
    if backend == "postgres":
        name = _pg_database_name()
        base = PG_ADMIN_DSN.rsplit("/", 1)[0]
        config.stash[_BACKEND] = Backend("postgres", f"{base}/{name}?maxsize=30")
    else:
        config.stash[_BACKEND] = Backend("sqlite", "")
    problems = asyncio.run(_unreachable_services(backend == "postgres"))
    if problems:
        raise pytest.UsageError(
            "required services are unreachable (tests fail, never skip): " + "; ".join(problems)
        )


_BACKEND = pytest.StashKey[Backend]()


async def _unreachable_services(need_postgres: bool) -> list[str]:
    problems = []
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await redis.ping()
    except OSError as exc:
        problems.append(f"Redis at {REDIS_URL}: {exc}")
    except Exception as exc:
        problems.append(f"Redis at {REDIS_URL}: {exc!r}")
    finally:
        await redis.aclose()
    if need_postgres:
        try:
            conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
            await conn.close()
        except (OSError, asyncpg.PostgresError) as exc:
            problems.append(f"PostgreSQL at {PG_ADMIN_DSN}: {exc}")
    return problems


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = config.stash[_BACKEND]
    where = backend.url.split("?")[0] if backend.is_postgres else "SQLite file in a temp dir"
    return [f"stampbot backends: database={backend.name} ({where}), redis={REDIS_URL}"]


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    chosen = request.config.stash[_BACKEND]
    if chosen.is_postgres:
        return chosen
    path = tmp_path_factory.mktemp("db") / "stampbot.sqlite3"
    return Backend("sqlite", f"sqlite://{path}")


@pytest.fixture(scope="session")
async def database(backend: Backend) -> AsyncIterator[Backend]:
    """A database migrated with the real migrations, connected for the whole session."""
    if backend.is_postgres:
        await _pg_admin(f'CREATE DATABASE "{_db_name(backend)}"')
        # A test database thrown away at the end needs no commit to wait for the WAL flush:
        # every test's writes are committed as before (other connections see them; locks and
        # SKIP LOCKED behave the same), only a crash of the server could lose the last ones.
        await _pg_admin(f'ALTER DATABASE "{_db_name(backend)}" SET synchronous_commit = off')
    try:
        await apply_migrations(backend.url)
        await init_db(backend.url)
        yield backend
        await close_db()
    finally:
        if backend.is_postgres:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{_db_name(backend)}" WITH (FORCE)')


@pytest.fixture
async def db(database: Backend) -> AsyncIterator[Backend]:
    """A clean database for one test."""
    yield database
    await _truncate_all(database)


def _db_name(backend: Backend) -> str:
    return backend.url.rsplit("/", 1)[1].split("?")[0]


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _truncate_all(backend: Backend) -> None:
    conn = Tortoise.get_connection("default")
    tables = [
        model._meta.db_table
        for model in Tortoise.apps.get_models_iterable()
        if model._meta.app == "models" and model._meta.db_table != "aerich"
    ]
    if backend.is_postgres:
        quoted = ", ".join(f'"{table}"' for table in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        script = "".join(f'DELETE FROM "{table}";' for table in tables)  # noqa: S608
        await conn.execute_script("PRAGMA foreign_keys=OFF;" + script + "PRAGMA foreign_keys=ON;")


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
