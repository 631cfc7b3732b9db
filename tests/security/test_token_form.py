"""Every token behind a link is unguessable (at least 128 random bits) and has one spelling:
another string that decodes to the same bytes opens nothing, on the web or in the chat."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.app import BotRuntime
from bot.config import Settings
from bot.factory import webhook_secret
from loyalty.links import MAC_BYTES, LinkSigner, Purpose
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, new_token, parse_payload, payload, start_link
from models import Delivery, Membership, Staff
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, text_of
from tests.web.card_page_scenario import card_on_the_web
from tests.web.test_card_page import _get
from tests.web.test_links import _delivered
from tests.web_probe import database_snapshot, other_spellings
from wallets.apple_registry import ensure_wallet_pass


def _bits(token: str) -> int:
    """The bits a url-safe base64 token carries; it must be the one spelling of its bytes."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == token, token
    return len(raw) * 8


def test_new_tokens_carry_128_bits_and_fit_a_start_payload() -> None:
    made = {new_token() for _ in range(2000)}

    assert len(made) == 2000
    assert {_bits(token) for token in made} == {128}
    for token in list(made)[:50]:
        assert parse_payload(payload(LinkKind.JOIN, token)) == (LinkKind.JOIN, token)
        assert start_link("stampbot_test_bot", LinkKind.JOIN, token).endswith(f"j-{token}")


async def test_every_token_the_product_hands_out_carries_at_least_128_bits(db: Any) -> None:
    shop = await factories.merchant(stamps_needed=1)
    member = await factories.member(shop)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    voucher = (await add_stamps(member.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    wallet_pass = await ensure_wallet_pass(member.id)
    tokens = {
        "join link": shop.card.join_token,
        "owner invite": shop.owner_invite.token,
        "staff invite": invite.token,
        "personal QR": member.public_token,
        "voucher QR": voucher.token,
        "pass authentication": wallet_pass.authentication_token,
    }

    assert {name: _bits(token) >= 128 for name, token in tokens.items()} == dict.fromkeys(
        tokens, True
    )
    assert len(set(tokens.values())) == len(tokens)
    assert len(bytes.fromhex(wallet_pass.serial_number)) * 8 >= 128


def test_signed_link_tags_and_the_derived_webhook_secret_carry_at_least_128_bits(
    bot_settings: Settings,
) -> None:
    signer = LinkSigner(b"s" * 32, "https://stamps.example")
    tag = signer.token(Purpose.CARD_PAGE, 42).split(".")[1]

    assert MAC_BYTES * 8 >= 128
    assert _bits(tag) == MAC_BYTES * 8
    # Without STAMPBOT_WEBHOOK_SECRET it is derived from the signing key (32 random bytes).
    assert bot_settings.web.webhook_secret is None
    secret = webhook_secret(bot_settings)
    assert (bot_settings.var_dir / "signing.key").stat().st_size == 32
    assert _bits(secret) >= 128


def test_other_spellings_do_spell_the_same_bytes() -> None:
    token = "AAAAAAAAAAE.q83vASNFZ4mrze8BI0VniQ"
    for variant in other_spellings(token):
        decoded = [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in variant.split(".")
        ]
        original = [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split(".")]
        assert decoded == original, variant


@pytest.mark.usefixtures("fresh_state")
async def test_only_the_canonical_spelling_of_a_token_opens_the_page(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)
    base, token = web.url.rsplit("/", 1)
    variants = other_spellings(token)
    assert len(variants) >= 6

    statuses = {variant: (await _get(f"{base}/{variant}"))[0] for variant in variants}

    assert statuses == dict.fromkeys(variants, 404)
    assert (await _get(web.url))[0] == 200


@pytest.mark.usefixtures("fresh_state")
async def test_other_spellings_of_a_message_token_are_refused(
    runtime: BotRuntime, webhook_url: str
) -> None:
    delivery = await _delivered(runtime)
    token = runtime.signer.token(Purpose.OPEN, delivery.id)
    variants = other_spellings(token)
    assert len(variants) >= 5

    async with aiohttp.ClientSession() as http:
        statuses = []
        for variant in variants:
            async with http.get(f"{runtime.signer.base_url}/e/o/{variant}.gif") as r:
                statuses.append(r.status)

    assert statuses == [404] * len(variants)
    assert (await Delivery.get(id=delivery.id)).opened_at is None


def _same_bytes_spelled_otherwise(token: str) -> str:
    """``token`` with the unused low bits of its last character set: the same 16 bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    variant = token[:-1] + alphabet[last ^ 1]
    assert base64.urlsafe_b64decode(variant + "==") == base64.urlsafe_b64decode(token + "==")
    return variant


async def test_another_spelling_of_a_join_or_invite_token_opens_nothing_in_the_chat(
    new_chat: Any,
) -> None:
    shop = await factories.merchant()
    person: Chat = new_chat(first_name="Mallory")
    made_up = (await person.send(f"/start j-{new_token()}"))[-1]
    rows = await database_snapshot()

    join = _same_bytes_spelled_otherwise(shop.card.join_token)
    invite = _same_bytes_spelled_otherwise(shop.owner_invite.token)

    joined = await person.send(f"/start j-{join}")
    invited = await person.send(f"/start i-{invite}")

    assert text_of(joined[-1]) == text_of(made_up)
    assert text_of(invited[-1]).startswith("This invite link is unknown, expired or already used.")
    assert await database_snapshot() == rows
    assert not await Staff.exists()
    assert not await Membership.exists()
    # The genuine link still joins: only the spelling was refused.
    await person.send(f"/start j-{shop.card.join_token}")
    assert await Membership.all().count() == 1
