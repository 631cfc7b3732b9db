"""The Viber webhook as Viber calls it: signed bytes from the fake, a recording conversation
behind it, and what the person gets back (the welcome in the HTTP answer, replies through the
fake's send API)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from channels.viber.api import ViberApi
from conversation.screen import InboundKind
from fakes.viber import FakeViber
from tests.recording import Recording
from tests.viber_fixtures import serving_viber_webhook


@pytest.fixture
async def webhook(
    viber: FakeViber, viber_api: ViberApi, redis_client: Redis
) -> AsyncIterator[tuple[str, Recording]]:
    recording = Recording()
    async with serving_viber_webhook(viber, viber_api, recording, redis_client) as url:
        yield url, recording


async def test_opening_the_chat_answers_with_the_welcome_in_the_response(
    viber: FakeViber, webhook: tuple[str, Recording]
) -> None:
    url, recording = webhook
    u1 = viber.add_user("Olena", language="uk", subscribed=False)
    result = await viber.user_opens(u1, context="j-abcdefghijklmnop", url=url)
    assert result.status == 200
    assert b"*Hello*" in result.body
    [heard] = recording.heard
    assert (heard.kind, heard.payload, heard.user_id) == (
        InboundKind.OPENED,
        "j-abcdefghijklmnop",
        u1,
    )


async def test_a_pressed_button_arrives_as_its_action_id_and_is_answered_once(
    viber: FakeViber, webhook: tuple[str, Recording]
) -> None:
    url, recording = webhook
    u2 = viber.add_user("Dan")
    payload = viber.message(u2, "act:card:list:0")
    first = await viber.post_callback(payload, url=url)
    again = await viber.post_callback(payload, url=url)
    assert (first.status, again.status) == (200, 200)
    assert [(i.kind, i.action_id) for i in recording.heard] == [
        (InboundKind.ACTION, "card:list:0")
    ]
    assert viber.texts(u2) == ["*Hello*"]


@pytest.mark.parametrize("signature", ["", "0" * 64, "zz\u00e9"])
async def test_an_unsigned_or_forged_callback_is_refused_and_changes_nothing(
    viber: FakeViber, webhook: tuple[str, Recording], signature: str
) -> None:
    url, recording = webhook
    u3 = viber.add_user("Eve")
    result = await viber.post_callback(viber.message(u3, "hi"), url=url, signature=signature)
    assert result.status == 403
    assert recording.heard == []


async def test_a_malformed_body_is_a_400(viber: FakeViber, webhook: tuple[str, Recording]) -> None:
    url, recording = webhook
    result = await viber.post_callback(b"{not json", url=url)
    assert result.status == 400
    assert recording.heard == []
