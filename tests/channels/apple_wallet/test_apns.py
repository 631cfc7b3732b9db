"""The APNs client against the loopback fake APNs (HTTP/2, TLS, ES256 provider tokens)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from bot.config import Settings
from channels.apple_wallet import apns as apns_module
from channels.apple_wallet.apns import (
    ApnsClient,
    ApnsConfigError,
    ApnsCredentials,
    ApnsOutcome,
    load_apns_credentials,
)
from channels.base import Outcome, Reason
from fakes.apns import FakeAPNs, generate_p8_key
from fakes.clock import FakeClock as Clock
from fakes.loopback import free_port

TOPIC = "pass.com.example.stampbot"
KEY_ID = "KEY4567890"
TEAM_ID = "TEAM123456"
MINUTE = 60


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def key() -> str:
    return generate_p8_key()


@pytest.fixture
async def fake(clock: Clock, key: str) -> AsyncIterator[FakeAPNs]:
    async with FakeAPNs(topic=TOPIC, clock=clock) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        yield fake


def make_client(fake: FakeAPNs, key: str, clock: Clock, **options: Any) -> ApnsClient:
    options.setdefault("topic", TOPIC)
    return ApnsClient(
        ApnsCredentials(KEY_ID, TEAM_ID, SecretStr(key)),
        host="127.0.0.1",
        port=fake.port,
        ca_file=fake.ca_file,
        clock=clock,
        **options,
    )


@pytest.fixture
async def client(fake: FakeAPNs, key: str, clock: Clock) -> AsyncIterator[ApnsClient]:
    async with make_client(fake, key, clock) as client:
        yield client


def bearer(headers: dict[str, str]) -> str:
    scheme, _, token = headers["authorization"].partition(" ")
    assert scheme == "bearer"
    return token


async def test_push_reaches_apns_as_wallet_asks(
    client: ApnsClient, fake: FakeAPNs, key: str, clock: Clock
) -> None:
    device = fake.add_device()

    result = await client.push(device)

    assert result.outcome is ApnsOutcome.DELIVERED
    assert result.status == 200
    [push] = fake.pushes
    assert result.apns_id == push.apns_id
    assert push.http_version == "2"
    assert push.token == device
    assert push.topic == TOPIC
    assert push.body == b"{}"
    assert push.payload == {}
    assert push.headers["apns-push-type"] == "background"
    assert push.headers["apns-priority"] == "5"
    # Checked here with PyJWT and the public key, independently of the fake's own check.
    token = bearer(push.headers)
    private_key = serialization.load_pem_private_key(key.encode(), None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    public_key = private_key.public_key()
    claims = jwt.decode(token, public_key, algorithms=["ES256"], options={"verify_iat": False})
    assert claims == {"iss": TEAM_ID, "iat": int(clock.now)}
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    assert result.as_delivery_result().outcome is Outcome.DELIVERED


async def test_concurrent_pushes_are_streams_of_one_http2_connection(
    client: ApnsClient, fake: FakeAPNs
) -> None:
    devices = [fake.add_device() for _ in range(25)]

    results = await asyncio.gather(*(client.push(device) for device in devices))

    assert {result.outcome for result in results} == {ApnsOutcome.DELIVERED}
    assert sorted(push.token for push in fake.pushes) == sorted(devices)
    assert {push.http_version for push in fake.pushes} == {"2"}
    assert len({push.connection for push in fake.pushes}) == 1


async def test_more_pushes_than_the_servers_stream_limit_queue_and_all_go_out(
    key: str, clock: Clock
) -> None:
    # 300 pushes, 20 streams at a time: the rest wait for slots, each woken as one frees.
    async with FakeAPNs(topic=TOPIC, clock=clock, max_concurrent_streams=20) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        devices = [fake.add_device() for _ in range(300)]
        async with make_client(fake, key, clock) as client, asyncio.timeout(30):
            results = await asyncio.gather(*(client.push(device) for device in devices))

    assert {result.outcome for result in results} == {ApnsOutcome.DELIVERED}
    assert sorted(push.token for push in fake.pushes) == sorted(devices)
    assert len({push.connection for push in fake.pushes}) == 1
    assert all(open_now <= limit for limit, open_now in fake.concurrency)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the fake records, it signals nothing
            await asyncio.sleep(0.01)


async def test_streams_follow_the_servers_limit_when_it_is_lowered_and_raised(
    key: str, clock: Clock
) -> None:
    """APNs may send SETTINGS_MAX_CONCURRENT_STREAMS again at any time: the client never has
    more streams open than the limit in force, and uses a raised limit at once."""
    async with FakeAPNs(topic=TOPIC, clock=clock, max_concurrent_streams=10) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        first, second = (
            [fake.add_device() for _ in range(10)],
            [fake.add_device() for _ in range(20)],
        )
        for device in first + second:
            fake.hold(device)
        async with make_client(fake, key, clock, request_timeout=30) as client:
            pushes = asyncio.gather(*(client.push(device) for device in first + second))
            await _until(lambda: len(fake.concurrency) == 10)
            await asyncio.sleep(0.1)
            assert len(fake.concurrency) == 10  # the other 20 wait in the client

            fake.set_max_concurrent_streams(3)
            await _until(lambda: fake.stream_limits() == [3])  # the client acknowledged it
            for device in first:
                fake.release(device)  # ten slots free, but only three may be used
            await _until(lambda: len(fake.concurrency) == 13)
            await asyncio.sleep(0.1)
            assert len(fake.concurrency) == 13
            assert [limit for limit, _ in fake.concurrency[10:]] == [3, 3, 3]

            fake.set_max_concurrent_streams(50)
            await _until(lambda: len(fake.concurrency) == 30)
            for device in second:
                fake.release(device)
            results = await pushes

    assert {result.outcome for result in results} == {ApnsOutcome.DELIVERED}
    assert all(open_now <= limit for limit, open_now in fake.concurrency)
    assert max(open_now for _, open_now in fake.concurrency) == 20  # 3 + the 17 left
    assert len({request.connection for request in fake.requests}) == 1


async def test_goaway_reconnects_and_sends_again_what_apns_did_not_process(
    client: ApnsClient, fake: FakeAPNs
) -> None:
    answered, in_flight = fake.add_device(), fake.add_device()
    fake.hold(in_flight)
    before = await client.push(answered)
    pending = asyncio.create_task(client.push(in_flight))
    await _until(lambda: len(fake.concurrency) == 2)

    # APNs shuts the connection down; the held push's stream is past the last one it names.
    fake.release(in_flight)
    fake.goaway("Shutdown")
    after = await pending
    again = await client.push(answered)

    assert (before.outcome, after.outcome, again.outcome) == (ApnsOutcome.DELIVERED,) * 3
    assert [push.token for push in fake.pushes] == [answered, in_flight, answered]
    first_connection = fake.pushes[0].connection
    assert fake.pushes[1].connection != first_connection
    assert fake.pushes[2].connection == fake.pushes[1].connection


async def test_one_long_lived_connection_per_topic(key: str, clock: Clock) -> None:
    other_topic = "pass.com.example.other"
    async with FakeAPNs(topic=TOPIC, clock=clock) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        fake.allow_topic(other_topic)
        cards = [fake.add_device() for _ in range(60)]
        others = [fake.add_device(topic=other_topic) for _ in range(60)]
        async with (
            make_client(fake, key, clock) as client,
            make_client(fake, key, clock, topic=other_topic) as other_client,
        ):
            for burst in range(3):  # campaigns come and go; the connections stay
                part = slice(burst * 20, burst * 20 + 20)
                results = await asyncio.gather(
                    *(client.push(device) for device in cards[part]),
                    *(other_client.push(device) for device in others[part]),
                )
                assert {result.outcome for result in results} == {ApnsOutcome.DELIVERED}
                await asyncio.sleep(0.2)

    by_topic: dict[str, set[tuple[str, int]]] = {}
    for push in fake.pushes:
        by_topic.setdefault(push.topic, set()).add(push.connection)
    assert {topic: len(connections) for topic, connections in by_topic.items()} == {
        TOPIC: 1,
        other_topic: 1,
    }
    assert by_topic[TOPIC] != by_topic[other_topic]


async def test_the_provider_token_is_signed_once_for_many_pushes(
    client: ApnsClient, fake: FakeAPNs, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed: list[dict[str, Any]] = []
    encode = jwt.encode

    def counting_encode(payload: dict[str, Any], *args: Any, **kwargs: Any) -> str:
        signed.append(payload)
        return encode(payload, *args, **kwargs)

    monkeypatch.setattr(apns_module.jwt, "encode", counting_encode)
    devices = [fake.add_device() for _ in range(200)]

    results = await asyncio.gather(*(client.push(device) for device in devices))

    assert {result.outcome for result in results} == {ApnsOutcome.DELIVERED}
    assert len(signed) == 1
    assert len({push.headers["authorization"] for push in fake.pushes}) == 1


async def test_removed_pass_is_unregistered_since_apples_timestamp(
    client: ApnsClient, fake: FakeAPNs
) -> None:
    device = fake.add_device()
    removed = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    fake.unregister(device, at=removed)

    result = await client.push(device)

    assert result.outcome is ApnsOutcome.UNREGISTERED
    assert (result.status, result.reason) == (410, "Unregistered")
    assert result.unregistered_at == removed
    delivery = result.as_delivery_result()
    assert delivery.outcome is Outcome.FAILED
    assert delivery.reason is Reason.PASS_REMOVED
    assert delivery.unreachable
    assert fake.pushes == []


async def test_token_apns_does_not_know_is_unregistered(
    client: ApnsClient, fake: FakeAPNs
) -> None:
    result = await client.push("ab" * 32)

    assert result.outcome is ApnsOutcome.UNREGISTERED
    assert (result.status, result.reason) == (400, "BadDeviceToken")
    assert result.as_delivery_result().unreachable


@pytest.mark.parametrize("token", ["", "../../3/device/x", "zz" * 32, "ab" * 32 + "/x"])
async def test_malformed_push_token_never_reaches_apns(
    client: ApnsClient, fake: FakeAPNs, token: str
) -> None:
    result = await client.push(token)

    assert result.outcome is ApnsOutcome.UNREGISTERED
    assert result.reason == "BadDeviceToken"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "reason", "delivery_reason"),
    [
        (429, "TooManyRequests", Reason.RATE_LIMITED),
        (500, "InternalServerError", Reason.SERVER_ERROR),
        (503, "ServiceUnavailable", Reason.SERVER_ERROR),
    ],
)
async def test_apns_trouble_is_retried(
    client: ApnsClient, fake: FakeAPNs, status: int, reason: str, delivery_reason: Reason
) -> None:
    device = fake.add_device()
    fake.fail(device, status, reason, times=1)

    first = await client.push(device)
    second = await client.push(device)

    assert first.outcome is ApnsOutcome.RETRY
    assert (first.status, first.reason) == (status, reason)
    assert first.apns_id
    delivery = first.as_delivery_result()
    assert delivery.outcome is Outcome.RETRY
    assert delivery.reason is delivery_reason
    assert delivery.detail == reason
    assert second.outcome is ApnsOutcome.DELIVERED
    assert len(fake.pushes) == 1


async def test_wrong_key_is_a_configuration_error_logged_once(
    fake: FakeAPNs, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    device = fake.add_device()
    async with make_client(fake, generate_p8_key(), clock) as client:
        with caplog.at_level(logging.ERROR, logger="channels.apple_wallet.apns"):
            results = [await client.push(device) for _ in range(3)]

    assert {(r.outcome, r.status, r.reason) for r in results} == {
        (ApnsOutcome.FAILED, 403, "InvalidProviderToken")
    }
    assert all(result.config_error for result in results)
    delivery = results[0].as_delivery_result()
    assert delivery.outcome is Outcome.FAILED
    assert not delivery.unreachable
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert "InvalidProviderToken" in caplog.text
    assert "BEGIN" not in caplog.text
    assert fake.pushes == []


async def test_topic_apns_does_not_allow_is_a_configuration_error(
    fake: FakeAPNs, key: str, clock: Clock
) -> None:
    device = fake.add_device()
    async with make_client(fake, key, clock, topic="pass.com.example.other") as client:
        result = await client.push(device)

    assert (result.outcome, result.status, result.reason) == (
        ApnsOutcome.FAILED,
        400,
        "TopicDisallowed",
    )
    assert result.config_error


async def test_provider_token_is_reused_then_renewed_before_the_hour(
    client: ApnsClient, fake: FakeAPNs, clock: Clock
) -> None:
    device = fake.add_device()
    start = int(clock.now)

    first = await client.push(device)
    clock.advance(49 * MINUTE)
    second = await client.push(device)
    clock.advance(1 * MINUTE)
    third = await client.push(device)
    clock.advance(30 * MINUTE)
    fourth = await client.push(device)

    assert [r.outcome for r in (first, second, third, fourth)] == [ApnsOutcome.DELIVERED] * 4
    tokens = [bearer(push.headers) for push in fake.pushes]
    assert tokens[0] == tokens[1]
    assert tokens[2] != tokens[1]
    assert tokens[3] == tokens[2]  # 80 minutes in: the renewed token is 30 minutes old
    assert [push.jwt_claims["iat"] for push in fake.pushes] == [
        start,
        start,
        start + 50 * MINUTE,
        start + 50 * MINUTE,
    ]
    # Renewed on the same connection, which APNs allows once per 20 minutes at most.
    assert len({push.connection for push in fake.pushes}) == 1


async def test_token_apns_calls_expired_is_replaced_on_the_next_push(key: str) -> None:
    ours = Clock(time.time())
    apple = Clock(ours.now + 61 * MINUTE)  # our clock lags Apple's by more than an hour
    async with FakeAPNs(topic=TOPIC, clock=apple) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        device = fake.add_device()
        async with make_client(fake, key, ours) as client:
            refused = await client.push(device)
            ours.advance(2 * MINUTE)
            accepted = await client.push(device)

    assert (refused.outcome, refused.status, refused.reason) == (
        ApnsOutcome.RETRY,
        403,
        "ExpiredProviderToken",
    )
    assert not refused.config_error
    assert accepted.outcome is ApnsOutcome.DELIVERED
    assert fake.pushes[0].jwt_claims["iat"] == int(ours.now)


async def test_no_answer_in_time_is_retried_and_the_connection_stays(
    fake: FakeAPNs, key: str, clock: Clock
) -> None:
    slow, quick = fake.add_device(), fake.add_device()
    fake.hold(slow)
    async with make_client(fake, key, clock, request_timeout=0.3) as client:
        late = await client.push(slow)
        fake.release(slow)
        on_time = await client.push(quick)

    assert (late.outcome, late.status, late.reason) == (ApnsOutcome.RETRY, None, "timeout")
    assert late.as_delivery_result().reason is Reason.NETWORK_ERROR
    assert on_time.outcome is ApnsOutcome.DELIVERED
    # A slow APNs may still deliver the one we gave up on: harmless for Wallet, hence RETRY.
    assert len(fake.pushes_to(quick)) == 1


async def test_unreachable_apns_is_retried(key: str, clock: Clock, tmp_path: Path) -> None:
    port = free_port()
    client = ApnsClient(
        ApnsCredentials(KEY_ID, TEAM_ID, SecretStr(key)),
        topic=TOPIC,
        host="127.0.0.1",
        port=port,
        clock=clock,
    )
    async with client:
        result = await client.push("ab" * 32)

    assert (result.outcome, result.status) == (ApnsOutcome.RETRY, None)
    assert "cannot connect" in result.reason
    assert result.as_delivery_result().reason is Reason.NETWORK_ERROR


async def test_server_that_does_not_speak_http2_is_not_used(key: str, clock: Clock) -> None:
    async with FakeAPNs(topic=TOPIC, clock=clock, alpn_protocols=("http/1.1",)) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        device = fake.add_device()
        async with make_client(fake, key, clock) as client:
            result = await client.push(device)

    assert result.outcome is ApnsOutcome.RETRY
    assert "HTTP/2" in result.reason
    assert fake.requests == []


async def test_connection_closed_by_apns_is_reopened(key: str, clock: Clock) -> None:
    async with FakeAPNs(topic=TOPIC, clock=clock, idle_timeout=0.2) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        device = fake.add_device()
        async with make_client(fake, key, clock) as client:
            first = await client.push(device)
            await asyncio.sleep(0.6)  # the fake closes connections idle for 0.2 s
            second = await client.push(device)

    assert (first.outcome, second.outcome) == (ApnsOutcome.DELIVERED, ApnsOutcome.DELIVERED)
    assert fake.pushes[0].connection != fake.pushes[1].connection


# --- settings --------------------------------------------------------------------------------


def test_apns_is_off_with_one_log_line_when_not_configured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(_env_file=None)
    with caplog.at_level(logging.INFO, logger="channels.apple_wallet.apns"):
        credentials = load_apns_credentials(
            key_id=settings.apns.key_id,
            team_id=settings.apns.team_id,
            key_pem=settings.apns.key,
            key_path=settings.apns.key_path,
        )

    assert credentials is None
    [record] = caplog.records
    assert record.getMessage().startswith("APNs off")


def test_partial_configuration_names_what_is_missing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="channels.apple_wallet.apns"):
        credentials = load_apns_credentials(key_id=KEY_ID, team_id=None)

    assert credentials is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "STAMPBOT_APNS_TEAM_ID" in record.getMessage()
    assert "STAMPBOT_APNS_KEY_ID" not in record.getMessage()


def test_key_from_a_p8_file_or_from_settings_text(key: str, tmp_path: Path) -> None:
    p8 = tmp_path / f"AuthKey_{KEY_ID}.p8"
    p8.write_text(key)
    settings = Settings(
        _env_file=None, apns={"key_id": KEY_ID, "team_id": TEAM_ID, "key": SecretStr(key)}
    )

    from_file = load_apns_credentials(key_id=KEY_ID, team_id=TEAM_ID, key_path=p8)
    from_text = load_apns_credentials(
        key_id=settings.apns.key_id, team_id=settings.apns.team_id, key_pem=settings.apns.key
    )

    assert from_file == from_text
    assert from_file is not None
    assert from_file.private_key.get_secret_value() == key
    assert "PRIVATE" not in repr(from_file) + repr(settings)


def test_unusable_keys_are_refused_at_start(tmp_path: Path, key: str) -> None:
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    for pem, message in [("not a key", "readable PEM"), (rsa_pem, "P-256")]:
        with pytest.raises(ApnsConfigError, match=message):
            load_apns_credentials(key_id=KEY_ID, team_id=TEAM_ID, key_pem=SecretStr(pem))
    with pytest.raises(ApnsConfigError, match="cannot read"):
        load_apns_credentials(key_id=KEY_ID, team_id=TEAM_ID, key_path=tmp_path / "missing.p8")
    with pytest.raises(ApnsConfigError, match="not both"):
        load_apns_credentials(
            key_id=KEY_ID, team_id=TEAM_ID, key_pem=SecretStr(key), key_path=tmp_path / "k.p8"
        )


async def test_a_push_given_up_while_queued_leaves_the_queue_moving(
    key: str, clock: Clock
) -> None:
    async with FakeAPNs(topic=TOPIC, clock=clock, max_concurrent_streams=1) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        slow, abandoned, later = fake.add_device(), fake.add_device(), fake.add_device()
        fake.hold(slow)
        async with make_client(fake, key, clock) as client:
            first = asyncio.create_task(client.push(slow))
            await _until(lambda: len(fake.concurrency) == 1)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await client.push(abandoned)  # waits behind the one stream, then gives up
            fake.release(slow)
            async with asyncio.timeout(5):
                results = [await first, await client.push(later)]

    assert [r.outcome for r in results] == [ApnsOutcome.DELIVERED] * 2
    assert [push.token for push in fake.pushes] == [slow, later]
