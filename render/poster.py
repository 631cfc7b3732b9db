"""The counter poster: a card's join QR code, printable at A5 or A4, as PNG and PDF.

The poster is drawn as one picture at print resolution (300 dpi) and the PDF holds that picture
as its only content, page-sized. Text in Hebrew, Persian and Thai is then exactly what
``render.typeset`` shaped and ordered (the same code as every other picture), with no second
text engine in the PDF to get joining or direction wrong; at 300 dpi the edges of letters and
QR modules print as sharp as a laser printer can.

The layout is measured in hundredths of the paper's width, so A4 is A5 scaled by √2: the same
poster at either size. QR modules stay whole pixels (nearest-neighbour) on a white panel
whatever the shop's colours, so the code reads from the print as it does from the file.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw

from render import typeset
from render.imaging import decode_upload, fit

# What is printed lives apart from the drawing, so the poster handlers import no Pillow or
# zxing-cpp at start (idle memory); they are the same names here.
from render.poster_spec import DPI as DPI
from render.poster_spec import Paper as Paper
from render.poster_spec import Poster as Poster
from render.poster_spec import PosterFiles as PosterFiles
from render.qr import qr_modules
from render.typeset import Direction, Style

QR_BORDER = 4
_RTL_LANGUAGES = frozenset({"he", "fa", "ar"})
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

RGB = tuple[int, int, int]


def _rgb(colour: str) -> RGB:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _luminance(colour: RGB) -> float:
    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ink_on(colour: RGB) -> RGB:
    """Black or white, whichever contrasts more with ``colour`` (text on the accent band)."""
    lum = _luminance(colour)
    return BLACK if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else WHITE


def _clean(text: str) -> str:
    chars = (" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join("".join(chars).split())


def _wrap(
    text: str,
    style: Style,
    largest: int,
    smallest: int,
    width: int,
    max_lines: int,
    direction: Direction,
    language: str | None,
) -> tuple[int, list[str]]:
    """The largest size at which ``text`` fits ``max_lines`` lines split at spaces; at the
    smallest size the last line is ellipsized. Every line keeps the paragraph's direction."""
    text = _clean(text)
    if not text:
        return smallest, []
    if direction == "auto":
        direction = "rtl" if typeset.layout(text, style, smallest).rtl else "ltr"
    words = text.split(" ")

    def fits(line: str, size: int) -> bool:
        return typeset.width(line, style, size, direction, language) <= width

    def greedy(size: int) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and not fits(candidate, size):
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
        return lines

    size = largest
    while True:
        lines = greedy(size)
        if len(lines) <= max_lines and all(fits(line, size) for line in lines):
            return size, lines
        if size <= smallest:
            break
        size = max(smallest, size - max(1, largest // 40))
    kept = lines[: max_lines - 1]
    rest = " ".join(lines[max_lines - 1 :])
    kept = [typeset.ellipsize(line, style, size, width, direction, language) for line in kept]
    return size, [*kept, typeset.ellipsize(rest, style, size, width, direction, language)]


@dataclass(frozen=True, slots=True)
class _Block:
    """Lines of one style, centred; ``gap_after`` in pixels."""

    lines: tuple[str, ...]
    style: Style
    size: int
    fill: RGB
    direction: Direction
    language: str | None
    gap_after: int

    @property
    def line_height(self) -> int:
        return round(self.size * 1.3)

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def _qr_image(url: str, side: int) -> Image.Image:
    """The symbol with its quiet zone in at most ``side`` pixels, modules whole pixels."""
    try:
        code = qr_modules(url)
    except ValueError as exc:
        raise ValueError("join_url does not fit in a QR code") from exc
    modules = code.width + 2 * QR_BORDER
    scale = side // modules
    if scale < 4:
        raise ValueError("join_url is too long for a poster QR code")
    symbol = Image.new("L", (modules, modules), 255)
    symbol.paste(code, (QR_BORDER, QR_BORDER))
    return symbol.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


def draw_poster(poster: Poster) -> Image.Image:
    """The poster as an RGB picture at 300 dpi of its paper size."""
    width, height = poster.paper.pixels
    u = width / 100
    bg, fg, accent = _rgb(poster.background), _rgb(poster.foreground), _rgb(poster.accent)
    muted = _mix(fg, bg, 0.25)
    language = poster.language
    ours: Direction = "rtl" if language[:2] in _RTL_LANGUAGES else "ltr"
    image = Image.new("RGB", (width, height), bg)
    pen = ImageDraw.Draw(image)

    margin = round(6 * u)
    text_w = width - 2 * margin
    band_h = round(9 * u)
    logo_side = round(14 * u)
    logo = decode_upload(poster.logo_png) if poster.logo_png else None

    def block(
        text: str,
        style: Style,
        largest: float,
        smallest: float,
        lines: int,
        fill: RGB,
        direction: Direction,
        gap: float,
    ) -> _Block:
        size, wrapped = _wrap(
            text, style, round(largest * u), round(smallest * u), text_w, lines, direction,
            language,
        )  # fmt: skip
        return _Block(tuple(wrapped), style, size, fill, direction, language, round(gap * u))

    name = block(poster.merchant_name, "bold", 7, 4.5, 2, fg, "auto", 1)
    card = block(poster.card_name, "regular", 4.6, 3.2, 1, muted, "auto", 2.5)
    cta = block(poster.call_to_action, "bold", 6.4, 4, 2, fg, ours, 1)
    reward = block(poster.reward_line, "regular", 4.4, 3, 2, muted, ours, 0)
    accent_bar = (round(14 * u), round(1.1 * u))
    qr_gap = round(3.5 * u)
    room = height - band_h - 2 * margin

    others = (
        (logo_side + round(3 * u) if logo is not None else 0)
        + name.height
        + name.gap_after
        + card.height
        + card.gap_after
        + accent_bar[1]
        + 2 * qr_gap
        + cta.height
        + cta.gap_after
        + reward.height
    )
    # The code is as large as the texts leave room for, up to 62 % of the width.
    qr_panel = max(round(40 * u), min(round(62 * u), room - others))
    content = others + qr_panel
    y = margin + max(0, (room - content) // 2)
    cx = width // 2

    if logo is not None:
        radius = round(3 * u)
        tile = (cx - logo_side // 2, y, cx + logo_side // 2, y + logo_side)
        pen.rounded_rectangle(tile, radius=radius, fill=WHITE)
        inner = round(logo_side * 0.82)
        fitted = fit(logo, (inner, inner))
        image.paste(
            fitted,
            (cx - fitted.width // 2, y + (logo_side - fitted.height) // 2),
            fitted,
        )
        y += logo_side + round(3 * u)

    def text_block(b: _Block, top: int) -> int:
        for line in b.lines:
            ascent, descent = typeset.metrics(b.style, b.size)
            baseline = top + (b.line_height + ascent - descent) // 2
            typeset.draw(
                image, (cx, baseline), line, b.style, b.size, b.fill, "ms", b.direction, b.language
            )
            top += b.line_height
        return top + b.gap_after

    y = text_block(name, y)
    y = text_block(card, y)
    pen.rounded_rectangle(
        (cx - accent_bar[0] // 2, y, cx + accent_bar[0] // 2, y + accent_bar[1]),
        radius=accent_bar[1] // 2,
        fill=accent,
    )
    y += accent_bar[1] + qr_gap

    panel = (cx - qr_panel // 2, y, cx + qr_panel // 2, y + qr_panel)
    pen.rounded_rectangle(panel, radius=round(4 * u), fill=WHITE)
    symbol = _qr_image(poster.join_url, qr_panel - round(2 * u))
    image.paste(symbol, (cx - symbol.width // 2, y + (qr_panel - symbol.height) // 2))
    y += qr_panel + qr_gap

    y = text_block(cta, y)
    text_block(reward, y)

    # The accent band along the foot says where the code leads.
    pen.rectangle((0, height - band_h, width, height), fill=accent)
    ink = _ink_on(accent)
    size, lines = _wrap(
        poster.footer, "bold", round(3.4 * u), round(2.4 * u), text_w, 1, ours, language
    )
    if lines:
        typeset.draw(
            image, (cx, height - band_h // 2), lines[0], "bold", size, ink, "mm", ours, language
        )
    return image


def encode_png(image: Image.Image) -> bytes:
    """PNG with its resolution (pHYs), so an image viewer prints it at the paper's size.

    Pillow's own writer rather than ``render.png``: this file is sent as a document, not
    recompressed by Telegram, and on a poster's large flat areas its row filters make the file
    about a third of the size in less time.
    """
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI), compress_level=6)
    return out.getvalue()


def encode_pdf(png: bytes, poster: Poster) -> bytes:
    """One page of exactly the paper's size, the poster's picture filling it edge to edge."""
    # Imported here: fpdf (with what it loads) holds about 40 MB, and a process that never
    # prints a poster (a web replica, a worker) has no use for it.
    from fpdf import FPDF

    w, h = poster.paper.millimetres
    pdf = FPDF(orientation="portrait", unit="mm", format=(w, h))
    pdf.set_margin(0)
    pdf.set_auto_page_break(False)
    pdf.set_title(f"{_clean(poster.merchant_name)} · {_clean(poster.card_name)}")
    pdf.set_creator("stampbot")
    pdf.set_lang(poster.language)
    pdf.add_page()
    pdf.image(io.BytesIO(png), x=0, y=0, w=w, h=h)
    return bytes(pdf.output())


def render_poster(poster: Poster) -> PosterFiles:
    image = draw_poster(poster)
    png = encode_png(image)
    return PosterFiles(png=png, pdf=encode_pdf(png, poster), size=image.size)


INVITE_QR_SIDE = 720
"""Pixels across an invite's QR picture: scanned from the owner's screen, not printed."""


def render_link_qr(url: str, side: int = INVITE_QR_SIDE) -> bytes:
    """A link's QR code alone, black on white with its quiet zone, as a PNG to send as a photo:
    the new cashier next to the owner scans it from the owner's phone."""
    symbol = _qr_image(url, side)
    image = Image.new("L", (side, side), 255)
    offset = (side - symbol.width) // 2
    image.paste(symbol, (offset, offset))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()
