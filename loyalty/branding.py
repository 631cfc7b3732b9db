"""A shop's colours and logo, shown on every card, voucher and wallet pass of the shop.

Colours are checked for contrast the way accessibility checkers compute it (WCAG 2.2): the
text on a card is drawn in the foreground colour on the background colour, so a pair below
:data:`MIN_CONTRAST` would make the card unreadable at the counter. The logo arrives already
decoded and resized by ``render.logo``; this module only checks its size and stores it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from loyalty import audit
from loyalty.errors import InvalidMerchantSettings, StaffNotFound
from loyalty.staff import Permission, allows
from models import Merchant, Staff

MIN_CONTRAST = 4.5
# Telegram lets bots download files up to 20 MB; a bigger upload is refused before trying.
MAX_LOGO_UPLOAD_BYTES = 20 * 1024 * 1024
# What is kept once resized: a 480 px PNG is far below this.
MAX_LOGO_STORED_BYTES = 2 * 1024 * 1024
_HEX = re.compile(r"#?([0-9A-Fa-f]{6})")


@dataclass(frozen=True, slots=True)
class Colours:
    background: str
    foreground: str
    accent: str

    def as_list(self) -> list[str]:
        return [self.background, self.foreground, self.accent]


# Ready combinations, each at least AA contrast between text and background.
PALETTE: tuple[Colours, ...] = (
    Colours("#1F2937", "#FFFFFF", "#F59E0B"),  # slate and amber (the default)
    Colours("#FFFFFF", "#111827", "#DC2626"),  # white and red
    Colours("#14532D", "#FFFFFF", "#FACC15"),  # forest and lemon
    Colours("#1E3A8A", "#FFFFFF", "#38BDF8"),  # navy and sky
    Colours("#FDF6E3", "#3B2F2F", "#B45309"),  # cream and coffee
    Colours("#831843", "#FFFFFF", "#F9A8D4"),  # berry and rose
    Colours("#000000", "#FFFFFF", "#22C55E"),  # black and green
    Colours("#F3E8FF", "#3B0764", "#9333EA"),  # lilac and plum
)


class ColoursRefused(InvalidMerchantSettings):
    """``kind``: "format" (not three or two #RRGGBB) or "contrast" (``ratio`` too low)."""

    code = "colours_refused"

    def __init__(self, kind: str, ratio: float = 0.0) -> None:
        super().__init__(f"colours refused: {kind} {ratio:.2f}")
        self.kind = kind
        self.ratio = ratio


class LogoRefused(InvalidMerchantSettings):
    """``kind``: "too_big" (over what a bot may download) or "not_image"."""

    code = "logo_refused"

    def __init__(self, kind: str) -> None:
        super().__init__(f"logo refused: {kind}")
        self.kind = kind


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_colours(colours: Colours) -> Colours:
    """Upper-case #RRGGBB, foreground readable on background; ColoursRefused otherwise."""
    values = []
    for colour in colours.as_list():
        if not isinstance(colour, str) or not (match := _HEX.fullmatch(colour.strip())):
            raise ColoursRefused("format")
        values.append("#" + match.group(1).upper())
    checked = Colours(*values)
    ratio = contrast_ratio(checked.background, checked.foreground)
    if ratio < MIN_CONTRAST:
        raise ColoursRefused("contrast", ratio)
    return checked


def parse_colours(text: str, *, accent: str) -> Colours:
    """Typed colours: "background foreground [accent]" as #RRGGBB; the accent defaults to the
    shop's current one."""
    parts = text.replace(",", " ").split()
    if len(parts) not in (2, 3) or len(text) > 100:
        raise ColoursRefused("format")
    return check_colours(Colours(parts[0], parts[1], parts[2] if len(parts) == 3 else accent))


def shop_colours(merchant: Merchant) -> Colours:
    return Colours(merchant.background_color, merchant.foreground_color, merchant.accent_color)


def _require(seat: Staff) -> None:
    if not allows(seat, Permission.CARDS):
        raise StaffNotFound()


async def set_colours(seat: Staff, colours: Colours) -> Merchant:
    """The shop's new colours (``shop.colours``, old and new)."""
    _require(seat)
    new = check_colours(colours)
    async with in_transaction():
        merchant = await Merchant.select_for_update().get(id=seat.merchant_id)
        old = shop_colours(merchant)
        merchant.background_color, merchant.foreground_color, merchant.accent_color = new.as_list()
        await merchant.save(update_fields=["background_color", "foreground_color", "accent_color"])
        await audit.record(
            seat.merchant_id,
            "shop.colours",
            by=seat,
            old=list[audit.JsonValue](old.as_list()),
            new=list[audit.JsonValue](new.as_list()),
        )
    return merchant


def check_upload_size(size: int | None) -> None:
    """Refuse an upload Telegram would not let the bot download, before asking for it."""
    if size is not None and size > MAX_LOGO_UPLOAD_BYTES:
        raise LogoRefused("too_big")


def _fingerprint(data: bytes | None) -> audit.JsonValue:
    if data is None:
        return None
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


async def set_logo(seat: Staff, png: bytes) -> Merchant:
    """The shop's new logo, already a resized PNG (``shop.logo``, fingerprints of both)."""
    _require(seat)
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) > MAX_LOGO_STORED_BYTES:
        raise LogoRefused("not_image")
    async with in_transaction():
        merchant = await Merchant.select_for_update().get(id=seat.merchant_id)
        old = merchant.logo_png
        merchant.logo_png = png
        await merchant.save(update_fields=["logo_png"])
        await audit.record(
            seat.merchant_id, "shop.logo", by=seat, old=_fingerprint(old), new=_fingerprint(png)
        )
    return merchant
