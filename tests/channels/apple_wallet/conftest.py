"""The fake APNs with a client that trusts it, for the Apple Wallet channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from channels.apple_wallet.apns import ApnsClient, ApnsCredentials
from fakes.apns import DEFAULT_KEY_ID, DEFAULT_TEAM_ID, FakeAPNs, generate_p8_key
from tests.channels.apple_wallet.pki import PASS_TYPE_ID


@pytest.fixture
async def apns() -> AsyncIterator[tuple[FakeAPNs, ApnsClient]]:
    key = generate_p8_key()
    async with FakeAPNs(topic=PASS_TYPE_ID) as fake:
        fake.register_key(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, key)
        client = ApnsClient(
            ApnsCredentials(DEFAULT_KEY_ID, DEFAULT_TEAM_ID, SecretStr(key)),
            topic=PASS_TYPE_ID,
            host="127.0.0.1",
            port=fake.port,
            ca_file=fake.ca_file,
        )
        async with client:
            yield fake, client
