"""The committed migrations must describe the models exactly, for both dialects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models.db import MIGRATIONS_DIR

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
