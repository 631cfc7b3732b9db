"""APNs throughput: Wallet pushes per second from stampbot's client over one HTTP/2
connection to the loopback APNs (in its own process), against one push at a time on the same
connection as the baseline measured in the same run (target ≥ 2,000 pushes/s).

Run: ``make bench`` or ``.venv/bin/python bench/apns_throughput.py [--pushes N]``. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
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


async def _pushes_per_second(client: ApnsClient, tokens: list[str], concurrent: bool) -> float:
    started = time.perf_counter()
    if concurrent:
        results = await asyncio.gather(*(client.push(t) for t in tokens))
    else:
        results = [await client.push(t) for t in tokens]
    elapsed = time.perf_counter() - started
    refused = [r for r in results if r.outcome != ApnsOutcome.DELIVERED]
    assert not refused, refused[:3]
    return len(tokens) / elapsed


async def run(found: dict[str, str], pushes: int) -> None:
    client = ApnsClient(
        ApnsCredentials(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, SecretStr(found["key"])),
        topic=TOPIC,
        host="127.0.0.1",
        port=int(found["port"]),
        ca_file=Path(found["ca"]),
    )
    async with client:
        tokens = [_token(n) for n in range(pushes)]
        await _pushes_per_second(client, tokens[:50], concurrent=True)  # warm up
        one_by_one = await _pushes_per_second(client, tokens[: max(200, pushes // 20)], False)
        multiplexed = await _pushes_per_second(client, tokens, concurrent=True)
    figures = Figures("apns_throughput")
    figures.add(
        "APNs pushes/s, one HTTP/2 connection",
        multiplexed,
        "/s",
        baseline=one_by_one,
        baseline_name="one push at a time",
        target=">= 2000/s",
        met=multiplexed >= 2000,
    )
    figures.save()
    print(
        f"APNs: {pushes:,} pushes over one connection at {multiplexed:,.0f}/s (target ≥ 2,000/s); "
        f"baseline one at a time {one_by_one:,.0f}/s; ratio {multiplexed / one_by_one:.1f}×"
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
        asyncio.run(run(json.loads(child.stdout.readline()), pushes))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
