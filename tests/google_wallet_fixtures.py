"""A running fake Google on a hand-moved clock, and the channel set-up every Google test
shares; conftests import the fixtures by name, test modules the builders. ``google_wallet``
wires a fake Google into the running bot instead, on the wall clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import BotRuntime
from channels.google_wallet import GoogleWalletChannel, GoogleWalletSettings
from fakes.google_wallet import FakeClock, FakeGoogleWallet

# Keys the object ids; any fixed value will do in tests.
OBJECT_ID_SECRET = b"0123456789abcdef-object-ids"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def google(clock: FakeClock) -> AsyncIterator[FakeGoogleWallet]:
    async with FakeGoogleWallet(clock=clock) as fake:
        yield fake


def google_settings(
    google: FakeGoogleWallet, key_file: Path, *, origins: tuple[str, ...] = ()
) -> GoogleWalletSettings:
    """Settings that point the channel at ``google``, signing with the key in ``key_file``."""
    return GoogleWalletSettings(
        issuer_id=google.issuer_id,
        key_file=key_file,
        api_url=google.api_url,
        token_url=google.token_url,
        origins=origins,
    )


def google_channel(
    google: FakeGoogleWallet, folder: Path, *, clock: Callable[[], float] = time.time
) -> GoogleWalletChannel:
    """A channel on ``google`` as a new service account, its key file written to ``folder``.

    ``clock`` must be the fake's: the token requests it signs are checked against it.
    """
    account = google.new_service_account(folder)
    settings = google_settings(google, folder / f"{account.email}.json")
    return GoogleWalletChannel.from_settings(settings, secret=OBJECT_ID_SECRET, clock=clock)


@pytest.fixture
async def google_wallet(runtime: BotRuntime, tmp_path: Path) -> AsyncIterator[FakeGoogleWallet]:
    """Google Wallet configured for the running bot (the fake Google), for one test; the
    service account's key file is written to the test's ``tmp_path``."""
    # The bot signs its token requests with the wall clock; so must the fake check them.
    async with FakeGoogleWallet(clock=time.time) as google:
        channel = google_channel(google, tmp_path)
        runtime.wallets.google = channel
        try:
            yield google
        finally:
            runtime.wallets.google = None
            await channel.close()
