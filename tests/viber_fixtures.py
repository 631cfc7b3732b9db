"""A running fake Viber, and the API client and channel pointed at it (tests import the
builders; the fixtures are found through ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from channels.ratelimit import MemoryRateLimiter, Rate
from channels.viber.api import ViberApi
from channels.viber.channel import ViberChannel
from channels.viber.render import Sender
from fakes.viber import FakeViber

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
