"""A QR code's modules as a picture: zxing-cpp's encoder, one pixel a module.

Every card and voucher photo carries a member's QR code, so making one is on the hot path of
each card view. zxing-cpp encodes in C++ (about a tenth of a millisecond, segno's pure Python
took milliseconds) and is a maintained library that reads QR codes as well as it writes them,
instead of our own copies of an encoder's internals kept faster by hand.
"""

from __future__ import annotations

from PIL import Image


def qr_modules(text: str) -> Image.Image:
    """The symbol of ``text`` without its quiet zone, error level M, in mode "L": one pixel a
    module, 0 for dark and 255 for light.

    Always a regular QR code (model 2), never a Micro QR: many phone scanners (Telegram's own
    included) cannot read Micro QR. Raises ``ValueError`` for empty text or text too long for any
    QR code."""
    # Here, not at the top: the C++ library is idle memory in every process that draws nothing.
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    # 8-bit grey, one pixel a module: Pillow takes it as it is (its array interface).
    return Image.fromarray(code.to_image(scale=1, add_quiet_zones=False))
