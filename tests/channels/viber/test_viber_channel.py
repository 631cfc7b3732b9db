"""The Viber channel against the fake Viber: what each person received, and the outcome."""

from __future__ import annotations

from channels.base import Action, OutboundMessage, Outcome, Reason
from channels.viber.api import ViberApi
from fakes.viber import FakeViber
from tests.viber_fixtures import viber_channel

BUTTONS = ((Action("My card", id="card"), Action("Website", url="https://cafe.example")),)


def _message(delivery_id: int, address: str, html: str = "<b>Hi</b> there") -> OutboundMessage:
    return OutboundMessage(
        delivery_id, "viber", address, "en", False, "Cafe", "", "", html, buttons=BUTTONS
    )


async def test_statuses_become_outcomes(viber: FakeViber, viber_api: ViberApi) -> None:
    channel = viber_channel(viber_api)
    alice, bob = viber.add_user("Alice"), viber.add_user("Bob", subscribed=False)

    sent = await channel.send(_message(1, alice))
    unsubscribed = await channel.send(_message(2, bob))
    unknown = await channel.send(_message(3, "bm9ib2R5"))

    assert sent.outcome == Outcome.DELIVERED
    assert sent.external_id == viber.received[alice][0].token
    assert viber.texts(alice) == ["*Hi* there"]
    board = viber.received[alice][0].keyboard
    assert board is not None
    assert [(b["ActionType"], b["ActionBody"]) for b in board["Buttons"]] == [
        ("reply", "act:card"),
        ("open-url", "https://cafe.example"),
    ]
    assert (unsubscribed.outcome, unsubscribed.reason) == (Outcome.FAILED, Reason.UNREACHABLE)
    assert unsubscribed.unreachable
    assert (unknown.outcome, unknown.reason) == (Outcome.FAILED, Reason.CHAT_NOT_FOUND)


async def test_a_long_message_goes_in_parts_keyboard_on_the_last(
    viber: FakeViber, viber_api: ViberApi
) -> None:
    alice = viber.add_user("Alice")

    result = await viber_channel(viber_api).send(_message(1, alice, "word " * 2000))

    received = viber.received[alice]
    assert result.outcome == Outcome.DELIVERED
    assert [len(r.text) <= 7000 for r in received] == [True, True]
    assert [r.keyboard is not None for r in received] == [False, True]
    assert result.external_id == received[-1].token


async def test_rate_refusal_is_retried(viber: FakeViber, viber_api: ViberApi) -> None:
    alice = viber.add_user("Alice")
    viber.fail_next("send_message", viber_status=12)

    result = await viber_channel(viber_api).send(_message(1, alice))

    assert (result.outcome, result.reason) == (Outcome.RETRY, Reason.RATE_LIMITED)
    assert result.retry_after is not None
    assert result.retry_after > 0


async def test_a_bad_gateway_is_retried(viber: FakeViber, viber_api: ViberApi) -> None:
    alice = viber.add_user("Alice")
    viber.fail_next("send_message", http_status=502)

    result = await viber_channel(viber_api).send(_message(1, alice))

    assert (result.outcome, result.reason) == (Outcome.RETRY, Reason.SERVER_ERROR)


async def test_650_receivers_go_in_three_broadcasts(viber: FakeViber, viber_api: ViberApi) -> None:
    users = [viber.add_user(f"Guest {i}") for i in range(650)]
    viber.unsubscribe(users[5])
    channel = viber_channel(viber_api, broadcast=True)

    results = await channel.send_many([_message(i, u) for i, u in enumerate(users)])

    broadcasts = [body for method, body in viber.calls if method == "broadcast_message"]
    assert [len(body["broadcast_list"]) for body in broadcasts] == [300, 300, 50]
    assert sum(r.outcome == Outcome.DELIVERED for r in results) == 649
    assert (results[5].outcome, results[5].reason) == (Outcome.FAILED, Reason.UNREACHABLE)
    assert viber.texts(users[0]) == ["*Hi* there"]


async def test_the_fake_refuses_the_101st_message_in_an_hour(
    viber: FakeViber, viber_api: ViberApi
) -> None:
    alice = viber.add_user("Alice")
    message = {"type": "text", "text": "hello", "sender": {"name": "Cafe"}}
    replies = [await viber_api.send_message(alice, message) for _ in range(101)]

    assert [r.status for r in replies[:100]] == [0] * 100
    assert (replies[100].status, replies[100].status_message) == (12, "Too many requests")
