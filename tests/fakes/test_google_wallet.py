"""The fake Google refuses what Google refuses, in Google's words and shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from fakes.google_wallet import (
    WALLET_SCOPE,
    FakeClock,
    FakeGoogleWallet,
    ServiceAccountKey,
)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def assertion(google: FakeGoogleWallet, key: ServiceAccountKey, **changes: Any) -> str:
    now = int(google.clock())
    claims = {
        "iss": key.email, "scope": WALLET_SCOPE, "aud": google.token_url, "iat": now,
        "exp": now + 3600,
    }  # fmt: skip
    claims.update(changes)
    private = serialization.load_pem_private_key(key.info["private_key"].encode(), None)
    return jwt.encode(claims, private, algorithm="RS256")  # type: ignore[arg-type]


async def grant(
    http: aiohttp.ClientSession, google: FakeGoogleWallet, form: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with http.post(google.token_url, data=form) as response:
        return response.status, await response.json()


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"aud": "https://example.com/token"}, "invalid_grant"),
        ({"exp": 1_777_904_340 + 7200}, "invalid_grant"),
        ({"iat": 1_777_904_340 - 7200, "exp": 1_777_904_340 - 3600}, "invalid_grant"),
        ({"scope": ""}, "invalid_scope"),
        ({"iss": "someone@else.iam.gserviceaccount.com"}, "invalid_grant"),
    ],
)
async def test_token_endpoint_refuses_bad_assertions(
    google: FakeGoogleWallet, http: aiohttp.ClientSession, changes: dict[str, Any], error: str
) -> None:
    key = google.new_service_account()
    form = {"grant_type": JWT_BEARER, "assertion": assertion(google, key, **changes)}
    status, answer = await grant(http, google, form)
    assert status == 400
    assert answer["error"] == error
    assert answer["error_description"]


async def test_token_endpoint_wants_the_jwt_bearer_grant(
    google: FakeGoogleWallet, http: aiohttp.ClientSession
) -> None:
    status, answer = await grant(http, google, {"grant_type": "client_credentials"})
    assert (status, answer["error"]) == (400, "unsupported_grant_type")


async def test_api_answers_401_without_a_live_token(
    google: FakeGoogleWallet, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    key = google.new_service_account()
    status, answer = await grant(
        http, google, {"grant_type": JWT_BEARER, "assertion": assertion(google, key)}
    )
    assert status == 200
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3599
    url = f"{google.api_url}/loyaltyObject/{google.issuer_id}.x"
    async with http.get(url) as response:
        assert response.status == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]
        body = await response.json()
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["errors"][0]["reason"] == "authError"

    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    async with http.get(url, headers=headers) as response:
        assert response.status == 404
        assert (await response.json())["error"]["message"] == (
            f"Wallet Object {google.issuer_id}.x not found."
        )
    clock.advance(3600)
    async with http.get(url, headers=headers) as response:
        assert response.status == 401


async def test_api_refuses_other_issuers_and_malformed_ids(
    google: FakeGoogleWallet, http: aiohttp.ClientSession
) -> None:
    key = google.new_service_account()
    _, answer = await grant(
        http, google, {"grant_type": JWT_BEARER, "assertion": assertion(google, key)}
    )
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    async with http.get(f"{google.api_url}/loyaltyClass/1234.card-1", headers=headers) as r:
        assert r.status == 403
        assert (await r.json())["error"]["message"] == "Permission Denied"
    async with http.get(f"{google.api_url}/loyaltyClass/no%20id", headers=headers) as r:
        assert r.status == 400
        assert (await r.json())["error"]["status"] == "INVALID_ARGUMENT"


GOOD = {"defaultValue": {"language": "uk", "value": "Штампи"}}


@pytest.mark.parametrize(
    ("localized", "message"),
    [
        ({"translatedValues": [{"language": "en", "value": "Stamps"}]}, "default_value"),
        ({**GOOD, "default": {}}, 'Unknown name "default"'),
        ({"defaultValue": {"lang": "uk", "value": "x"}}, 'Unknown name "lang"'),
        ({"defaultValue": {"language": "Ukrainian!", "value": "x"}}, "Invalid language"),
        ({"defaultValue": {"language": "uk", "value": 7}}, "TYPE_STRING"),
        ({**GOOD, "translatedValues": {"language": "en"}}, "Expected a list"),
        (
            {
                **GOOD,
                "translatedValues": [
                    {"language": "en", "value": "Stamps"},
                    {"language": "EN", "value": "Stamps!"},
                ],
            },
            "Duplicate language",
        ),
        ("Stamps", "Expected an object"),
    ],
)
async def test_a_malformed_localized_string_is_refused_and_nothing_is_stored(
    google: FakeGoogleWallet, http: aiohttp.ClientSession, localized: Any, message: str
) -> None:
    key = google.new_service_account()
    _, answer = await grant(
        http, google, {"grant_type": JWT_BEARER, "assertion": assertion(google, key)}
    )
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    loyalty_class = {
        "id": f"{google.issuer_id}.card-1",
        "issuerName": "Kafe Lviv",
        "reviewStatus": "UNDER_REVIEW",
        "programLogo": {"sourceUri": {"uri": "https://x.example/logo.png"}},
    }
    async with http.post(
        f"{google.api_url}/loyaltyClass", json=loyalty_class, headers=headers
    ) as r:
        assert r.status == 200
    body = {
        "id": f"{google.issuer_id}.m-1",
        "classId": loyalty_class["id"],
        "state": "ACTIVE",
        "loyaltyPoints": {"localizedLabel": localized, "balance": {"string": "1/10"}},
    }

    async with http.post(f"{google.api_url}/loyaltyObject", json=body, headers=headers) as r:
        assert r.status == 400
        assert message in (await r.json())["error"]["message"]
    assert body["id"] not in google.objects

    body["loyaltyPoints"] = {"localizedLabel": GOOD, "balance": {"string": "1/10"}}
    async with http.post(f"{google.api_url}/loyaltyObject", json=body, headers=headers) as r:
        assert r.status == 200
