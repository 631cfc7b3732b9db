"""The faster mask choice, error correction and placement give segno's own QR codes, module
for module."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

import pytest
import segno
from segno import encoder

from render import qr


def _urls() -> list[str]:
    picks = random.Random(17)
    alphabet = string.ascii_letters + string.digits + "-_"
    urls = ["https://t.me/b?start=1", "https://t.me/stampbot_test_bot?start=m-" + "a" * 22]
    for length in [1, 10, 30, 60, 61, 62, 64, 80, 120, 200, 300] * 5:
        urls.append(
            "https://t.me/x?start=" + "".join(picks.choice(alphabet) for _ in range(length))
        )
    return urls


@pytest.fixture
def segnos_own() -> Iterator[None]:
    encoder.find_and_apply_best_mask = qr._segno_best_mask
    encoder.make_final_message = qr._segno_final_message
    encoder.add_codewords = qr._segno_add_codewords
    try:
        yield
    finally:
        qr.install()


def test_every_mask_chosen_is_segnos(segnos_own: None) -> None:
    urls = _urls()
    theirs = [segno.make_qr(url, error="m") for url in urls]
    qr.install()
    ours = [segno.make_qr(url, error="m") for url in urls]
    # Every mask number occurs, so each of the eight scorings was compared.
    assert {code.mask for code in theirs} == set(range(8))
    for url, mine, reference in zip(urls, ours, theirs, strict=True):
        assert (mine.mask, mine.matrix) == (reference.mask, reference.matrix), url


def test_a_given_mask_and_micro_codes_take_segnos_path() -> None:
    qr.install()
    assert segno.make_qr("https://t.me/b?start=1", error="m", mask=5).mask == 5
    micro = segno.make("12345", micro=True)
    assert micro.is_micro
    assert micro.matrix == segno.make("12345", micro=True, mask=micro.mask).matrix


def test_codes_of_every_size_level_and_mode_are_segnos(segnos_own: None) -> None:
    """Error correction in several blocks of two sizes, every remainder-bit count, and the
    numeric, alphanumeric and byte modes: the same modules."""
    picks = random.Random(5)
    data = ["0123456789" * 20, "HELLO WORLD " * 30, "Кав'ярня ☕ " * 20]
    data += ["".join(picks.choice(string.printable) for _ in range(n)) for n in (3, 90, 700)]
    cases = [(text[:length], level) for text in data for length in (5, 40, 150, 400)
             for level in "lmqh"]  # fmt: skip
    theirs = [segno.make_qr(text, error=level) for text, level in cases]
    qr.install()
    ours = [segno.make_qr(text, error=level) for text, level in cases]
    assert len({code.version for code in theirs}) > 10
    for case, mine, reference in zip(cases, ours, theirs, strict=True):
        assert (mine.version, mine.mask, mine.matrix) == (
            reference.version,
            reference.mask,
            reference.matrix,
        ), case
