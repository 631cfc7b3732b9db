"""Signed, unguessable tokens for links: open, click, unsubscribe, verify, the card page.

A token is the id it points at plus a 128-bit HMAC over purpose and id, so it needs no table,
cannot be guessed or re-aimed at another row, and one purpose's token never works for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

MAC_BYTES = 16
ID_BYTES = 8
# Ids come out of a token only within what the id columns hold: BIGINT for deliveries, and
# INTEGER (32 bits on PostgreSQL) for the rows ``peek`` looks up before verifying. A larger
# number would make the database raise instead of finding nothing.
MAX_ID = 2**63 - 1
MAX_PEEK_ID = 2**31 - 1


class Purpose(StrEnum):
    OPEN = "o"
    CLICK = "c"
    UNSUBSCRIBE = "u"
    VERIFY_EMAIL = "v"
    CARD_PAGE = "p"
    # A voucher's picture with its QR code, for messengers that fetch pictures by address.
    VOUCHER_IMAGE = "q"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 32:
            raise ValueError("the signing key needs at least 32 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")

    def _mac(self, purpose: Purpose, ident: int, extra: str) -> bytes:
        message = f"{purpose.value}:{ident}:{extra}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:MAC_BYTES]

    def token(self, purpose: Purpose, ident: int, extra: str = "") -> str:
        """``extra`` binds the token to a value, e.g. the email address being verified."""
        return f"{_b64(ident.to_bytes(ID_BYTES, 'big'))}.{_b64(self._mac(purpose, ident, extra))}"

    @staticmethod
    def _split(token: str) -> tuple[int, bytes] | None:
        """Id and tag of a token in its one canonical spelling, else None.

        Python's base64 decoder skips characters outside the alphabet and ignores the unused
        low bits of the last character, so several strings decode alike; only the string that
        ``token`` itself would write is accepted.
        """
        if len(token) > 64 or token.count(".") != 1:
            return None
        ident_part, mac_part = token.split(".")
        try:
            raw_ident, mac = _unb64(ident_part), _unb64(mac_part)
        except (ValueError, TypeError):
            return None
        if len(raw_ident) != ID_BYTES or len(mac) != MAC_BYTES:
            return None
        if _b64(raw_ident) != ident_part or _b64(mac) != mac_part:
            return None
        ident = int.from_bytes(raw_ident, "big")
        if not 0 < ident <= MAX_ID:
            return None
        return ident, mac

    def peek(self, token: str) -> int | None:
        """The id a token claims, NOT verified: only to look up what ``extra`` to verify with.

        Only ids an INTEGER primary key can hold come out, so the look-up finds nothing rather
        than failing on PostgreSQL.
        """
        parts = self._split(token)
        if parts is None or parts[0] > MAX_PEEK_ID:
            return None
        return parts[0]

    def verify(self, purpose: Purpose, token: str, extra: str = "") -> int | None:
        """The id inside a genuine token of this purpose, or None for anything else."""
        parts = self._split(token)
        if parts is None:
            return None
        ident, mac = parts
        if not hmac.compare_digest(mac, self._mac(purpose, ident, extra)):
            return None
        return ident

    def url(self, purpose: Purpose, ident: int, extra: str = "") -> str:
        suffix = ".gif" if purpose == Purpose.OPEN else ""
        return f"{self.base_url}/e/{purpose.value}/{self.token(purpose, ident, extra)}{suffix}"


# -- email confirmation links ---------------------------------------------------------------
# Separate from the generic token: the MAC binds the customer, the address being confirmed and
# an expiry, which travels in the URL (``?until=<unix time>``), so a link dies after its time
# and as soon as the customer sets another address.

CONFIRM_PATH = "/e/v/"


def _confirm_extra(address: str, until: int) -> str:
    return f"{address.lower()}|{until}"


def confirm_email_url(
    signer: LinkSigner, customer_id: int, address: str, *, expires_at: datetime
) -> str:
    until = int(expires_at.timestamp())
    token = signer.token(Purpose.VERIFY_EMAIL, customer_id, _confirm_extra(address, until))
    return f"{signer.base_url}{CONFIRM_PATH}{token}?until={until}"


def confirmed_customer(
    signer: LinkSigner, token: str, until: str | None, address: str, *, now: datetime
) -> int | None:
    """The customer id a confirmation link was made for, if it is genuine, made for
    ``address`` and not expired; None for anything else."""
    if until is None or not until.isdigit() or len(until) > 12:
        return None
    if int(until) <= now.timestamp():
        return None
    return signer.verify(Purpose.VERIFY_EMAIL, token, _confirm_extra(address, int(until)))
