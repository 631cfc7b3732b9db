"""What a stamp card and a membership look like as Google Wallet loyalty class and object.

One ``loyaltyClass`` per card (``<issuerId>.card-<card id>``: program name, merchant name, logo,
colour) and one ``loyaltyObject`` per membership. The object id carries an HMAC of the
membership id, so nobody can name another member's pass from a membership number alone; the id
stays stable for the life of the membership, whatever else changes.

The channel package imports no models: :func:`program_from_card` and :func:`pass_from_card`
take anything shaped like ``loyalty.views.CardView``.

Our own words on the pass (labels, progress, voucher codes and dates) go to Google as
``LocalizedString``: the member's language is the ``defaultValue`` (what a phone in a language
we do not speak shows), every other supported language a ``translatedValues`` entry, and
Google shows each phone its own. The plain ``label``/``header``/``body`` next to them carry
the member's language too, for clients that read only those.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from channels.pass_texts import PassTexts, pass_languages

__all__ = [
    "Localized",
    "LoyaltyPass",
    "LoyaltyProgram",
    "PassIds",
    "TextModule",
    "class_body",
    "erased_object_patch",
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
class Localized:
    """One text in several languages; the first is the default (the member's language)."""

    values: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a localized text needs at least its default language")

    @classmethod
    def of(cls, language: str, render: Callable[[PassTexts], str]) -> Localized:
        """``render`` in every supported language, ``language`` first."""
        return cls(tuple((lang, render(PassTexts(lang))) for lang in pass_languages(language)))

    @classmethod
    def plain(cls, language: str, text: str) -> Localized:
        """Merchant data: one value, whatever the phone's language."""
        return cls(((language, text),))

    @property
    def text(self) -> str:
        return self.values[0][1]

    @property
    def translated(self) -> bool:
        return len(self.values) > 1

    def body(self) -> dict[str, Any]:
        """Google's ``LocalizedString``."""
        (language, value), *others = self.values
        return {
            "defaultValue": {"language": language, "value": value},
            "translatedValues": [{"language": lang, "value": text} for lang, text in others],
        }


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    card_id: int
    program_name: str
    issuer_name: str
    # Google fetches the logo itself, so it must be a public https URL.
    logo_url: str
    background_color: str = "#1F2937"
    language: str = "en"
    # The shop's place(s), (latitude, longitude): Google notifies near them.
    locations: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class TextModule:
    id: str
    header: Localized
    body: Localized

    def data(self) -> dict[str, Any]:
        module: dict[str, Any] = {
            "id": self.id,
            "header": self.header.text,
            "body": self.body.text,
        }
        if self.header.translated:
            module["localizedHeader"] = self.header.body()
        if self.body.translated:
            module["localizedBody"] = self.body.body()
        return module


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
    language: str = "en"
    # What the cashier types when the QR does not scan; shown under the QR.
    counter_code: str = ""

    @property
    def balance_text(self) -> str:
        return f"{self.balance}/{self.stamps_needed}"


def class_body(program: LoyaltyProgram, ids: PassIds) -> dict[str, Any]:
    color = program.background_color
    body: dict[str, Any] = {
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
    if program.locations:
        # merchantLocations (at most 10), not the deprecated ``locations`` (LatLongPoint).
        body["merchantLocations"] = [
            {"latitude": latitude, "longitude": longitude}
            for latitude, longitude in program.locations[:10]
        ]
    return body


def object_body(card: LoyaltyPass, ids: PassIds) -> dict[str, Any]:
    stamps = Localized.of(card.language, lambda texts: texts.stamps)
    barcode: dict[str, Any] = {"type": "QR_CODE", "value": card.barcode_value}
    if card.counter_code:
        barcode["alternateText"] = PassTexts(card.language).till_code(card.counter_code)
    body: dict[str, Any] = {
        "id": ids.object_id(card.membership_id),
        "classId": ids.class_id(card.card_id),
        "state": "ACTIVE",
        "accountId": str(card.membership_id),
        "accountName": card.account_name,
        "loyaltyPoints": {
            "label": stamps.text,
            "localizedLabel": stamps.body(),
            "balance": {"string": card.balance_text},
        },
        "barcode": barcode,
        # Always the whole list: a patch replaces it, so a redeemed voucher disappears.
        "textModulesData": [text.data() for text in card.texts],
        "linksModuleData": {"uris": []},
    }
    if card.card_page_url:
        online = Localized.of(card.language, lambda texts: texts.card_online)
        body["linksModuleData"]["uris"].append(
            {
                "id": "card-page",
                "uri": card.card_page_url,
                "description": online.text,
                "localizedDescription": online.body(),
            }
        )
    return body


def erased_object_patch() -> dict[str, Any]:
    """What a left or erased member's object becomes: no name on it, and expired.

    Google keeps the object (it cannot be deleted); an expired one moves to the phone's
    "expired passes", and with ``accountName`` empty it no longer says whose card it was.
    """
    return {"state": "EXPIRED", "accountName": ""}


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


def program_from_card(
    card: CardLike,
    *,
    logo_url: str,
    language: str = "en",
    locations: tuple[tuple[float, float], ...] = (),
) -> LoyaltyProgram:
    return LoyaltyProgram(
        card_id=card.card_id,
        program_name=card.card_name,
        issuer_name=card.brand.merchant_name,
        logo_url=logo_url,
        background_color=card.brand.background,
        language=language,
        locations=locations,
    )


def _voucher_code(code: str, until: date | None) -> Callable[[PassTexts], str]:
    return lambda texts: texts.voucher_code(code, until)


def pass_from_card(
    card: CardLike,
    *,
    account_name: str,
    barcode_value: str,
    card_page_url: str | None = None,
    language: str = "en",
    counter_code: str = "",
) -> LoyaltyPass:
    """The pass for one membership: balance, reward, the usable vouchers and their codes.

    ``language`` is the member's: the default of every localized text.
    """
    zone = ZoneInfo(card.brand.timezone)
    to_go = card.stamps_needed - card.balance
    texts = [
        TextModule(
            "reward",
            Localized.of(language, lambda t: t.reward),
            Localized.of(language, lambda t: t.progress(to_go, card.reward_text)),
        )
    ]
    for voucher in card.vouchers:
        # The voucher's last day as the shop's calendar has it, in each language's format.
        until = voucher.expires_at.astimezone(zone).date() if voucher.expires_at else None
        texts.append(
            TextModule(
                f"voucher-{voucher.id}",
                Localized.plain(language, voucher.title),
                Localized.of(language, _voucher_code(voucher.code, until)),
            )
        )
    return LoyaltyPass(
        membership_id=card.membership_id,
        card_id=card.card_id,
        account_name=account_name,
        balance=card.balance,
        stamps_needed=card.stamps_needed,
        barcode_value=barcode_value,
        card_page_url=card_page_url,
        texts=tuple(texts),
        language=language,
        counter_code=counter_code,
    )
