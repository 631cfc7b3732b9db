"""Real ``python -m bot`` processes for the tests that need several: their environment (this
run's database, Redis and fake Bot API) and their start."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fakes.telegram import FakeTelegramAPI
from tests.conftest import REDIS_URL, Backend


def process_env(
    db: Backend, telegram: FakeTelegramAPI, tmp_path: Path, **extra: str
) -> dict[str, str]:
    """The environment of a stampbot process of this test: no STAMPBOT_ setting of the
    machine leaks in, ``extra`` adds or overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")}
    return env | {
        "STAMPBOT_DATABASE_URL": db.url,
        "STAMPBOT_REDIS_URL": REDIS_URL,
        "STAMPBOT_BOT_TOKEN": telegram.token,
        "STAMPBOT_TELEGRAM_API_URL": telegram.base_url,
        "STAMPBOT_VAR_DIR": str(tmp_path / "var"),
        "STAMPBOT_LOG_LEVEL": "WARNING",
        "STAMPBOT_SIGNING_KEY": "k" * 32,
        **extra,
    }


async def spawn(command: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """``python -m bot <command>``; its log (stderr) is kept for the test to read."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
