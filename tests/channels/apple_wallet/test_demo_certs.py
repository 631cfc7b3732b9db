"""The demo chain of the embedded default: made once, reused, and passes signed with it verify."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from channels.apple_wallet.demo_certs import demo_signer, load_signer
from channels.apple_wallet.pkpass import PassContent, PassIdentity, build_pkpass
from channels.apple_wallet.signing import SigningMaterialError
from tests.channels.apple_wallet.pki import KEY_PASSWORD, PASS_TYPE_ID, Chain
from tests.channels.apple_wallet.verify import OPENSSL, pass_problems, unzip

TEAM = "DEMOTEAM00"
CONTENT = PassContent(
    serial_number="demo-serial",
    authentication_token="t" * 32,
    merchant_name="Demo shop",
    card_name="Coffee card",
    stamps_needed=10,
    balance=3,
    reward_text="Free coffee",
    background="#1F2937",
    foreground="#FFFFFF",
    accent="#F59E0B",
    barcode_message="https://t.me/stampbot_demo_bot?start=m-abcdefghijklmnopqrstuv",
    card_page_url="http://127.0.0.1:8080/c/x.y",
)
IDENTITY = PassIdentity("pass.dev.stampbot.demo", TEAM, "http://127.0.0.1:8080/passkit")


def test_the_demo_chain_is_made_once_and_reused(tmp_path: Path) -> None:
    first = demo_signer(tmp_path, "pass.dev.stampbot.demo", TEAM)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    second = demo_signer(tmp_path, "pass.dev.stampbot.demo", TEAM)

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert set(files) == {"ca.pem", "wwdr.pem", "pass.pem", "pass.key"}
    assert second.certificate == first.certificate
    assert (tmp_path / "pass.key").stat().st_mode & 0o077 == 0
    subject = first.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "pass.dev.stampbot.demo"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == TEAM


def test_a_pass_signed_with_the_demo_chain_verifies_with_openssl(tmp_path: Path) -> None:
    signer = demo_signer(tmp_path, "pass.dev.stampbot.demo", TEAM)

    pkpass = build_pkpass(CONTENT, IDENTITY, signer)

    assert pass_problems(pkpass, tmp_path / "ca.pem") == []
    chain = subprocess.run(  # noqa: S603
        [
            OPENSSL,
            "verify",
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-untrusted",
            str(tmp_path / "wwdr.pem"),
            str(tmp_path / "pass.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert chain.returncode == 0, chain.stderr
    assert (
        json.loads(unzip(pkpass)["pass.json"])["passTypeIdentifier"]
        == IDENTITY.pass_type_identifier
    )


def test_another_pass_type_makes_a_new_demo_certificate(tmp_path: Path) -> None:
    first = demo_signer(tmp_path, "pass.dev.stampbot.demo", TEAM)

    second = demo_signer(tmp_path, "pass.dev.stampbot.other", TEAM)

    assert second.certificate != first.certificate
    assert second.pass_type_identifier == "pass.dev.stampbot.other"


def test_configured_certificates_win_over_the_demo(chain: Chain, tmp_path: Path) -> None:
    signer = load_signer(
        certificate=chain.pass_pem,
        private_key=chain.pass_key_pem,
        wwdr=chain.wwdr_pem,
        password=SecretStr(KEY_PASSWORD),
        demo_dir=tmp_path / "demo",
        pass_type_id=PASS_TYPE_ID,
        team_id="TEAM123456",
    )

    assert signer.certificate == x509.load_pem_x509_certificate(chain.pass_pem.read_bytes())
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(
    ("password", "pass_type", "wwdr_given", "message"),
    [
        ("wrong password", PASS_TYPE_ID, True, "cannot load"),
        (KEY_PASSWORD, "pass.example.other", True, "is for"),
        (KEY_PASSWORD, PASS_TYPE_ID, False, "all three"),
    ],
)
def test_bad_certificate_settings_are_refused_with_a_reason(
    chain: Chain, tmp_path: Path, password: str, pass_type: str, wwdr_given: bool, message: str
) -> None:
    with pytest.raises(SigningMaterialError, match=message) as caught:
        load_signer(
            certificate=chain.pass_pem,
            private_key=chain.pass_key_pem,
            wwdr=chain.wwdr_pem if wwdr_given else None,
            password=SecretStr(password),
            demo_dir=tmp_path,
            pass_type_id=pass_type,
            team_id="TEAM123456",
        )

    assert password not in str(caught.value)
