"""The fake APNs refuses what APNs refuses, with APNs' status and reason.

Requests are written by hand on an HTTP/2 connection so that each can break one rule.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from channels.apple_wallet.apns import Http2Connection, Http2Response
from fakes.apns import FakeAPNs, generate_p8_key
from fakes.clock import FakeClock

TOPIC = "pass.com.example.stampbot"
KEY_ID = "KEY4567890"
TEAM_ID = "TEAM123456"


@pytest.fixture
def key() -> str:
    return generate_p8_key()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
async def fake(key: str, clock: FakeClock) -> AsyncIterator[FakeAPNs]:
    async with FakeAPNs(topic=TOPIC, clock=clock) as fake:
        fake.register_key(KEY_ID, TEAM_ID, key)
        yield fake


def tls(fake: FakeAPNs, alpn: list[str]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(fake.ca_file))
    context.set_alpn_protocols(alpn)
    return context


@pytest.fixture
async def connection(fake: FakeAPNs) -> AsyncIterator[Http2Connection]:
    connection = await Http2Connection.open("127.0.0.1", fake.port, tls(fake, ["h2"]))
    yield connection
    await connection.close()


def provider_token(key: str, iat: float, *, kid: str = KEY_ID, iss: str = TEAM_ID) -> str:
    signing_key = load_pem_private_key(key.encode(), None)
    token = jwt.encode({"iss": iss, "iat": int(iat)}, signing_key, "ES256", {"kid": kid})  # type: ignore[arg-type]
    return f"bearer {token}"


async def post(
    connection: Http2Connection,
    token: str,
    headers: dict[str, str],
    body: bytes = b"{}",
    *,
    method: str = "POST",
    path: str | None = None,
) -> Http2Response:
    return await connection.request(
        method, path or f"/3/device/{token}", list(headers.items()), body
    )


def reason(response: Http2Response) -> tuple[int, str]:
    return response.status, json.loads(response.body)["reason"]


def good_headers(key: str, clock: FakeClock) -> dict[str, str]:
    return {"authorization": provider_token(key, clock()), "apns-topic": TOPIC}


async def test_accepted_push_is_recorded_and_echoes_apns_id(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    device = fake.add_device()
    apns_id = str(uuid.uuid4())

    response = await post(connection, device, {**good_headers(key, clock), "apns-id": apns_id})

    assert (response.status, response.body) == (200, b"")
    assert response.headers["apns-id"] == apns_id
    [push] = fake.pushes
    assert (push.token, push.topic, push.payload, push.http_version) == (device, TOPIC, {}, "2")
    assert push.jwt_claims["iss"] == TEAM_ID


async def test_apns_id_is_made_when_the_request_has_none(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    response = await post(connection, fake.add_device(), good_headers(key, clock))

    made = response.headers["apns-id"]
    assert made == made.upper()
    assert uuid.UUID(made)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"authorization": None}, (403, "MissingProviderToken")),
        ({"authorization": "bearer not.a.jwt"}, (403, "InvalidProviderToken")),
        ({"authorization": "basic abc"}, (403, "InvalidProviderToken")),
        ({"apns-topic": None}, (400, "MissingTopic")),
        ({"apns-topic": "pass com"}, (400, "BadTopic")),
        ({"apns-topic": "pass.com.example.other"}, (400, "TopicDisallowed")),
        ({"apns-id": "12345"}, (400, "BadMessageId")),
        ({"apns-priority": "7"}, (400, "BadPriority")),
        ({"apns-push-type": "pass"}, (400, "InvalidPushType")),
        ({"apns-expiration": "tomorrow"}, (400, "BadExpirationDate")),
        ({"apns-collapse-id": "x" * 65}, (400, "BadCollapseId")),
    ],
)
async def test_header_rules(
    fake: FakeAPNs,
    connection: Http2Connection,
    key: str,
    clock: FakeClock,
    change: dict[str, str | None],
    expected: tuple[int, str],
) -> None:
    headers = good_headers(key, clock)
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value

    response = await post(connection, fake.add_device(), headers)

    assert reason(response) == expected
    assert "apns-id" in response.headers
    assert fake.pushes == []


async def test_token_signed_by_another_key_or_team_is_invalid(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    device = fake.add_device()
    forged = [
        provider_token(generate_p8_key(), clock()),
        provider_token(key, clock(), iss="OTHERTEAM1"),
        provider_token(key, clock(), kid="UNKNOWNKEY"),
    ]
    for authorization in forged:
        response = await post(
            connection, device, {"authorization": authorization, "apns-topic": TOPIC}
        )
        assert reason(response) == (403, "InvalidProviderToken")


async def test_token_older_than_an_hour_is_expired(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    headers = {"authorization": provider_token(key, clock() - 3601), "apns-topic": TOPIC}

    response = await post(connection, fake.add_device(), headers)

    assert reason(response) == (403, "ExpiredProviderToken")


async def test_token_changed_within_20_minutes_on_a_connection_is_refused(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    device = fake.add_device()
    first = {"authorization": provider_token(key, clock() - 600), "apns-topic": TOPIC}
    too_soon = {"authorization": provider_token(key, clock()), "apns-topic": TOPIC}

    assert (await post(connection, device, first)).status == 200
    assert reason(await post(connection, device, too_soon)) == (
        429,
        "TooManyProviderTokenUpdates",
    )
    # The same token again is fine; so is a new token on another connection.
    assert (await post(connection, device, first)).status == 200
    other = await Http2Connection.open("127.0.0.1", fake.port, tls(fake, ["h2"]))
    try:
        assert (await post(other, device, too_soon)).status == 200
    finally:
        await other.close()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", (400, "PayloadEmpty")),
        (json.dumps({"aps": {}, "pad": "x" * 4096}).encode(), (413, "PayloadTooLarge")),
        (b"{not json", (400, "BadPayload")),
        (b"[]", (400, "BadPayload")),
    ],
)
async def test_payload_rules(
    fake: FakeAPNs,
    connection: Http2Connection,
    key: str,
    clock: FakeClock,
    body: bytes,
    expected: tuple[int, str],
) -> None:
    response = await post(connection, fake.add_device(), good_headers(key, clock), body)

    assert reason(response) == expected


async def test_largest_payload_is_accepted(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    body = json.dumps({"pad": ""}).encode()
    body = json.dumps({"pad": "x" * (4096 - len(body))}).encode()
    assert len(body) == 4096

    response = await post(connection, fake.add_device(), good_headers(key, clock), body)

    assert response.status == 200


async def test_method_path_and_device_rules(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    headers = good_headers(key, clock)
    device = fake.add_device()
    other_topic_device = fake.add_device(topic="pass.com.example.other")
    fake.allow_topic("pass.com.example.other")

    assert reason(await post(connection, device, headers, method="GET", body=b"")) == (
        405,
        "MethodNotAllowed",
    )
    assert reason(await post(connection, device, headers, path="/2/device/x")) == (
        404,
        "BadPath",
    )
    assert reason(await post(connection, "", headers)) == (400, "MissingDeviceToken")
    assert reason(await post(connection, "ab" * 32, headers)) == (400, "BadDeviceToken")
    assert reason(await post(connection, other_topic_device, headers)) == (
        400,
        "DeviceTokenNotForTopic",
    )


async def test_programmed_answers(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    headers = good_headers(key, clock)
    device = fake.add_device()
    fake.fail(device, 500, "InternalServerError", times=1)
    fake.fail(device, 410, "Unregistered", times=1)

    first = await post(connection, device, headers)
    second = await post(connection, device, headers)
    third = await post(connection, device, headers)

    assert reason(first) == (500, "InternalServerError")
    assert reason(second) == (410, "Unregistered")
    assert json.loads(second.body)["timestamp"] == int(clock() * 1000)
    assert third.status == 200
    assert [request.status for request in fake.requests] == [500, 410, 200]


async def test_http1_is_answered_505(fake: FakeAPNs, key: str, clock: FakeClock) -> None:
    device = fake.add_device()
    connector = aiohttp.TCPConnector(ssl=tls(fake, ["http/1.1"]))
    async with aiohttp.ClientSession(connector=connector) as session:
        response = await session.post(
            f"https://127.0.0.1:{fake.port}/3/device/{device}",
            data=b"{}",
            headers=good_headers(key, clock),
        )
        status = response.status
        response.release()

    assert status == 505
    assert fake.pushes == []
    assert [request.http_version for request in fake.requests] == ["1.1"]


async def test_a_token_accepted_before_is_still_refused_once_it_is_an_hour_old(
    fake: FakeAPNs, connection: Http2Connection, key: str, clock: FakeClock
) -> None:
    # The fake checks a token's signature once; its age it checks on every request.
    headers = good_headers(key, clock)
    device = fake.add_device()

    assert (await post(connection, device, headers)).status == 200
    clock.advance(3601)

    assert reason(await post(connection, device, headers)) == (403, "ExpiredProviderToken")
