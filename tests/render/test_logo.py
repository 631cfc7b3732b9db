"""A shop's uploaded logo: decoded safely, scaled down (never up), transparency kept."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from render.logo import MAX_SIDE, NotAnImage, logo_png


def _upload(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    colour = {"RGBA": (10, 20, 30, 0), "RGB": (10, 20, 30)}.get(mode, 0)
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format=fmt)
    return out.getvalue()


def test_a_big_transparent_png_is_scaled_to_the_maximum_and_stays_transparent() -> None:
    logo = Image.open(io.BytesIO(logo_png(_upload("RGBA", (2000, 1000), "PNG"))))
    assert (logo.format, logo.mode, logo.size) == ("PNG", "RGBA", (MAX_SIDE, MAX_SIDE // 2))
    assert logo.getpixel((5, 5))[3] == 0  # type: ignore[index]


def test_a_small_jpeg_keeps_its_size_and_becomes_an_opaque_png() -> None:
    logo = Image.open(io.BytesIO(logo_png(_upload("RGB", (120, 90), "JPEG"))))
    assert (logo.format, logo.mode, logo.size) == ("PNG", "RGB", (120, 90))


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7", b"\x89PNG\r\n\x1a\n" + b"\0" * 64])
def test_what_is_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        logo_png(data)


def test_a_decompression_bomb_is_refused() -> None:
    with pytest.raises(NotAnImage):
        logo_png(_upload("1", (8000, 8000), "PNG"))
