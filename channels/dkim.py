"""DKIM signatures for outgoing mail (dkimpy), and the DNS record that vouches for them.

Gmail and Yahoo want bulk mail signed by the From domain, with the signature covering the
List-Unsubscribe headers, so a relay cannot swap the unsubscribe target. The message is signed
as the exact bytes that are sent (or written to the mailbox), and the signature is put first.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

# What a receiver needs to trust as ours; each one that is present gets signed.
SIGNED_HEADERS = (
    "From", "Reply-To", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted",
)  # fmt: skip
KEY_BITS = 2048
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _valid_name(value: str) -> bool:
    return all(_LABEL.fullmatch(label) for label in value.split("."))


@dataclass(frozen=True, slots=True)
class DkimSigner:
    domain: str
    selector: str
    private_key: SecretStr  # PEM

    def __post_init__(self) -> None:
        if not _valid_name(self.domain) or not _valid_name(self.selector):
            raise ValueError("the DKIM domain and selector must be DNS names")

    @classmethod
    def from_file(cls, domain: str, selector: str, key_path: Path) -> DkimSigner:
        return cls(domain.lower(), selector, SecretStr(key_path.read_text(encoding="ascii")))

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def sign(self, raw: bytes) -> bytes:
        """``raw`` with a ``DKIM-Signature`` header in front (relaxed/relaxed, rsa-sha256)."""
        import dkim  # here: half a second to import, paid only by processes that sign

        headers = raw.split(b"\r\n\r\n", 1)[0].lower()
        present = [
            name.encode()
            for name in SIGNED_HEADERS
            if headers.startswith(name.lower().encode() + b":")
            or b"\r\n" + name.lower().encode() + b":" in headers
        ]
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key.get_secret_value().encode(),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=present,
            linesep=b"\r\n",
        )
        return bytes(signature) + raw

    def dns_record(self) -> str:
        """The TXT record value to publish at :attr:`record_name`."""
        # Here, not at the top: cryptography's bindings cost ~8 MB of every process's idle
        # memory, and only ``stampbot dkim`` prints the record.
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(
            self.private_key.get_secret_value().encode(), password=None
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def new_private_key() -> bytes:
    """A fresh RSA key as PEM (PKCS#8), for ``stampbot dkim`` when none exists yet."""
    from cryptography.hazmat.primitives import serialization  # here: idle memory, as above
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
