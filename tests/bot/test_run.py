"""``stampbot run`` as a separate process, in both modes, against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from bot.config import Settings
from bot.factory import credential_key
from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI
from loyalty.messenger_accounts import CredentialBox, connect_account
from loyalty.stamps import add_stamps
from models import Voucher
from models.enums import Platform
from tests import factories
from tests.chat import text_of
from tests.conftest import REDIS_URL, Backend
from tests.shop_bots import bot_id, new_token

# What a replica logs at the end of a round of expiry reminders that sent any.
_REMINDERS_SENT = re.compile(r"sent (\d+) voucher expiry reminders")


def _env(telegram: FakeTelegramAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAMPBOT_")}
    env |= {
        "STAMPBOT_VAR_DIR": str(tmp_path / "var"),
        "STAMPBOT_BOT_TOKEN": telegram.token,
        "STAMPBOT_TELEGRAM_API_URL": telegram.base_url,
        "STAMPBOT_BOT_USERNAME": "stampbot_test_bot",
        "STAMPBOT_LOG_LEVEL": "INFO",
        # `run` always serves the web app (message links), so never the default port.
        "STAMPBOT_WEB_PORT": str(free_port()),
    }
    return env | extra


async def _stampbot(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def _read_lines(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode())


@asynccontextmanager
async def _running(env: dict[str, str], command: str = "run") -> AsyncIterator[list[str]]:
    """The process while it runs; yields its log (stdout and stderr), read as it is written,
    so a test can wait for a line instead of sleeping."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    reader = asyncio.create_task(_read_lines(process.stdout, lines))
    try:
        yield lines
    finally:
        process.terminate()
        await asyncio.wait_for(asyncio.gather(reader, process.wait()), 30)
        output = "".join(lines)
        assert "very-secret" not in output
        # SIGTERM is a clean stop: the worker finishes its batch, connections close.
        assert process.returncode == 0, output[-2000:]


