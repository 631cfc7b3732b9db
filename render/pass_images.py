"""The pass images: ``icon.png`` (notifications, Mail) and ``logo.png`` (top left of the pass).

From the merchant's uploaded logo when it decodes, otherwise the merchant's initial drawn in
its colours. Pure functions: equal inputs give equal bytes, so an unchanged pass keeps its hashes.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import regex
from PIL import Image, ImageDraw

from render import typeset
from render.colour import RGB as RGB
from render.colour import rgb as rgb
from render.imaging import decode_upload, fit

# Points, from Apple's pass design guidelines; files come at @1x, @2x and @3x.
ICON_POINTS = (29, 29)
LOGO_POINTS = (160, 50)
SCALES = (1, 2, 3)
# Decoding a hostile upload must stay cheap: anything larger is ignored.


def _png(image: Image.Image) -> bytes:
    buf = BytesIO()
    image.save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


# The first letter with its marks (Thai tone marks, Hebrew points); a Thai vowel written before
# its consonant (เ, แ, โ, ใ, ไ) is not where the name starts for the eye, so it is skipped.
_LETTER = regex.compile(r"(?=[\p{L}\p{N}])(?!\p{Logical_Order_Exception})\X")


def _initial(name: str) -> str:
    found = _LETTER.search(name)
    if found is None:
        return "★"
    letter = found.group()
    # "ß".upper() is "SS": a badge shows one letter.
    return letter.upper() if len(letter.upper()) == len(letter) else letter


def _badge(side: int, fill: RGB, ink: RGB, letter: str, *, radius: int) -> Image.Image:
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, side - 1, side - 1), radius=radius, fill=(*fill, 255))
    # Through typeset, so a Thai, Hebrew or Persian initial is drawn in a font that has it.
    typeset.draw(image, (side / 2, side / 2), letter, "bold", round(side * 0.6), (*ink, 255), "mm")
    return image


def icon_png(
    merchant_name: str, background: str, foreground: str, logo: bytes | None, scale: int
) -> bytes:
    side = ICON_POINTS[0] * scale
    source = decode_upload(logo) if logo else None
    if source is None:
        letter = _initial(merchant_name)
        return _png(_badge(side, rgb(background), rgb(foreground), letter, radius=side // 5))
    # An icon is shown on any background, so the logo sits on the card's own colour.
    canvas = Image.new("RGBA", (side, side), (*rgb(background), 255))
    fitted = fit(source, (side, side))
    canvas.alpha_composite(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2))
    return _png(canvas)


def logo_png(
    merchant_name: str, background: str, accent: str, logo: bytes | None, scale: int
) -> bytes:
    width, height = LOGO_POINTS[0] * scale, LOGO_POINTS[1] * scale
    source = decode_upload(logo) if logo else None
    if source is None:
        # A round badge; the merchant's name stands next to it as the pass's logoText.
        return _png(_badge(height, rgb(accent), rgb(background), _initial(merchant_name),
                           radius=height // 2))  # fmt: skip
    # Transparent around the logo: Wallet draws the pass background behind it.
    return _png(fit(source, (width, height)))


def pass_images(
    merchant_name: str, background: str, foreground: str, accent: str, logo: bytes | None
) -> dict[str, bytes]:
    """File name → PNG bytes for every icon and logo size."""
    return dict(_rendered(merchant_name, background, foreground, accent, logo))


# Drawing the six PNGs is nearly all of a pass's build time (~16 ms of ~17), and every pass of
# a merchant shares them; a campaign makes many devices fetch their passes at once.
@lru_cache(maxsize=128)
def _rendered(
    merchant_name: str, background: str, foreground: str, accent: str, logo: bytes | None
) -> tuple[tuple[str, bytes], ...]:
    files = {}
    for scale in SCALES:
        suffix = "" if scale == 1 else f"@{scale}x"
        files[f"icon{suffix}.png"] = icon_png(merchant_name, background, foreground, logo, scale)
        files[f"logo{suffix}.png"] = logo_png(merchant_name, background, accent, logo, scale)
    return tuple(files.items())
