"""The email channel's kept-open SMTP connections, against the SMTP fake (aiosmtpd).

What a person sees is the mail in the server's hands; what the relay sees is how many
connections we opened and how we behave when it says 421 (closing) or 4xx/5xx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import aiosmtplib
import pytest

from channels.base import Outcome, Reason
from channels.email import EmailChannel, EmailSettings
from channels.email_render import EmailRenderer
from fakes.smtp import FakeSMTP
from tests.channels.test_email import outbound


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        yield server


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> EmailRenderer:
    return EmailRenderer(tmp_path_factory.mktemp("catalogs"))


def settings_for(fake: FakeSMTP, **changes: Any) -> EmailSettings:
    settings = EmailSettings(
        host=fake.host, port=fake.port, starttls=False, from_address="hello@stamp.example",
        timeout=5.0, reconnect_backoff=0.05,
    )  # fmt: skip
    return replace(settings, **changes)


def channel_for(fake: FakeSMTP, renderer: EmailRenderer, **changes: Any) -> EmailChannel:
    return EmailChannel(settings_for(fake, **changes), renderer=renderer)


async def _eventually(check: Any) -> None:
    deadline = time.monotonic() + 3.0
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_many_messages_share_a_few_connections(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, pool_size=3)

    results = await asyncio.gather(
        *(channel.send(outbound(delivery_id=i, address=f"p{i}@example.org")) for i in range(60))
    )
    await channel.close()

    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert sorted(r.rcpt_tos[0] for r in fake.received) == sorted(
        f"p{i}@example.org" for i in range(60)
    )
    assert fake.messages == 60
    assert fake.connections == 3
    assert fake.max_open == 3
    await _eventually(lambda: fake.open_connections == 0)  # QUIT on close


async def test_a_421_is_a_reconnect_after_a_pause_not_a_failure(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, reconnect_backoff=0.2)
    await channel.send(outbound(delivery_id=1))
    fake.fail(421, command="MAIL")

    started = time.monotonic()
    result = await channel.send(outbound(delivery_id=2))
    waited = time.monotonic() - started

    assert result.outcome is Outcome.DELIVERED
    ids = [str(r.message["Message-ID"]) for r in fake.received]
    assert [".d1@" in ids[0], ".d2@" in ids[1]] == [True, True]
    assert fake.connections == 2  # the server hung up; a new connection carried the message
    assert waited >= 0.2


@pytest.mark.parametrize("command", ["CONNECT", "EHLO", "RCPT", "DATA"])
async def test_421_anywhere_in_the_conversation_is_retried_on_a_new_connection(
    fake: FakeSMTP, renderer: EmailRenderer, command: str
) -> None:
    channel = channel_for(fake, renderer)
    fake.fail(421, command=command, times=2)

    started = time.monotonic()
    result = await channel.send(outbound())

    assert result.outcome is Outcome.DELIVERED
    assert len(fake.received) == 1
    assert fake.connections == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # the pause doubles each time


async def test_a_server_that_keeps_closing_hands_the_message_back_as_a_retry(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, reconnect_attempts=2)
    fake.fail(421, command="CONNECT", times=10, text="4.7.0 Too many connections")

    result = await channel.send(outbound())

    assert result.outcome is Outcome.RETRY
    assert result.reason is Reason.SERVER_ERROR
    assert result.detail == "421 4.7.0 Too many connections"
    assert result.retry_after is not None
    assert result.retry_after > 0
    assert fake.received == []
    assert fake.connections == 3  # the first try and two reconnects


async def test_a_421_pauses_the_whole_pool(fake: FakeSMTP, renderer: EmailRenderer) -> None:
    channel = channel_for(fake, renderer, pool_size=4, reconnect_backoff=0.3)
    fake.fail(421, command="CONNECT")

    started = time.monotonic()
    results = await asyncio.gather(*(channel.send(outbound(delivery_id=i)) for i in range(4)))
    elapsed = time.monotonic() - started

    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    # Three connected before the refusal was seen; the refused one waited its pause.
    assert len(fake.received) == 4
    assert elapsed >= 0.3
    assert elapsed < 1.5  # one pause, not one per message


async def test_a_temporary_refusal_goes_back_to_the_engine_and_the_connection_stays(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer)
    fake.fail(451, command="RCPT", text="4.7.1 Greylisted, come back later")

    refused = await channel.send(outbound(delivery_id=1))
    accepted = await channel.send(outbound(delivery_id=2))

    assert refused.outcome is Outcome.RETRY
    assert refused.reason is Reason.SERVER_ERROR
    assert refused.detail == "451 4.7.1 Greylisted, come back later"
    assert accepted.outcome is Outcome.DELIVERED
    assert len(fake.received) == 1
    assert fake.connections == 1


async def test_a_permanent_refusal_fails_the_message_only(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer)
    fake.fail(550, command="RCPT", text="5.1.1 <dana@example.org>: user unknown")

    refused = await channel.send(outbound(delivery_id=1))
    accepted = await channel.send(outbound(delivery_id=2))

    assert refused.outcome is Outcome.FAILED
    assert refused.reason is Reason.ADDRESS_REJECTED
    assert refused.unreachable
    assert accepted.outcome is Outcome.DELIVERED
    assert fake.connections == 1


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    renderer: EmailRenderer,
) -> None:
    with FakeSMTP(idle_timeout=0.2) as fake:
        channel = channel_for(fake, renderer)
        assert (await channel.send(outbound(delivery_id=1))).outcome is Outcome.DELIVERED
        await _eventually(lambda: fake.open_connections == 0)  # the server's idle timeout

        result = await channel.send(outbound(delivery_id=2))

        assert result.outcome is Outcome.DELIVERED
        assert len(fake.received) == 2
        assert fake.connections == 2
        await channel.close()


async def test_a_relay_restart_under_an_idle_pool_loses_nothing(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, pool_size=3)
    await asyncio.gather(*(channel.send(outbound(delivery_id=i)) for i in range(6)))
    fake.disconnect_all()

    results = await asyncio.gather(*(channel.send(outbound(delivery_id=i)) for i in range(6)))

    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert len(fake.received) == 12
    assert fake.connections == 6


async def test_a_connection_idle_longer_than_the_setting_is_closed_not_reused(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, idle_seconds=0.1)
    await channel.send(outbound(delivery_id=1))
    await asyncio.sleep(0.2)

    await channel.send(outbound(delivery_id=2))

    assert fake.connections == 2
    await _eventually(lambda: fake.open_connections == 1)  # the old one said QUIT
    await channel.close()


async def test_a_connection_carries_a_bounded_number_of_messages(
    fake: FakeSMTP, renderer: EmailRenderer
) -> None:
    channel = channel_for(fake, renderer, messages_per_connection=2)

    for i in range(5):
        await channel.send(outbound(delivery_id=i))

    assert len(fake.received) == 5
    assert fake.connections == 3


def test_the_pool_size_comes_from_the_settings(tmp_path: Any) -> None:
    from bot.config import Settings
    from bot.delivery import build_email_channel

    settings = Settings(
        var_dir=tmp_path,
        smtp={"host": "smtp.example", "pool_size": 9, "idle_seconds": 12, "reconnect_attempts": 1},
    )
    channel = build_email_channel(settings)

    assert channel.settings is not None
    assert (channel.settings.pool_size, channel.settings.idle_seconds) == (9, 12.0)
    assert channel.settings.reconnect_attempts == 1


# -- the fake itself ------------------------------------------------------------------------


async def test_the_fake_hangs_up_after_a_421_and_counts_connections(fake: FakeSMTP) -> None:
    fake.fail(421, command="MAIL")
    client = aiosmtplib.SMTP(hostname=fake.host, port=fake.port, timeout=5)
    await client.connect()

    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await client.sendmail("a@stamp.example", ["b@example.org"], b"Subject: x\r\n\r\nhi\r\n")

    assert refused.value.code == 421
    await _eventually(lambda: not client.is_connected)
    assert fake.connections == 1
    async with aiosmtplib.SMTP(hostname=fake.host, port=fake.port, timeout=5) as second:
        await second.sendmail("a@stamp.example", ["b@example.org"], b"Subject: y\r\n\r\nhi\r\n")
    assert fake.connections == 2
    assert [r.message["Subject"] for r in fake.received] == ["y"]
    with pytest.raises(ValueError, match="CONNECT"):
        fake.fail(421, command="QUIT")
