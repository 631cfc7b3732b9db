"""Telegram's webhook answers only calls that carry the secret token set with ``setWebhook``:
anything else is a 401 before the body is read, and nothing is done for it."""

from __future__ import annotations

import aiohttp
import pytest

from fakes.telegram import FakeTelegramAPI
from models import Membership
from tests import factories
from tests.chat import WEBHOOK_SECRET
from tests.web_probe import database_snapshot

pytestmark = pytest.mark.usefixtures("fresh_state")


async def test_an_update_without_the_secret_is_401_and_changes_nothing(
    telegram: FakeTelegramAPI, webhook_url: str
) -> None:
    shop = await factories.merchant()
    user = telegram.add_user(881_001, "Mallory")
    update = telegram.message_update(user, f"/start j-{shop.card.join_token}")
    sent_before = len(telegram.calls("sendPhoto"))
    rows = await database_snapshot()

    missing = await telegram.post_update(update, url=webhook_url, secret_token=None)
    wrong = await telegram.post_update(update, url=webhook_url, secret_token="guess")

    assert (missing.status, wrong.status) == (401, 401)
    assert await database_snapshot() == rows
    assert len(telegram.calls("sendPhoto")) == sent_before


@pytest.mark.parametrize(
    "secret",
    [
        "",
        WEBHOOK_SECRET[:-1],
        WEBHOOK_SECRET + "0",
        WEBHOOK_SECRET.upper(),
        WEBHOOK_SECRET[:-1] + "X",
        WEBHOOK_SECRET[1:] + WEBHOOK_SECRET[0],
    ],
    ids=["empty", "one-short", "one-more", "upper-case", "last-changed", "rotated"],
)
async def test_a_near_miss_of_the_secret_is_refused_and_the_bot_says_nothing(
    telegram: FakeTelegramAPI, webhook_url: str, secret: str
) -> None:
    shop = await factories.merchant()
    user = telegram.add_user(881_002, "Mallory")
    update = telegram.message_update(user, f"/start j-{shop.card.join_token}")
    calls_before = len(telegram.calls())
    rows = await database_snapshot()

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        ) as response,
    ):
        assert response.status == 401
        assert await response.text() == "Unauthorized"

    assert await database_snapshot() == rows
    assert telegram.calls()[calls_before:] == []
    # The same update with the secret is handled: the refusal was the secret's alone.
    accepted = await telegram.post_update(update, url=webhook_url)
    assert accepted.status == 200
    assert await Membership.all().count() == 1


async def test_the_real_webhook_registration_uses_the_secret(
    telegram: FakeTelegramAPI, webhook_url: str
) -> None:
    assert telegram.webhook.url == webhook_url
    assert telegram.webhook.secret_token == WEBHOOK_SECRET
