"""The "Save to Google Wallet" link: a JWT anyone can check with the service account's key."""

from __future__ import annotations

import jwt
import pytest

from channels.google_wallet import (
    SAVE_URL_PREFIX,
    GoogleWalletChannel,
    LoyaltyPass,
    LoyaltyProgram,
)
from fakes.google_wallet import FakeClock, FakeGoogleWallet, ServiceAccountKey
from tests.channels.google_wallet.conftest import ORIGINS

PROGRAM = LoyaltyProgram(3, "Coffee card", "Kafe Lviv", "https://stampbot.example/logo/3.png")
CARD = LoyaltyPass(12, 3, "Olena", 7, 10, barcode_value="https://t.me/stampbot_demo_bot?start=m-x")


def claims_of(url: str, key: ServiceAccountKey) -> dict[str, object]:
    assert url.startswith(SAVE_URL_PREFIX)
    token = url.removeprefix(SAVE_URL_PREFIX)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    return jwt.decode(token, key.public_key_pem, algorithms=["RS256"], audience="google")


def test_link_names_the_synced_object(
    channel: GoogleWalletChannel, key: ServiceAccountKey, google: FakeGoogleWallet,
    clock: FakeClock,
) -> None:  # fmt: skip
    claims = claims_of(channel.save_url(CARD), key)

    assert claims == {
        "iss": key.email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(clock()),
        "origins": list(ORIGINS),
        "payload": {
            "loyaltyObjects": [
                {
                    "id": channel.object_id(12),
                    "classId": f"{google.issuer_id}.card-3",
                }
            ]
        },
    }
    assert len(channel.save_url(CARD)) < 2000  # short enough for any browser and QR code


def test_embedded_link_carries_the_whole_pass(
    channel: GoogleWalletChannel, key: ServiceAccountKey
) -> None:
    claims = claims_of(channel.save_url(CARD, program=PROGRAM, embed=True), key)
    payload = claims["payload"]
    assert isinstance(payload, dict)
    [embedded] = payload["loyaltyObjects"]
    assert embedded["loyaltyPoints"]["balance"] == {"string": "7/10"}
    assert embedded["barcode"]["value"] == CARD.barcode_value
    [program] = payload["loyaltyClasses"]
    assert program["programName"] == "Coffee card"


def test_a_tampered_link_does_not_verify(
    channel: GoogleWalletChannel, key: ServiceAccountKey
) -> None:
    header, _body, signature = channel.save_url(CARD).removeprefix(SAVE_URL_PREFIX).split(".")
    other = channel.save_url(LoyaltyPass(13, 3, "Eve", 9, 10, barcode_value="x"))
    forged_body = other.removeprefix(SAVE_URL_PREFIX).split(".")[1]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            f"{header}.{forged_body}.{signature}",
            key.public_key_pem,
            algorithms=["RS256"],
            audience="google",
        )
