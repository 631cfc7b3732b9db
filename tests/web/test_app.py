"""The webhook as Telegram calls it: secret header, real update JSON, and anything else."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import BotRuntime
from fakes.telegram import FakeTelegramAPI
from models import Customer, Membership, StampEvent, Voucher
from tests import factories
from tests.chat import WEBHOOK_SECRET, Chat, text_of
from tests.web_probe import database_snapshot, error_lines, raw_exchange, request_bytes
from web.app import LINGER, build_web_app, web_runner

pytestmark = pytest.mark.usefixtures("fresh_state")


async def _counts() -> tuple[int, int, int, int]:
    return (
        await Customer.all().count(),
        await Membership.all().count(),
        await StampEvent.all().count(),
        await Voucher.all().count(),
    )


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
# A private message without a sender: Telegram never sends one, a forger can.
@example(text="0", extra={"from": None}, data="")
@example(text="/start", extra={"from": None}, data="")
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
# Found by the fuzzer: U+0000 in the campaign's text made PostgreSQL refuse the draft (a 500).
@example(text="Autumn\x00menu", data="wz:\x00")
async def test_fuzzed_staff_input_in_the_middle_of_the_wizard_never_breaks_anything(
    telegram: FakeTelegramAPI,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    text: str,
    data: str,
) -> None:
    from loyalty.merchants import accept_staff_invite
    from models import Campaign, Staff
    from models.enums import CampaignStatus

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
    await owner.send("📣 New campaign")  # the wizard waits for the message: any input may come
    # Any text is a message the wizard keeps as a draft (so nothing typed is lost); nothing
    # is ever scheduled or sent without the summary's Yes.
    sent = Campaign.exclude(status=CampaignStatus.DRAFT)
    before = (await _counts(), await sent.count(), await Staff.all().count())
    async with aiohttp.ClientSession() as http:
        for update in _fuzzed_update(user, text, {}, data)[:3]:
            async with http.post(
                webhook_url,
                data=json.dumps(update),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            ) as response:
                assert response.status < 500, await response.text()
    after = (await _counts(), await sent.count(), await Staff.all().count())
    assert after == before
    crashed = [m for m in owner.new_messages() if text_of(m).startswith("Sorry, something went")]
    assert crashed == [], "a handler raised: see the log"
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_long_polling_receives_updates_through_the_same_fake(
    telegram: FakeTelegramAPI, runtime: object, webhook_url: str
) -> None:
    """Polling is the default mode: the same dispatcher, fed by getUpdates instead."""
    import asyncio

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
        try:
            await runtime.dispatcher.stop_polling()
            await polling
        finally:  # whatever happened, the tests after this one get their webhook back
            await runtime.bot.set_webhook(webhook_url, secret_token=WEBHOOK_SECRET)
    reply = next(m for m in telegram.sent_messages(user.id) if m.from_bot)
    assert "Welcome to Kafe Lviv!" in text_of(reply)
    assert await Membership.all().count() == 1


async def test_a_non_ascii_secret_header_is_401_not_a_crash(
    webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"update_id": 1}).encode()
    statuses = []
    for secret in (b"\xc3\xa9t\xc3\xa9", b"\xff\xfe", "тест".encode()):
        head = request_bytes("POST", webhook_url, body).replace(
            b"Host:", b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\nHost:"
        )
        statuses.append((await raw_exchange(webhook_url, [head]))[0])

    assert statuses == [401, 401, 401]
    assert error_lines(caplog) == []


async def test_json_nested_too_deep_is_400(
    webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            webhook_url,
            data=b"[" * 100_000,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response,
    ):
        assert response.status == 400
    assert error_lines(caplog) == []


async def _owner_in_admin_mode(telegram: FakeTelegramAPI, webhook_url: str) -> tuple[Chat, int]:
    from loyalty.merchants import accept_staff_invite

    shop = await factories.merchant("Range café")
    await accept_staff_invite(
        shop.owner_invite.token, telegram_user_id=880_010, display_name="Boss", now=factories.T0
    )
    owner = Chat(telegram, telegram.add_user(880_010, "Boss"), webhook_url)
    await owner.send("/admin")
    return owner, shop.merchant.id


_HUGE = "99999999999999999999"  # beyond 64 bits: SQLite refuses it
_INT32 = str(2**31)  # beyond PostgreSQL's INTEGER
_OUT_OF_RANGE = [
    f"adm:invite:{_HUGE}:manager",
    f"adm:staff:{_INT32}:",
    "adm:remove_ok:{shop}:" + _HUGE,
    "adm:remove_ok:{shop}:" + _INT32,
    f"card:show:{_INT32}",
    f"apw:{_HUGE}",
    f"vch:show:{_INT32}",
    f"stp:{_INT32}:1:n1:0",
    "stp:1:100000:n1:0",
    "stp:1:-3:n1:0",
    f"rdm:{_HUGE}",
    f"cmp:show:{{shop}}:{_INT32}:0:all",
    "cmp:list:{shop}:0:" + _HUGE + ":all",
    f"set:leave_pick:{_HUGE}",
    f"set:leave_ok:{_INT32}",
]


async def test_out_of_range_ids_in_buttons_are_an_expired_button(
    telegram: FakeTelegramAPI, webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On both databases: a number no id column holds matches nothing, and nothing breaks."""
    owner, shop = await _owner_in_admin_mode(telegram, webhook_url)
    before = await database_snapshot()
    menu = owner.replies[-1]

    toasts = []
    for data in _OUT_OF_RANGE:
        forged = telegram.callback_update(
            owner.user, menu, data.format(shop=shop), check_button=False
        )
        await owner._post(forged)
        toasts.append(owner.last_answer().get("text"))

    assert toasts == ["This button has expired."] * len(_OUT_OF_RANGE)
    assert error_lines(caplog) == []
    assert await database_snapshot() == before
    assert not [m for m in owner.new_messages() if "went wrong" in text_of(m)]


