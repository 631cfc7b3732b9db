"""segno's QR codes with its data mask chosen by the same rules, faster.

segno tries each of the eight data masks and keeps the one with the lowest penalty score
(ISO/IEC 18004:2015, 7.8.3), one module at a time in Python: about three quarters of the time
to make a member's or a voucher's QR code, which every card photo drawn for a new member pays.
Here each mask is laid over the whole matrix at once (XOR of two integers) and the four
penalties are counted on whole rows and columns (regular expressions for runs, bit operations
for 2×2 blocks, ``bytes.find`` for finder-like patterns), scored exactly as segno scores them:
the chosen mask, and so every module of the symbol, is segno's own (a test compares the two).

``install()`` puts the faster choice in place of segno's for QR codes; Micro QR codes and a
mask given by the caller take segno's own path unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from segno import encoder

_segno_best_mask = encoder.find_and_apply_best_mask
# A run of five or more modules of one colour (N1).
_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_N3_PATTERN = b"\x01\x00\x01\x01\x01\x00\x01"
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


@lru_cache(maxsize=64)
def _mask_bits(width: int) -> tuple[int, ...]:
    """Each data mask as one integer over the matrix's bytes (a 1 byte where the mask flips a
    module of the encoding region), as segno's ``apply_mask`` flips them."""
    function_matrix = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function_matrix, width, width)
    encoder.add_alignment_patterns(function_matrix, width, width)
    function_matrix[-8][8] = 0x1
    masks = []
    for pattern in encoder.get_data_mask_functions(False):
        flips = bytes(
            1 if function_matrix[i][j] > 0x1 and pattern(i, j) else 0
            for i in range(width)
            for j in range(width)
        )
        masks.append(int.from_bytes(flips, "big"))
    return tuple(masks)


def _n3(text: bytes) -> int:
    """segno's ``n3_pattern_occurrences`` summed over lines joined by four light modules: the
    light area outside a line is what segno counts as light there, and the pattern (never
    four light modules long) cannot match across a separator."""
    count = 0
    idx = text.find(_N3_PATTERN)
    while idx != -1:
        offset = idx + 7
        if not any(text[max(idx - 4, 0) : idx]) or not any(text[offset : offset + 4]):
            count += 40
        else:
            offset = idx + 4
        idx = text.find(_N3_PATTERN, offset)
    return count


@lru_cache(maxsize=64)
def _n2_masks(size: int) -> tuple[int, int]:
    """Over a matrix as one integer (module (i, j) is bit n - 1 - (i * size + j)): the modules
    with a left neighbour, and those with both a left and an upper neighbour."""
    row = (1 << (size - 1)) - 1
    left = sum(row << (size * k) for k in range(size))
    return left, left & ((1 << (size * (size - 1))) - 1)


def _score(flat: bytes, size: int) -> int:
    """segno's ``evaluate_mask`` of the matrix whose rows are ``flat`` cut every ``size``."""
    rows = [flat[i * size : (i + 1) * size] for i in range(size)]
    lines = rows + [flat[j::size] for j in range(size)]
    # N1: runs of five or more of one colour in a row or a column, 3 + (length - 5) each.
    runs = _RUN.findall(b"\x02".join(lines))
    n1 = sum(map(len, runs)) - 2 * len(runs)
    n3 = _n3(b"\x00\x00\x00\x00".join(lines))
    # N2: 3 for each 2x2 block of one colour, counted at its lower right module.
    bits = int(flat.translate(_DIGITS), 2)
    left, both = _n2_masks(size)
    pairs = ~(bits ^ (bits >> 1)) & left
    blocks = pairs & (pairs >> size) & ~(bits ^ (bits >> size)) & both
    n2 = 3 * blocks.bit_count()
    percent = float(flat.count(1)) / (size**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _segnos(matrix: Any, width: int, height: int, proposed_mask: int | None) -> tuple[int, Any]:
    mask, chosen = _segno_best_mask(matrix, width, height, proposed_mask)
    return int(mask), chosen


def find_and_apply_best_mask(
    matrix: Any, width: int, height: int, proposed_mask: int | None = None
) -> tuple[int, Any]:
    """A drop-in for segno's function of that name: the same mask, the same matrix."""
    if proposed_mask is not None or width != height or width < 21:
        return _segnos(matrix, width, height, proposed_mask)
    joined = b"".join(matrix)
    if max(joined) > 1:  # a module left unset: not a matrix this module knows how to score
        return _segnos(matrix, width, height, proposed_mask)
    n = width * width
    plain = int.from_bytes(joined, "big")
    best_score, best_mask, best_flat = None, 0, b""
    for number, mask in enumerate(_mask_bits(width)):
        flat = (plain ^ mask).to_bytes(n, "big")
        score = _score(flat, width)
        if best_score is None or score < best_score:
            best_score, best_mask, best_flat = score, number, flat
    rows = tuple(bytearray(best_flat[i * width : (i + 1) * width]) for i in range(width))
    return best_mask, rows


def install() -> None:
    """Make segno choose masks with this module's function (idempotent)."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask
