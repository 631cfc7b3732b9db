"""A running fake Viber, and the API client and channel pointed at it (tests import the
builders; the fixtures are found through ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from pydantic import SecretStr
from redis.asyncio import Redis

from channels.ratelimit import MemoryRateLimiter, Rate
from channels.viber.api import ViberApi
from channels.viber.channel import ViberChannel
from channels.viber.render import Sender
from channels.viber.replies import ViberReplies
from conversation.screen import Conversation
from fakes.loopback import HOST, free_port
from fakes.viber import FakeViber
from web.replay import ReplayGuard
from web.viber import VIBER_WEBHOOK_PATH, ViberWebhook, setup_viber_routes

FAST = Rate(1000, 50)
SENDER = Sender("Corner Café", "https://cafe.example/avatar.jpg")


@pytest.fixture
async def viber() -> AsyncIterator[FakeViber]:
    async with FakeViber() as fake:
        yield fake


@pytest.fixture
async def viber_api(viber: FakeViber) -> AsyncIterator[ViberApi]:
    api = ViberApi(SecretStr(viber.auth_token), base_url=viber.api_url, timeout=5)
    yield api
    await api.close()


def viber_channel(api: ViberApi, *, broadcast: bool = False, rate: Rate = FAST) -> ViberChannel:
    """A channel on ``api`` with an in-process limiter fast enough not to slow a test."""
    return ViberChannel(api, MemoryRateLimiter(), sender=SENDER, rate=rate, broadcast=broadcast)


@asynccontextmanager
async def serving_viber_webhook(
    viber: FakeViber, api: ViberApi, conversation: Conversation, redis: Redis
) -> AsyncIterator[str]:
    """Our Viber webhook on a loopback port with ``conversation`` behind it, answering through
    ``api``; yields the URL the fake posts its callbacks to."""
    app = web.Application()
    setup_viber_routes(
        app,
        ViberWebhook(
            auth_token=SecretStr(viber.auth_token),
            conversation=conversation,
            replies=ViberReplies(api, SENDER),
            replay=ReplayGuard(redis, "test:viber:seen:", 60),
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    try:
        yield f"http://{HOST}:{port}{VIBER_WEBHOOK_PATH}"
    finally:
        await runner.cleanup()
