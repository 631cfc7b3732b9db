"""PNG bytes written for speed: unfiltered rows through zlib at its fastest level.

Pillow's PNG writer has no setting for its row filters and tries several on every row, which
was most of the time of drawing a card; zlib at level 1 already finds the long runs of one
colour and the repeated rows our pictures are made of. Telegram recompresses every photo, so
the few kilobytes this gives away are not worth the milliseconds on a join. Lossless, so the
pixels are exactly the ones drawn, and nothing but pixels is written (no time, no dpi): equal
images give equal bytes.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types by Pillow mode, with bytes per pixel.
_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}
_NO_FILTER = b"\x00"
# A zlib stream's two header bytes: deflate with a 32 kB window, compressed "fastest".
_ZLIB_HEADER = b"\x78\x01"


def _colour_type(mode: str) -> tuple[int, int]:
    if mode not in _COLOUR_TYPES:
        raise ValueError(f"cannot write a {mode} image; convert it to RGB first")
    return _COLOUR_TYPES[mode]


def _scanlines(image: Image.Image) -> bytes:
    """The rows as PNG stores them before compression, each led by its filter type (none)."""
    stride = image.width * _colour_type(image.mode)[1]
    pixels = image.tobytes()
    return b"".join(
        _NO_FILTER + pixels[y * stride : (y + 1) * stride] for y in range(image.height)
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _file(mode: str, size: tuple[int, int], idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", *size, 8, _colour_type(mode)[0], 0, 0, 0)
    return b"".join(
        (SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat), _chunk(b"IEND", b""))
    )


def encode(image: Image.Image, level: int = 1) -> bytes:
    """``image`` (mode L, RGB or RGBA) as a PNG file: IHDR, one IDAT, IEND."""
    return _file(image.mode, image.size, zlib.compress(_scanlines(image), level))


def _deflate(data: bytes, level: int, flush: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(flush)


class Template:
    """A picture whose rows above and below one band never change, compressed once.

    A deflate stream may be made of pieces compressed apart, as long as each but the last ends
    on a byte boundary (a sync flush) and only the last is marked final. So the fixed top and
    bottom are compressed when the template is made, and each picture compresses only its band:
    for a card, the rows its member's QR code crosses.
    """

    def __init__(self, image: Image.Image, band: tuple[int, int], level: int = 1) -> None:
        top, bottom = band
        width, height = image.size
        if not 0 <= top <= bottom <= height:
            raise ValueError(f"band {band} is not within the image's {height} rows")
        self.mode, self.size, self.band, self.level = image.mode, image.size, band, level
        above = _scanlines(image.crop((0, 0, width, top)))
        self._below = _scanlines(image.crop((0, bottom, width, height)))
        self._above_adler = zlib.adler32(above)
        self._head = _ZLIB_HEADER + _deflate(above, level, zlib.Z_SYNC_FLUSH)
        self._tail = _deflate(self._below, level, zlib.Z_FINISH)

    def encode(self, band: Image.Image) -> bytes:
        """The whole picture as a PNG file, with ``band`` as its rows ``self.band``."""
        top, bottom = self.band
        if band.mode != self.mode or band.size != (self.size[0], bottom - top):
            raise ValueError(f"band must be a {self.mode} image of {self.size[0]}x{bottom - top}")
        rows = _scanlines(band)
        # The checksum runs over all rows in order; the fixed rows' part is known already.
        adler = zlib.adler32(self._below, zlib.adler32(rows, self._above_adler))
        idat = b"".join(
            (
                self._head,
                _deflate(rows, self.level, zlib.Z_SYNC_FLUSH),
                self._tail,
                struct.pack(">I", adler),
            )
        )
        return _file(self.mode, self.size, idat)