def test_every_number_in_every_button_is_bounded() -> None:
    from aiogram.filters.callback_data import CallbackData

    import handlers.callbacks as callbacks

    classes = [
        value
        for value in vars(callbacks).values()
        if isinstance(value, type)
        and issubclass(value, CallbackData)
        and value is not CallbackData
    ]
    unbounded = []
    for cls in classes:
        for name, field in cls.model_fields.items():
            if field.annotation is not int:
                continue
            bounds = {type(m).__name__: m for m in field.metadata}
            low, high = bounds.get("Ge"), bounds.get("Le")
            if low is None or high is None or high.le > callbacks.MAX_DB_ID or low.ge < 0:
                unbounded.append(f"{cls.__name__}.{name}")
    assert len(classes) >= 9
    assert unbounded == []


async def _stays_open(host: str, port: int, dribble: bytes, seconds: float) -> bool:
    """Connect and send ``dribble`` a byte at a time; True if still open after ``seconds``."""
    reader, writer = await asyncio.open_connection(host, port)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    try:
        for byte in itertools.cycle(dribble):
            if loop.time() > end:
                return True
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), 0.1) == b"" or reader.at_eof():
                    return False
            except TimeoutError:
                continue
    except ConnectionError:
        return False
    finally:
        writer.close()
    return True


@pytest.fixture
async def impatient_app() -> AsyncIterator[tuple[str, int]]:
    """The web app with timeouts short enough for a test: 0.5 s for headers, 0.5 s for a body."""
    from aiogram import Bot, Dispatcher

    app = build_web_app(
        Dispatcher(), Bot("42:TEST"), webhook_secret=WEBHOOK_SECRET, body_timeout=0.5
    )
    runner = web_runner(app, header_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield "127.0.0.1", runner.addresses[0][1]
    await runner.cleanup()


async def test_clients_dribbling_headers_are_cut_off(impatient_app: tuple[str, int]) -> None:
    host, port = impatient_app
    headers = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Padding: " + b"a" * 500

    open_after = await asyncio.gather(
        *(_stays_open(host, port, headers, seconds=3.0) for _ in range(20))
    )

    assert open_after == [False] * 20


async def test_a_second_request_on_a_kept_alive_connection_gets_the_same_limit(
    impatient_app: tuple[str, int],
) -> None:
    host, port = impatient_app
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = await asyncio.wait_for(reader.readuntil(b'{"ok": true}'), 2)
    try:
        assert first.startswith(b"HTTP/1.1 200")
        writer.write(b"GET /healthz HTTP/1.1\r\nX-Padding: ")
        for _ in range(30):  # then dribble the next request's headers for 3 s
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.1)
            if reader.at_eof() or await _closed(reader):
                break
        assert reader.at_eof()
    finally:
        writer.close()


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), 0.01) == b""
    except TimeoutError:
        return False


async def test_a_body_that_stops_coming_is_408_and_closed(impatient_app: tuple[str, int]) -> None:
    host, port = impatient_app
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
        b"X-Telegram-Bot-Api-Secret-Token: " + WEBHOOK_SECRET.encode() + b"\r\n\r\n{"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        answered = loop.time() - started
        await asyncio.wait_for(reader.read(), 5)  # then the connection is closed
        closed = loop.time() - started
    finally:
        writer.close()

    assert head.startswith(b"HTTP/1.1 408")
    assert answered < 1.5
    assert closed < 0.5 + LINGER + 1


def test_the_access_log_keeps_only_webhook_calls_that_failed_or_were_slow(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Telegram's calls come hundreds a second; a line each would be most of the log."""
    from aiohttp.test_utils import make_mocked_request

    from web.app import SLOW_REQUEST, WEBHOOK_PATH, RedactingAccessLogger

    caplog.set_level(logging.INFO, logger="stampbot.test.access")
    access = RedactingAccessLogger(logging.getLogger("stampbot.test.access"), "")
    webhook = make_mocked_request("POST", WEBHOOK_PATH, match_info={})
    for status, seconds in ((200, 0.01), (401, 0.01), (200, SLOW_REQUEST + 0.5)):
        access.log(webhook, web.Response(status=status), seconds)
    health = make_mocked_request("GET", "/healthz", match_info={})
    access.log(health, web.Response(status=200), 0.01)

    lines = [r.getMessage() for r in caplog.records if r.name == "stampbot.test.access"]
    assert len(lines) == 3
    assert ['" 401 ' in lines[0], '" 200 ' in lines[1], '"GET ' in lines[2]] == [True] * 3
