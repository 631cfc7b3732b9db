"""The customer's stamp card and voucher drawn as PNG photos for Telegram.

Pure functions of frozen inputs: the same input always gives the same bytes, so a rendered photo
can be cached (and re-sent by Telegram ``file_id``) under ``cache_key()``.

A card's picture is the same for every member at the same balance except for the QR code, which
carries the member's own link. So the card is drawn once per design and balance, kept, and each
member's QR pasted onto a copy: a rush of people joining at a new poster costs a QR code and a
PNG each, not a whole drawing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from render import png, typeset
from render.imaging import decode_upload, fit
from render.qr import qr_modules
from render.typeset import Anchor, Style

# Bump whenever the drawing changes, so cached photos of the old design are not re-used.
RENDER_VERSION = "card-image-2"

MAX_STAMPS = 100

# Telegram scales photos down to 1280 px on their long side; staying at that size keeps the QR
# modules on whole pixels instead of being resampled across pixel boundaries.
WIDTH = 1280
MARGIN = 32
PAD = 48
CARD_RADIUS = 44
COLUMN_GAP = 40
HEADER_H = 112
SECTION_GAP = 32
PROGRESS_H = 72
# Drawing at twice the size and box-averaging down anti-aliases circles and rounded corners while
# leaving flat areas at exactly the requested colour.
SUPERSAMPLE = 2

QR_BORDER = 4
QR_MIN_SCALE = 8
QR_TARGET_PX = 456
QR_MAX_PX = 600
QR_PANEL_PAD = 16

# Card pictures without their QR code kept for re-use, most recently used first. One is kept
# compressed (about 150 kB: ``png.Patchwork``), so this bounds the memory to about 10 MB; a
# shop's card at each balance its members are at stays in while they come and go.
BASE_CACHE_SIZE = 64

BACKDROP = (236, 239, 243)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")

RGB = tuple[int, int, int]


def _check_colours(*colours: str) -> None:
    for colour in colours:
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise ValueError(f"colour must be #RRGGBB, got {colour!r}")


def _rgb(colour: str) -> RGB:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way towards ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _key(obj: CardImage | VoucherImage) -> str:
    values: list[object] = []
    for field in fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, bytes):
            value = ["sha256", hashlib.sha256(value).hexdigest()]
        values.append([field.name, value])
    blob = json.dumps([RENDER_VERSION, type(obj).__name__, values], ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class CardImage:
    merchant_name: str
    card_name: str
    stamps_needed: int
    balance: int
    background: str
    foreground: str
    accent: str
    qr_url: str
    logo_png: bytes | None = None

    def __post_init__(self) -> None:
        _check_colours(self.background, self.foreground, self.accent)
        if not 1 <= self.stamps_needed <= MAX_STAMPS:
            raise ValueError(f"stamps_needed must be 1..{MAX_STAMPS}, got {self.stamps_needed}")

    @property
    def shown_balance(self) -> int:
        """The balance as drawn: a card can never show more stamps than it has circles."""
        return min(max(self.balance, 0), self.stamps_needed)

    def cache_key(self) -> str:
        return _key(self)


@dataclass(frozen=True, slots=True)
class VoucherImage:
    merchant_name: str
    title: str
    code: str
    background: str
    foreground: str
    accent: str
    qr_url: str

    def __post_init__(self) -> None:
        _check_colours(self.background, self.foreground, self.accent)

    def cache_key(self) -> str:
        return _key(self)


Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Where things are on the card, in pixels of the final image."""

    width: int
    height: int
    card_box: Box
    left_column: Box
    qr_panel: Box
    qr_box: Box  # the symbol including its white quiet zone
    qr_scale: int
    header_box: Box
    stamp_centres: tuple[tuple[int, int], ...]
    stamp_radius: int
    progress_box: Box


@dataclass(frozen=True, slots=True)
class VoucherLayout:
    width: int
    height: int
    card_box: Box
    left_column: Box
    qr_panel: Box
    qr_box: Box
    qr_scale: int
    code_box: Box


