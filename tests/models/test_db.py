"""Database set-up details that protect people: file modes, and what the DEBUG log may say."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise import Tortoise

from tests.conftest import Backend


def test_the_sqlite_file_and_its_journals_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "stampbot.sqlite3"
    # Migrated in a process of its own (the session's ORM stays connected), with the usual
    # umask, under which SQLite alone would make the file 0644.
    script = (
        "import asyncio, os, sys; from models.db import apply_migrations; os.umask(0o022); "
        "asyncio.run(apply_migrations(sys.argv[1]))"
    )
    subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", script, f"sqlite://{path}"], check=True, timeout=120
    )
    previous = os.umask(0o022)
    try:
        # SQLite gives journal and WAL files the database file's mode.
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE probe (x)")
            journals = sorted(p.name for p in path.parent.iterdir() if p != path)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        os.umask(previous)

    # The lock file that lets starting replicas take turns on migrations, and SQLite's journals.
    assert journals == [
        "stampbot.sqlite3-shm",
        "stampbot.sqlite3-wal",
        "stampbot.sqlite3.migrate-lock",
    ]
    assert modes == dict.fromkeys(["stampbot.sqlite3", *journals], 0o600)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_pooled_connection_goes_back_without_a_reset_and_rolled_back(
    db: Backend,
) -> None:
    """Releasing a connection costs no round trip (``models.db.keep_session``), yet a
    transaction left open is still rolled back and its ``SET LOCAL`` gone."""
    if not db.is_postgres:
        pytest.skip("asyncpg's pool is PostgreSQL's")
    client = Tortoise.get_connection("default")
    await client.execute_query("SELECT 1")  # the pool is made by the first query
    # The pool itself is what is under test.
    pool = client._pool
    assert pool is not None
    sent: list[str] = []
    async with pool.acquire() as raw:
        raw.add_query_logger(lambda record: sent.append(record.query))
        await raw.execute("BEGIN")
        await raw.execute("SET LOCAL statement_timeout = 4321")
        pid = await raw.fetchval("SELECT pg_backend_pid()")
    # asyncpg's own rollback of the open transaction, and nothing after it.
    assert sent[-1] == "ROLLBACK"
    assert not any("RESET" in query or "UNLISTEN" in query for query in sent)
    async with pool.acquire() as raw:
        assert await raw.fetchval("SELECT pg_backend_pid()") == pid  # the same connection
        assert await raw.fetchval("SHOW statement_timeout") == "0"
        assert raw.is_in_transaction() is False


# Session state a pooled connection would keep now that releasing it resets nothing.
_SESSION_STATE = re.compile(
    # A statement of its own (a string's start or after a semicolon), not UPDATE's SET.
    r"""(["']|;)\s*SET\s+(?!LOCAL\b)(SESSION\s+)?\w+\s*(=|TO\b)"""
    r"|pg_advisory_lock\(|[\"']\s*(UN)?LISTEN\b|[\"']\s*DECLARE\b"
    # Our SQL is written in capitals; so "Listen on …" in a docstring is not a statement.
)


def test_no_code_leaves_session_state_on_a_pooled_connection() -> None:
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in sorted(root.glob("*/**/*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in {"tests", "bench", ".venv", "var"} or "migrations" in parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _SESSION_STATE.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    # The migration lock is a session lock on a connection of its own, closed after.
    assert found == [
        f"models/db.py:{_line_of('SELECT pg_advisory_lock($1)')}: "
        'await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)'
    ]


def _line_of(text: str) -> int:
    source = (Path(__file__).resolve().parents[2] / "models" / "db.py").read_text()
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)
