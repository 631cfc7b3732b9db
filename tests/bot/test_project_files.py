"""What a fresh clone brings: which system packages each make target installs, the license."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(target: str) -> str:
    """The commands ``make target`` would run on a fresh clone (-B: as if nothing was built)."""
    make = shutil.which("make")
    assert make is not None
    done = subprocess.run(  # noqa: S603 - make, on our own Makefile
        [make, "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("target", ["install", "demo", "run"])
def test_running_the_product_installs_no_browser(target: str) -> None:
    commands = _dry_run(target)

    assert "fonts-dejavu-core fonts-noto-ui-core fonts-noto-color-emoji" in commands
    assert "chromium" not in commands
    assert "spamassassin" not in commands


@pytest.mark.parametrize("target", ["test-sqlite", "test-postgres"])
def test_the_tests_bring_the_browser_they_drive(target: str) -> None:
    commands = _dry_run(target)

    assert "chromium chromium-driver spamassassin" in commands
    assert "fonts-noto-color-emoji" in commands


def test_the_two_suites_flush_redis_databases_of_their_own() -> None:
    commands = _dry_run("test")

    suites = [line for line in commands.splitlines() if "pytest --db" in line]
    assert len(suites) == 2
    databases = {line.split("STAMPBOT_TEST_REDIS_URL=")[1].split()[0] for line in suites}
    assert len(databases) == 2


def test_the_project_is_agpl_licensed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text()

    assert project["license"] == "AGPL-3.0-or-later"
    assert text.split("\n", 2)[:2] == [
        " " * 20 + "GNU AFFERO GENERAL PUBLIC LICENSE",
        " " * 23 + "Version 3, 19 November 2007",
    ]
    assert "13. Remote Network Interaction" in text
