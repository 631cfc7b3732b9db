"""A member's pass built from the database, checked with openssl and by reading its files."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from loyalty.memberships import leave
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, start_link
from loyalty.vouchers import issue_voucher
from models import Membership, WalletPass
from models.enums import VoucherSource
from render.pass_images import icon_png, logo_png
from tests import factories
from tests.apple_wallet_fixtures import BASE_URL, BOT
from tests.channels.apple_wallet.pki import PASS_TYPE_ID, TEAM_ID, Chain
from tests.channels.apple_wallet.verify import pass_problems, rezip, unzip
from wallets.apple_passes import WalletPasses

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


async def _member_with_seven_stamps() -> Membership:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await add_stamps(member.id, 5, merchant_id=shop.merchant.id, now=NOW)
    await add_stamps(member.id, 2, merchant_id=shop.merchant.id, now=NOW, ignore_cooldown=True)
    return await Membership.get(id=member.id)


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324


def _document(pkpass: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(unzip(pkpass)["pass.json"])
    return document


def _fields(document: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {field["key"]: field for field in document["storeCard"][section]}


async def test_a_members_pass_verifies_and_shows_the_card(
    wallet: WalletPasses, chain: Chain, passes_dir: Path
) -> None:
    member = await _member_with_seven_stamps()

    issued = await wallet.issue(member.id, now=NOW)

    assert pass_problems(issued.pkpass, chain.ca_pem) == []
    files = unzip(issued.pkpass)
    assert {
        "pass.json",
        "manifest.json",
        "signature",
        "icon.png",
        "icon@2x.png",
        "logo.png",
        "logo@2x.png",
        *(f"{language}.lproj/pass.strings" for language in ("en", "uk", "he", "fa", "th")),
    } <= set(files)
    document = json.loads(files["pass.json"])
    row = await WalletPass.get(membership_id=member.id)
    assert document["formatVersion"] == 1
    assert document["passTypeIdentifier"] == PASS_TYPE_ID
    assert document["teamIdentifier"] == TEAM_ID
    assert document["serialNumber"] == row.serial_number == issued.serial_number
    assert document["authenticationToken"] == row.authentication_token
    assert len(row.authentication_token) >= 16
    assert document["webServiceURL"] == f"{BASE_URL}/passkit"
    assert document["organizationName"] == "Kafe Lviv"
    assert (document["backgroundColor"], document["foregroundColor"], document["labelColor"]) == (
        "rgb(31, 41, 55)",
        "rgb(255, 255, 255)",
        "rgb(245, 158, 11)",
    )
    assert _fields(document, "primaryFields")["stamps"]["value"] == "7/10"
    # Olena reads Ukrainian: pass.json speaks it, the plural form included.
    assert _fields(document, "secondaryFields")["reward"]["value"] == (
        "Ще 3 штампи до нагороди: \u2068Free cappuccino\u2069"
    )
    [barcode] = document["barcodes"]
    assert barcode == {
        "format": "PKBarcodeFormatQR",
        "message": start_link(BOT, LinkKind.MEMBERSHIP, member.public_token),
        "messageEncoding": "iso-8859-1",
        "altText": f"Код для каси: \u2068{member.counter_code}\u2069",
    }
    back = _fields(document, "backFields")
    assert back["campaign"] == {
        "key": "campaign",
        "label": "Новини",
        "value": "Тут з’являтимуться новини від \u2068Kafe Lviv\u2069.",
        "changeMessage": "%@",
    }
    assert all(field["value"].strip() for field in document["storeCard"]["backFields"])
    assert back["card_page"]["value"].startswith(f"{BASE_URL}/c/")
    assert issued.path == passes_dir / f"{row.serial_number}.pkpass"
    assert issued.path.read_bytes() == issued.pkpass


async def test_a_pass_edited_after_signing_fails_verification(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member_with_seven_stamps()
    files = unzip((await wallet.issue(member.id, now=NOW)).pkpass)

    edited = dict(files, **{"pass.json": files["pass.json"].replace(b"7/10", b"9/10")})
    flipped_manifest = bytearray(files["manifest.json"])
    flipped_manifest[10] ^= 0x01
    flipped = dict(files, **{"manifest.json": bytes(flipped_manifest)})
    rehashed = dict(edited)
    rehashed["manifest.json"] = json.dumps(
        {
            name: _sha1(data)
            for name, data in edited.items()
            if name not in {"manifest.json", "signature"}
        }
    ).encode()

    assert pass_problems(rezip(edited), chain.ca_pem) == ["hash mismatch: pass.json"]
    assert any(p.startswith("openssl:") for p in pass_problems(rezip(flipped), chain.ca_pem))
    # Re-hashing the edit into the manifest does not help: the signature covers the manifest.
    [problem] = pass_problems(rezip(rehashed), chain.ca_pem)
    assert problem.startswith("openssl:")


async def test_a_pass_is_refused_under_a_root_that_did_not_sign_it(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member_with_seven_stamps()

    issued = await wallet.issue(member.id, now=NOW)

    [problem] = pass_problems(issued.pkpass, chain.other_ca_pem)
    assert "openssl" in problem


async def test_rebuilding_keeps_serial_and_token_and_shows_new_stamps(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member_with_seven_stamps()
    first = _document((await wallet.issue(member.id, now=NOW)).pkpass)
    card = await member.card
    await add_stamps(member.id, 1, merchant_id=card.merchant_id, now=NOW, ignore_cooldown=True)

    second_pass = await wallet.issue(member.id, now=NOW)

    second = _document(second_pass.pkpass)
    assert (second["serialNumber"], second["authenticationToken"]) == (
        first["serialNumber"],
        first["authenticationToken"],
    )
    assert _fields(second, "primaryFields")["stamps"]["value"] == "8/10"
    assert pass_problems(second_pass.pkpass, chain.ca_pem) == []
    assert await WalletPass.filter(membership_id=member.id).count() == 1


async def test_every_membership_gets_its_own_unguessable_serial_and_token(
    wallet: WalletPasses,
) -> None:
    shop = await factories.merchant()
    members = [await factories.member(shop, telegram_id=2000 + i) for i in range(3)]

    rows = [
        await WalletPass.get(serial_number=(await wallet.issue(m.id)).serial_number)
        for m in members
    ]

    assert len({row.serial_number for row in rows}) == 3
    assert len({row.authentication_token for row in rows}) == 3
    # 128 random bits at least: 32 hex digits, 43 url-safe base64 characters.
    assert all(len(row.serial_number) >= 32 for row in rows)
    assert all(len(row.authentication_token) >= 43 for row in rows)


async def test_active_vouchers_are_counted_and_named(wallet: WalletPasses) -> None:
    member = await _member_with_seven_stamps()
    card = await member.card
    for title in ("Free cappuccino", "Birthday cake"):
        await issue_voucher(
            member, card, source=VoucherSource.REWARD, title=title, validity_days=None, now=NOW
        )

    document = _document((await wallet.issue(member.id, now=NOW)).pkpass)

    vouchers = _fields(document, "auxiliaryFields")["vouchers"]
    assert vouchers["value"] == "2: \u2068Free cappuccino\u2069 і \u2068Birthday cake\u2069"


async def test_a_left_membership_gets_a_voided_pass_without_a_qr(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member_with_seven_stamps()
    await wallet.issue(member.id, now=NOW)
    await leave(member, now=NOW)

    issued = await wallet.issue(member.id, now=NOW)

    document = _document(issued.pkpass)
    assert document["voided"] is True
    assert "barcodes" not in document
    assert pass_problems(issued.pkpass, chain.ca_pem) == []


async def test_the_merchants_logo_is_used_when_it_has_one(wallet: WalletPasses) -> None:
    member = await _member_with_seven_stamps()
    merchant = await (await member.card).merchant
    buf = BytesIO()
    Image.new("RGB", (200, 100), (200, 0, 0)).save(buf, format="PNG")
    merchant.logo_png = buf.getvalue()
    await merchant.save(update_fields=["logo_png"])

    files = unzip((await wallet.issue(member.id, now=NOW)).pkpass)

    logo = Image.open(BytesIO(files["logo@2x.png"])).convert("RGB")
    assert logo.size == (200, 100)  # fitted into 320 x 100 keeping its shape
    assert logo.getpixel((100, 50)) == (200, 0, 0)
    icon = Image.open(BytesIO(files["icon.png"]))
    assert icon.size == (29, 29)


async def test_a_broken_logo_upload_falls_back_to_the_initial(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member_with_seven_stamps()
    merchant = await (await member.card).merchant
    merchant.logo_png = b"\x89PNG\r\n\x1a\nnot really"
    await merchant.save(update_fields=["logo_png"])

    issued = await wallet.issue(member.id, now=NOW)

    files = unzip(issued.pkpass)
    assert Image.open(BytesIO(files["logo.png"])).size == (50, 50)
    assert pass_problems(issued.pkpass, chain.ca_pem) == []


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("กาแฟดี", "ขนมหวาน"),
        ("קפה הפינה", "בית קפה"),
        ("کافه سر کوچه", "باغ کافه"),
        ("☕ Café", "Bar"),
    ],
)
def test_the_initial_badge_draws_every_script(name: str, other: str) -> None:
    # Two different letters drawn as the same picture would be two .notdef boxes.
    icons = [icon_png(shop, "#1F3A5F", "#FFFFFF", None, 3) for shop in (name, other)]
    logo = logo_png(name, "#1F3A5F", "#F2B134", None, 3)
    artifacts = Path(__file__).resolve().parents[3] / "var" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"pass-icon-{name.encode().hex()[:12]}.png").write_bytes(icons[0])
    (artifacts / f"pass-logo-{name.encode().hex()[:12]}.png").write_bytes(logo)
    first, second = (Image.open(BytesIO(icon)).convert("RGB") for icon in icons)
    assert first.tobytes() != second.tobytes()
    # The letter is drawn in the foreground colour near the middle of the badge.
    centre = first.crop((20, 20, 67, 67))
    assert (255, 255, 255) in {colour for _, colour in centre.getcolors(47 * 47) or []}
