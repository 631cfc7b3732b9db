from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram import Router
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from pydantic import SecretStr, ValidationError
from redis.asyncio import Redis

from bot.config import Settings
from bot.factory import (
    bot_runtime,
    build_bot,
    build_fsm_storage,
    telegram_username,
    webhook_secret,
)
from fakes.telegram import FakeTelegramAPI
from tests.conftest import REDIS_URL


async def test_without_redis_conversations_live_in_memory() -> None:
    storage = build_fsm_storage(Settings(redis={"url": None}))

    assert isinstance(storage, MemoryStorage)
    await storage.close()


async def test_with_redis_a_conversation_survives_a_new_storage_instance(
    redis_client: Redis,
) -> None:
    """What a restart or a second replica sees: the state written by the first one."""
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    first = build_fsm_storage(Settings(redis={"url": REDIS_URL}))
    assert isinstance(first, RedisStorage)
    await first.set_state(key, "CampaignWizard:push_text")
    await first.set_data(key, {"card_id": 7})
    await first.close()

    second = build_fsm_storage(Settings(redis={"url": REDIS_URL}))
    try:
        assert await second.get_state(key) == "CampaignWizard:push_text"
        assert await second.get_data(key) == {"card_id": 7}
    finally:
        await second.close()
    assert await redis_client.exists("fsm:1:42:42:default:state") == 1


def test_replicas_sharing_the_signing_key_derive_one_webhook_secret(tmp_path: Path) -> None:
    key = SecretStr("shared-signing-key-" + "k" * 24)
    first = webhook_secret(Settings(web={"signing_key": key}, var_dir=tmp_path / "a"))
    second = webhook_secret(Settings(web={"signing_key": key}, var_dir=tmp_path / "b"))
    other = webhook_secret(Settings(web={"signing_key": SecretStr("another-key-" + "x" * 24)}))
    configured = webhook_secret(
        Settings(web={"signing_key": key, "webhook_secret": SecretStr("set-by-me")})
    )

    assert first == second != other
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first)
    assert key.get_secret_value() not in first
    assert configured == "set-by-me"


def test_processes_creating_the_signing_key_at_once_agree_on_one(tmp_path: Path) -> None:
    """Replicas sharing one var/ without STAMPBOT_SIGNING_KEY: each start may find no key file."""
    go = tmp_path / "go"
    # Each process imports first, then waits for the start signal, so all look for the key
    # file in the same millisecond.
    script = (
        "import sys, time; from pathlib import Path; from bot.config import Settings; "
        "from bot.factory import webhook_secret; settings = Settings(var_dir=Path(sys.argv[1])); "
        "print('ready', flush=True)\n"
        "while not Path(sys.argv[2]).exists(): time.sleep(0.0005)\n"
        "print(webhook_secret(settings))"
    )
    runs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-c", script, str(tmp_path / "var"), str(go)],
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")},
        )
        for _ in range(6)
    ]
    for run in runs:
        assert run.stdout is not None
        assert run.stdout.readline() == "ready\n"
    go.touch()
    secrets = {run.communicate(timeout=60)[0] for run in runs}

    assert len(secrets) == 1
    key_file = tmp_path / "var" / "signing.key"
    assert len(key_file.read_bytes()) == 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["signing.key"]
    assert all(run.returncode == 0 for run in runs)


@pytest.mark.parametrize("value", ["", "with space", "ключ", "x" * 257])
def test_a_webhook_secret_telegram_would_refuse_is_a_settings_error(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(web={"webhook_secret": SecretStr(value)})

    assert value not in str(raised.value) or value == ""


async def test_pass_qr_codes_open_the_bot_telegram_names_for_the_token(
    telegram: FakeTelegramAPI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """STAMPBOT_BOT_USERNAME is left at the demo default, or set to another bot by mistake."""

    def settings(**username: str) -> Settings:
        telegram_settings = {"token": telegram.token, "api_url": telegram.base_url}
        return Settings(var_dir=tmp_path, telegram=telegram_settings | username)

    # The routers are module singletons that the session's runtime holds already.
    monkeypatch.setattr("bot.dispatcher.get_routers", lambda: [Router()])
    with caplog.at_level(logging.WARNING):
        async with bot_runtime(settings()) as runtime:
            default = runtime.wallets.passes.barcode_message("t0ken")
        assert caplog.text == ""
        async with bot_runtime(settings(username="someone_elses_bot")) as runtime:
            mistaken = runtime.wallets.passes.barcode_message("t0ken")

    assert default == mistaken == "https://t.me/stampbot_test_bot?start=m-t0ken"
    assert "STAMPBOT_BOT_USERNAME=someone_elses_bot is ignored" in caplog.text
    assert "@stampbot_test_bot" in caplog.text


async def test_an_unreachable_bot_api_stops_the_start_with_where_it_looked() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    token = "123456:very-secret-token"
    settings = Settings(telegram={"token": SecretStr(token), "api_url": closed})

    async with build_bot(settings.telegram) as bot:
        with pytest.raises(SystemExit) as stopped:
            await telegram_username(bot, settings.telegram)

    message = str(stopped.value)
    assert message.startswith(f"could not ask {closed} who this bot is (getMe: ")
    assert "very-secret" not in message