# --- QR ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _qr(url: str) -> Image.Image:
    """The symbol's modules, one pixel each (``render.qr``); kept, as a member's card is viewed
    again and again. Never changed in place: callers paste it or resize a copy."""
    if not url:
        raise ValueError("qr_url is empty")
    try:
        return qr_modules(url)
    except ValueError as exc:
        raise ValueError("qr_url does not fit in a QR code") from exc


def _qr_geometry(url: str) -> tuple[int, int]:
    """(modules across including the quiet zone, pixels per module)."""
    modules = _qr(url).width + 2 * QR_BORDER
    return modules, _qr_scale(modules)


def _qr_scale(modules: int) -> int:
    scale = max(QR_MIN_SCALE, QR_TARGET_PX // modules)
    if modules * scale > QR_MAX_PX:
        raise ValueError("qr_url is too long for a QR code that can be scanned from a screen")
    return scale


def _qr_rows(url: str, scale: int) -> list[bytes]:
    """The symbol with its quiet zone, ``scale`` pixels a module, as the rows' RGB bytes (the
    card's mode). Nearest-neighbour keeps every module a crisp square of exactly scale x scale
    pixels; each module row is widened once and its ``scale`` rows are that one object, which
    the encoder takes as they are: scaling the whole square and cutting it into rows again was
    a third of encoding a card's code."""
    modules = _qr(url)
    side = modules.width + 2 * QR_BORDER
    framed = Image.new("L", (side, side), 255)
    framed.paste(modules, (QR_BORDER, QR_BORDER))
    wide = framed.resize((side * scale, side), Image.Resampling.NEAREST).convert("RGB")
    data, stride = wide.tobytes(), side * scale * 3
    rows = [data[y * stride : (y + 1) * stride] for y in range(side)]
    return [row for row in rows for _ in range(scale)]


# --- text -------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """One line of text: control characters (newlines, tabs) become spaces, runs collapse."""
    chars = (" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join("".join(chars).split())


def _fit(text: str, style: Style, max_size: int, min_size: int, max_width: int) -> tuple[int, str]:
    """The largest size (down to ``min_size``) the text fits in, ellipsized if even that fails."""
    return typeset.fit(_clean(text), style, max_size, min_size, max_width)


def _text(
    layer: Image.Image,
    xy: tuple[float, float],
    text: str,
    style: Style,
    size: int,
    fill: RGB,
    anchor: Anchor = "ls",
) -> None:
    if text:
        typeset.draw(layer, xy, text, style, size, fill, anchor)


# --- drawing helpers --------------------------------------------------------------------------


def _scaled(box: Box) -> Box:
    s = SUPERSAMPLE
    return box[0] * s, box[1] * s, box[2] * s, box[3] * s


def _backdrop(width: int, height: int, card_box: Box) -> Image.Image:
    base = Image.new("RGB", (width, height), BACKDROP)
    mask = Image.new("L", (width, height), 0)
    left, top, right, bottom = card_box
    ImageDraw.Draw(mask).rounded_rectangle(
        (left + 4, top + 10, right - 4, bottom + 8), radius=CARD_RADIUS, fill=70
    )
    mask = mask.filter(ImageFilter.GaussianBlur(12))
    base.paste((40, 44, 52), (0, 0), mask)
    return base


def _layer(width: int, height: int, background: RGB) -> Image.Image:
    # Transparent pixels carry the card colour so averaging at the rounded edge can't darken it.
    return Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (*background, 0))


def _flatten(base: Image.Image, layer: Image.Image) -> Image.Image:
    out = base.convert("RGBA")
    out.alpha_composite(layer.reduce(SUPERSAMPLE))
    return out.convert("RGB")


def _qr_panel(draw: ImageDraw.ImageDraw, panel: Box) -> None:
    draw.rounded_rectangle(_scaled(panel), radius=28 * SUPERSAMPLE, fill=(*WHITE, 255))


def _decode_logo(data: bytes, side: int) -> Image.Image | None:
    """The merchant's logo fitted into a square, or None when it can't be decoded safely."""
    logo = decode_upload(data)
    return fit(logo, (side, side)) if logo is not None else None


# --- card -------------------------------------------------------------------------------------


def _grid(stamps: int) -> tuple[int, int]:
    """(columns, rows): rows of up to 5 for short cards, 10 for long ones, evenly filled."""
    per_row = 5 if stamps <= 10 else 10
    rows = math.ceil(stamps / per_row)
    return math.ceil(stamps / rows), rows


def card_layout(card: CardImage) -> CardLayout:
    return _card_layout(card.stamps_needed, *_qr_geometry(card.qr_url))


@lru_cache(maxsize=256)
def _card_layout(stamps_needed: int, modules: int, scale: int) -> CardLayout:
    """The layout depends on nothing but the number of stamps and the size of the QR code."""
    qr_px = modules * scale
    panel_w = qr_px + 2 * QR_PANEL_PAD
    inner_w = WIDTH - 2 * MARGIN - 2 * PAD
    left_w = inner_w - panel_w - COLUMN_GAP

    cols, rows = _grid(stamps_needed)
    cell = min(left_w // cols, 120)
    grid_h = rows * cell
    left_h = HEADER_H + SECTION_GAP + grid_h + SECTION_GAP + PROGRESS_H
    inner_h = max(left_h, panel_w)
    height = inner_h + 2 * PAD + 2 * MARGIN

    card_box = (MARGIN, MARGIN, WIDTH - MARGIN, height - MARGIN)
    x0, y0 = MARGIN + PAD, MARGIN + PAD
    left_column = (x0, y0, x0 + left_w, y0 + inner_h)
    panel_x = card_box[2] - PAD - panel_w
    panel_y = y0 + (inner_h - panel_w) // 2
    qr_panel = (panel_x, panel_y, panel_x + panel_w, panel_y + panel_w)
    qr_x, qr_y = panel_x + QR_PANEL_PAD, panel_y + QR_PANEL_PAD

    header_box = (x0, y0, x0 + left_w, y0 + HEADER_H)
    progress_box = (x0, y0 + inner_h - PROGRESS_H, x0 + left_w, y0 + inner_h)
    # Any height the QR column adds goes around the grid, keeping the progress at the bottom.
    spare = inner_h - left_h
    grid_y = y0 + HEADER_H + SECTION_GAP + spare // 2
    centres = tuple(
        (x0 + (i % cols) * cell + cell // 2, grid_y + (i // cols) * cell + cell // 2)
        for i in range(stamps_needed)
    )
    return CardLayout(
        width=WIDTH,
        height=height,
        card_box=card_box,
        left_column=left_column,
        qr_panel=qr_panel,
        qr_box=(qr_x, qr_y, qr_x + qr_px, qr_y + qr_px),
        qr_scale=scale,
        header_box=header_box,
        stamp_centres=centres,
        stamp_radius=round(cell * 0.4),
        progress_box=progress_box,
    )


def clear_caches() -> None:
    """Forget kept pictures, layouts and QR codes (tests check a fresh render is the same)."""
    _card_base.cache_clear()
    _card_layout.cache_clear()
    _voucher_base.cache_clear()
    _voucher_layout.cache_clear()
    _qr.cache_clear()


def stamp_centres(card: CardImage) -> list[tuple[int, int]]:
    """Centre of each stamp circle in the rendered image, in stamp order."""
    return list(card_layout(card).stamp_centres)


def render_card(card: CardImage) -> bytes:
    modules, scale = _qr_geometry(card.qr_url)
    # The base is keyed on everything drawn but the QR code, with the balance as shown; the
    # code's size is part of the key too, because it moves the columns.
    design = dataclasses.replace(card, qr_url="", balance=card.shown_balance)
    return _card_base(design, modules).encode([_qr_rows(card.qr_url, scale)])


@lru_cache(maxsize=BASE_CACHE_SIZE)
def _card_base(card: CardImage, modules: int) -> png.Patchwork:
    """The card drawn without its QR code and compressed but for the QR code's box, where
    each member's code goes (about 150 kB kept, whatever the drawing)."""
    layout = _card_layout(card.stamps_needed, modules, _qr_scale(modules))
    return png.Patchwork(_draw_card(card, layout), [layout.qr_box])


def _draw_card(card: CardImage, layout: CardLayout) -> Image.Image:
    """Everything on the card but the QR code, on its white panel; ``card.qr_url`` is unused."""
    s = SUPERSAMPLE
    bg, fg, accent = _rgb(card.background), _rgb(card.foreground), _rgb(card.accent)
    muted = _mix(fg, bg, 0.35)
    ring = _mix(fg, bg, 0.45)
    track = _mix(fg, bg, 0.85)

    base = _backdrop(layout.width, layout.height, layout.card_box)
    layer = _layer(layout.width, layout.height, bg)
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle(_scaled(layout.card_box), radius=CARD_RADIUS * s, fill=(*bg, 255))

    # Header: optional logo tile, merchant name above the card name.
    hx0, hy0, hx1, _ = layout.header_box
    logo = _decode_logo(card.logo_png, HEADER_H - 16) if card.logo_png else None
    logo_at: tuple[int, int] | None = None
    text_x = hx0
    if logo is not None:
        tile = (hx0, hy0, hx0 + HEADER_H, hy0 + HEADER_H)
        draw.rounded_rectangle(_scaled(tile), radius=24 * s, fill=(*WHITE, 255))
        logo_at = (hx0 + (HEADER_H - logo.width) // 2, hy0 + (HEADER_H - logo.height) // 2)
        text_x = hx0 + HEADER_H + 24
    text_w = (hx1 - text_x) * s
    size, text = _fit(card.merchant_name, "bold", 46 * s, 30 * s, text_w)
    _text(layer, (text_x * s, (hy0 + 48) * s), text, "bold", size, fg)
    size, text = _fit(card.card_name, "regular", 32 * s, 22 * s, text_w)
    _text(layer, (text_x * s, (hy0 + 96) * s), text, "regular", size, muted)

    # Stamps: an outlined slot each; collected ones hold a disc in the accent colour.
    radius = layout.stamp_radius * s
    ring_w = max(2 * s, round(radius * 0.08))
    balance = card.shown_balance
    for i, (cx, cy) in enumerate(layout.stamp_centres):
        x, y = cx * s, cy * s
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=ring, width=ring_w)
        if i < balance:
            r = radius - 2 * ring_w
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*accent, 255))

    # Progress: "7/10" followed by a bar.
    px0, py0, px1, _ = layout.progress_box
    fraction = f"{balance}/{card.stamps_needed}"
    baseline = (py0 + 56) * s
    _text(layer, (px0 * s, baseline), fraction, "bold", 56 * s, fg)
    bar_x0 = px0 * s + round(typeset.width(fraction, "bold", 56 * s)) + 28 * s
    bar_x1 = px1 * s
    bar_h = 16 * s
    bar_y1 = baseline - 4 * s
    if bar_x1 - bar_x0 > 4 * bar_h:
        bar = (bar_x0, bar_y1 - bar_h, bar_x1, bar_y1)
        draw.rounded_rectangle(bar, radius=bar_h // 2, fill=(*track, 255))
        filled = bar_x0 + round((bar_x1 - bar_x0) * balance / card.stamps_needed)
        if filled - bar_x0 >= bar_h:
            draw.rounded_rectangle(
                (bar_x0, bar_y1 - bar_h, filled, bar_y1), radius=bar_h // 2, fill=(*accent, 255)
            )

    _qr_panel(draw, layout.qr_panel)
    image = _flatten(base, layer)
    if logo is not None and logo_at is not None:
        image.paste(logo, logo_at, logo)
    return image


# --- voucher ----------------------------------------------------------------------------------


def voucher_layout(voucher: VoucherImage) -> VoucherLayout:
    return _voucher_layout(_qr_geometry(voucher.qr_url)[0])


@lru_cache(maxsize=64)
def _voucher_layout(modules: int) -> VoucherLayout:
    """The layout depends on nothing but the size of the QR code."""
    scale = _qr_scale(modules)
    qr_px = modules * scale
    panel_w = qr_px + 2 * QR_PANEL_PAD
    inner_w = WIDTH - 2 * MARGIN - 2 * PAD
    # The dashed tear line sits in the middle of a wider gap than the card's.
    gap = 2 * COLUMN_GAP
    left_w = inner_w - panel_w - gap
    inner_h = max(panel_w, 440)
    height = inner_h + 2 * PAD + 2 * MARGIN
    x0, y0 = MARGIN + PAD, MARGIN + PAD
    card_box = (MARGIN, MARGIN, WIDTH - MARGIN, height - MARGIN)
    panel_x = card_box[2] - PAD - panel_w
    panel_y = y0 + (inner_h - panel_w) // 2
    code_h = 128
    return VoucherLayout(
        width=WIDTH,
        height=height,
        card_box=card_box,
        left_column=(x0, y0, x0 + left_w, y0 + inner_h),
        qr_panel=(panel_x, panel_y, panel_x + panel_w, panel_y + panel_w),
        qr_box=(
            panel_x + QR_PANEL_PAD,
            panel_y + QR_PANEL_PAD,
            panel_x + QR_PANEL_PAD + qr_px,
            panel_y + QR_PANEL_PAD + qr_px,
        ),
        qr_scale=scale,
        code_box=(x0, y0 + inner_h - code_h, x0 + left_w, y0 + inner_h),
    )


def _two_lines(
    text: str, style: Style, max_size: int, min_size: int, width: int
) -> tuple[int, list[str]]:
    """Title on one line if it fits, else split at a space onto two, shrinking as needed."""
    text = _clean(text)
    words = text.split(" ")
    # Both lines take the whole title's paragraph direction, so a Hebrew title that starts
    # with a Latin word still reads right to left on its second line.
    direction: typeset.Direction = "rtl" if typeset.layout(text, style, min_size).rtl else "ltr"

    def fits(line: str, size: int) -> bool:
        return typeset.width(line, style, size, direction) <= width

    size = max_size
    while True:
        if fits(text, size):
            return size, [text]
        for split in range(len(words) - 1, 0, -1):
            first, second = " ".join(words[:split]), " ".join(words[split:])
            if fits(first, size) and fits(second, size):
                return size, [first, second]
        if size <= min_size:
            break
        size = max(min_size, size - 2)
    # Still too long at the smallest size: fill the first line, ellipsize the rest.
    first_words: list[str] = []
    for word in words:
        if not fits(" ".join([*first_words, word]), size):
            break
        first_words.append(word)
    if not first_words:
        return size, [typeset.ellipsize(text, style, size, width, direction)]
    rest = " ".join(words[len(first_words) :])
    return size, [" ".join(first_words), typeset.ellipsize(rest, style, size, width, direction)]


def render_voucher(voucher: VoucherImage) -> bytes:
    modules, _ = _qr_geometry(voucher.qr_url)
    layout = _voucher_layout(modules)
    # Every voucher of one reward looks the same but for its code and QR code: the rest is
    # drawn once and kept, as for cards.
    base = _voucher_base(dataclasses.replace(voucher, code="", qr_url=""), modules)
    s = SUPERSAMPLE
    fg = _rgb(voucher.foreground)
    # The code's plate, as the full drawing had it before the code was written on it: drawn
    # at the supersampled size, reduced and laid on the backdrop exactly as ``_flatten`` does.
    plate = base.plate.copy()
    cx0, cy0, cx1, cy1 = layout.code_box
    size, text = _fit(voucher.code, "mono", 64 * s, 24 * s, (cx1 - cx0 - 48) * s)
    centre = ((cx0 + cx1) // 2 * s - cx0 * s, (cy0 + cy1) // 2 * s - cy0 * s)
    _text(plate, centre, text, "mono", size, fg, "mm")
    return base.template.encode(
        [_inked_plate(base, plate), _qr_rows(voucher.qr_url, layout.qr_scale)]
    )


def _inked_plate(base: _VoucherBase, plate: Image.Image) -> Image.Image:
    """``_flatten(base.plate_backdrop, plate)``, flattening only where the code was written.

    Reducing and compositing go pixel by pixel (a pixel from its own square of supersampled
    ones), so the written part's pixels, flattened alone from a square's edge, are those of the
    whole plate flattened, and the rest are the empty plate's, flattened once: the plate is a
    wide strip, the code a third of it, and flattening it all was a third of a voucher's CPU."""
    s = SUPERSAMPLE
    inked = ImageChops.difference(plate, base.plate).getbbox(alpha_only=False)
    flat = base.plate_flat.copy()
    if inked is not None:
        left, top = inked[0] // s, inked[1] // s
        right, bottom = -(-inked[2] // s), -(-inked[3] // s)
        box = (left * s, top * s, right * s, bottom * s)
        written = plate.crop(box)
        if base.plate_translucent.crop(box).getbbox() is None:
            # All opaque (writing on the plate keeps its pixels so): compositing onto the
            # backdrop changes nothing, and the reduction is the same without alpha.
            flat.paste(written.convert("RGB").reduce(s), (left, top))
        else:
            backdrop = base.plate_backdrop.crop((left, top, right, bottom))
            flat.paste(_flatten(backdrop, written), (left, top))
    return flat


@dataclass(frozen=True, slots=True)
class _VoucherBase:
    """A voucher drawn without its code and QR code."""

    plate: Image.Image
    """The code's plate at the supersampled size, as drawn before the code is written on it."""
    plate_backdrop: Image.Image
    """What lies under the plate, at the final size."""
    plate_flat: Image.Image
    """The plate without a code, flattened onto its backdrop."""
    plate_translucent: Image.Image
    """Where the plate is not opaque (its rounded corners), non-zero."""
    template: png.Patchwork
    """The voucher compressed but for the code's box and the QR code's."""


@lru_cache(maxsize=BASE_CACHE_SIZE // 2)
def _voucher_base(voucher: VoucherImage, modules: int) -> _VoucherBase:
    """``modules``: the QR code's size, which moves the columns."""
    layout = _voucher_layout(modules)
    s = SUPERSAMPLE
    bg, fg, accent = _rgb(voucher.background), _rgb(voucher.foreground), _rgb(voucher.accent)
    muted = _mix(fg, bg, 0.35)

    base = _backdrop(layout.width, layout.height, layout.card_box)
    layer = _layer(layout.width, layout.height, bg)
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle(_scaled(layout.card_box), radius=CARD_RADIUS * s, fill=(*bg, 255))

    # A ticket's tear line: notches cut into both edges joined by a dashed line.
    tear_x = (layout.left_column[2] + layout.qr_panel[0]) // 2 * s
    notch = 22 * s
    top, bottom = layout.card_box[1] * s, layout.card_box[3] * s
    for cy in (top, bottom):
        draw.ellipse((tear_x - notch, cy - notch, tear_x + notch, cy + notch), fill=(*bg, 0))
    dash, y = 14 * s, top + notch + 12 * s
    while y + dash <= bottom - notch - 12 * s:
        draw.line((tear_x, y, tear_x, y + dash), fill=(*_mix(fg, bg, 0.6), 255), width=3 * s)
        y += 2 * dash

    lx0, ly0, lx1, _ = layout.left_column
    width = (lx1 - lx0) * s
    size, text = _fit(voucher.merchant_name, "bold", 34 * s, 24 * s, width)
    _text(layer, (lx0 * s, (ly0 + 34) * s), text, "bold", size, muted)
    draw.rounded_rectangle(
        (lx0 * s, (ly0 + 54) * s, (lx0 + 72) * s, (ly0 + 60) * s), radius=3 * s, fill=accent
    )
    size, lines = _two_lines(voucher.title, "bold", 64 * s, 28 * s, width)
    baseline = (ly0 + 92) * s + size
    for line in lines:
        _text(layer, (lx0 * s, baseline), line, "bold", size, fg)
        baseline += round(size * 1.2)

    # The code sits on a tinted plate so it reads as the thing to type or show.
    plate = _mix(bg, fg, 0.1)
    draw.rounded_rectangle(_scaled(layout.code_box), radius=20 * s, fill=(*plate, 255))
    code_box = layout.code_box
    plate_layer = layer.crop(_scaled(code_box))
    plate_backdrop = base.crop(code_box)

    _qr_panel(draw, layout.qr_panel)
    image = _flatten(base, layer)
    return _VoucherBase(
        plate=plate_layer,
        plate_backdrop=plate_backdrop,
        plate_flat=_flatten(plate_backdrop, plate_layer),
        plate_translucent=plate_layer.getchannel("A").point(lambda a: 255 if a < 255 else 0),
        template=png.Patchwork(image, [code_box, layout.qr_box]),
    )
