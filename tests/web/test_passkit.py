"""The PassKit web service, called over HTTP as Wallet calls it, on the real web app."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from models import Membership, PassRegistration, WalletPass
from tests import factories
from tests.channels.apple_wallet.pki import PASS_TYPE_ID, Chain
from tests.channels.apple_wallet.verify import pass_problems, unzip
from tests.web_probe import error_lines, raw_exchange, request_bytes
from wallets.apple_registry import ensure_wallet_pass, pass_changed

pytestmark = pytest.mark.usefixtures("db")

DEVICE = "6b1c2a7e9f0d4c3b8a5e6f7d8c9b0a1e"
PUSH = "a" * 64
# Made in the past, so a copy served now is newer than the pass's last change.
MADE = datetime(2026, 5, 4, 14, 19, tzinfo=UTC)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _pass() -> WalletPass:
    shop = await factories.merchant()
    member = await factories.member(shop)
    return await ensure_wallet_pass(member.id, now=MADE)


def _auth(wallet_pass: WalletPass) -> dict[str, str]:
    return {"Authorization": f"ApplePass {wallet_pass.authentication_token}"}


def _registration(base: str, wallet_pass: WalletPass, device: str = DEVICE) -> str:
    return f"{base}/v1/devices/{device}/registrations/{PASS_TYPE_ID}/{wallet_pass.serial_number}"


async def test_registering_is_201_the_first_time_and_200_after(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    wallet_pass = await _pass()
    url = _registration(passkit_service, wallet_pass)

    async with http.post(url, json={"pushToken": PUSH}, headers=_auth(wallet_pass)) as first:
        assert first.status == 201
    async with http.post(url, json={"pushToken": PUSH}, headers=_auth(wallet_pass)) as again:
        assert again.status == 200
    async with http.post(url, json={"pushToken": "b" * 64}, headers=_auth(wallet_pass)) as new:
        assert new.status == 200

    [row] = await PassRegistration.filter(wallet_pass_id=wallet_pass.id)
    assert (row.device_library_identifier, row.push_token) == (DEVICE, "b" * 64)


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"pushToken": 5}', b'{"pushToken": "<script>"}', b"{}"]
)
async def test_a_malformed_registration_is_400_and_stores_nothing(
    passkit_service: str, http: aiohttp.ClientSession, body: bytes
) -> None:
    wallet_pass = await _pass()

    async with http.post(
        _registration(passkit_service, wallet_pass), data=body, headers=_auth(wallet_pass)
    ) as response:
        assert response.status == 400

    assert await PassRegistration.all().count() == 0


async def test_serials_since_a_tag_list_only_passes_changed_after_it(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    wallet_pass = await _pass()
    async with http.post(
        _registration(passkit_service, wallet_pass),
        json={"pushToken": PUSH},
        headers=_auth(wallet_pass),
    ) as response:
        assert response.status == 201
    listing = f"{passkit_service}/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"

    async with http.get(listing) as everything:
        assert everything.status == 200
        body = await everything.json()
    assert body["serialNumbers"] == [wallet_pass.serial_number]
    assert isinstance(body["lastUpdated"], str)
    async with http.get(listing, params={"passesUpdatedSince": body["lastUpdated"]}) as nothing:
        assert nothing.status == 204

    tokens = await pass_changed(wallet_pass.membership_id)

    assert tokens == [PUSH]
    async with http.get(listing, params={"passesUpdatedSince": body["lastUpdated"]}) as changed:
        assert changed.status == 200
        later = await changed.json()
    assert later["serialNumbers"] == [wallet_pass.serial_number]
    assert int(later["lastUpdated"]) > int(body["lastUpdated"])


async def test_serials_of_an_unknown_device_or_a_bad_tag(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    await _pass()
    listing = f"{passkit_service}/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"

    async with http.get(listing) as unknown:
        assert unknown.status == 204
    async with http.get(listing, params={"passesUpdatedSince": "yesterday"}) as bad:
        assert bad.status == 400


async def test_the_latest_pass_is_200_then_304_until_it_changes(
    passkit_service: str, http: aiohttp.ClientSession, chain: Chain
) -> None:
    wallet_pass = await _pass()
    url = f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}"

    async with http.get(url, headers=_auth(wallet_pass)) as first:
        assert first.status == 200
        assert first.content_type == "application/vnd.apple.pkpass"
        last_modified = first.headers["Last-Modified"]
        pkpass = await first.read()
    assert pass_problems(pkpass, chain.ca_pem) == []
    assert json.loads(unzip(pkpass)["pass.json"])["serialNumber"] == wallet_pass.serial_number

    conditional = {**_auth(wallet_pass), "If-Modified-Since": last_modified}
    async with http.get(url, headers=conditional) as unchanged:
        assert unchanged.status == 304
        assert await unchanged.read() == b""

    await pass_changed(wallet_pass.membership_id, campaign_message="Cake day!")

    async with http.get(url, headers=conditional) as changed:
        assert changed.status == 200
        document = json.loads(unzip(await changed.read())["pass.json"])
    [campaign] = [f for f in document["storeCard"]["backFields"] if f["key"] == "campaign"]
    assert (campaign["value"], campaign["changeMessage"]) == ("Cake day!", "%@")


async def test_unregistering_removes_only_that_device(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    wallet_pass = await _pass()
    other_device = "f" * 32
    for device in (DEVICE, other_device):
        async with http.post(
            _registration(passkit_service, wallet_pass, device),
            json={"pushToken": PUSH},
            headers=_auth(wallet_pass),
        ) as response:
            assert response.status == 201

    async with http.delete(_registration(passkit_service, wallet_pass)) as anonymous:
        assert anonymous.status == 401
    assert await PassRegistration.all().count() == 2
    async with http.delete(
        _registration(passkit_service, wallet_pass), headers=_auth(wallet_pass)
    ) as ok:
        assert ok.status == 200

    remaining = await PassRegistration.all().values_list("device_library_identifier", flat=True)
    assert remaining == [other_device]
    assert await pass_changed(wallet_pass.membership_id) == [PUSH]


async def test_device_logs_are_written_to_our_log(
    passkit_service: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.passkit")
    message = "[2026-05-04 14:19:00 +0000] Web service error for pass.example: bad signature"

    async with http.post(f"{passkit_service}/v1/log", json={"logs": [message]}) as response:
        assert response.status == 200
    async with http.post(f"{passkit_service}/v1/log", data=b"{") as broken:
        assert broken.status == 400
    async with http.post(f"{passkit_service}/v1/log", json={"logs": "not a list"}) as wrong:
        assert wrong.status == 400

    logged = [r for r in caplog.records if "Wallet device log" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("INFO", f"Wallet device log: {message}")
    ]


async def test_device_logs_lose_every_control_character(
    passkit_service: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """No forged log line, no terminal escape, no reversed text: one printable line each."""
    caplog.set_level(logging.INFO, logger="web.passkit")
    hostile = "ok\r\n2026-01-01 ERROR fake\x1b[31m red\x00\u202ereversed\u2028next\x85\tend"

    async with http.post(f"{passkit_service}/v1/log", json={"logs": [hostile]}) as response:
        assert response.status == 200

    [line] = [r.getMessage() for r in caplog.records if "Wallet device log" in r.getMessage()]
    assert line == "Wallet device log: ok 2026-01-01 ERROR fake [31m red reversed next end"


async def test_device_logs_are_rate_limited_per_client(
    passkit_service: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.passkit")

    statuses = []
    for n in range(8):
        async with http.post(
            f"{passkit_service}/v1/log", json={"logs": [f"line {n}"]}
        ) as response:
            statuses.append(response.status)

    assert statuses == [200] * 5 + [429] * 3
    logged = [r.getMessage() for r in caplog.records if "Wallet device log" in r.getMessage()]
    assert logged == [f"Wallet device log: line {n}" for n in range(5)]


@pytest.mark.parametrize("path", ["/v1/log", "registration"])
async def test_json_nested_too_deep_is_400(
    passkit_service: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    wallet_pass = await _pass()
    url = (
        _registration(passkit_service, wallet_pass)
        if path == "registration"
        else passkit_service + path
    )

    # Under the 64 KiB cap, so it is the nesting that is refused, not the size.
    for body in (b"[" * 60_000, b'{"logs":' * 7_000):
        async with http.post(url, data=body, headers=_auth(wallet_pass)) as response:
            assert response.status == 400

    assert error_lines(caplog) == []
    assert await PassRegistration.all().count() == 0


async def test_a_registration_sent_in_two_writes_is_read_whole(passkit_service: str) -> None:
    wallet_pass = await _pass()
    url = _registration(passkit_service, wallet_pass)
    request = request_bytes(
        "POST", url, json.dumps({"pushToken": PUSH}).encode(), _auth(wallet_pass)
    )
    cut = len(request) - 20

    status, _ = await raw_exchange(url, [request[:cut], request[cut:]], pause=0.3)

    assert status == 201
    [row] = await PassRegistration.filter(wallet_pass_id=wallet_pass.id)
    assert row.push_token == PUSH


async def test_a_tag_beyond_bigint_is_400_not_a_database_error(
    passkit_service: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    await _pass()
    listing = f"{passkit_service}/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"

    statuses = []
    for since in ("9999999999999999999", str(2**63), str(2**63 - 1)):
        async with http.get(listing, params={"passesUpdatedSince": since}) as response:
            statuses.append(response.status)

    assert statuses == [400, 400, 204]
    assert error_lines(caplog) == []


async def test_a_membership_that_left_still_gets_its_voided_pass(
    passkit_service: str, http: aiohttp.ClientSession, chain: Chain
) -> None:
    wallet_pass = await _pass()
    await Membership.filter(id=wallet_pass.membership_id).update(status="left")

    async with http.get(
        f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}",
        headers=_auth(wallet_pass),
    ) as response:
        assert response.status == 200
        pkpass = await response.read()

    assert json.loads(unzip(pkpass)["pass.json"])["voided"] is True
    assert pass_problems(pkpass, chain.ca_pem) == []
