"""What a stamp card and a membership look like as Google Wallet loyalty class and object.

One ``loyaltyClass`` per card (``<issuerId>.card-<card id>``: program name, merchant name, logo,
colour) and one ``loyaltyObject`` per membership. The object id carries an HMAC of the
membership id, so nobody can name another member's pass from a membership number alone; the id
stays stable for the life of the membership, whatever else changes.

The channel package imports no models: :func:`program_from_card` and :func:`pass_from_card`
take anything shaped like ``loyalty.views.CardView``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "LoyaltyPass",
    "LoyaltyProgram",
    "PassIds",
    "PassLabels",
    "TextModule",
    "class_body",
    "object_body",
    "pass_from_card",
    "program_from_card",
]

_ISSUER_ID = re.compile(r"\d{1,32}")
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_MAC_BYTES = 16


class PassIds:
    """Class and object ids under one issuer; ``secret`` keys the object ids' HMAC."""

    def __init__(self, issuer_id: str, secret: bytes) -> None:
        if not _ISSUER_ID.fullmatch(issuer_id):
            raise ValueError(f"a Google Wallet issuer id is a number, not {issuer_id!r}")
        if len(secret) < 16:
            raise ValueError("the pass id secret needs at least 16 bytes")
        self.issuer_id = issuer_id
        self._secret = secret

    def class_id(self, card_id: int) -> str:
        return f"{self.issuer_id}.card-{card_id}"

    def object_id(self, membership_id: int) -> str:
        mac = hmac.new(self._secret, f"gw-object:{membership_id}".encode(), hashlib.sha256)
        return f"{self.issuer_id}.m-{membership_id}-{mac.hexdigest()[: _MAC_BYTES * 2]}"

    def owns(self, resource_id: str) -> bool:
        return resource_id.startswith(f"{self.issuer_id}.")


@dataclass(frozen=True, slots=True)
class PassLabels:
    """The words on the pass, in the member's language (the caller translates)."""

    stamps: str = "Stamps"
    reward: str = "Reward"
    code: str = "Code"
    valid_until: str = "valid until"
    card_page: str = "Your card"


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    card_id: int
    program_name: str
    issuer_name: str
    # Google fetches the logo itself, so it must be a public https URL.
    logo_url: str
    background_color: str = "#1F2937"
    language: str = "en"


@dataclass(frozen=True, slots=True)
class TextModule:
    id: str
    header: str
    body: str


@dataclass(frozen=True, slots=True)
class LoyaltyPass:
    membership_id: int
    card_id: int
    account_name: str
    balance: int
    stamps_needed: int
    # What staff scan to stamp: the member's personal QR payload.
    barcode_value: str
    card_page_url: str | None = None
    texts: tuple[TextModule, ...] = ()
    labels: PassLabels = field(default_factory=PassLabels)

    @property
    def balance_text(self) -> str:
        return f"{self.balance}/{self.stamps_needed}"


def class_body(program: LoyaltyProgram, ids: PassIds) -> dict[str, Any]:
    color = program.background_color
    return {
        "id": ids.class_id(program.card_id),
        "issuerName": program.issuer_name,
        "programName": program.program_name,
        "programLogo": {
            "sourceUri": {"uri": program.logo_url},
            "contentDescription": {
                "defaultValue": {"language": program.language, "value": program.issuer_name}
            },
        },
        "hexBackgroundColor": color if _HEX_COLOR.fullmatch(color) else "#1F2937",
        # Classes go live after Google's review; a patch has to say so again.
        "reviewStatus": "UNDER_REVIEW",
    }


def object_body(card: LoyaltyPass, ids: PassIds) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ids.object_id(card.membership_id),
        "classId": ids.class_id(card.card_id),
        "state": "ACTIVE",
        "accountId": str(card.membership_id),
        "accountName": card.account_name,
        "loyaltyPoints": {"label": card.labels.stamps, "balance": {"string": card.balance_text}},
        "barcode": {"type": "QR_CODE", "value": card.barcode_value},
        # Always the whole list: a patch replaces it, so a redeemed voucher disappears.
        "textModulesData": [
            {"id": text.id, "header": text.header, "body": text.body} for text in card.texts
        ],
        "linksModuleData": {"uris": []},
    }
    if card.card_page_url:
        body["linksModuleData"]["uris"].append(
            {"id": "card-page", "uri": card.card_page_url, "description": card.labels.card_page}
        )
    return body


# -- from the read model ---------------------------------------------------------------------


class BrandLike(Protocol):
    @property
    def merchant_name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def background(self) -> str: ...


class VoucherLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...


class CardLike(Protocol):
    """The fields of ``loyalty.views.CardView`` a pass needs."""

    @property
    def membership_id(self) -> int: ...
    @property
    def card_id(self) -> int: ...
    @property
    def card_name(self) -> str: ...
    @property
    def stamps_needed(self) -> int: ...
    @property
    def balance(self) -> int: ...
    @property
    def reward_text(self) -> str: ...
    @property
    def brand(self) -> BrandLike: ...
    @property
    def vouchers(self) -> Sequence[VoucherLike]: ...


def program_from_card(card: CardLike, *, logo_url: str, language: str = "en") -> LoyaltyProgram:
    return LoyaltyProgram(
        card_id=card.card_id,
        program_name=card.card_name,
        issuer_name=card.brand.merchant_name,
        logo_url=logo_url,
        background_color=card.brand.background,
        language=language,
    )


def pass_from_card(
    card: CardLike,
    *,
    account_name: str,
    barcode_value: str,
    card_page_url: str | None = None,
    labels: PassLabels | None = None,
) -> LoyaltyPass:
    """The pass for one membership: balance, reward, the usable vouchers and their codes."""
    labels = labels or PassLabels()
    zone = ZoneInfo(card.brand.timezone)
    texts = [TextModule("reward", labels.reward, card.reward_text)]
    for voucher in card.vouchers:
        body = f"{labels.code}: {voucher.code}"
        if voucher.expires_at is not None:
            body += f" · {labels.valid_until} {voucher.expires_at.astimezone(zone):%Y-%m-%d}"
        texts.append(TextModule(f"voucher-{voucher.id}", voucher.title, body))
    return LoyaltyPass(
        membership_id=card.membership_id,
        card_id=card.card_id,
        account_name=account_name,
        balance=card.balance,
        stamps_needed=card.stamps_needed,
        barcode_value=barcode_value,
        card_page_url=card_page_url,
        texts=tuple(texts),
        labels=labels,
    )
