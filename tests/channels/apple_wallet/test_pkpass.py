"""The pure pass builder: what it refuses before anything is signed."""

from __future__ import annotations

import dataclasses

import pytest

from channels.apple_wallet.pkpass import PassIdentity, manifest, pass_json
from tests.channels.apple_wallet.test_demo_certs import CONTENT


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"authentication_token": "short"}, "16 characters"),
        ({"background": "red"}, "#RRGGBB"),
        ({"stamps_needed": 0}, "at least one stamp"),
        ({"barcode_message": "тест"}, "latin-1"),
    ],
)
def test_content_wallet_would_reject_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CONTENT, **change)  # type: ignore[arg-type]


def test_the_manifest_hashes_every_file_with_sha1() -> None:
    assert manifest({"b": b"", "a": b"abc"}) == (
        b'{\n  "a": "a9993e364706816aba3e25717850c26c9cd0d89d",\n'
        b'  "b": "da39a3ee5e6b4b0d3255bfef95601890afd80709"\n}'
    )


def test_the_balance_shown_never_leaves_the_card() -> None:
    identity = PassIdentity("pass.dev.stampbot.demo", "DEMOTEAM00", "https://x.example/passkit")
    over = pass_json(dataclasses.replace(CONTENT, balance=12), identity)

    assert over["storeCard"]["primaryFields"][0]["value"] == "10/10"
    assert over["storeCard"]["secondaryFields"][0]["value"] == "Ready: \u2068Free coffee\u2069"
