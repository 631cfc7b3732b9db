"""Pillow helpers shared by every picture we draw: the card image, wallet pass images, charts.

Which font draws which script, and how a line is laid out, is ``render.typeset``; uploads from
merchants are decoded defensively.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageFont, features

# Larger uploads are refused before decoding: a decompression bomb must not take a worker down.
MAX_SOURCE_PIXELS = 4096 * 4096

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


# RAQM shapes Arabic joining and Thai marks and lays out right-to-left runs; BASIC does neither,
# and is only what is left when Pillow cannot load libraqm.
LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@lru_cache(maxsize=256)
def font(path: Path, size: int) -> Font:
    try:
        return ImageFont.truetype(str(path), size, layout_engine=LAYOUT)
    except OSError:
        return default_font(size)


@lru_cache(maxsize=32)
def default_font(size: int) -> Font:
    """Pillow's own font: Latin only, but better than no picture when no font file is found."""
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError):
        # Pillow built without FreeType: a fixed bitmap font is better than no picture.
        return ImageFont.load_default()


def decode_upload(data: bytes) -> Image.Image | None:
    """An uploaded picture as RGBA, or None when it cannot be decoded safely.

    A broken upload must not stop customers from seeing their card, so failures are dropped.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as source:
                if source.width * source.height > MAX_SOURCE_PIXELS:
                    return None
                image = source.convert("RGBA")
    except Exception:  # Pillow raises many types on hostile input; all mean "no picture".
        return None
    return image if image.width >= 1 and image.height >= 1 else None


def fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Scaled to fit inside ``box``, keeping its proportions."""
    ratio = min(box[0] / image.width, box[1] / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS)
