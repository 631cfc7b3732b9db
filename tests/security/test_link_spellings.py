"""Link tokens: exactly one spelling per token, and only ids the database can hold."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.links import MAX_ID, MAX_PEEK_ID, LinkSigner, Purpose

SIGNER = LinkSigner(b"s" * 32, "https://stamps.example")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.!"


def _raw(ident: int) -> str:
    return base64.urlsafe_b64encode(ident.to_bytes(8, "big")).rstrip(b"=").decode()


@given(
    purpose=st.sampled_from(list(Purpose)),
    ident=st.integers(1, MAX_ID),
    extra=st.text(max_size=20),
    position=st.integers(0, 63),
    character=st.sampled_from(_ALPHABET),
    insert=st.booleans(),
)
def test_a_token_verifies_and_no_other_string_near_it_does(
    purpose: Purpose, ident: int, extra: str, position: int, character: str, insert: bool
) -> None:
    token = SIGNER.token(purpose, ident, extra)
    position %= len(token)
    changed = token[:position] + character + token[position + (0 if insert else 1) :]

    assert SIGNER.verify(purpose, token, extra) == ident
    if changed != token:
        assert SIGNER.verify(purpose, changed, extra) is None


def test_unused_bits_padding_and_plus_are_other_spellings_that_are_refused() -> None:
    token = SIGNER.token(Purpose.OPEN, 1)
    ident, tag = token.split(".")
    spellings = [
        f"{ident[:-1]}{chr(ord(ident[-1]) + 1)}.{tag}",  # "E" → "F": only unused bits differ
        f"{ident}=.{tag}",
        f"{ident}.{tag}==",
        f"{ident[:4]}!!!!{ident[4:]}.{tag}",
        token.replace("-", "+").replace("_", "/"),
    ]
    assert ident[-1] == "E"
    for spelling in spellings:
        if spelling != token:
            assert SIGNER.verify(Purpose.OPEN, spelling) is None, spelling


@pytest.mark.parametrize(
    ("ident", "verified", "peeked"),
    [(0, False, False), (MAX_PEEK_ID, True, True), (MAX_PEEK_ID + 1, True, False)],
)
def test_ids_come_out_only_within_the_id_columns(ident: int, verified: bool, peeked: bool) -> None:
    token = SIGNER.token(Purpose.UNSUBSCRIBE, ident)
    assert (SIGNER.verify(Purpose.UNSUBSCRIBE, token) == ident) is verified
    assert (SIGNER.peek(token) == ident) is peeked


def test_ids_beyond_bigint_never_come_out() -> None:
    forged = f"{_raw(2**64 - 4)}.{'A' * 22}"
    assert SIGNER.peek(forged) is None
    assert SIGNER.verify(Purpose.OPEN, forged) is None
