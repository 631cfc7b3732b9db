"""The fake Bot API in a process of its own, so the engine's CPU is measured alone.

Usage: python -m fakes.telegram PORT [--strict-per-second N]
Serves until killed; ``getBenchStats`` returns the count of sends, of 429 answers and the most
sends accepted in any rolling second.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from typing import Any

from .api import FakeTelegramAPI


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--strict-per-second", type=int, default=0)
    args = parser.parse_args()
    fake = FakeTelegramAPI(port=args.port)
    # The strict limit counts arrivals by the fake's clock; a collector pause here would stamp
    # a queue of requests as arriving at once, which the real API (and a wire) would not.
    gc.disable()

    def stats(params: dict[str, Any], files: dict[str, Any]) -> dict[str, int]:
        sent = sum(1 for call in fake.calls("sendMessage") if call.ok)
        return {
            "sent": sent,
            "rate_limited": fake.rate_limited_count,
            "busiest_second": fake.busiest_second(),
        }

    fake.register_method("getBenchStats", stats)
    async with fake:
        if args.strict_per_second:
            fake.enable_rate_limit(per_second=args.strict_per_second)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
