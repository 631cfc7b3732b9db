"""The Viber and WhatsApp webhooks as a shop runs them: a real ``web`` process configured only
through its environment, the fakes calling it like the platforms do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI, visible
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from loyalty.tokens import LinkKind, payload
from models import Identity
from models.enums import Platform
from tests import factories
from tests.conftest import Backend
from tests.processes import process_env, spawn

VERIFY = "verify-me-0123456789"


async def _up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            await asyncio.sleep(0.1)
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                continue
    raise AssertionError("the web process did not come up")


async def test_a_web_process_answers_viber_and_whatsapp_customers(
    db: Backend,
    telegram: FakeTelegramAPI,
    viber: FakeViber,
    whatsapp: FakeWhatsApp,
    tmp_path: Path,
) -> None:
    if not db.is_postgres:
        pytest.skip("a second process shares the database only on the PostgreSQL server")
    shop = await factories.merchant("Kafe Lviv")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(
        db, telegram, tmp_path,
        STAMPBOT_WEB_HOST="127.0.0.1", STAMPBOT_WEB_PORT=str(port),
        STAMPBOT_VIBER_AUTH_TOKEN=viber.auth_token, STAMPBOT_VIBER_URI="kafelviv",
        STAMPBOT_VIBER_API_URL=viber.api_url,
        STAMPBOT_WHATSAPP_ACCESS_TOKEN=whatsapp.access_token,
        STAMPBOT_WHATSAPP_PHONE_NUMBER_ID=whatsapp.phone_number_id,
        STAMPBOT_WHATSAPP_NUMBER="972501234567",
        STAMPBOT_WHATSAPP_APP_SECRET=whatsapp.app_secret,
        STAMPBOT_WHATSAPP_VERIFY_TOKEN=VERIFY,
        STAMPBOT_WHATSAPP_API_URL=whatsapp.base_url,
    )  # fmt: skip
    process = await spawn("web", env)
    try:
        await _up(base)
        join = payload(LinkKind.JOIN, shop.card.join_token)
        olena = viber.add_user("Olena", subscribed=False, language="uk")
        opened = await viber.user_opens(olena, context=join, url=f"{base}/viber/webhook")
        assert opened.status == 200
        assert visible(opened.json()["text"]).startswith("Вітаємо в Kafe Lviv!")
        forged = await viber.post_callback(
            viber.conversation_started(olena), url=f"{base}/viber/webhook", signature="0" * 64
        )
        assert forged.status == 403

        async with aiohttp.ClientSession() as http:
            query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "42"}
            async with http.get(f"{base}/whatsapp/webhook", params=query) as handshake:
                assert (handshake.status, await handshake.text()) == (200, "42")
        whatsapp.add_user("972541112233", "Dana")
        whatsapp.webhook_url = f"{base}/whatsapp/webhook"
        said = await whatsapp.user_says("972541112233", f"Hi! {join}")
        assert said.status == 200
        texts = visible(" ".join(whatsapp.texts("972541112233")))
        assert "Welcome to Kafe Lviv!" in texts
        assert await Identity.filter(platform=Platform.VIBER).count() == 1
        assert await Identity.filter(platform=Platform.WHATSAPP).count() == 1
    finally:
        process.terminate()
        stderr = (await process.communicate())[1].decode()
    assert viber.auth_token not in stderr
    assert whatsapp.app_secret not in stderr
