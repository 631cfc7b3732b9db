"""Builds a signed ``.pkpass``: a zip of pass.json, localizations, images, manifest and signature.

Pure: everything the pass shows comes in as a ``PassContent``; nothing here reads the database.

Localization is Apple's own: every supported language gets ``<lang>.lproj/pass.strings``, whose
keys are the texts ``pass.json`` carries. Those texts are in the member's language, so the
member's language is the pass's default, and a phone set to another of our languages shows
that one. (When the phone's languages match no ``.lproj`` at all, Wallet picks one of them
itself, in file-system order; the member's folder is written first, which is the best we can
do.) Merchant data (shop, card, reward and voucher names, links) is not translated.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from channels.apple_wallet.signing import ManifestSigner
from channels.pass_texts import PassTexts, pass_languages
from render.colour import rgb

MEDIA_TYPE = "application/vnd.apple.pkpass"
BARCODE_ENCODING = "iso-8859-1"
# The field a campaign fills with its lock-screen line; Wallet shows the new value as the
# notification because its changeMessage is just the value.
CAMPAIGN_FIELD = "campaign"
# Wallet takes at most this many relevant locations per pass.
MAX_LOCATIONS = 10
# Every entry gets the same timestamp, so only the content decides the zip's bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class PassIdentity:
    """What every pass of this deployment shares."""

    pass_type_identifier: str
    team_identifier: str
    # None without an https base URL: Wallet on a real device refuses a plain-http service,
    # so such a pass carries neither the URL nor its authentication token.
    web_service_url: str | None


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
    # The member's language: pass.json's texts, and the first localization.
    language: str = "en"
    # What the cashier types when the QR does not scan; shown under the QR.
    counter_code: str = ""
    # Where the shop is, (latitude, longitude): near one, the pass shows on the lock screen.
    locations: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if len(self.authentication_token) < 16:
            raise ValueError("Wallet needs an authentication token of at least 16 characters")
        if self.stamps_needed < 1:
            raise ValueError("a card needs at least one stamp")
        for colour in (self.background, self.foreground, self.accent):
            rgb(colour)
        for latitude, longitude in self.locations:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError(f"not a place on Earth: {latitude}, {longitude}")
        # Wallet encodes the QR in this charset; our payloads are ASCII links, so this only
        # stops a caller's mistake from producing a QR that scans as something else.
        self.barcode_message.encode(BARCODE_ENCODING)


def _css(colour: str) -> str:
    red, green, blue = rgb(colour)
    return f"rgb({red}, {green}, {blue})"


def _field(key: str, label: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, **extra}


def _words(content: PassContent, language: str) -> dict[str, str]:
    """Every translatable text of the pass in ``language``, by a stable name."""
    texts = PassTexts(language)
    words = {
        "card": texts.card,
        "stamps": texts.stamps,
        "reward": texts.reward,
        "progress": texts.progress(content.stamps_needed - content.balance, content.reward_text),
        "vouchers": texts.vouchers,
        "voucher_list": texts.voucher_list(content.voucher_titles),
        "news": texts.news,
        "card_online": texts.card_online,
        "how_it_works": texts.how_it_works,
        "how": texts.how(content.stamps_needed, content.reward_text),
        "description": texts.description(content.card_name, content.merchant_name),
    }
    if not content.campaign_message:
        words["no_news"] = texts.no_news(content.merchant_name)
    if content.locations and not content.voided:
        words["nearby"] = texts.nearby(content.merchant_name)
    if content.counter_code and not content.voided:
        words["till_code"] = texts.till_code(content.counter_code)
    return words


def localizations(content: PassContent) -> dict[str, dict[str, str]]:
    """``{language: {text in pass.json: text in that language}}``, the member's first."""
    languages = pass_languages(content.language)
    own = _words(content, languages[0])
    tables: dict[str, dict[str, str]] = {}
    for language in languages:
        theirs = own if language == languages[0] else _words(content, language)
        table: dict[str, str] = {}
        for name, key in own.items():
            # Two texts that read the same in the member's language share one key.
            table.setdefault(key, theirs[name])
        tables[language] = table
    return tables


