"""The operator's view: liveness, readiness with its real checks, and the metrics a scrape
reads from the web app and from a worker process."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from tortoise import Tortoise

from bot.app import BotRuntime, readiness_checks
from campaigns.audience import snapshot
from campaigns.metrics import refresh
from campaigns.sql import Params, is_postgres
from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI
from models import Delivery
from models.db import schema_is_current
from models.enums import Channel, DeliveryStatus
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from tests.chat import Chat
from tests.conftest import Backend
from tests.processes import process_env, spawn
from web.app import WEBHOOK_PATH
from web.ops import Check, setup_ops_routes


@pytest.fixture
async def serve() -> AsyncIterator[object]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    assert match is not None, f"{name} {labels} not in the scrape"
    return float(match.group(1))


async def test_readiness_asks_the_database_migrations_and_redis(
    runtime: BotRuntime, db: Backend, serve: object
) -> None:
    app = web.Application()
    setup_ops_routes(app, checks=readiness_checks(runtime))
    base = await serve(app)  # type: ignore[operator]
    assert await get(f"{base}/healthz") == (200, '{"ok": true}')
    status, body = await get(f"{base}/readyz")
    assert status == 200
    assert body == '{"database": "ok", "migrations": "ok", "redis": "ok"}'


async def test_a_database_behind_the_newest_migration_is_not_ready(db: Backend) -> None:
    conn = Tortoise.get_connection("default")
    newest = (await conn.execute_query_dict("SELECT MAX(id) AS id FROM aerich"))[0]["id"]
    p = Params(is_postgres(conn))
    sql = f"SELECT version FROM aerich WHERE id = {p(int(newest))}"  # noqa: S608
    version = (await conn.execute_query_dict(sql, p.values))[0]["version"]

    async def set_version(value: str) -> None:
        p = Params(is_postgres(conn))
        sql = f"UPDATE aerich SET version = {p(value)} WHERE id = {p(int(newest))}"  # noqa: S608
        await conn.execute_query(sql, p.values)

    assert await schema_is_current()
    await set_version("gone")
    try:
        assert not await schema_is_current()
    finally:
        await set_version(version)
    assert await schema_is_current()


async def test_a_failing_or_hanging_check_is_named_without_its_error(serve: object) -> None:
    async def broken() -> bool:
        raise ConnectionRefusedError("redis://:secret@10.0.0.5:6379 refused")

    async def hangs() -> bool:
        await asyncio.sleep(60)
        return True

    async def fine() -> bool:
        return True

    checks: dict[str, Check] = {"database": fine, "redis": broken, "migrations": hangs}
    app = web.Application()
    setup_ops_routes(app, checks=checks)
    base = await serve(app)  # type: ignore[operator]
    status, body = await get(f"{base}/readyz")
    assert status == 503
    assert body == '{"database": "ok", "redis": "failing", "migrations": "failing"}'
    assert "secret" not in body


async def test_the_web_apps_metrics_count_webhooks_sends_and_the_queue(
    chat: Chat, db: Backend
) -> None:
    base = chat.url.removesuffix(WEBHOOK_PATH)
    _, before = await get(f"{base}/metrics")
    updates_before = sample(before, "stampbot_webhook_seconds_count")
    sent_before = _or_zero(before, "stampbot_deliveries_total", channel="telegram", result="sent")
    await chat.send("/help")
    await chat.send("/card")

    shop = await factories.merchant()
    await audience(shop, 3)
    await snapshot((await started(shop, Channel.TELEGRAM)).id)
    _, queued = await get(f"{base}/metrics")
    assert sample(queued, "stampbot_delivery_queue", channel="telegram") == 3
    await worker(ScriptedChannel("telegram")).tick()
    _, after = await get(f"{base}/metrics")
    assert sample(after, "stampbot_webhook_seconds_count") == updates_before + 2
    assert sample(after, "stampbot_deliveries_total", channel="telegram", result="sent") == (
        sent_before + 3
    )
    assert sample(after, "stampbot_delivery_queue", channel="telegram") == 0
    assert sample(after, "stampbot_automation_enrolments_due") == 0


def _or_zero(text: str, name: str, **labels: str) -> float:
    try:
        return sample(text, name, **labels)
    except AssertionError:
        return 0.0


async def test_a_worker_process_serves_its_own_metrics(
    db: Backend, telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    if not db.is_postgres:
        pytest.skip("a worker process shares the database only on the PostgreSQL server")
    port = free_port()
    env = process_env(db, telegram, tmp_path, STAMPBOT_DELIVERY_METRICS_PORT=str(port))
    shop = await factories.merchant()
    await audience(shop, 2, first_id=41_000)
    await started(shop, Channel.TELEGRAM)
    process = await spawn("worker", env)
    try:
        text = ""
        for _ in range(300):
            await asyncio.sleep(0.1)
            try:
                _, text = await get(f"http://127.0.0.1:{port}/metrics")
            except aiohttp.ClientConnectionError:
                continue
            if "stampbot_deliveries_total{" in text:
                break
        assert sample(text, "stampbot_deliveries_total", channel="telegram", result="sent") == 2
        assert sample(text, "stampbot_delivery_queue", channel="telegram") == 0
        assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
    finally:
        process.terminate()
        await process.wait()


async def test_refresh_sets_the_queue_per_channel_and_empties_it(db: Backend) -> None:
    shop = await factories.merchant()
    await audience(shop, 2)
    await snapshot((await started(shop, Channel.TELEGRAM)).id)
    await refresh()
    from campaigns.metrics import QUEUE

    assert QUEUE.labels(channel="telegram")._value.get() == 2
    await Delivery.all().update(status=DeliveryStatus.SENT)
    await refresh()
    assert QUEUE.labels(channel="telegram")._value.get() == 0
