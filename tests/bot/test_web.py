"""The webhook as Telegram calls it: secret header, real update JSON, and anything else."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Customer, Membership, StampEvent, Voucher
from tests import factories
from tests.chat import WEBHOOK_SECRET, Chat, text_of
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.usefixtures("fresh_state")


async def _counts() -> tuple[int, int, int, int]:
    return (
        await Customer.all().count(),
        await Membership.all().count(),
        await StampEvent.all().count(),
        await Voucher.all().count(),
    )


async def test_an_update_without_the_secret_is_401_and_changes_nothing(
    telegram: FakeTelegramAPI, webhook_url: str
) -> None:
    shop = await factories.merchant()
    user = telegram.add_user(880_001, "Mallory")
    update = telegram.message_update(user, f"/start j-{shop.card.join_token}")
    sent_before = len(telegram.calls("sendPhoto"))

    missing = await telegram.post_update(update, url=webhook_url, secret_token=None)
    wrong = await telegram.post_update(update, url=webhook_url, secret_token="guess")

    assert (missing.status, wrong.status) == (401, 401)
    assert await _counts() == (0, 0, 0, 0)
    assert len(telegram.calls("sendPhoto")) == sent_before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'{"update_id": "x"}', b"\xff\xfe\x00", b'{"message": 5}'],
)
async def test_a_malformed_body_is_400(webhook_url: str, body: bytes) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            webhook_url,
            data=body,
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        ) as response,
    ):
        assert response.status == 400


async def test_the_real_webhook_registration_uses_the_secret(
    telegram: FakeTelegramAPI, webhook_url: str
) -> None:
    assert telegram.webhook.url == webhook_url
    assert telegram.webhook.secret_token == WEBHOOK_SECRET


async def test_a_group_message_is_ignored(chat: Chat, telegram: FakeTelegramAPI) -> None:
    group = {"id": -100_123, "type": "supergroup", "title": "Regulars"}
    telegram.add_chat(group)
    update = chat.telegram.message_update(chat.user, "/card")
    update["message"]["chat"] = group
    before = len(telegram.calls())

    delivery = await telegram.post_update(update, url=chat.url)

    assert delivery.status == 200
    assert [c.method for c in telegram.calls()[before:]] == []


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=80)
)
_json = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _fuzzed_update(
    user: dict[str, Any], text: str, extra: dict[str, Any], data: str
) -> list[dict[str, Any]]:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    message = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "from": user, "text": text}
    return [
        {"update_id": 1, "message": message},
        {"update_id": 2, "message": {**message, **extra}},
        {
            "update_id": 3,
            "callback_query": {
                "id": "77",
                "from": user,
                "chat_instance": "1",
                "data": data,
                "message": {**message, "from": {"id": 1, "is_bot": True, "first_name": "bot"}},
            },
        },
        {"update_id": 4, **extra},
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(max_size=300) | st.builds(lambda s: "/start " + s, st.text(max_size=120)),
    extra=st.dictionaries(st.sampled_from(["text", "chat", "from", "entities", "x"]), _json),
    data=st.text(max_size=100),
)
async def test_fuzzed_updates_never_give_5xx_and_never_change_state(
    telegram: FakeTelegramAPI,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    text: str,
    extra: dict[str, Any],
    data: str,
) -> None:
    user = {"id": 990_001, "is_bot": False, "first_name": "Fuzz", "language_code": "en"}
    telegram.add_user(990_001, "Fuzz")
    before = await _counts()
    async with aiohttp.ClientSession() as http:
        for update in _fuzzed_update(user, text, extra, data):
            async with http.post(
                webhook_url,
                data=json.dumps(update),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            ) as response:
                assert response.status < 500, await response.text()
    assert await _counts() == before
    said = [text_of(m) for m in telegram.sent_messages(990_001)]
    assert not [t for t in said if t.startswith("Sorry, something went")], "a handler raised"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [], errors[:3]


_OUR_PREFIXES = ("wz:", "cmp:", "adm:", "stp:", "rdm:", "apw:", "vch:", "card:", "set:")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(max_size=300) | st.sampled_from(["/campaigns", "/newcampaign", "/exit"]),
    data=st.builds(
        lambda prefix, rest: prefix + rest, st.sampled_from(_OUR_PREFIXES), st.text(max_size=60)
    ),
)
async def test_fuzzed_staff_input_in_the_middle_of_the_wizard_never_breaks_anything(
    telegram: FakeTelegramAPI,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    text: str,
    data: str,
) -> None:
    from loyalty.merchants import accept_staff_invite
    from models import Campaign, Staff

    user = {"id": 990_002, "is_bot": False, "first_name": "Boss", "language_code": "en"}
    telegram.add_user(990_002, "Boss")
    if not await Staff.exists(telegram_user_id=990_002):
        shop = await factories.merchant("Fuzz café")
        await accept_staff_invite(
            shop.owner_invite.token,
            telegram_user_id=990_002,
            display_name="Boss",
            now=factories.T0,
        )
    owner = Chat(telegram, telegram.add_user(990_002, "Boss"), webhook_url)
    await owner.send("/admin")
    await owner.send("📣 New campaign")  # the wizard waits for a card: any input may come now
    before = (await _counts(), await Campaign.all().count(), await Staff.all().count())
    async with aiohttp.ClientSession() as http:
        for update in _fuzzed_update(user, text, {}, data)[:3]:
            async with http.post(
                webhook_url,
                data=json.dumps(update),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            ) as response:
                assert response.status < 500, await response.text()
    after = (await _counts(), await Campaign.all().count(), await Staff.all().count())
    assert after == before
    crashed = [m for m in owner.new_messages() if text_of(m).startswith("Sorry, something went")]
    assert crashed == [], "a handler raised: see the log"
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_long_polling_receives_updates_through_the_same_fake(
    telegram: FakeTelegramAPI, runtime: object, webhook_url: str
) -> None:
    """Polling is the default mode: the same dispatcher, fed by getUpdates instead."""
    import asyncio

    from bot.app import BotRuntime

    assert isinstance(runtime, BotRuntime)
    shop = await factories.merchant()
    user = telegram.add_user(880_002, "Polly")
    await runtime.bot.delete_webhook()
    polling = asyncio.create_task(
        runtime.dispatcher.start_polling(runtime.bot, handle_signals=False, polling_timeout=1)
    )
    try:
        telegram.send_text(user, f"/start j-{shop.card.join_token}")
        for _ in range(100):
            if any(m.from_bot for m in telegram.sent_messages(user.id)):
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.dispatcher.stop_polling()
        await polling
        await runtime.bot.set_webhook(webhook_url, secret_token=WEBHOOK_SECRET)
    reply = telegram.sent_messages(user.id)[-1]
    assert "Welcome to Coffee card at Kafe Lviv!" in text_of(reply)
    assert await Membership.all().count() == 1