def _strings_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def strings_file(table: dict[str, str]) -> bytes:
    """A ``pass.strings`` file: ``"key" = "value";`` lines, UTF-16 with a byte-order mark.

    UTF-16 is what Apple's pass documentation has always asked for; Foundation reads it on
    every iOS version (UTF-8 only on newer ones).
    """
    lines = [
        f'"{_strings_literal(key)}" = "{_strings_literal(value)}";' for key, value in table.items()
    ]
    return ("\n".join(lines) + "\n").encode("utf-16")


def pass_json(content: PassContent, identity: PassIdentity) -> dict[str, Any]:
    words = _words(content, pass_languages(content.language)[0])
    shown = min(max(content.balance, 0), content.stamps_needed)
    store_card = {
        "headerFields": [_field("card", words["card"], content.card_name)],
        "primaryFields": [_field("stamps", words["stamps"], f"{shown}/{content.stamps_needed}")],
        "secondaryFields": [_field("reward", words["reward"], words["progress"])],
        "auxiliaryFields": [_field("vouchers", words["vouchers"], words["voucher_list"])],
        "backFields": [
            # Kept even before the first campaign (Wallet shows changeMessage only for a field
            # that changed), with a sentence instead of an empty value.
            _field(
                CAMPAIGN_FIELD,
                words["news"],
                content.campaign_message or words["no_news"],
                changeMessage="%@",
            ),
            _field("card_page", words["card_online"], content.card_page_url),
            _field("how", words["how_it_works"], words["how"]),
        ],
    }
    if content.voided:
        # Nothing of the member stays on their phone: no stamps, vouchers, news or card link,
        # only what names the card.
        store_card = {
            "headerFields": store_card["headerFields"],
            "backFields": [_field("how", words["how_it_works"], words["how"])],
        }
    document: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_identifier,
        "teamIdentifier": identity.team_identifier,
        "serialNumber": content.serial_number,
        "organizationName": content.merchant_name,
        "description": words["description"],
        "logoText": content.merchant_name,
        "foregroundColor": _css(content.foreground),
        "backgroundColor": _css(content.background),
        "labelColor": _css(content.accent),
        # The QR collects stamps for its holder; a copy on someone else's phone makes no sense.
        "sharingProhibited": True,
        "storeCard": store_card,
    }
    if identity.web_service_url is not None:
        document["webServiceURL"] = identity.web_service_url
        document["authenticationToken"] = content.authentication_token
    if content.voided:
        document["voided"] = True
    else:
        barcode = {
            "format": "PKBarcodeFormatQR",
            "message": content.barcode_message,
            "messageEncoding": BARCODE_ENCODING,
        }
        if "till_code" in words:
            barcode["altText"] = words["till_code"]
        document["barcodes"] = [barcode]
    if "nearby" in words:
        # relevantText is a key of pass.strings like every other text: each phone reads it in
        # its own language.
        document["locations"] = [
            {"latitude": latitude, "longitude": longitude, "relevantText": words["nearby"]}
            for latitude, longitude in content.locations[:MAX_LOCATIONS]
        ]
    return document


def pass_files(content: PassContent, identity: PassIdentity) -> dict[str, bytes]:
    """Every file of the pass except the manifest and the signature."""
    # Here, not at the top: Pillow costs idle memory in a process that builds no pass.
    from render.pass_images import pass_images

    document = json.dumps(pass_json(content, identity), ensure_ascii=False, indent=2)
    files = {"pass.json": document.encode("utf-8")}
    for language, table in localizations(content).items():
        files[f"{language}.lproj/pass.strings"] = strings_file(table)
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


def build_pkpass(content: PassContent, identity: PassIdentity, signer: ManifestSigner) -> bytes:
    files = pass_files(content, identity)
    manifest_bytes = manifest(files)
    files["manifest.json"] = manifest_bytes
    files["signature"] = signer.sign(manifest_bytes)
    return zip_pass(files)
