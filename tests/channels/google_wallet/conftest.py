"""A running fake Google (token endpoint + Wallet Objects API), a service account it knows,
and a channel pointed at it, all on one hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from channels.google_wallet import GoogleWalletChannel, GoogleWalletSettings
from fakes.google_wallet import FakeClock, FakeGoogleWallet, ServiceAccountKey
from tests.google_wallet_fixtures import google_settings

SECRET = b"0123456789abcdef-google-wallet-test-secret"
ORIGINS = ("https://stampbot.example",)


@pytest.fixture
def key(google: FakeGoogleWallet, tmp_path: Path) -> ServiceAccountKey:
    return google.new_service_account(tmp_path)


@pytest.fixture
def key_file(key: ServiceAccountKey, tmp_path: Path) -> Path:
    return tmp_path / f"{key.email}.json"


@pytest.fixture
def settings(google: FakeGoogleWallet, key_file: Path) -> GoogleWalletSettings:
    return google_settings(google, key_file, origins=ORIGINS)


@pytest.fixture
async def channel(
    settings: GoogleWalletSettings, clock: FakeClock
) -> AsyncIterator[GoogleWalletChannel]:
    async with GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as made:
        yield made
