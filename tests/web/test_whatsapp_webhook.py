"""The WhatsApp webhook as Meta calls it: the verification handshake, signed notifications
from the fake, a recording conversation behind it, and what the person gets back (answers
through the fake's messages API)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from channels.base import Receipt
from channels.whatsapp.api import WhatsAppApi
from conversation.screen import (
    InboundKind,
)
from fakes.whatsapp import FakeWhatsApp, sign
from tests.recording import Recording
from tests.whatsapp_fixtures import VERIFY_TOKEN, serving_whatsapp_webhook

ALICE = "972501234567"


@pytest.fixture
async def webhook(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi, redis_client: Redis
) -> AsyncIterator[tuple[str, Recording]]:
    recording = Recording()
    async with serving_whatsapp_webhook(
        whatsapp, whatsapp_api, recording, redis_client, account="cafe"
    ) as url:
        whatsapp.add_user(ALICE, "Alice")
        yield url, recording


async def test_the_handshake_echoes_the_challenge_for_our_token_only(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    ok = await whatsapp.verify(VERIFY_TOKEN, challenge="1158201444")
    wrong = await whatsapp.verify("someone-else", challenge="1158201444")

    assert (ok.status, ok.text, ok.content_type) == (200, "1158201444", "text/plain")
    assert wrong.status == 403
    assert "1158201444" not in wrong.text


async def test_a_text_reaches_the_conversation_and_the_answer_goes_back(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    _, recording = webhook

    result = await whatsapp.user_says(ALICE, "J-7Q4K2")

    assert result.status == 200
    [heard] = recording.heard
    assert (heard.platform, heard.kind, heard.user_id, heard.text, heard.account) == (
        "whatsapp", InboundKind.TEXT, ALICE, "J-7Q4K2", "cafe",
    )  # fmt: skip
    assert heard.name == "Alice"
    [answer] = whatsapp.messages(ALICE)
    assert answer.text == "*Hello*"
    assert answer.choices == [("card:list:0", "Card")]


async def test_a_button_and_a_list_row_arrive_as_the_same_action_id(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    _, recording = webhook

    await whatsapp.user_presses(ALICE, "card:list:0", "Card", kind="button_reply")
    await whatsapp.user_presses(ALICE, "card:list:0", "Card", kind="list_reply")

    assert [(i.kind, i.action_id, i.text) for i in recording.heard] == [
        (InboundKind.ACTION, "card:list:0", ""),
        (InboundKind.ACTION, "card:list:0", ""),
    ]


async def test_a_notification_sent_twice_is_handled_once(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    _, recording = webhook
    whatsapp.users[ALICE].last_inbound = whatsapp.clock()
    event = whatsapp.text_event(ALICE, "hi")

    first = await whatsapp.post_webhook(event)
    again = await whatsapp.post_webhook(event)

    assert (first.status, again.status) == (200, 200)
    assert len(recording.heard) == 1
    assert whatsapp.texts(ALICE) == ["*Hello*"]


async def test_statuses_reach_the_conversation_as_receipts(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    _, recording = webhook
    await whatsapp.user_says(ALICE, "hi")
    [answer] = whatsapp.messages(ALICE)

    results = await whatsapp.post_receipts(read=True)
    results.append(await whatsapp.post_status("failed", answer.wamid, ALICE, error_code=131047))
    results.append(await whatsapp.post_status("read", answer.wamid, ALICE))  # Meta resends

    assert [r.status for r in results] == [200] * 5
    assert [(u.kind, u.external_id, u.user_id) for u in recording.receipts] == [
        (Receipt.DELIVERED, answer.wamid, ALICE),
        (Receipt.READ, answer.wamid, ALICE),
        (Receipt.FAILED, answer.wamid, ALICE),
    ]
    failed = recording.receipts[-1]
    assert (failed.error_code, failed.error_title) == (131047, "Re-engagement message")


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=zz\u00e9"])
async def test_an_unsigned_or_forged_notification_is_refused_and_changes_nothing(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording], signature: str
) -> None:
    _, recording = webhook

    result = await whatsapp.post_webhook(whatsapp.text_event(ALICE, "hi"), signature=signature)

    assert result.status == 403
    assert recording.heard == []
    assert whatsapp.texts(ALICE) == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"object":"whatsapp_business_account","entry":{}}'],
)
async def test_a_malformed_body_is_a_400(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording], body: bytes
) -> None:
    _, recording = webhook

    result = await whatsapp.post_webhook(body)

    assert result.status == 400
    assert recording.heard == []


async def test_what_we_do_not_read_is_answered_200_and_ignored(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    _, recording = webhook
    other_field = whatsapp._envelope({"event": "APPROVED"})
    other_field["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    sticker = whatsapp._inbound(
        ALICE, {"type": "sticker", "sticker": {"id": "1", "animated": False}}
    )

    results = [await whatsapp.post_webhook(other_field), await whatsapp.post_webhook(sticker)]

    assert [r.status for r in results] == [200, 200]
    assert recording.heard == []
    assert recording.receipts == []


async def test_an_oversized_body_is_a_413(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording]
) -> None:
    url, recording = webhook
    body = b"{" + b" " * (1024 * 1024 + 1) + b"}"
    headers = {"X-Hub-Signature-256": sign(body, whatsapp.app_secret)}

    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=io.BytesIO(body), headers=headers) as response,
    ):
        status = response.status

    assert status == 413
    assert recording.heard == []


def _value(value: dict[str, object]) -> bytes:
    change = {"value": {"messaging_product": "whatsapp", **value}, "field": "messages"}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "body",
    [
        _value({"messages": [{"from": 972501234567, "id": "wamid.1", "type": "text"}]}),
        _value({"messages": [{"from": ALICE, "id": "wamid.2", "type": "text", "text": "hi"}]}),
        _value({"messages": [{"from": ALICE, "id": "", "type": "text", "text": {"body": "x"}}]}),
        _value(
            {
                "messages": [
                    {
                        "from": ALICE,
                        "id": "wamid.3",
                        "type": "interactive",
                        "interactive": {"type": "button_reply", "button_reply": {"title": "x"}},
                    }
                ]
            }
        ),
        _value({"statuses": [{"status": "read", "timestamp": "1"}]}),
        _value({"messages": "not a list"}),
        b'{"entry": [{"changes": [{"field": "messages", "value": {"messages": [' * 300,
    ],
)
async def test_a_signed_notification_without_its_fields_is_a_400_never_a_500(
    whatsapp: FakeWhatsApp, webhook: tuple[str, Recording], body: bytes
) -> None:
    _, recording = webhook

    result = await whatsapp.post_webhook(body)

    assert result.status == 400
    assert (recording.heard, recording.receipts) == ([], [])
