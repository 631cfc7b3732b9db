"""APNs throughput: Wallet pushes per second from stampbot's client over one HTTP/2
connection to the loopback APNs (in its own process), against one push at a time on the same
connection as the baseline measured in the same run (target ≥ 2,000 pushes/s).

The machine is shared, so wall-clock pushes/s says as much about the neighbours as about the
client. The honest figure is CPU per push in the client's process (``time.process_time``): a
client spending at most 0.5 ms a push can send 2,000/s on one core. The fake's CPU per push is
read from /proc for the same span, to show it is not what limits the run.

Run: ``make bench`` or ``.venv/bin/python bench/apns_throughput.py [--pushes N]``. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from figures import Figures
from pydantic import SecretStr

from channels.apple_wallet.apns import ApnsClient, ApnsCredentials, ApnsOutcome
from fakes.apns import DEFAULT_KEY_ID, DEFAULT_TEAM_ID, FakeAPNs

TOPIC = "pass.com.example.bench"


def _token(n: int) -> str:
    return f"{n:064x}"


async def _serve(devices: int) -> None:
    """The child: the fake APNs with ``devices`` known tokens, until stdin closes."""
    async with FakeAPNs(topic=TOPIC, idle_timeout=600) as fake:
        key = fake.register_key()
        for n in range(devices):
            fake.add_device(_token(n))
        print(json.dumps({"port": fake.port, "ca": str(fake.ca_file), "key": key}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@dataclass(frozen=True)
class Run:
    per_second: float  # wall clock
    cpu_ms: float  # client process CPU per push
    fake_cpu_ms: float | None  # the fake's process, same span


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of process ``pid`` so far (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(client: ApnsClient, tokens: list[str], concurrent: bool, fake_pid: int) -> Run:
    fake_before = _cpu_seconds(fake_pid)
    cpu = time.process_time()
    started = time.perf_counter()
    if concurrent:
        results = await asyncio.gather(*(client.push(t) for t in tokens))
    else:
        results = [await client.push(t) for t in tokens]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    fake_after = _cpu_seconds(fake_pid)
    refused = [r for r in results if r.outcome != ApnsOutcome.DELIVERED]
    assert not refused, refused[:3]
    fake_ms = None
    if fake_before is not None and fake_after is not None:
        fake_ms = (fake_after - fake_before) * 1000 / len(tokens)
    return Run(len(tokens) / elapsed, cpu * 1000 / len(tokens), fake_ms)


async def run(found: dict[str, str], pushes: int, fake_pid: int) -> None:
    client = ApnsClient(
        ApnsCredentials(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, SecretStr(found["key"])),
        topic=TOPIC,
        host="127.0.0.1",
        port=int(found["port"]),
        ca_file=Path(found["ca"]),
    )
    async with client:
        tokens = [_token(n) for n in range(pushes)]
        await _measure(client, tokens[:50], True, fake_pid)  # warm up
        one_by_one = await _measure(client, tokens[: max(200, pushes // 20)], False, fake_pid)
        multiplexed = await _measure(client, tokens, True, fake_pid)
    figures = Figures("apns_throughput")
    figures.add(
        "APNs pushes/s, one HTTP/2 connection",
        multiplexed.per_second,
        "/s",
        baseline=one_by_one.per_second,
        baseline_name="one push at a time",
        target=">= 2000/s",
        met=multiplexed.per_second >= 2000,
    )
    figures.add(
        "APNs client CPU per push, one HTTP/2 connection",
        multiplexed.cpu_ms,
        "ms",
        baseline=one_by_one.cpu_ms,
        baseline_name="one push at a time",
        target="<= 0.5 ms (2,000/s on one core)",
        met=multiplexed.cpu_ms <= 0.5,
    )
    if multiplexed.fake_cpu_ms is not None:
        figures.add("fake APNs CPU per push (its own process)", multiplexed.fake_cpu_ms, "ms")
    figures.save()
    fake = (
        f"; the fake {multiplexed.fake_cpu_ms:.3f} ms/push in its own process"
        if multiplexed.fake_cpu_ms is not None
        else ""
    )
    print(
        f"APNs: {pushes:,} pushes over one connection at {multiplexed.per_second:,.0f}/s wall "
        f"(target ≥ 2,000/s), client CPU {multiplexed.cpu_ms:.3f} ms/push "
        f"(≈ {1000 / multiplexed.cpu_ms:,.0f}/s on one core){fake}; baseline one at a time "
        f"{one_by_one.per_second:,.0f}/s, {one_by_one.cpu_ms:.3f} ms/push; ratio "
        f"{multiplexed.per_second / one_by_one.per_second:.1f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 pushes")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
        return
    pushes = 2_000 if args.quick else args.pushes
    # The fake APNs in its own process, on the other core: the client is what is measured.
    child = subprocess.Popen(  # noqa: S603 - this interpreter, this script
        [sys.executable, __file__, "--serve", str(pushes)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        asyncio.run(run(json.loads(child.stdout.readline()), pushes, child.pid))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
