"""A demo certificate chain shaped like Apple's: root CA → WWDR-like intermediate → Pass Type ID.

The embedded default signs passes with it, so every pass is a real, verifiable PKCS #7 pass
even without an Apple developer account; an iPhone will not install it, as it trusts only
Apple's root. Real certificates are configured with ``STAMPBOT_APPLE_PASS_CERT_PATH`` & co.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pydantic import SecretStr

from channels.apple_wallet.signing import PassSigner, SigningMaterialError

logger = logging.getLogger(__name__)

# Apple's extended key usage for Pass Type ID certificates.
PASS_TYPE_ID_USAGE = ObjectIdentifier("1.2.840.113635.100.4.14")

CA_FILE = "ca.pem"
WWDR_FILE = "wwdr.pem"
PASS_CERT_FILE = "pass.pem"
PASS_KEY_FILE = "pass.key"

CA_YEARS = 20
PASS_YEARS = 5
# A demo chain this close to expiry is made anew rather than reused.
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class DemoChain:
    ca: x509.Certificate
    wwdr: x509.Certificate
    pass_certificate: x509.Certificate
    pass_key: ec.EllipticCurvePrivateKey

    @property
    def signer(self) -> PassSigner:
        return PassSigner(self.pass_certificate, self.pass_key, self.wwdr)


def _name(*attributes: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    now: datetime,
    years: int,
    ca: bool,
    path_length: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(usage, critical=True).add_extension(
            x509.ExtendedKeyUsage([PASS_TYPE_ID_USAGE, ExtendedKeyUsageOID.CODE_SIGNING]),
            critical=False,
        )
    if subject != issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_demo_chain(
    pass_type_id: str,
    team_id: str,
    organization: str = "stampbot demo",
    *,
    now: datetime | None = None,
) -> DemoChain:
    """A fresh chain; the pass certificate's subject names the pass type as Apple's do."""
    moment = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    wwdr_key = ec.generate_private_key(ec.SECP256R1())
    pass_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.ORGANIZATION_NAME, "stampbot demo root"),
        (NameOID.COMMON_NAME, "stampbot Demo Root CA"),
    )
    wwdr_name = _name(
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.ORGANIZATION_NAME, "stampbot demo root"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "G4"),
        (NameOID.COMMON_NAME, "Demo Worldwide Developer Relations Certification Authority"),
    )
    pass_name = _name(
        (NameOID.USER_ID, pass_type_id),
        (NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        (NameOID.ORGANIZATION_NAME, organization),
        (NameOID.COUNTRY_NAME, "US"),
    )
    ca = _issue(ca_name, ca_key, ca_name, ca_key, now=moment, years=CA_YEARS, ca=True)
    wwdr = _issue(
        wwdr_name, wwdr_key, ca_name, ca_key, now=moment, years=CA_YEARS, ca=True, path_length=0
    )
    pass_cert = _issue(
        pass_name, pass_key, wwdr_name, wwdr_key, now=moment, years=PASS_YEARS, ca=False
    )
    return DemoChain(ca=ca, wwdr=wwdr, pass_certificate=pass_cert, pass_key=pass_key)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_demo_chain(chain: DemoChain, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    key_pem = chain.pass_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path = directory / PASS_KEY_FILE
    # Created with 0600 from the start, so the key is never readable by others, not even briefly.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    (directory / CA_FILE).write_bytes(_pem(chain.ca))
    (directory / WWDR_FILE).write_bytes(_pem(chain.wwdr))
    (directory / PASS_CERT_FILE).write_bytes(_pem(chain.pass_certificate))


def _reusable(signer: PassSigner, pass_type_id: str, now: datetime) -> bool:
    expires = signer.certificate.not_valid_after_utc
    return signer.pass_type_identifier == pass_type_id and expires - now > RENEW_BEFORE


def demo_signer(
    directory: Path, pass_type_id: str, team_id: str, *, now: datetime | None = None
) -> PassSigner:
    """The demo chain in ``directory``: made on first use, then reused across restarts."""
    moment = now or datetime.now(UTC)
    cert, key, wwdr = (directory / name for name in (PASS_CERT_FILE, PASS_KEY_FILE, WWDR_FILE))
    if cert.exists() and key.exists() and wwdr.exists():
        try:
            signer = PassSigner.from_files(cert, key, wwdr)
        except SigningMaterialError:
            logger.warning(
                "demo pass certificates in %s are unreadable; making new ones", directory
            )
        else:
            if _reusable(signer, pass_type_id, moment):
                return signer
    chain = make_demo_chain(pass_type_id, team_id, now=moment)
    write_demo_chain(chain, directory)
    logger.info("created demo Apple Wallet certificates in %s (not trusted by iPhones)", directory)
    return chain.signer


def load_signer(
    *,
    certificate: Path | None,
    private_key: Path | None,
    wwdr: Path | None,
    password: SecretStr | None,
    demo_dir: Path,
    pass_type_id: str,
    team_id: str,
) -> PassSigner:
    """The configured Apple certificates, or the demo chain when none are configured."""
    configured = [certificate, private_key, wwdr]
    if all(path is None for path in configured):
        return demo_signer(demo_dir, pass_type_id, team_id)
    if certificate is None or private_key is None or wwdr is None:
        raise SigningMaterialError(
            "set all three of the pass certificate, its key and the WWDR certificate, or none"
        )
    signer = PassSigner.from_files(certificate, private_key, wwdr, password)
    if signer.pass_type_identifier not in (None, pass_type_id):
        raise SigningMaterialError(
            f"the pass certificate is for {signer.pass_type_identifier}, not {pass_type_id}"
        )
    return signer
