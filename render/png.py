"""PNG bytes written for speed: unfiltered rows through deflate at its fastest level.

Pillow's PNG writer has no setting for its row filters and tries several on every row, which
was most of the time of drawing a card; zlib at level 1 already finds the long runs of one
colour and the repeated rows our pictures are made of. Telegram recompresses every photo, so
the few kilobytes this gives away are not worth the milliseconds on a join. Lossless, so the
pixels are exactly the ones drawn, and nothing but pixels is written (no time, no dpi): equal
images give equal bytes.

The deflating is zlib-ng's (the ``zlib-ng`` package, zlib's interface and streams): at the
fastest level it takes a quarter of zlib's CPU on our rows (0.41 against 1.57 ms for a QR band
of 1.3 MB), for a third more bytes, which Telegram's recompression takes away again. The
checksums stay the standard library's; they are the same functions.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from PIL import Image
from zlib_ng import zlib_ng

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
    return _file(image.mode, image.size, zlib_ng.compress(_scanlines(image), level))


def _deflate(data: bytes, level: int, flush: int) -> bytes:
    compressor = zlib_ng.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
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


Box = tuple[int, int, int, int]
_ADLER_BASE = 65521
# A deflate stream's last block: final, fixed Huffman codes, only the end-of-block code.
_FINAL_EMPTY_BLOCK = b"\x03\x00"


class _Pieces:
    """Byte strings compressed one by one as self-contained deflate pieces (each ends on a
    full flush: no back-reference into what came before it, byte-aligned, not final), so
    they can be laid end to end in any order. Equal strings are compressed once."""

    def __init__(self, level: int) -> None:
        self._compressor = zlib_ng.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.made: dict[bytes, bytes] = {}

    def __call__(self, data: bytes) -> bytes:
        if not data:
            return b""
        piece = self.made.get(data)
        if piece is None:
            piece = self._compressor.compress(data) + self._compressor.flush(zlib.Z_FULL_FLUSH)
            self.made[data] = piece
        return piece


class Patchwork:
    """A picture whose pixels change only inside a few boxes; all else is compressed once.

    Unlike :class:`Template`, whose band of whole rows is compressed again for each picture,
    only the boxes' own pixels are: for a card that is its member's QR code, a third of the
    rows it crosses. Each row of a box and each stretch of fixed bytes between two of them is
    a self-contained deflate piece (see ``_Pieces``), and a box's equal rows (a QR module is
    several pixels tall) are compressed once. The stream's Adler-32 is a weighted sum of its
    bytes, so the fixed bytes' share is summed once too and each distinct row's is added from
    its own checksum. The pixels are exactly those of the picture written whole.
    """

    def __init__(self, image: Image.Image, boxes: list[Box], level: int = 1) -> None:
        width, height = image.size
        pixel = _colour_type(image.mode)[1]
        for n, (left, top, right, bottom) in enumerate(boxes):
            if not (0 <= left <= right <= width and 0 <= top <= bottom <= height):
                raise ValueError(f"box {(left, top, right, bottom)} is not within the image")
            for other in boxes[:n]:
                if left < other[2] and other[0] < right and top < other[3] and other[1] < bottom:
                    raise ValueError("boxes must not overlap")
        self.mode, self.size, self.boxes, self.level = image.mode, image.size, list(boxes), level
        stride = 1 + width * pixel
        # Every row of every box, by where its bytes start in the uncompressed stream.
        spans = sorted(
            (y * stride + 1 + left * pixel, (right - left) * pixel, index, y - top)
            for index, (left, top, right, bottom) in enumerate(boxes)
            if right > left
            for y in range(top, bottom)
        )
        self._spans = [(index, row) for _, _, index, row in spans]
        raw = _scanlines(image)
        self._length = total = len(raw)
        self._weights = [total - start for start, _, _, _ in spans]
        compress = _Pieces(level)
        # The fixed stretches: before the first span, between each two, after the last.
        fixed, at = [], 0
        for start, length, _, _ in spans:
            fixed.append(compress(raw[at:start]))
            at = start + length
        fixed.append(compress(raw[at:]))
        self._fixed = fixed
        # The checksum's sums over the fixed bytes alone: the stream with the boxes zeroed.
        zeroed = image.copy()
        for box in boxes:
            zeroed.paste(0, box)
        adler = zlib.adler32(_scanlines(zeroed))
        self._sum1, self._sum2 = (adler & 0xFFFF) - 1, (adler >> 16) - total

    def encode(self, patches: Sequence[Image.Image | Sequence[bytes]]) -> bytes:
        """The whole picture as a PNG file, with ``patches[i]`` as the pixels of box ``i``:
        an image, or its rows' bytes (a picture made of repeated rows, as a QR code is, is
        cheaper given as its rows, each repeat the same object, than drawn whole)."""
        if len(patches) != len(self.boxes):
            raise ValueError(f"expected {len(self.boxes)} patches, got {len(patches)}")
        pixel = _colour_type(self.mode)[1]
        rows: list[list[bytes]] = []
        for patch, (left, top, right, bottom) in zip(patches, self.boxes, strict=True):
            stride, height = (right - left) * pixel, bottom - top
            if isinstance(patch, Image.Image):
                if patch.mode != self.mode or patch.size != (right - left, height):
                    raise ValueError(
                        f"patch must be a {self.mode} image of {right - left}x{height}"
                    )
                data = patch.tobytes()
                rows.append(_runs([data[y * stride : (y + 1) * stride] for y in range(height)]))
            else:
                if len(patch) != height or any(len(row) != stride for row in patch):
                    raise ValueError(f"patch must be {height} rows of {stride} bytes")
                rows.append(_runs(list(patch)))
        spans = [rows[index][row] for index, row in self._spans]
        compress = _Pieces(self.level)
        # Each distinct row: its byte sum, and the sum of its bytes weighted by their place.
        sums: dict[bytes, tuple[int, int]] = {}
        for data in dict.fromkeys(spans):
            compress(data)
            adler, length = zlib.adler32(data), len(data)
            total = (adler & 0xFFFF) - 1
            sums[data] = (total, length * total + length - (adler >> 16))
        sum1 = self._sum1 + sum(sums[data][0] for data in spans)
        sum2 = self._sum2 + sum(
            weight * sums[data][0] - sums[data][1]
            for weight, data in zip(self._weights, spans, strict=True)
        )
        adler = (self._length + sum2) % _ADLER_BASE << 16 | (1 + sum1) % _ADLER_BASE
        out = [b""] * (2 * len(spans) + 1)
        out[0::2] = self._fixed
        out[1::2] = [compress.made[data] if data else b"" for data in spans]
        stream = b"".join((_ZLIB_HEADER, *out, _FINAL_EMPTY_BLOCK, struct.pack(">I", adler)))
        return _file(self.mode, self.size, stream)


def _runs(rows: list[bytes]) -> list[bytes]:
    """``rows``, each equal to the row above it being that very object: a QR code's module is
    several rows tall, and telling them equal by comparing neighbours is cheaper than hashing
    every row's bytes for the dictionary that finds the distinct ones (a fifth of a card's
    encoding): each distinct object is hashed once."""
    for y in range(1, len(rows)):
        if rows[y] == rows[y - 1]:
            rows[y] = rows[y - 1]
    return rows
