"""The committed migrations must describe the models exactly, for both dialects."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models.db import MIGRATIONS_DIR
from tests.conftest import _pg_admin

URLS = {
    "sqlite": "sqlite://:memory:",
    "postgres": "postgres://postgres@127.0.0.1:5432/test",
}


@pytest.mark.parametrize("dialect", sorted(URLS))
def test_models_need_no_new_migration(dialect: str, tmp_path: Path) -> None:
    location = tmp_path / dialect
    shutil.copytree(MIGRATIONS_DIR / dialect, location)
    before = sorted(p.name for p in (location / "models").glob("*.py"))
    script = (
        "import asyncio, sys; from models.db import make_migration; "
        "print(repr(asyncio.run(make_migration(sys.argv[1], 'drift', sys.argv[2]))))"
    )

    result = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", script, URLS[dialect], str(location)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert result.returncode == 0, result.stderr
    after = sorted(p.name for p in (location / "models").glob("*.py"))
    assert after == before, f"models changed without a migration: run `make migrations`\n{result}"


@pytest.mark.parametrize("dialect", sorted(URLS))
def test_a_customer_wide_opt_out_becomes_one_per_shop_of_theirs(
    dialect: str, tmp_path: Path
) -> None:
    """Nobody who said no before the upgrade hears from any of their shops after it."""
    if dialect == "sqlite":
        url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    else:
        url = URLS["postgres"].rsplit("/", 1)[0] + f"/stampbot_optout_{secrets.token_hex(4)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
    try:
        result = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
            [sys.executable, "-m", "tests.models.opt_out_migration", url, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        if dialect == "postgres":
            name = url.rsplit("/", 1)[1]
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    ids = seen["ids"]
    # The customer with cards at the café and the bakery: one row per shop; the florist, where
    # they hold no card, and the customer with no card at all, get none.
    assert seen["rows"] == [
        [ids["customer"], ids["cafe"], "email"],
        [ids["customer"], ids["bakery"], "email"],
    ]
