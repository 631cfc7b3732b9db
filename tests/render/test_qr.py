"""The QR codes of the pictures as a scanner sees them: the exact link, a regular QR code
(never Micro QR) at error level M, and the smallest symbol that holds the link."""

from __future__ import annotations

import random
import string

import pytest
import zxingcpp
from PIL import Image

from render.qr import qr_modules

# Data codewords of a QR code at error level M holding bytes, version 1 onwards (ISO/IEC
# 18004:2015, table 7): a link of n characters needs the first version that holds n.
BYTES_AT_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450]


def _links() -> list[str]:
    picks = random.Random(17)
    alphabet = string.ascii_letters + string.digits + "-_"
    links = ["https://t.me/b?start=1", "https://t.me/stampbot_test_bot?start=m-" + "a" * 22]
    for length in [1, 10, 21, 22, 30, 41, 42, 60, 64, 80, 120, 200, 300, 380]:
        tail = "".join(picks.choice(alphabet) for _ in range(length))
        links.append("https://t.me/x?start=" + tail)
    return links


def _scanned(modules: Image.Image, scale: int = 4) -> zxingcpp.Barcode:
    side = modules.width + 8
    framed = Image.new("L", (side, side), 255)
    framed.paste(modules, (4, 4))
    found = zxingcpp.read_barcodes(
        framed.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    )
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("link", _links(), ids=len)
def test_a_link_reads_back_from_the_smallest_regular_qr_code_at_level_m(link: str) -> None:
    modules = qr_modules(link)
    code = _scanned(modules)

    assert code.text == link
    assert code.format == zxingcpp.BarcodeFormat.QRCode  # not MicroQRCode, not rMQR
    assert code.symbology_identifier.startswith("]Q")
    assert code.ec_level == "M"
    version = next(n for n, fits in enumerate(BYTES_AT_M, start=1) if fits >= len(link))
    assert isinstance(code.extra, dict)
    assert code.extra["Version"] == str(version)
    assert modules.size == (17 + 4 * version, 17 + 4 * version)
    # Black on white and nothing between: every module is one pixel, dark or light.
    assert modules.mode == "L"
    assert set(modules.tobytes()) == {0, 255}


def test_short_data_still_gets_a_regular_qr_code() -> None:
    # segno's make() picks a Micro QR for data this short; many phone scanners cannot read it.
    code = _scanned(qr_modules("1"))
    assert (code.text, code.format) == ("1", zxingcpp.BarcodeFormat.QRCode)


@pytest.mark.parametrize("text", ["", "x" * 3000])
def test_nothing_or_more_than_a_qr_code_holds_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)empty|too long"):
        qr_modules(text)
