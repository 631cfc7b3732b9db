"""A shop's uploaded logo made into what every picture uses: a PNG no bigger than it needs.

Decoded defensively (``render.imaging.decode_upload``: hostile files and decompression bombs
are refused), scaled down to :data:`MAX_SIDE` on its long side (never up), transparency kept.
"""

from __future__ import annotations

from io import BytesIO

from render.imaging import decode_upload, fit

# The biggest the logo is drawn anywhere (the card's header, the 3x pass icon) is well below.
MAX_SIDE = 480


class NotAnImage(ValueError):
    """The upload is not a picture Pillow can read safely."""


def logo_png(data: bytes, *, max_side: int = MAX_SIDE) -> bytes:
    """The upload as an RGBA PNG at most ``max_side`` pixels on its long side."""
    image = decode_upload(data)
    if image is None:
        raise NotAnImage("not a readable image")
    if max(image.width, image.height) > max_side:
        image = fit(image, (max_side, max_side))
    alpha = image.getchannel("A").getextrema()
    if alpha == (255, 255):
        image = image.convert("RGB")  # fully opaque: no alpha channel to carry
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
