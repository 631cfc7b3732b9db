"""The fast PNG writer: lossless, and readable by Pillow (and so by Telegram)."""

from __future__ import annotations

import struct
import zlib
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


def idat(data: bytes) -> bytes:
    """The IDAT chunk's body of a PNG with one."""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            return data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raise AssertionError("no IDAT")


def banded(height: int = 40) -> Image.Image:
    image = Image.new("RGB", (29, height), (20, 40, 60))
    for y in range(height):
        image.putpixel((y % 29, y), (y * 6 % 256, 255 - y, 7))
    return image


@pytest.mark.parametrize("band", [(10, 30), (0, 40), (0, 0), (40, 40), (0, 12), (25, 40)])
def test_a_template_writes_its_fixed_rows_around_each_band(band: tuple[int, int]) -> None:
    image = banded()
    template = png.Template(image, band)
    top, bottom = band
    for colour in ((0, 0, 0), (255, 255, 255), (1, 2, 3)):
        picture = image.copy()
        picture.paste(colour, (3, top, 20, bottom))

        data = template.encode(picture.crop((0, top, picture.width, bottom)))

        # A strict reader checks the stream's checksum too: the pieces make one valid stream.
        rows = zlib.decompress(idat(data))
        assert len(rows) == image.height * (1 + 3 * image.width)
        decoded = Image.open(BytesIO(data))
        assert decoded.size == image.size
        assert decoded.tobytes() == picture.tobytes()
        # The same pixels as a PNG written whole: only the compression differs.
        assert Image.open(BytesIO(png.encode(picture))).tobytes() == decoded.tobytes()


def test_a_template_refuses_a_band_of_the_wrong_size_or_place() -> None:
    image = banded()
    with pytest.raises(ValueError, match="band"):
        png.Template(image, (30, 10))
    with pytest.raises(ValueError, match="band"):
        png.Template(image, (10, 41))
    template = png.Template(image, (10, 30))
    with pytest.raises(ValueError, match="29x20"):
        template.encode(image.crop((0, 10, 29, 31)))
    with pytest.raises(ValueError, match="RGB"):
        template.encode(image.crop((0, 10, 29, 30)).convert("L"))


BOXES = [(3, 5, 11, 17), (15, 0, 29, 9), (0, 30, 29, 40)]


@pytest.mark.parametrize("boxes", [BOXES, BOXES[:1], [(0, 0, 29, 40)], [(4, 4, 4, 9)]])
def test_a_patchwork_writes_its_fixed_pixels_around_each_patch(
    boxes: list[tuple[int, int, int, int]],
) -> None:
    image = banded()
    patchwork = png.Patchwork(image, boxes)
    for colour in ((0, 0, 0), (255, 255, 255), (1, 2, 3)):
        picture = image.copy()
        patches = []
        for n, box in enumerate(boxes):
            patch = Image.new("RGB", (box[2] - box[0], box[3] - box[1]), colour)
            if patch.width and patch.height:
                patch.putpixel((0, patch.height - 1), (n * 40, 7, 250))
            picture.paste(patch, box[:2])
            patches.append(patch)

        data = patchwork.encode(patches)

        # zlib checks the stream's Adler-32: the pieces and the combined checksum agree.
        assert len(zlib.decompress(idat(data))) == image.height * (1 + 3 * image.width)
        decoded = Image.open(BytesIO(data))
        assert decoded.size == image.size
        assert decoded.tobytes() == picture.tobytes()
        # A patch given as its rows' bytes (repeated rows one object, as for a QR code).
        as_rows = [_rows(patch) for patch in patches]
        assert patchwork.encode(as_rows) == data


def _rows(patch: Image.Image) -> list[bytes]:
    data, stride = patch.tobytes(), 3 * patch.width
    rows = [data[y * stride : (y + 1) * stride] for y in range(patch.height)]
    return [rows[y - 1] if y and rows[y] == rows[y - 1] else rows[y] for y in range(len(rows))]


def test_a_patchwork_refuses_boxes_outside_or_overlapping_and_patches_of_the_wrong_size() -> None:
    image = banded()
    with pytest.raises(ValueError, match="within"):
        png.Patchwork(image, [(0, 0, 30, 5)])
    with pytest.raises(ValueError, match="overlap"):
        png.Patchwork(image, [(0, 0, 10, 10), (9, 9, 12, 12)])
    patchwork = png.Patchwork(image, [(0, 0, 10, 10)])
    with pytest.raises(ValueError, match="10x10"):
        patchwork.encode([Image.new("RGB", (10, 11))])
    with pytest.raises(ValueError, match="1 patches"):
        patchwork.encode([])
    with pytest.raises(ValueError, match="10 rows of 30 bytes"):
        patchwork.encode([[bytes(30)] * 9])
    with pytest.raises(ValueError, match="10 rows of 30 bytes"):
        patchwork.encode([[bytes(30)] * 9 + [bytes(29)]])
