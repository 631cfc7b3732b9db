"""The WhatsApp channel against the fake Cloud API: what each person received, and the
outcome; the 24-hour window and templates; WhatsApp's limits on text, buttons and lists."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace

import pytest
from pydantic import SecretStr

from channels.base import Action, OutboundMessage, Outcome, Reason
from channels.ratelimit import MemoryRateLimiter, Rate
from channels.whatsapp.api import (
    ListRow,
    ListSection,
    WhatsAppApi,
    button_message,
    list_message,
    text_message,
)
from channels.whatsapp.render import cut_label
from fakes.clock import FakeClock
from fakes.loopback import HOST, free_port
from fakes.whatsapp import FakeWhatsApp
from tests.whatsapp_fixtures import whatsapp_channel

ALICE = "972501234567"
BOB = "66812345678"
HOUR = 3600.0
BUTTONS = ((Action("My card", id="card"), Action("Vouchers", id="vouchers")),)


def _message(
    delivery_id: int,
    address: str,
    html: str = "<b>Hi</b> there",
    *,
    buttons: tuple[tuple[Action, ...], ...] = BUTTONS,
    window_open: bool | None = True,
    template: str = "",
) -> OutboundMessage:
    return OutboundMessage(
        delivery_id, "whatsapp", address, "en", False, "Cafe", "", "", html,
        buttons=buttons, window_open=window_open, template=template,
        template_language="en_US" if template else "", template_parameters=("Alice",),
    )  # fmt: skip


class CountingLimiter(MemoryRateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def reserve(self, key: str, rate: Rate, cost: int = 1) -> float:
        self.keys.append(key)
        return await super().reserve(key, rate, cost)


async def test_statuses_become_outcomes(whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi) -> None:
    channel = whatsapp_channel(whatsapp_api)
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)

    sent = await channel.send(_message(1, "+972 50 123 4567"))
    unknown = await channel.send(_message(2, "+15550000000"))
    no_number = await channel.send(_message(3, "alice"))

    [got] = whatsapp.messages(ALICE)
    assert sent.outcome == Outcome.DELIVERED
    assert sent.external_id == got.wamid
    assert got.text == "*Hi* there"
    assert got.choices == [("card", "My card"), ("vouchers", "Vouchers")]
    assert (unknown.outcome, unknown.reason, unknown.unreachable) == (
        Outcome.FAILED, Reason.UNREACHABLE, True,
    )  # fmt: skip
    assert "131026" in unknown.detail
    assert (no_number.outcome, no_number.reason) == (Outcome.FAILED, Reason.NO_ADDRESS)


async def test_outside_the_window_without_a_template_nothing_is_sent(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice")

    result = await whatsapp_channel(whatsapp_api).send(_message(1, ALICE, window_open=False))

    assert (result.outcome, result.reason) == (Outcome.SKIPPED, Reason.OUTSIDE_WINDOW)
    assert not result.unreachable
    assert whatsapp.calls == []


async def test_outside_the_window_the_template_goes(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice")
    whatsapp.add_template("loyalty_news", "en_US", parameters=1)

    result = await whatsapp_channel(whatsapp_api).send(
        _message(1, ALICE, window_open=False, template="loyalty_news")
    )

    assert result.outcome == Outcome.DELIVERED
    assert whatsapp.texts(ALICE) == ["[loyalty_news] Alice"]
    assert result.external_id == whatsapp.messages(ALICE)[0].wamid


async def test_an_unknown_window_tries_the_message_then_the_template(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi, whatsapp_clock: FakeClock
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    whatsapp.add_user(BOB, "Bob", wrote_ago=HOUR)
    whatsapp.add_template("loyalty_news", "en_US", parameters=1)
    whatsapp_clock.advance(24 * HOUR)  # both wrote 25 hours ago now
    channel = whatsapp_channel(whatsapp_api)

    with_template = await channel.send(
        _message(1, ALICE, window_open=None, template="loyalty_news")
    )
    without = await channel.send(_message(2, BOB, window_open=None))

    assert with_template.outcome == Outcome.DELIVERED
    assert whatsapp.texts(ALICE) == ["[loyalty_news] Alice"]
    assert whatsapp.refusals[131047] == 2
    assert (without.outcome, without.reason) == (Outcome.SKIPPED, Reason.OUTSIDE_WINDOW)
    assert whatsapp.texts(BOB) == []


async def test_a_template_the_account_lacks_is_a_bad_request(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice")
    whatsapp.add_template("loyalty_news", "de", parameters=1)

    result = await whatsapp_channel(whatsapp_api).send(
        _message(1, ALICE, window_open=False, template="loyalty_news")
    )

    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.BAD_REQUEST)
    assert "132001" in result.detail
    assert whatsapp.texts(ALICE) == []


async def test_a_long_message_goes_in_parts_buttons_on_the_last(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    limiter = CountingLimiter()

    result = await whatsapp_channel(whatsapp_api, limiter=limiter).send(
        _message(1, ALICE, "word " * 2000)
    )

    got = whatsapp.messages(ALICE)
    assert result.outcome == Outcome.DELIVERED
    # 10,000 characters: two full parts, and the rest cut once more so that the buttons'
    # message holds at most 1,024 of them.
    assert [r.type for r in got] == ["text", "text", "text", "interactive"]
    assert [len(r.text) <= 4096 for r in got] == [True] * 4
    assert len(got[-1].text) <= 1024
    assert " ".join(r.text for r in got) == ("word " * 2000).strip()
    assert result.external_id == got[-1].wamid
    assert limiter.keys == ["whatsapp:test"] * 4


def _whole_graphemes(label: str, title: str, limit: int) -> None:
    assert len(title) <= limit
    kept = title.removesuffix("…")
    assert label.startswith(kept)
    if kept != label:
        # The cut never leaves a mark behind, cut off from its letter.
        assert unicodedata.category(label[len(kept)]) not in ("Mn", "Mc")


# Pointed Hebrew and Thai, each set with labels where a plain cut at WhatsApp's limit (20 for a
# button, 24 for a row) would fall between a letter and its marks.
HEBREW = [
    "הַכַּרְטִיס שׁוֹבָרִים פְּתוּחִים",
    "שׁוֹבָרִים פְּתוּחִים לְמִמּוּשׁ",
    "שְׁאֵלוֹת וּתְשׁוּבוֹת נְפוֹצוֹת",
]
THAI = [
    "บัตรสะสมแต้มของฉันที่ร้านกาแฟ",
    "คูปองส่วนลดที่ยังไม่ได้ใช้งานเลย",
    "โปรโมชั่นประจำสัปดาห์ที่สาขานี้",
    "สิทธิพิเศษสำหรับสมาชิกบัตรทองคำ",
    "ติดต่อพนักงานของร้านกาแฟสาขานี้",
    "จองโต๊ะล่วงหน้าสำหรับสัปดาห์หน้า",
    "คำถามที่พบบ่อยเกี่ยวกับบัตรสะสม",
]


def test_the_labels_put_a_mark_where_a_plain_cut_would_fall() -> None:
    assert unicodedata.category(HEBREW[0][19]) == "Mn"
    assert unicodedata.category(THAI[2][23]) == "Mn"
    assert unicodedata.category(THAI[3][23]) == "Mn"


async def test_hebrew_buttons_and_a_thai_list_keep_to_the_limits(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    channel = whatsapp_channel(whatsapp_api)
    hebrew = (tuple(Action(label, id=f"he:{i}") for i, label in enumerate(HEBREW)),)
    thai = tuple((Action(label, id=f"th:{i}"),) for i, label in enumerate(THAI))

    buttons = await channel.send(_message(1, ALICE, "שלום", buttons=hebrew))
    listed = await channel.send(_message(2, ALICE, "สวัสดี", buttons=thai))

    assert (buttons.outcome, listed.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    first, second = whatsapp.messages(ALICE)
    assert first.interactive is not None
    assert first.interactive["type"] == "button"
    assert [i for i, _ in first.choices] == ["he:0", "he:1", "he:2"]
    for label, (_, title) in zip(HEBREW, first.choices, strict=True):
        _whole_graphemes(label, title, 20)
    assert second.interactive is not None
    assert second.interactive["type"] == "list"
    assert [i for i, _ in second.choices] == [f"th:{i}" for i in range(7)]
    for label, (_, title) in zip(THAI, second.choices, strict=True):
        _whole_graphemes(label, title, 24)
    rows = second.interactive["action"]["sections"][0]["rows"]
    assert all(len(r["description"]) <= 72 for r in rows)


async def test_more_than_ten_actions_become_a_list_of_ten(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi, caplog: pytest.LogCaptureFixture
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    many = tuple((Action(f"Stamp card {i}", id=f"card:{i}"),) for i in range(12))

    with caplog.at_level(logging.WARNING):
        result = await whatsapp_channel(whatsapp_api).send(_message(1, ALICE, buttons=many))

    assert result.outcome == Outcome.DELIVERED
    [got] = whatsapp.messages(ALICE)
    assert [i for i, _ in got.choices] == [f"card:{i}" for i in range(10)]
    assert "2 actions left out" in caplog.text


async def test_one_link_is_a_url_button_links_beside_buttons_are_text(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    channel = whatsapp_channel(whatsapp_api)
    site = Action("Our website", url="https://cafe.example/")

    alone = await channel.send(_message(1, ALICE, buttons=((site,),)))
    beside = await channel.send(_message(2, ALICE, buttons=((Action("Card", id="card"), site),)))

    assert (alone.outcome, beside.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    first, second = whatsapp.messages(ALICE)
    assert first.interactive is not None
    assert first.interactive["action"] == {
        "name": "cta_url",
        "parameters": {"display_text": "Our website", "url": "https://cafe.example/"},
    }
    assert second.text == "*Hi* there\n\nOur website: https://cafe.example/"
    assert second.choices == [("card", "Card")]


@pytest.mark.parametrize(
    ("code", "http_status", "outcome", "reason"),
    [
        (130429, 429, Outcome.RETRY, Reason.RATE_LIMITED),
        (131056, 400, Outcome.RETRY, Reason.RATE_LIMITED),
        (80007, 400, Outcome.RETRY, Reason.RATE_LIMITED),
        (190, 401, Outcome.RETRY, Reason.SERVER_ERROR),
        (131000, 500, Outcome.RETRY, Reason.SERVER_ERROR),
        (131009, 400, Outcome.FAILED, Reason.BAD_REQUEST),
        (131047, 400, Outcome.SKIPPED, Reason.OUTSIDE_WINDOW),
        (131050, 400, Outcome.FAILED, Reason.OPTED_OUT),
        (131048, 400, Outcome.RETRY, Reason.RATE_LIMITED),
        (131031, 400, Outcome.FAILED, Reason.ACCOUNT_BLOCKED),
        (133010, 400, Outcome.RETRY, Reason.SERVER_ERROR),
        (131051, 400, Outcome.FAILED, Reason.BAD_REQUEST),
        (132015, 500, Outcome.FAILED, Reason.BAD_REQUEST),
    ],
)
async def test_refusals_become_outcomes(
    whatsapp: FakeWhatsApp,
    whatsapp_api: WhatsAppApi,
    code: int,
    http_status: int,
    outcome: Outcome,
    reason: Reason,
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    whatsapp.fail_next(code=code, http_status=http_status)

    result = await whatsapp_channel(whatsapp_api).send(_message(1, ALICE))

    assert (result.outcome, result.reason) == (outcome, reason)
    assert str(code) in result.detail
    assert whatsapp.texts(ALICE) == []


async def test_the_marketing_limit_backs_off_longer_each_time(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    whatsapp.fail_next(code=131049, times=4)
    channel = whatsapp_channel(whatsapp_api)

    waits = [(await channel.send(_message(1, ALICE))).retry_after for _ in range(4)]
    other = await channel.send(_message(2, ALICE))

    assert waits == [HOUR, 6 * HOUR, 24 * HOUR, 24 * HOUR]
    assert other.outcome == Outcome.DELIVERED


async def test_a_bad_gateway_is_retried_from_the_part_that_failed(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    channel = whatsapp_channel(whatsapp_api)
    # 5,000 characters: a text part, then the buttons with the last 1,000 or so.
    message = _message(8, ALICE, "word " * 1000)
    first = await whatsapp_api.send(ALICE, text_message("warm-up"))
    assert first.ok
    whatsapp.received.clear()

    whatsapp.fail_next(http_status=502)
    failed = await channel.send(message)
    whatsapp.fail_next(http_status=502)
    still = await channel.send(message)
    again = await channel.send(replace(message))

    assert (failed.outcome, failed.reason) == (Outcome.RETRY, Reason.SERVER_ERROR)
    assert (still.outcome, still.reason) == (Outcome.RETRY, Reason.SERVER_ERROR)
    assert "part 1/2" in failed.detail
    assert again.outcome == Outcome.DELIVERED
    assert [r.type for r in whatsapp.messages(ALICE)] == ["text", "interactive"]


async def test_the_fake_refuses_what_whatsapp_refuses(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    forged = WhatsAppApi(
        SecretStr("EAAGnot-the-token"), whatsapp.phone_number_id, base_url=whatsapp.base_url
    )
    four = {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Pick"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)
                ]
            },
        },
    }
    try:
        bad_token = await forged.send(ALICE, text_message("hi"))
    finally:
        await forged.close()
    # Sent as raw objects: the client's own builders refuse to build these.
    too_long = await whatsapp_api.send(ALICE, {"type": "text", "text": {"body": "x" * 4097}})
    too_many = await whatsapp_api.send(ALICE, four)

    assert bad_token.http_status == 401
    assert bad_token.error is not None
    assert bad_token.error.code == 190
    assert too_long.error is not None
    assert too_long.error.code == 100
    assert too_many.error is not None
    assert too_many.error.code == 131009
    assert too_many.error.title == "Parameter value is not valid"
    assert whatsapp.texts(ALICE) == []


async def test_the_fake_caps_requests_per_second(whatsapp_clock: FakeClock) -> None:
    async with FakeWhatsApp(clock=whatsapp_clock, requests_per_second=5) as fake:
        fake.add_user(ALICE, "Alice", wrote_ago=HOUR)
        api = WhatsAppApi(
            SecretStr(fake.access_token), fake.phone_number_id, base_url=fake.base_url
        )
        try:
            replies = [await api.send(ALICE, text_message(f"{i}")) for i in range(6)]
        finally:
            await api.close()

    assert [r.ok for r in replies] == [True] * 5 + [False]
    assert replies[5].error is not None
    assert replies[5].error.code == 130429
    assert replies[5].http_status == 429


@pytest.mark.parametrize(
    ("label", "limit", "expected"),
    [
        ("Stamp card", 20, "Stamp card"),
        ("Vouchers and rewards for you", 20, "Vouchers and reward…"),
        # The cut would fall between שׁ's letter and its dot: the letter goes with its marks.
        ("אבגדהוזחטיכלמנסעפצשׁת", 20, "אבגדהוזחטיכלמנסעפצ…"),
        # A family emoji is one grapheme of three people and two joiners: whole or not at all.
        ("Card 👩‍👩‍👧 family", 7, "Card…"),
    ],
)
def test_labels_are_cut_on_whole_graphemes(label: str, limit: int, expected: str) -> None:
    assert cut_label(label, limit) == expected


def test_the_client_builds_no_message_whatsapp_would_refuse() -> None:
    with pytest.raises(ValueError, match="4 reply buttons"):
        button_message("Pick", [(f"b{i}", f"B{i}") for i in range(4)])
    with pytest.raises(ValueError, match="11 rows"):
        list_message(
            "Pick", "Menu", [ListSection(tuple(ListRow(f"r{i}", "R") for i in range(11)))]
        )
    with pytest.raises(ValueError, match="button title"):
        button_message("Pick", [("b", "x" * 21)])
    assert button_message("Pick", [("b", "x" * 20)])["interactive"]["type"] == "button"


async def test_labels_that_cut_to_one_title_stay_two_buttons(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    twins = (
        (
            Action("Stamp card for the garden", id="a"),
            Action("Stamp card for the gym", id="b"),
        ),
    )

    result = await whatsapp_channel(whatsapp_api).send(_message(1, ALICE, buttons=twins))

    assert result.outcome == Outcome.DELIVERED
    [got] = whatsapp.messages(ALICE)
    titles = [title for _, title in got.choices]
    assert len(set(titles)) == 2
    assert all(len(t) <= 20 and t.startswith("Stamp card for the") for t in titles)


async def test_a_photo_goes_first_with_the_text_as_caption_when_it_can(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    whatsapp.add_user(ALICE, "Alice", wrote_ago=HOUR)
    channel = whatsapp_channel(whatsapp_api)
    photo = {"photo": "https://cafe.example/p/autumn.jpg"}

    plain = await channel.send(replace(_message(1, ALICE, buttons=()), links=photo))
    with_buttons = await channel.send(replace(_message(2, ALICE), links=photo))

    assert (plain.outcome, with_buttons.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    got = whatsapp.messages(ALICE)
    assert [(r.type, r.text) for r in got] == [
        ("image", "*Hi* there"),
        ("image", ""),
        ("interactive", "*Hi* there"),
    ]
    assert got[0].message["image"]["link"] == photo["photo"]


async def test_no_answer_at_all_is_a_network_retry_and_the_token_stays_secret(
    whatsapp: FakeWhatsApp,
) -> None:
    secret = whatsapp.access_token
    nowhere = WhatsAppApi(
        SecretStr(secret), whatsapp.phone_number_id, base_url=f"http://{HOST}:{free_port()}"
    )
    try:
        result = await whatsapp_channel(nowhere).send(_message(1, ALICE))
    finally:
        await nowhere.close()

    assert (result.outcome, result.reason) == (Outcome.RETRY, Reason.NETWORK_ERROR)
    assert secret not in repr(nowhere)
    assert secret not in result.detail
