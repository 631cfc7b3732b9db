"""A scheduler process that kills itself with SIGKILL in the middle of firing a send step:
after the delivery rows are written, before the transaction commits. Run by the crash test.

Usage: python -m tests.automations.dying_worker <database url> <iso now>
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime
from typing import Any

from automations.engine import Scheduler
from models.db import close_db, init_db


async def main(url: str, now: datetime) -> None:
    await init_db(url)
    original = Scheduler._deliveries

    async def deliver_then_die(self: Scheduler, *args: Any, **kwargs: Any) -> None:
        await original(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    Scheduler._deliveries = deliver_then_die  # type: ignore[method-assign]
    try:
        await Scheduler("dying").tick(now)
    finally:
        await close_db()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2])))
