"""The PassKit web service acts only for ``Authorization: ApplePass <that pass's token>``:
registering a device, unregistering it and fetching the latest pass. Anything else is a 401
that changes nothing, whoever's token or whatever pass type it names."""

from __future__ import annotations

import aiohttp
import pytest

from models import PassRegistration
from tests import factories
from tests.channels.apple_wallet.pki import PASS_TYPE_ID
from tests.web.test_passkit import PUSH, _auth, _pass, _registration, http
from tests.web_probe import database_snapshot
from wallets.apple_registry import ensure_wallet_pass

__all__ = ["http"]  # the fixture, shared with the PassKit tests
pytestmark = pytest.mark.usefixtures("db")

BAD_AUTHORIZATION = [
    None,
    "ApplePass wrong-token-wrong-token",
    "Bearer {token}",
    "ApplePass",
    "{token}",
    "applepass {token}",
    "ApplePass {token}x",
    "ApplePass " + "x" * 43,
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION)
async def test_registering_without_the_passes_token_is_401_and_stores_nothing(
    passkit_service: str, http: aiohttp.ClientSession, authorization: str | None
) -> None:
    wallet_pass = await _pass()
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=wallet_pass.authentication_token)

    async with http.post(
        _registration(passkit_service, wallet_pass), json={"pushToken": PUSH}, headers=headers
    ) as response:
        assert response.status == 401

    assert await PassRegistration.all().count() == 0


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION)
async def test_unregistering_or_fetching_the_pass_without_its_token_is_401_and_changes_nothing(
    passkit_service: str, http: aiohttp.ClientSession, authorization: str | None
) -> None:
    wallet_pass = await _pass()
    url = _registration(passkit_service, wallet_pass)
    async with http.post(url, json={"pushToken": PUSH}, headers=_auth(wallet_pass)) as made:
        assert made.status == 201
    latest = f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}"
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=wallet_pass.authentication_token)
    rows = await database_snapshot()

    async with http.delete(url, headers=headers) as unregistering:
        assert unregistering.status == 401
    async with http.get(latest, headers=headers) as fetching:
        assert fetching.status == 401
        assert not (await fetching.read()).startswith(b"PK")  # no pass in the answer

    assert await database_snapshot() == rows


async def test_another_passes_token_or_type_does_not_authorize(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    mine = await _pass()
    shop = await factories.merchant("Other shop")
    other = await ensure_wallet_pass((await factories.member(shop, telegram_id=4242)).id)
    wrong_type = _registration(passkit_service, mine).replace(PASS_TYPE_ID, "pass.example.other")

    async with http.post(
        _registration(passkit_service, mine), json={"pushToken": PUSH}, headers=_auth(other)
    ) as response:
        assert response.status == 401
    async with http.post(wrong_type, json={"pushToken": PUSH}, headers=_auth(mine)) as response:
        assert response.status == 401

    assert await PassRegistration.all().count() == 0


async def test_the_latest_pass_needs_its_token(
    passkit_service: str, http: aiohttp.ClientSession
) -> None:
    wallet_pass = await _pass()
    url = f"{passkit_service}/v1/passes/{PASS_TYPE_ID}/{wallet_pass.serial_number}"

    async with http.get(url, headers={"Authorization": "ApplePass " + "x" * 43}) as wrong:
        assert wrong.status == 401
    async with http.get(
        url.replace(wallet_pass.serial_number, "nope"), headers=_auth(wallet_pass)
    ) as r:
        assert r.status == 401
