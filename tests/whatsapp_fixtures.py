"""A running fake WhatsApp Cloud API on a hand-moved clock, the API client and channel
pointed at it, and our webhook serving it (tests import the builders; the fixtures are found
through ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from pydantic import SecretStr
from redis.asyncio import Redis

from channels.ratelimit import MemoryRateLimiter, Rate, RateLimiter
from channels.whatsapp.api import WhatsAppApi
from channels.whatsapp.channel import WhatsAppChannel
from channels.whatsapp.replies import WhatsAppReplies
from conversation.screen import Conversation
from fakes.clock import FakeClock
from fakes.loopback import HOST, free_port
from fakes.whatsapp import FakeWhatsApp
from web.replay import ReplayGuard
from web.whatsapp import WHATSAPP_WEBHOOK_PATH, WhatsAppWebhook, setup_whatsapp_routes

WA_FAST = Rate(1000, 50)
VERIFY_TOKEN = "stampbot-verify-7f3a"


@pytest.fixture
def whatsapp_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def whatsapp(whatsapp_clock: FakeClock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock=whatsapp_clock) as fake:
        yield fake


@pytest.fixture
async def whatsapp_api(whatsapp: FakeWhatsApp) -> AsyncIterator[WhatsAppApi]:
    api = WhatsAppApi(
        SecretStr(whatsapp.access_token),
        whatsapp.phone_number_id,
        base_url=whatsapp.base_url,
        timeout=5,
    )
    yield api
    await api.close()


def whatsapp_channel(
    api: WhatsAppApi, *, rate: Rate = WA_FAST, limiter: RateLimiter | None = None
) -> WhatsAppChannel:
    """A channel on ``api`` with an in-process limiter fast enough not to slow a test."""
    return WhatsAppChannel(
        api, MemoryRateLimiter() if limiter is None else limiter, rate=rate, account="test"
    )


@asynccontextmanager
async def serving_whatsapp_webhook(
    whatsapp: FakeWhatsApp,
    api: WhatsAppApi,
    conversation: Conversation,
    redis: Redis,
    *,
    account: str = "",
) -> AsyncIterator[str]:
    """Our WhatsApp webhook on a loopback port with ``conversation`` behind it, answering
    through ``api``; the fake posts its signed notifications to it (``webhook_url`` is set),
    and the URL is yielded."""
    app = web.Application()
    setup_whatsapp_routes(
        app,
        WhatsAppWebhook(
            app_secret=SecretStr(whatsapp.app_secret),
            verify_token=SecretStr(VERIFY_TOKEN),
            conversation=conversation,
            replies=WhatsAppReplies(api),
            replay=ReplayGuard(redis, "test:whatsapp:seen:", 60),
            account=account,
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    whatsapp.webhook_url = f"http://{HOST}:{port}{WHATSAPP_WEBHOOK_PATH}"
    try:
        yield whatsapp.webhook_url
    finally:
        await runner.cleanup()
