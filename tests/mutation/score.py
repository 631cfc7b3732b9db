"""Per-module mutation score of the last ``mutmut run``, equivalent mutants excluded.

Run in the directory mutmut ran in (``make mutation`` does). Score = (killed + timed out) /
(generated - equivalent). An entry of ``equivalents.txt`` only counts while the mutant still
makes the change it names (``mutmut show``), so a renumbered mutant is never excluded by
mistake. Exits 1 if a module is below ``TARGET``.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MODULES = (
    "loyalty.stamps",
    "loyalty.vouchers",
    "loyalty.ledger",
    "campaigns.outbox",
    "channels.ratelimit",
    "loyalty.links",
)
TARGET = 95.0
DETECTED = {"killed", "timeout"}
EQUIVALENTS = Path(__file__).with_name("equivalents.txt")
MUTMUT = str(Path(sys.executable).with_name("mutmut"))


@dataclass(frozen=True, slots=True)
class Equivalent:
    name: str
    change: str
    why: str


def equivalents(path: Path = EQUIVALENTS) -> dict[str, Equivalent]:
    """``name | text of the mutated line | why`` per line; ``#`` starts a comment."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, change, why = (part.strip() for part in line.split("|", 2))
        found[name] = Equivalent(name, change, why)
    return found


def _mutmut(*args: str) -> str:
    done = subprocess.run([MUTMUT, *args], capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout


def statuses() -> dict[str, str]:
    result = {}
    for line in _mutmut("results", "--all", "true").splitlines():
        name, _, status = line.strip().partition(": ")
        if status:
            result[name] = status
    return result


def still_makes(entry: Equivalent) -> bool:
    added = [
        line[1:]
        for line in _mutmut("show", entry.name).splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return any(entry.change in line for line in added)


def module_of(name: str) -> str | None:
    return next((m for m in MODULES if name.startswith(m + ".")), None)


def main() -> int:
    known = equivalents()
    by_module: dict[str, Counter[str]] = {m: Counter() for m in MODULES}
    survivors: list[str] = []
    for name, status in sorted(statuses().items()):
        module = module_of(name)
        if module is None:
            continue
        counts = by_module[module]
        if status == "not checked":
            # Outside this run's MUTANTS selection.
            counts["not checked"] += 1
            continue
        counts["generated"] += 1
        if status in DETECTED:
            counts["detected"] += 1
        elif name in known and still_makes(known[name]):
            counts["equivalent"] += 1
        else:
            if name in known:
                print(f"stale entry in {EQUIVALENTS.name}, not excluded: {name}")
            survivors.append(f"{name}: {status}")
    print(f"{'module':22} {'run':>9} {'detected':>8} {'equiv.':>6} {'left':>5} {'score':>6}")
    below = []
    for module, c in by_module.items():
        if not c["generated"]:
            continue
        counted = c["generated"] - c["equivalent"]
        left = counted - c["detected"]
        score = 100.0 * c["detected"] / counted if counted else 100.0
        if score < TARGET:
            below.append(module)
        print(
            f"{module:22} {c['generated']:9} {c['detected']:8} {c['equivalent']:6} {left:5}"
            f" {score:5.1f}%"
        )
    unchecked = sum(c["not checked"] for c in by_module.values())
    if unchecked:
        print(f"{unchecked} mutants were not run (MUTANTS selected a subset)")
    for line in survivors:
        print(f"    survived: {line}")
    if below:
        print(f"below {TARGET:.0f}%: {', '.join(below)}")
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
