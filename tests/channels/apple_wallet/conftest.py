"""The fake APNs with a client that trusts it, for the Apple Wallet channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.apple_wallet.apns import ApnsClient
from fakes.apns import FakeAPNs
from tests.channels.apple_wallet.pki import PASS_TYPE_ID


@pytest.fixture
async def apns() -> AsyncIterator[tuple[FakeAPNs, ApnsClient]]:
    async with FakeAPNs(topic=PASS_TYPE_ID) as fake:
        client = fake.make_client(fake.register_key())
        async with client:
            yield fake, client
