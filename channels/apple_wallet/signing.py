"""The detached PKCS #7 signature Wallet checks on every pass.

Wallet verifies ``signature`` over the bytes of ``manifest.json`` with the Pass Type ID
certificate, chained to Apple's WWDR intermediate, which therefore travels inside the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

# cryptography is imported where it is used: its bindings cost ~8 MB of idle memory, and a
# web process on the demo certificates signs nothing until someone asks for a pass.
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningMaterialError(ValueError):
    """The configured certificate, key or WWDR file is missing, unreadable or mismatched."""


@dataclass(frozen=True, slots=True)
class PassSigner:
    certificate: x509.Certificate
    private_key: SigningKey
    wwdr: x509.Certificate

    def __post_init__(self) -> None:
        if self.certificate.public_key() != self.private_key.public_key():
            raise SigningMaterialError("the pass certificate does not belong to the private key")

    @classmethod
    def from_files(
        cls,
        certificate: Path,
        private_key: Path,
        wwdr: Path,
        password: SecretStr | None = None,
    ) -> PassSigner:
        """PEM files, as ``openssl pkcs12 -in Certificates.p12`` exports them."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        secret = password.get_secret_value().encode() if password is not None else None
        try:
            cert = x509.load_pem_x509_certificate(certificate.read_bytes())
            key = serialization.load_pem_private_key(private_key.read_bytes(), secret)
            intermediate = x509.load_pem_x509_certificate(wwdr.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            # The message of a wrong-password error never contains the password itself.
            raise SigningMaterialError(f"cannot load the pass signing material: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningMaterialError("the pass key must be RSA or EC")
        return cls(certificate=cert, private_key=key, wwdr=intermediate)

    @property
    def pass_type_identifier(self) -> str | None:
        """The UID in the certificate's subject, where Apple puts the pass type identifier."""
        from cryptography.x509.oid import NameOID

        values = self.certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
        return str(values[0].value) if values else None

    def sign(self, manifest: bytes) -> bytes:
        """DER, detached, over the exact bytes (Binary: no MIME line-ending rewrite).

        The default signed attributes carry the signing time and the content digest.
        """
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.serialization import pkcs7

        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(self.certificate, self.private_key, hashes.SHA256())
            .add_certificate(self.wwdr)
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )


class ManifestSigner(Protocol):
    """What a pass is signed with: a :class:`PassSigner`, or one loaded when first needed."""

    def sign(self, manifest: bytes) -> bytes: ...


class DeferredSigner:
    """A :class:`PassSigner` loaded (or, for the demo chain, made) on the first pass it signs.

    For the demo certificates of the embedded default: loading them at start would put
    cryptography's bindings (~8 MB) into every idle web process. ``load`` is called once; when
    it raises, the next pass tries again."""

    def __init__(self, load: Callable[[], PassSigner]) -> None:
        self._load = load
        self._signer: PassSigner | None = None

    @property
    def signer(self) -> PassSigner:
        if self._signer is None:
            self._signer = self._load()
        return self._signer

    def sign(self, manifest: bytes) -> bytes:
        return self.signer.sign(manifest)
