"""Database set-up details that protect people: file modes, and what the DEBUG log may say."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path


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
