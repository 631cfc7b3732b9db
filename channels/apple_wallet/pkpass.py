"""Builds a signed ``.pkpass``: a zip of pass.json, images, manifest.json and signature.

Pure: everything the pass shows comes in as a ``PassContent``; nothing here reads the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from channels.apple_wallet.images import pass_images, rgb
from channels.apple_wallet.signing import PassSigner

MEDIA_TYPE = "application/vnd.apple.pkpass"
BARCODE_ENCODING = "iso-8859-1"
# The field a campaign fills with its lock-screen line; Wallet shows the new value as the
# notification because its changeMessage is just the value.
CAMPAIGN_FIELD = "campaign"
# Every entry gets the same timestamp, so only the content decides the zip's bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class PassIdentity:
    """What every pass of this deployment shares."""

    pass_type_identifier: str
    team_identifier: str
    web_service_url: str


@dataclass(frozen=True, slots=True)
class PassContent:
    """What one membership's pass shows."""

    serial_number: str
    authentication_token: str
    merchant_name: str
    card_name: str
    stamps_needed: int
    balance: int
    reward_text: str
    background: str
    foreground: str
    accent: str
    barcode_message: str
    card_page_url: str
    voucher_titles: tuple[str, ...] = ()
    campaign_message: str = ""
    logo_png: bytes | None = None
    # A left or erased membership: Wallet greys the pass out; no QR to scan any more.
    voided: bool = False

    def __post_init__(self) -> None:
        if len(self.authentication_token) < 16:
            raise ValueError("Wallet needs an authentication token of at least 16 characters")
        if self.stamps_needed < 1:
            raise ValueError("a card needs at least one stamp")
        for colour in (self.background, self.foreground, self.accent):
            rgb(colour)
        # Wallet encodes the QR in this charset; our payloads are ASCII links, so this only
        # stops a caller's mistake from producing a QR that scans as something else.
        self.barcode_message.encode(BARCODE_ENCODING)


def _css(colour: str) -> str:
    red, green, blue = rgb(colour)
    return f"rgb({red}, {green}, {blue})"


def _field(key: str, label: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, **extra}


def _progress(content: PassContent) -> str:
    to_go = content.stamps_needed - content.balance
    if to_go <= 0:
        return f"Ready: {content.reward_text}"
    return f"{to_go} more for {content.reward_text}"


def _vouchers(titles: tuple[str, ...]) -> str:
    if not titles:
        return "None"
    return f"{len(titles)}: {', '.join(titles)}"


def pass_json(content: PassContent, identity: PassIdentity) -> dict[str, Any]:
    shown = min(max(content.balance, 0), content.stamps_needed)
    store_card = {
        "headerFields": [_field("card", "Card", content.card_name)],
        "primaryFields": [_field("stamps", "Stamps", f"{shown}/{content.stamps_needed}")],
        "secondaryFields": [_field("reward", "Reward", _progress(content))],
        "auxiliaryFields": [_field("vouchers", "Vouchers", _vouchers(content.voucher_titles))],
        "backFields": [
            _field(CAMPAIGN_FIELD, "News", content.campaign_message, changeMessage="%@"),
            _field("card_page", "Your card online", content.card_page_url),
            _field(
                "how",
                "How it works",
                f"Show the QR code at the counter to collect stamps. "
                f"{content.stamps_needed} stamps: {content.reward_text}.",
            ),
        ],
    }
    document: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_identifier,
        "teamIdentifier": identity.team_identifier,
        "serialNumber": content.serial_number,
        "authenticationToken": content.authentication_token,
        "webServiceURL": identity.web_service_url,
        "organizationName": content.merchant_name,
        "description": f"{content.card_name} at {content.merchant_name}",
        "logoText": content.merchant_name,
        "foregroundColor": _css(content.foreground),
        "backgroundColor": _css(content.background),
        "labelColor": _css(content.accent),
        # The QR collects stamps for its holder; a copy on someone else's phone makes no sense.
        "sharingProhibited": True,
        "storeCard": store_card,
    }
    if content.voided:
        document["voided"] = True
    else:
        document["barcodes"] = [
            {
                "format": "PKBarcodeFormatQR",
                "message": content.barcode_message,
                "messageEncoding": BARCODE_ENCODING,
            }
        ]
    return document


def pass_files(content: PassContent, identity: PassIdentity) -> dict[str, bytes]:
    """Every file of the pass except the manifest and the signature."""
    document = json.dumps(pass_json(content, identity), ensure_ascii=False, indent=2)
    files = {"pass.json": document.encode("utf-8")}
    files.update(
        pass_images(
            content.merchant_name,
            content.background,
            content.foreground,
            content.accent,
            content.logo_png,
        )
    )
    return files


def manifest(files: dict[str, bytes]) -> bytes:
    """manifest.json: the SHA-1 hex of every file, as Wallet requires."""
    hashes = {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())}  # noqa: S324
    return json.dumps(hashes, indent=2).encode("ascii")


def zip_pass(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buf.getvalue()


def build_pkpass(content: PassContent, identity: PassIdentity, signer: PassSigner) -> bytes:
    files = pass_files(content, identity)
    manifest_bytes = manifest(files)
    files["manifest.json"] = manifest_bytes
    files["signature"] = signer.sign(manifest_bytes)
    return zip_pass(files)
