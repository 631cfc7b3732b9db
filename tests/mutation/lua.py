"""Hand-made mutants of the Lua limiter scripts, which mutmut does not mutate (they are strings).

``python -m tests.mutation.lua`` runs the Redis limiter tests once unmutated (they must pass)
and once per mutant; a mutant is killed when they fail. As a pytest plugin
(``-p tests.mutation.lua`` with ``STAMPBOT_LUA_MUTANT=L3``) it swaps one script for its mutant
before any limiter registers the scripts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from channels import ratelimit


@dataclass(frozen=True, slots=True)
class LuaMutant:
    name: str
    script: str
    original: str
    mutated: str
    what: str


MUTANTS = (
    LuaMutant("L1", "_BUCKET_SCRIPT", "if tokens >= cost", "if tokens > cost", "take at >"),
    LuaMutant(
        "L2", "_BUCKET_SCRIPT", "tokens = tokens - cost", "tokens = tokens", "nothing taken"
    ),
    LuaMutant("L3", "_BUCKET_SCRIPT", "math.min(burst,", "math.min(burst + 1,", "cap burst+1"),
    LuaMutant(
        "L4", "_BUCKET_SCRIPT", "(cost - tokens) / rate", "(cost - tokens) * rate", "wait * rate"
    ),
    LuaMutant(
        "L5",
        "_RESERVE_SCRIPT",
        "arrival = arrival + cost / per_second",
        "arrival = arrival",
        "no pacing",
    ),
    LuaMutant(
        "L6",
        "_RESERVE_SCRIPT",
        "arrival - burst / per_second - now",
        "arrival - 1 / per_second - now",
        "burst ignored in the delay",
    ),
    LuaMutant(
        "L7",
        "_RESERVE_SCRIPT",
        "if arrival < now then arrival = now end",
        "",
        "idle time credited",
    ),
    LuaMutant(
        "L8",
        "_RESERVE_SCRIPT",
        "arrival - burst / per_second - now",
        "arrival - 2 * burst / per_second - now",
        "allowance 2x burst",
    ),
    LuaMutant("L9", "_DEPART_SCRIPT", "'-inf', now - 1)", "'-inf', now - 2)", "window 2 s"),
    LuaMutant("L10", "_DEPART_SCRIPT", ") < capacity then", ") <= capacity then", "one extra"),
    LuaMutant("L11", "_DEPART_SCRIPT", "+ 1 - now", "+ 0.5 - now", "wait from 0.5 s"),
    LuaMutant("L12", "_DEPART_SCRIPT", "'-inf', now - 1)", "'-inf', now - 0.5)", "window 0.5 s"),
)

TESTS = ["tests/channels/test_ratelimit.py", "tests/handlers/test_flood.py"]


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get("STAMPBOT_LUA_MUTANT")
    if not name:
        return
    mutant = next(m for m in MUTANTS if m.name == name)
    source = getattr(ratelimit, mutant.script)
    if source.count(mutant.original) != 1:
        raise pytest.UsageError(f"{name}: {mutant.original!r} is not once in {mutant.script}")
    setattr(ratelimit, mutant.script, source.replace(mutant.original, mutant.mutated))


def _tests_pass(mutant: str | None) -> bool:
    env = dict(os.environ, STAMPBOT_TEST_DB="sqlite", STAMPBOT_LUA_MUTANT=mutant or "")
    command = [sys.executable, "-m", "pytest", "-p", "tests.mutation.lua", "-x", "-q", *TESTS]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode not in (0, 1):
        raise SystemExit(f"pytest could not run for {mutant}:\n{done.stdout}{done.stderr}")
    if mutant is None and done.returncode:
        print(done.stdout[-3000:])
    return done.returncode == 0


def main() -> int:
    if not _tests_pass(None):
        print("Lua mutants: the unmutated tests fail; fix them first")
        return 1
    survivors = [m for m in MUTANTS if _tests_pass(m.name)]
    for m in MUTANTS:
        print(f"    {m.name} {'survived' if m in survivors else 'killed'}: {m.what}")
    killed = len(MUTANTS) - len(survivors)
    print(f"Lua scripts: {killed}/{len(MUTANTS)} killed ({100 * killed / len(MUTANTS):.0f}%)")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
