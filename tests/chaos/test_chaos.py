"""The chaos run (``make chaos``) stays working: its counting, the faults the fakes inject for
it, and a short run of real workers through two of its faults, nothing lost."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from fakes.apns import FakeAPNs
from fakes.telegram import FakeTelegramAPI, Fault
from tests.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]


def _chaos() -> ModuleType:
    """bench/chaos.py as a module (bench scripts import their neighbours by bare name)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_chaos", ROOT / "bench" / "chaos.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_chaos"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "bench"))


chaos = _chaos()


def test_the_count_tells_delivered_failed_lost_and_duplicated() -> None:
    Row = chaos.Row
    rows = [
        Row(1, "telegram", "sent", None, "101"),  # got it once
        Row(2, "telegram", "sent", None, "102"),  # got it three times: two duplicates
        Row(3, "email", "failed", "address_rejected", "c@x"),  # a final failure, nothing came
        Row(4, "email", "sent", None, "d@x"),  # recorded sent, never arrived: lost
        Row(5, "apple_wallet", "sending", None, "ee"),  # still leased at the end: lost
        Row(6, "apple_wallet", "failed", "server_error", "ff"),  # failed, yet it arrived
        Row(7, "email", "skipped", "not_verified", ""),  # never meant to go: not counted
    ]
    got = Counter({("telegram", "101"): 1, ("telegram", "102"): 3, ("apple_wallet", "ff"): 1})

    counted = chaos.tally(rows, lambda channel, address: got[(channel, address)])

    assert counted.rows == 6
    assert counted.delivered == 3
    assert counted.failed == Counter({"address_rejected": 1})
    assert counted.lost == 2
    assert counted.sent_unseen == 1
    assert counted.duplicated == 2
    assert counted.failed_but_received == 1
    assert counted.skipped == Counter({"not_verified": 1})


def test_people_enrolled_without_a_delivery_row_are_found() -> None:
    assert chaos.missing_rows([5, 1, 3, 9], [3, 1, 1]) == [5, 9]


async def test_the_bot_api_fake_fails_sends_at_random_and_hangs_up_after_delivering() -> None:
    async with FakeTelegramAPI() as fake, fake.make_bot() as bot:
        plan = fake.fail_at_random(0.5, (Fault(status=429, retry_after=1),), seed=3)
        outcomes = []
        for n in range(40):
            try:
                await bot.send_message(500 + n, "hello")
                outcomes.append("ok")
            except Exception as error:
                outcomes.append(type(error).__name__)
        fake.clear_faults()
        fake.hang_up_next("sendMessage")
        with pytest.raises(Exception, match="Server disconnected"):
            await bot.send_message(900, "are you there?")

        assert plan.taken["429"] == outcomes.count("TelegramRetryAfter") > 5
        assert outcomes.count("ok") == 40 - plan.taken["429"] > 5
        assert len(fake.sent_messages()) == outcomes.count("ok") + 1
        assert [m.text for m in fake.sent_messages(900)] == ["are you there?"]


async def test_the_apns_fake_refuses_pushes_at_random_or_answers_too_late() -> None:
    async with FakeAPNs() as fake:
        key = fake.register_key()
        tokens = [fake.add_device() for _ in range(40)]
        plan = fake.fail_at_random(0.5, ((503, "ServiceUnavailable"),), late_by=2.0, seed=5)
        async with fake.make_client(key) as client:
            client._timeout = 0.5  # the late answers come past it
            results = await asyncio.gather(*(client.push(t) for t in tokens))
        reasons = Counter(r.reason for r in results)

        assert plan.taken["503"] == reasons["ServiceUnavailable"] > 3
        assert plan.taken["late"] == reasons["timeout"] > 3
        # A late answer still delivered the push; a refused one did not.
        assert len(fake.pushes) == 40 - plan.taken["503"]


def test_a_short_chaos_run_loses_nothing(backend: Backend, tmp_path: Path) -> None:
    if not backend.is_postgres:
        pytest.skip("the chaos run terminates PostgreSQL connections: PostgreSQL only")
    phases = "PG terminate,timeouts"
    run = subprocess.run(  # noqa: S603 - this interpreter, the bench script
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--messages", "200",
         "--workers", "1", "--phases", phases, "--figures", str(tmp_path)],
        capture_output=True, text=True, timeout=170, cwd=ROOT, check=False,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = {
        row["name"]: row for row in json.loads((tmp_path / "chaos.json").read_text())["figures"]
    }
    for fault in phases.split(","):
        assert figures[f"chaos, {fault}: lost"]["value"] == 0
        assert figures[f"chaos, {fault}: lost"]["baseline"] > 100  # rows were counted
        duplicated = figures[f"chaos, {fault}: duplicated"]
        assert duplicated["value"] <= duplicated["baseline"]
    assert "connections terminated" in run.stdout
