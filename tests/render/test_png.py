"""The fast PNG writer: lossless, and readable by Pillow (and so by Telegram)."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from render import png


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_the_png_decodes_to_exactly_the_drawn_pixels(mode: str) -> None:
    image = Image.new("RGB", (37, 5), (1, 2, 3))
    image.putpixel((36, 4), (250, 251, 252))
    image.putpixel((0, 0), (0, 0, 0))
    original = image.convert(mode)

    decoded = Image.open(BytesIO(png.encode(original)))

    assert (decoded.format, decoded.mode, decoded.size) == ("PNG", mode, original.size)
    assert decoded.tobytes() == original.tobytes()


def test_equal_pictures_give_equal_bytes() -> None:
    one, two = Image.new("RGB", (64, 64), (9, 9, 9)), Image.new("RGB", (64, 64), (9, 9, 9))
    assert png.encode(one) == png.encode(two)
    assert png.encode(one) != png.encode(Image.new("RGB", (64, 64), (9, 9, 10)))


def test_a_mode_png_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="CMYK"):
        png.encode(Image.new("CMYK", (4, 4)))
