"""The tests' own certificate chain, made here with ``cryptography`` rather than by the code
under test: a root CA, a WWDR-like intermediate and a Pass Type ID certificate (RSA, as Apple's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.example.stampbot.test"
TEAM_ID = "TEAM123456"
KEY_PASSWORD = "correct horse battery staple"


@dataclass(frozen=True, slots=True)
class Chain:
    ca_pem: Path
    wwdr_pem: Path
    pass_pem: Path
    pass_key_pem: Path  # encrypted with KEY_PASSWORD
    other_ca_pem: Path  # a root that signed nothing of ours


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _name(common_name: str, **extra: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if "uid" in extra:
        attributes.insert(0, x509.NameAttribute(NameOID.USER_ID, extra["uid"]))
    return x509.Name(attributes)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_chain(directory: Path) -> Chain:
    ca_key, wwdr_key, pass_key, other_key = _key(), _key(), _key(), _key()
    ca_name = _name("Test Root CA")
    wwdr_name = _name("Test WWDR Intermediate")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    wwdr = _cert(wwdr_name, wwdr_key, ca_name, ca_key, ca=True)
    pass_name = _name(f"Pass Type ID: {PASS_TYPE_ID}", uid=PASS_TYPE_ID)
    pass_cert = _cert(pass_name, pass_key, wwdr_name, wwdr_key, ca=False)
    other_name = _name("Unrelated Root CA")
    other = _cert(other_name, other_key, other_name, other_key, ca=True)
    chain = Chain(
        ca_pem=directory / "ca.pem",
        wwdr_pem=directory / "wwdr.pem",
        pass_pem=directory / "pass.pem",
        pass_key_pem=directory / "pass.key",
        other_ca_pem=directory / "other-ca.pem",
    )
    chain.ca_pem.write_bytes(_pem(ca))
    chain.wwdr_pem.write_bytes(_pem(wwdr))
    chain.pass_pem.write_bytes(_pem(pass_cert))
    chain.other_ca_pem.write_bytes(_pem(other))
    chain.pass_key_pem.write_bytes(
        pass_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return chain
