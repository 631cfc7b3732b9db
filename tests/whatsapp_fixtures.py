"""A running fake WhatsApp Cloud API on a hand-moved clock, and the API client and channel
pointed at it (tests import the builders; the fixtures are found through ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from channels.ratelimit import MemoryRateLimiter, Rate, RateLimiter
from channels.whatsapp.api import WhatsAppApi
from channels.whatsapp.channel import WhatsAppChannel
from fakes.clock import FakeClock
from fakes.whatsapp import FakeWhatsApp

WA_FAST = Rate(1000, 50)


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
