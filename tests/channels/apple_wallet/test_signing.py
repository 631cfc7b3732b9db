"""The detached signature itself, read back with openssl: signer, WWDR, signing time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from channels.apple_wallet.signing import PassSigner, SigningMaterialError
from tests.channels.apple_wallet.pki import Chain
from tests.channels.apple_wallet.verify import OPENSSL, openssl_verify


def _cms_print(signature: bytes, tmp_path: Path) -> str:
    path = tmp_path / "signature"
    path.write_bytes(signature)
    result = subprocess.run(  # noqa: S603
        [OPENSSL, "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout


def test_the_signature_carries_the_wwdr_and_the_signing_time(
    pass_signer: PassSigner, chain: Chain, tmp_path: Path
) -> None:
    manifest = b'{"pass.json": "0123"}'

    signature = pass_signer.sign(manifest)

    printed = _cms_print(signature, tmp_path)
    assert "Test WWDR Intermediate" in printed
    assert "Pass Type ID: pass.example.stampbot.test" in printed
    assert "signingTime" in printed
    assert "eContent: <ABSENT>" in printed  # detached
    assert openssl_verify(signature, manifest, chain.ca_pem).returncode == 0
    assert openssl_verify(signature, manifest + b" ", chain.ca_pem).returncode != 0


def test_a_key_that_is_not_the_certificates_is_refused(pass_signer: PassSigner) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(SigningMaterialError, match="does not belong"):
        PassSigner(pass_signer.certificate, stranger, pass_signer.wwdr)
