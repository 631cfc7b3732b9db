"""Fixtures for a running fake Google on a hand-moved clock; conftests import them by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakes.google_wallet import FakeClock, FakeGoogleWallet


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def google(clock: FakeClock) -> AsyncIterator[FakeGoogleWallet]:
    async with FakeGoogleWallet(clock=clock) as fake:
        yield fake
