"""Access tokens: one JWT-bearer grant per hour, reused, refreshed before expiry or after a 401."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jwt
import pytest

from channels.base import Outcome, Reason
from channels.google_wallet import (
    WALLET_SCOPE,
    GoogleWalletChannel,
    LoyaltyProgram,
    ServiceAccount,
    ServiceAccountError,
)
from fakes.google_wallet import FakeClock, FakeGoogleWallet, ServiceAccountKey, generate_rsa_pem
from tests.channels.google_wallet.conftest import SECRET
from tests.google_wallet_fixtures import google_settings

PROGRAM = LoyaltyProgram(
    card_id=7,
    program_name="Coffee card",
    issuer_name="Kafe Lviv",
    logo_url="https://stampbot.example/logo/7.png",
)


def bearers(google: FakeGoogleWallet) -> list[str | None]:
    return [r.authorization for r in google.api_requests()]


async def test_one_token_serves_many_requests(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    for _ in range(3):
        assert (await channel.sync_program(PROGRAM)).outcome is Outcome.DELIVERED

    [grant] = google.token_requests()
    assert grant.status == 200
    token = grant.response["access_token"]
    assert set(bearers(google)) == {f"Bearer {token}"}


async def test_concurrent_requests_share_one_grant(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    await asyncio.gather(*(channel.sync_program(PROGRAM) for _ in range(8)))
    assert len(google.token_requests()) == 1


async def test_the_assertion_is_what_google_asks_for(
    channel: GoogleWalletChannel, google: FakeGoogleWallet, key: ServiceAccountKey,
    clock: FakeClock,
) -> None:  # fmt: skip
    await channel.sync_program(PROGRAM)

    [grant] = google.token_requests()
    assert grant.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assertion = grant.body["assertion"]
    assert jwt.get_unverified_header(assertion)["kid"] == key.info["private_key_id"]
    claims = jwt.decode(
        assertion,
        key.public_key_pem,
        algorithms=["RS256"],
        audience=google.token_url,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == key.email
    assert claims["scope"] == WALLET_SCOPE
    assert claims["iat"] == int(clock())
    assert claims["exp"] - claims["iat"] == 3600


async def test_token_is_replaced_before_it_expires(
    channel: GoogleWalletChannel, google: FakeGoogleWallet, clock: FakeClock
) -> None:
    await channel.sync_program(PROGRAM)  # Google's token lives 3599 s
    clock.advance(3200)
    await channel.sync_program(PROGRAM)
    assert len(google.token_requests()) == 1
    clock.advance(100)  # within five minutes of its end: replaced before it can die in flight
    await channel.sync_program(PROGRAM)
    clock.advance(3600)  # the second one is long gone
    await channel.sync_program(PROGRAM)

    tokens = [r.response["access_token"] for r in google.token_requests()]
    assert len(tokens) == 3
    assert len(set(tokens)) == 3
    # Never sent a dead token: Google answered every API call.
    assert all(r.status in (200, 409) for r in google.api_requests())


async def test_a_refused_token_is_refreshed_once_and_the_request_repeated(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    await channel.sync_program(PROGRAM)
    google.revoke_tokens()

    result = await channel.sync_program(PROGRAM)

    assert result.outcome is Outcome.DELIVERED
    assert len(google.token_requests()) == 2
    refused = [r for r in google.api_requests() if r.status == 401]
    assert len(refused) == 1
    assert refused[0].response["error"]["status"] == "UNAUTHENTICATED"
    assert bearers(google)[-1] != refused[0].authorization


async def test_unknown_service_account_is_retried_not_failed(
    google: FakeGoogleWallet, tmp_path: Path, clock: FakeClock
) -> None:
    pem = generate_rsa_pem()
    key_file = tmp_path / "stranger.json"
    key_file.write_text(
        json.dumps({"client_email": "who@nowhere.iam.gserviceaccount.com", "private_key": pem})
    )
    settings = google_settings(google, key_file)
    async with GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as channel:
        result = await channel.sync_program(PROGRAM)

    assert result.outcome is Outcome.RETRY
    assert result.reason is Reason.SERVER_ERROR
    assert "invalid_grant" in result.detail
    [grant] = google.token_requests()
    assert grant.status == 400
    assert grant.response["error"] == "invalid_grant"
    assert google.api_requests() == []


async def test_a_key_that_does_not_match_the_account_fails_the_signature_check(
    google: FakeGoogleWallet, key: ServiceAccountKey, tmp_path: Path, clock: FakeClock
) -> None:
    forged = dict(key.info)
    forged["private_key"] = generate_rsa_pem()
    key_file = tmp_path / "forged.json"
    key_file.write_text(json.dumps(forged))
    settings = google_settings(google, key_file)
    async with GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as channel:
        result = await channel.sync_program(PROGRAM)

    assert result.outcome is Outcome.RETRY
    assert google.token_requests()[0].response == {
        "error": "invalid_grant",
        "error_description": "Invalid JWT Signature.",
    }


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        ('{"client_email": "a@b.c"}', "private_key missing"),
        ('{"client_email": "a@b.c", "private_key": "-----BEGIN NOTHING-----"}', "not a PEM"),
    ],
)
def test_unusable_key_files_are_refused_with_a_clear_message(
    tmp_path: Path, content: str | None, words: str
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ServiceAccountError, match=words):
        ServiceAccount.from_file(path)


def test_the_private_key_never_shows_in_repr(key: ServiceAccountKey, key_file: Path) -> None:
    account = ServiceAccount.from_file(key_file)
    assert "PRIVATE" not in repr(account)
    assert key.email in repr(account)
