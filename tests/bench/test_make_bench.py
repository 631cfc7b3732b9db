"""``make bench`` runs every bench script (one added later too, with no change to the
Makefile) and then the report; ``make bench-quick`` passes ``--quick`` to those that take it."""

from __future__ import annotations

import re

from tests.bot.test_project_files import ROOT, _dry_run

SERVING = {"figures.py", "report.py"}  # the two that serve the scripts


def _scripts_run(target: str) -> list[str]:
    commands = _dry_run(target)
    loop = re.search(r"for script in ([^;]+); do", commands)
    assert loop is not None, commands
    assert commands.index(".venv/bin/python bench/report.py") > loop.end()
    return loop.group(1).split()


def test_every_bench_script_runs_then_the_report() -> None:
    scripts = sorted(f"bench/{p.name}" for p in (ROOT / "bench").glob("*.py"))

    assert _scripts_run("bench") == [s for s in scripts if s.split("/")[1] not in SERVING]
    assert _scripts_run("bench-quick") == _scripts_run("bench")


def test_quick_mode_goes_to_the_scripts_that_take_it() -> None:
    takes_quick = """grep -q -- '"--quick"' $script; then args=--quick"""

    assert f'[ -n "quick" ] && {takes_quick}' in _dry_run("bench-quick")
    assert f'[ -n "" ] && {takes_quick}' in _dry_run("bench")
    for name in ("ledger.py", "broadcast.py", "webhook.py", "automation_scheduler.py"):
        assert '"--quick"' in (ROOT / "bench" / name).read_text(), name
