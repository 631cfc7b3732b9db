"""Fixtures for Apple passes, shared by the channel, wallets and web tests; registered as a
plugin by the root conftest: the tests' own certificate chain, a ``WalletPasses`` wired to it,
the web app serving the PassKit web service on a real port, and the fake APNs wired into the
running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web
from pydantic import SecretStr

from bot.app import BotRuntime
from bot.config import Settings
from channels.apple_wallet.signing import PassSigner
from fakes.apns import FakeAPNs, generate_p8_key
from loyalty.links import LinkSigner
from tests.channels.apple_wallet.pki import KEY_PASSWORD, PASS_TYPE_ID, TEAM_ID, Chain, make_chain
from wallets.apple_passes import WalletPasses
from web.app import build_web_app

BOT = "stampbot_test_bot"
BASE_URL = "https://stamps.example"


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return make_chain(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def pass_signer(chain: Chain) -> PassSigner:
    return PassSigner.from_files(
        chain.pass_pem, chain.pass_key_pem, chain.wwdr_pem, SecretStr(KEY_PASSWORD)
    )


@pytest.fixture
def link_signer() -> LinkSigner:
    return LinkSigner(b"k" * 32, BASE_URL)


@pytest.fixture
def passes_dir(tmp_path: Path) -> Path:
    return tmp_path / "passes"


@pytest.fixture
def wallet(pass_signer: PassSigner, link_signer: LinkSigner, passes_dir: Path) -> WalletPasses:
    return WalletPasses(
        pass_type_identifier=PASS_TYPE_ID,
        team_identifier=TEAM_ID,
        base_url=BASE_URL,
        signer=pass_signer,
        link_signer=link_signer,
        bot_username=BOT,
        passes_dir=passes_dir,
    )


@pytest.fixture
async def passkit_service(wallet: WalletPasses) -> AsyncIterator[str]:
    """The whole web app with the service mounted, on a real port; yields the webServiceURL."""
    app = build_web_app(Dispatcher(), Bot("42:TEST"), webhook_secret=None, wallet_passes=wallet)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/passkit"
    await runner.cleanup()


@pytest.fixture
def apns_key() -> str:
    """The APNs auth key (the .p8 file's PEM) the running bot signs provider tokens with."""
    return generate_p8_key()


@pytest.fixture
async def apns(
    runtime: BotRuntime, bot_settings: Settings, apns_key: str
) -> AsyncIterator[FakeAPNs]:
    """APNs configured for the running bot (the fake APNs, trusting ``apns_key``), for one test.

    The Apple Wallet channel's own tests have a bare fake and client under the same name in
    their conftest, which pytest prefers there."""
    async with FakeAPNs(topic=bot_settings.apple_wallet.pass_type_id) as fake:
        fake.register_key(key=apns_key)
        client = fake.make_client(apns_key)
        runtime.wallets.apns = client
        try:
            yield fake
        finally:
            runtime.wallets.apns = None
            await client.close()
