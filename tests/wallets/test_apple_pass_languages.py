"""The pass in the member's language, every other language in its .lproj, and https only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.factory import build_link_signer, build_wallets
from channels.apple_wallet.signing import PassSigner
from loyalty.links import LinkSigner
from models import Customer, Identity, Membership
from tests import factories
from tests.apple_wallet_fixtures import BOT
from tests.channels.apple_wallet.pki import KEY_PASSWORD, PASS_TYPE_ID, TEAM_ID, Chain
from tests.channels.apple_wallet.verify import pass_problems, read_strings, unzip
from wallets.apple_passes import WalletPasses

pytestmark = pytest.mark.usefixtures("db")

LANGUAGES = ("en", "uk", "he", "fa", "th")


def _localizable(document: dict[str, Any]) -> list[str]:
    """Every text of pass.json Wallet looks up in pass.strings that we wrote, not the shop."""
    card = document["storeCard"]
    texts = [document["description"]]
    for section in ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields"):
        texts += [field["label"] for field in card[section]]
    texts += [card["secondaryFields"][0]["value"], card["auxiliaryFields"][0]["value"]]
    for field in card["backFields"]:
        texts.append(field["label"])
        if field["key"] != "card_page":
            texts.append(field["value"])
    texts += [barcode["altText"] for barcode in document.get("barcodes", [])]
    return texts


async def _member(language: str | None, *, telegram_language: str | None = None) -> Membership:
    shop = await factories.merchant()
    member = await factories.member(shop)
    customer = await Customer.get(id=member.customer_id)
    customer.language = language
    await customer.save(update_fields=["language"])
    if telegram_language is not None:
        await Identity.filter(customer_id=customer.id).update(language_code=telegram_language)
    return member


async def test_a_hebrew_members_pass_is_hebrew_and_every_language_is_inside(
    wallet: WalletPasses, chain: Chain
) -> None:
    member = await _member("he")

    issued = await wallet.issue(member.id)

    assert pass_problems(issued.pkpass, chain.ca_pem) == []
    files = unzip(issued.pkpass)
    manifest = json.loads(files["manifest.json"])
    strings = {language: f"{language}.lproj/pass.strings" for language in LANGUAGES}
    assert set(strings.values()) <= set(manifest)
    # The member's own localization comes first in the archive.
    assert next(name for name in files if name.endswith(".lproj/pass.strings")) == strings["he"]
    document = json.loads(files["pass.json"])
    card = document["storeCard"]
    assert [card[s][0]["label"] for s in ("primaryFields", "secondaryFields")] == [
        "חותמות",
        "הטבה",
    ]
    assert card["auxiliaryFields"][0] == {"key": "vouchers", "label": "שוברים", "value": "אין"}
    tables = {language: read_strings(files[name]) for language, name in strings.items()}
    texts = _localizable(document)
    for language, table in tables.items():
        missing = [text for text in texts if text not in table]
        assert missing == [], f"{language}.lproj lacks {missing}"
    # A phone set to English shows English, to Thai Thai: the same keys, other words.
    english = [tables["en"][text] for text in texts]
    assert "Stamps" in english
    assert "Vouchers" in english
    assert "None" in english
    assert "News" in english
    assert "10 more stamps for \u2068Free cappuccino\u2069" in english
    assert tables["th"]["חותמות"] == "แสตมป์"
    assert tables["uk"]["אין"] == "Немає"
    assert tables["he"]["חותמות"] == "חותמות"


async def test_one_stamp_to_go_uses_the_singular_and_ukrainian_plurals_have_three_forms(
    wallet: WalletPasses,
) -> None:
    member = await _member("uk")
    card = await member.card
    card.stamps_needed = 2
    await card.save(update_fields=["stamps_needed"])
    member.balance = 1
    await member.save(update_fields=["balance"])

    files = unzip((await wallet.issue(member.id)).pkpass)

    document = json.loads(files["pass.json"])
    progress = document["storeCard"]["secondaryFields"][0]["value"]
    assert progress == "Ще 1 штамп до нагороди: \u2068Free cappuccino\u2069"
    english = read_strings(files["en.lproj/pass.strings"])
    assert english[progress] == "1 more stamp for \u2068Free cappuccino\u2069"
    how = document["storeCard"]["backFields"][2]["value"]
    assert (
        how
        == "Покажи QR-код на касі, щоб отримати штампи. 2 штампи — це \u2068Free cappuccino\u2069."
    )


async def test_without_a_chosen_language_the_messengers_one_is_used(
    wallet: WalletPasses,
) -> None:
    member = await _member(None, telegram_language="fa-IR")

    document = json.loads(unzip((await wallet.issue(member.id)).pkpass)["pass.json"])

    assert document["storeCard"]["primaryFields"][0]["label"] == "مهرها"


async def test_a_plain_http_base_url_gives_a_pass_without_web_service(
    pass_signer: PassSigner, chain: Chain
) -> None:
    member = await _member("en")
    wallet = WalletPasses(
        pass_type_identifier=PASS_TYPE_ID,
        team_identifier=TEAM_ID,
        base_url="http://127.0.0.1:8080",
        signer=pass_signer,
        link_signer=LinkSigner(b"k" * 32, "http://127.0.0.1:8080"),
        bot_username=BOT,
    )

    issued = await wallet.issue(member.id)

    document = json.loads(unzip(issued.pkpass)["pass.json"])
    assert "webServiceURL" not in document
    assert "authenticationToken" not in document
    assert pass_problems(issued.pkpass, chain.ca_pem) == []


def _settings(chain: Chain, tmp_path: Path, public_url: str) -> Settings:
    return Settings(
        _env_file=None,
        var_dir=tmp_path,
        web={"public_url": public_url},
        apple_wallet={
            "pass_type_id": PASS_TYPE_ID,
            "team_id": TEAM_ID,
            "pass_cert_path": chain.pass_pem,
            "pass_key_path": chain.pass_key_pem,
            "pass_key_password": KEY_PASSWORD,
            "wwdr_cert_path": chain.wwdr_pem,
        },
    )


def test_real_certificates_with_an_http_base_url_refuse_to_start(
    chain: Chain, tmp_path: Path
) -> None:
    settings = _settings(chain, tmp_path, "http://stamps.example")

    with pytest.raises(SystemExit) as refused:
        build_wallets(settings, build_link_signer(settings))

    message = str(refused.value)
    assert "not https" in message
    assert "STAMPBOT_PUBLIC_URL" in message


async def test_real_certificates_with_an_https_base_url_start(
    chain: Chain, tmp_path: Path
) -> None:
    settings = _settings(chain, tmp_path, "https://stamps.example")

    wallets = build_wallets(settings, build_link_signer(settings))

    assert wallets.passes.identity.web_service_url == "https://stamps.example/passkit"
    await wallets.close()
