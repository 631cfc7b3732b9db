"""segno's QR codes with its data mask chosen by the same rules, faster.

segno tries each of the eight data masks and keeps the one with the lowest penalty score
(ISO/IEC 18004:2015, 7.8.3), one module at a time in Python: about three quarters of the time
to make a member's or a voucher's QR code, which every card photo drawn for a new member pays.
Here each mask is laid over the whole matrix at once (XOR of two integers) and the four
penalties are counted on whole rows and columns (bit operations for runs and 2×2 blocks,
``bytes.find`` for finder-like patterns), scored exactly as segno scores them:
the chosen mask, and so every module of the symbol, is segno's own (a test compares the two).

The other two steps that cost most, done in whole-byte steps as well, with the same result:
the error correction codewords (Reed-Solomon, one table lookup and one integer XOR per data
codeword instead of one per generator term) and the placement of the codeword bits in the
matrix (the free modules' order, which is fixed for a version, worked out once).

``install()`` puts these in place of segno's for QR codes; Micro QR codes and a mask given by
the caller take segno's own path unchanged.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from segno import consts, encoder

_segno_best_mask = encoder.find_and_apply_best_mask
_segno_final_message = encoder.make_final_message
_segno_add_codewords = encoder.add_codewords
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


def _n1(pairs: int) -> int:
    """N1 of the lines whose modules equal to their left neighbour are ``pairs``: each run of
    length L >= 5 ends L - 4 windows of five equal modules, and scores L - 2."""
    windows = pairs & (pairs >> 1) & (pairs >> 2) & (pairs >> 3)
    return windows.bit_count() + 2 * (windows & ~(windows >> 1)).bit_count()


def _score(flat: bytes, size: int) -> int:
    """segno's ``evaluate_mask`` of the matrix whose rows are ``flat`` cut every ``size``."""
    rows = [flat[i * size : (i + 1) * size] for i in range(size)]
    lines = rows + [flat[j::size] for j in range(size)]
    n3 = _n3(b"\x00\x00\x00\x00".join(lines))
    bits = int(flat.translate(_DIGITS), 2)
    left, both = _n2_masks(size)
    pairs = ~(bits ^ (bits >> 1)) & left
    # N1: runs of five or more of one colour in a row or a column, 3 + (length - 5) each.
    columns = int(b"".join(lines[size:]).translate(_DIGITS), 2)
    n1 = _n1(pairs) + _n1(~(columns ^ (columns >> 1)) & left)
    # N2: 3 for each 2x2 block of one colour, counted at its lower right module.
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


# "0"/"1" text to module values, and the reverse.
_FROM_TEXT = bytes.maketrans(b"01", b"\x00\x01")
# Remainder bits after the codewords (ISO/IEC 18004:2015, 7.6), by version.
_REMAINDER = {**dict.fromkeys(range(2, 7), 7), **dict.fromkeys(range(14, 21), 3)}
_REMAINDER |= {**dict.fromkeys(range(21, 28), 4), **dict.fromkeys(range(28, 35), 3)}


@lru_cache(maxsize=64)
def _ec_table(num_error_words: int) -> tuple[int, ...]:
    """For each lead coefficient, the generator polynomial times it as one integer of
    ``num_error_words`` bytes: what segno's synthetic division XORs in, term by term."""
    gen = consts.GEN_POLY[num_error_words]
    log, exp = consts.GALIOS_LOG, consts.GALIOS_EXP
    table = [0]
    for coef in range(1, 256):
        terms = bytes(exp[log[coef] + gen[n]] for n in range(num_error_words))
        table.append(int.from_bytes(terms, "big"))
    return tuple(table)


def _error_block(block: bytes, num_error_words: int) -> bytes:
    table = _ec_table(num_error_words)
    shift, mask = 8 * (num_error_words - 1), (1 << 8 * num_error_words) - 1
    remainder = 0
    for data in block:
        remainder = ((remainder << 8) & mask) ^ table[(remainder >> shift) ^ data]
    return remainder.to_bytes(num_error_words, "big")


def _bits(data: bytes) -> bytes:
    return bin(int.from_bytes(data, "big") | 1 << 8 * len(data))[3:].encode().translate(_FROM_TEXT)


def make_final_message(version: int, error: int, buff: Any) -> Any:
    """A drop-in for segno's function of that name: the same codewords, as bits."""
    if version < 1:
        return _segno_final_message(version, error, buff)
    bits = bytes(buff.getbits())
    bits += b"\x00" * (-len(bits) % 8)
    codewords = int(bits.translate(_DIGITS) or b"0", 2).to_bytes(len(bits) // 8, "big")
    data_blocks, error_blocks = [], []
    at = 0
    ec_infos: Any = consts.ECC[version][error]  # type: ignore[index]
    for ec_info in ec_infos:
        num_error_words = ec_info.num_total - ec_info.num_data
        for _ in range(ec_info.num_blocks):
            block = codewords[at : at + ec_info.num_data]
            at += ec_info.num_data
            data_blocks.append(block)
            error_blocks.append(_error_block(block, num_error_words))
    message = bytearray()
    for blocks in (data_blocks, error_blocks):
        for n in range(max(map(len, blocks))):
            message.extend(block[n] for block in blocks if n < len(block))
    return encoder.Buffer(_bits(bytes(message)) + b"\x00" * _REMAINDER.get(version, 0))


@lru_cache(maxsize=64)
def _placement(version: int, free: bytes) -> tuple[tuple[int, int], ...]:
    """The modules codeword bits go to, in order, by segno's own walk over the matrix whose
    free modules (value 2) ``free`` marks with 1."""
    size = math.isqrt(len(free))
    matrix = [bytearray(free[i * size : (i + 1) * size]) for i in range(size)]
    order = []
    for right in range(size - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(size):
            for z in range(2):
                j = right - z
                upwards = ((right & 2) == 0) ^ (j < 6)
                i = (size - 1 - vertical) if upwards else vertical
                if matrix[i][j]:
                    matrix[i][j] = 0
                    order.append((i, j))
    return tuple(order)


_FREE = bytes.maketrans(b"\x00\x01\x02", b"\x00\x00\x01")


def add_codewords(matrix: Any, codewords: Any, version: int) -> None:
    """A drop-in for segno's function of that name: the same bits in the same modules."""
    if version < 1:
        _segno_add_codewords(matrix, codewords, version)
        return
    order = _placement(version, b"".join(matrix).translate(_FREE))
    bits = codewords.getbits()
    if len(bits) > len(order):  # pragma: no cover - segno raises here too
        raise ValueError("Internal error: more codewords than free modules")
    for (i, j), bit in zip(order, bits, strict=False):
        matrix[i][j] = bit


def install() -> None:
    """Make segno use this module's functions (idempotent)."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask
    encoder.make_final_message = make_final_message
    encoder.add_codewords = add_codewords