async def _wait_for(condition: object, seconds: float = 90.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_run_polls_by_default(
    telegram: FakeTelegramAPI, tmp_path: Path, fresh_state: Backend
) -> None:
    shop = await factories.merchant()
    env = _env(telegram, tmp_path, STAMPBOT_DATABASE_URL=fresh_state.url)
    user = telegram.add_user(660_001, "Polly")
    # The fake is shared by the session: the subprocess deletes the webhook, put it back after.
    saved = replace(telegram.webhook)
    telegram.webhook.url = ""
    try:
        async with _running(env):
            telegram.send_text(user, f"/start j-{shop.card.join_token}")
            await _wait_for(lambda: any(m.from_bot for m in telegram.sent_messages(user.id)))
    finally:
        telegram.webhook = saved
    reply = next(m for m in telegram.sent_messages(user.id) if m.from_bot)
    assert "Welcome to Kafe Lviv!" in text_of(reply)
    assert telegram.commands({"type": "all_private_chats"}, "uk")


async def test_run_polls_the_shops_own_bots_too(
    telegram: FakeTelegramAPI, tmp_path: Path, fresh_state: Backend
) -> None:
    """Without a public URL no webhook reaches a shop's bot: ``run`` polls it as well."""
    shop = await factories.merchant()
    key = "run-polls-shop-bots-signing-key-0123456789"
    token = new_token()
    shop_bot = telegram.bot(token, username="kafe_lviv_bot")
    box = CredentialBox(credential_key(Settings(var_dir=tmp_path, web={"signing_key": key})))
    await connect_account(
        shop.merchant.id,
        Platform.TELEGRAM,
        SecretStr(token),
        external_id=str(bot_id(token)),
        username="kafe_lviv_bot",
        box=box,
    )
    env = _env(telegram, tmp_path, STAMPBOT_DATABASE_URL=fresh_state.url)
    env["STAMPBOT_SIGNING_KEY"] = key
    user = shop_bot.add_user(660_011, "Polly")
    saved = replace(telegram.webhook)
    telegram.webhook.url = ""
    try:
        async with _running(env):
            shop_bot.send_text(user, f"/start j-{shop.card.join_token}")
            await _wait_for(lambda: any(m.from_bot for m in shop_bot.sent_messages(user.id)))
    finally:
        telegram.webhook = saved
    reply = next(m for m in shop_bot.sent_messages(user.id) if m.from_bot)
    assert "Welcome to Kafe Lviv!" in text_of(reply)
    assert [m for m in telegram.sent_messages(user.id) if m.from_bot] == []


async def test_run_serves_a_webhook_when_a_public_url_is_set(
    telegram: FakeTelegramAPI, tmp_path: Path, fresh_state: Backend
) -> None:
    """``stampbot web`` serves the same, as the replicas below show."""
    shop = await factories.merchant()
    port = free_port()
    env = _env(
        telegram,
        tmp_path,
        STAMPBOT_DATABASE_URL=fresh_state.url,
        STAMPBOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        STAMPBOT_WEB_PORT=str(port),
        STAMPBOT_WEBHOOK_SECRET="very-secret-webhook-token",
    )
    payload = f"j-{shop.card.join_token}"
    user = telegram.add_user(660_002, "Webb")
    saved = replace(telegram.webhook)
    telegram.webhook.url = ""
    try:
        async with _running(env, "run"):
            await _wait_for(lambda: telegram.webhook.url.endswith("/telegram/webhook"))
            assert telegram.webhook.secret_token == "very-secret-webhook-token"
            update = telegram.message_update(user, f"/start {payload}")
            refused = await telegram.post_update(update, secret_token="wrong")
            assert refused.status == 401
            accepted = await telegram.post_update(update)
            assert accepted.status == 200
            await _serves_wallets(f"http://127.0.0.1:{port}", shop.card.id)
    finally:
        telegram.webhook = saved
    replies = [m for m in telegram.sent_messages(user.id) if m.from_bot]
    assert "Welcome to Kafe Lviv!" in text_of(replies[0])


async def _serves_wallets(base: str, card_id: int) -> None:
    """The PassKit web service and the wallet logo Google fetches are served too."""
    async with aiohttp.ClientSession() as http:
        devices = f"{base}/passkit/v1/devices/phone-1/registrations/pass.dev.stampbot.demo"
        async with http.get(devices) as nothing_yet:
            assert nothing_yet.status == 204
        async with http.get(f"{base}/wallet/logo/{card_id}.png") as logo:
            assert (logo.status, logo.content_type) == (200, "image/png")


def _replica_envs(
    telegram: FakeTelegramAPI, tmp_path: Path, db: Backend, **extra: str
) -> list[dict[str, str]]:
    """``stampbot web`` replicas as a deployment runs them: one database, one Redis, one
    signing key, one public URL (the load balancer's), each its own port and ``var/``."""
    ports = [free_port(), free_port()]
    return [
        _env(
            telegram,
            tmp_path / f"replica{n}",
            STAMPBOT_DATABASE_URL=db.url,
            STAMPBOT_REDIS_URL=REDIS_URL,
            STAMPBOT_SIGNING_KEY="shared-signing-key-" + "k" * 24,
            STAMPBOT_PUBLIC_URL=f"http://127.0.0.1:{ports[0]}",
            STAMPBOT_WEB_PORT=str(port),
            **extra,
        )
        for n, port in enumerate(ports)
    ]


async def test_two_web_replicas_both_accept_updates_and_send_each_reminder_once(
    telegram: FakeTelegramAPI, tmp_path: Path, fresh_state: Backend
) -> None:
    """``stampbot web`` as a deployment runs it: every replica takes updates, the secret they
    derive from the shared signing key is one, and the expiry reminders both replicas find due
    go out once. One pair of processes for all of it: each start is seconds of imports."""
    shop = await factories.merchant(stamps_needed=1, validity_days=2)
    chat_id = 660_200
    membership = await factories.member(shop, telegram_id=chat_id)
    vouchers = 5
    await add_stamps(membership.id, vouchers, merchant_id=shop.merchant.id)
    envs = _replica_envs(telegram, tmp_path, fresh_state)
    users = [telegram.add_user(660_100 + n, f"Replica{n}") for n in range(len(envs))]
    # The first two reminders are held until both are waiting: a replica sends one at a
    # time, so then each replica is inside its first round of expiry reminders with all of
    # them due, however far apart the two processes finish starting.
    release = telegram.hold_next("sendMessage", times=2)

    def reminders() -> int:
        return sum(int(c.params["chat_id"]) == chat_id for c in telegram.calls("sendMessage"))

    def rounds_sent(logs: list[list[str]]) -> list[int]:
        """What each replica's finished round says it sent (each sends at least the held one)."""
        return [sum(int(n) for n in _REMINDERS_SENT.findall("".join(log))) for log in logs]

    registered = len(telegram.calls("setWebhook"))
    saved = replace(telegram.webhook)
    try:
        async with _running(envs[0], "web") as first, _running(envs[1], "web") as second:
            await _wait_for(lambda: reminders() >= 2, 90)  # both starts are slow on a busy box
            release.set()
            # Both rounds over: a second copy of any reminder would have been sent in one.
            await _wait_for(lambda: all(rounds_sent([first, second])), 60)
            assert sum(rounds_sent([first, second])) == vouchers
            # Each replica set the webhook once its web app listened.
            await _wait_for(lambda: len(telegram.calls("setWebhook")) >= registered + 2, 90)
            telegram.clear_faults()
            statuses = []
            for env, user in zip(envs, users, strict=True):
                update = telegram.message_update(user, f"/start j-{shop.card.join_token}")
                url = f"http://127.0.0.1:{env['STAMPBOT_WEB_PORT']}/telegram/webhook"
                refused = await telegram.post_update(update, url=url, secret_token="wrong")
                assert refused.status == 401
                # The secret Telegram holds is the one of the last setWebhook.
                statuses.append((await telegram.post_update(update, url=url)).status)
                await _serves_wallets(f"http://127.0.0.1:{env['STAMPBOT_WEB_PORT']}", shop.card.id)
    finally:
        release.set()
        telegram.webhook = saved
        telegram.clear_faults()

    assert reminders() == vouchers
    assert await Voucher.filter(membership_id=membership.id, expiry_reminded_at=None).count() == 0
    assert statuses == [200, 200]
    for user in users:
        replies = [m for m in telegram.sent_messages(user.id) if m.from_bot]
        # The card, then the note that brings the [My card] [Vouchers] keyboard: once each.
        assert [text_of(m).splitlines()[0] for m in replies][:1] == ["Welcome to Kafe Lviv! 🎉"]
        assert sum("Welcome to" in text_of(m) for m in replies) == 1


async def test_merchant_create_prints_links_to_the_tokens_bot_not_the_default(
    telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    env = _env(telegram, tmp_path)
    del env["STAMPBOT_BOT_USERNAME"]  # the default, stampbot_demo_bot, is some other bot

    code, out = await _stampbot(
        env, "merchant", "create", "--name", "Kafe", "--card-name", "Card", "--stamps", "5",
        "--reward", "Coffee",
    )  # fmt: skip

    assert code == 0, out
    links = [line.strip() for line in out.splitlines() if "https://t.me/" in line]
    assert len(links) == 2
    assert all(link.startswith("https://t.me/stampbot_test_bot?start=") for link in links)


async def test_a_token_telegram_refuses_stops_the_start_with_a_clear_message(
    telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    env = _env(telegram, tmp_path, STAMPBOT_BOT_TOKEN="123456:very-secret-but-wrong")

    # Side by side, as each start is seconds of imports: merchant create asks Telegram before
    # it opens the database, so it never meets the migration web runs first.
    create = ("merchant", "create", "--name", "Kafe", "--card-name", "Card", "--stamps", "5")
    created, started = await asyncio.gather(
        _stampbot(env, *create, "--reward", "Coffee"), _stampbot(env, "web")
    )

    for code, out in (created, started):
        assert code == 1
        assert "Telegram refused STAMPBOT_BOT_TOKEN (getMe: Unauthorized)" in out
        assert "very-secret" not in out
        assert "Traceback" not in out
    with sqlite3.connect(tmp_path / "var" / "stampbot.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM merchant").fetchone() == (0,)
