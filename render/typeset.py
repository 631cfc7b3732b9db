"""One line of text in a picture, in any script we serve: en, uk, he, fa, th and colour emoji.

Pillow draws with one font per call, and its RAQM layout (harfbuzz shaping, fribidi bidi) works
only inside that call. A shop name mixes scripts no single font covers ("קפה הפינה ☕", Persian
with a Latin code), so a line is split here into runs of one font and one bidi level:

1. grapheme clusters (``regex`` ``\\X``) get a script, and so a font; spaces and marks stay with
   their neighbours, so a Persian word keeps its joining and a Thai tone mark its consonant;
2. fribidi (the library RAQM itself uses) gives every character its UAX #9 embedding level for
   the whole line, so runs in different fonts still get one paragraph's bidi;
3. runs are put in visual order by rule L2 (reverse from the highest level to the lowest odd);
4. RAQM shapes each run in its own direction: within a run every level is equal, so RAQM's bidi
   inside the run agrees with the line's.

Using fribidi's levels rather than another bidi implementation means the run order and RAQM's
order inside a run come from the same algorithm and Unicode version, and there is no second
dependency to install; it is on every machine with RAQM, because RAQM cannot load without it.

Noto Color Emoji is a bitmap font with one size (109 px): emoji are drawn at that size and
scaled to the line's size.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import regex
from PIL import Image, ImageDraw, ImageFont, features

from render.imaging import Font, default_font, font

logger = logging.getLogger(__name__)

Style = Literal["regular", "bold", "mono"]
Script = Literal["latin", "hebrew", "arabic", "thai", "emoji"]
Direction = Literal["auto", "ltr", "rtl"]
Anchor = Literal["ls", "lm", "lt", "ms", "mm", "mt", "rs", "rm", "rt"]
Fill = tuple[int, int, int] | tuple[int, int, int, int]

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO = Path("/usr/share/fonts/truetype/noto")
# First file that exists wins. DejaVu (fonts-dejavu-core) covers Latin, Cyrillic and Hebrew;
# the Noto UI fonts (fonts-noto-ui-core) Arabic script and Thai with line heights made to sit
# next to Latin; fonts-noto-core's non-UI files are accepted where only that package is installed.
FONT_FILES: dict[tuple[Script, Style], tuple[Path, ...]] = {
    ("latin", "regular"): (DEJAVU / "DejaVuSans.ttf", NOTO / "NotoSans-Regular.ttf"),
    ("latin", "bold"): (DEJAVU / "DejaVuSans-Bold.ttf", NOTO / "NotoSans-Bold.ttf"),
    ("latin", "mono"): (DEJAVU / "DejaVuSansMono-Bold.ttf", DEJAVU / "DejaVuSans-Bold.ttf"),
    ("hebrew", "regular"): (DEJAVU / "DejaVuSans.ttf", NOTO / "NotoSansHebrew-Regular.ttf"),
    ("hebrew", "bold"): (DEJAVU / "DejaVuSans-Bold.ttf", NOTO / "NotoSansHebrew-Bold.ttf"),
    ("arabic", "regular"): (
        NOTO / "NotoSansArabicUI-Regular.ttf",
        NOTO / "NotoSansArabic-Regular.ttf",
        DEJAVU / "DejaVuSans.ttf",
    ),
    ("arabic", "bold"): (
        NOTO / "NotoSansArabicUI-Bold.ttf",
        NOTO / "NotoSansArabic-Bold.ttf",
        DEJAVU / "DejaVuSans-Bold.ttf",
    ),
    ("thai", "regular"): (NOTO / "NotoSansThaiUI-Regular.ttf", NOTO / "NotoSansThai-Regular.ttf"),
    ("thai", "bold"): (NOTO / "NotoSansThaiUI-Bold.ttf", NOTO / "NotoSansThai-Bold.ttf"),
    # A monochrome emoji from DejaVu is still readable when the colour font is missing.
    ("emoji", "regular"): (NOTO / "NotoColorEmoji.ttf", DEJAVU / "DejaVuSans.ttf"),
}
# Monospace is for codes; a code in another script is drawn in that script's bold face.
_MONO_FALLBACK: Style = "bold"
EMOJI_BITMAP_SIZE = 109
# Noto Color Emoji's bitmaps are 136 x 128 at 109 px: a little wider than a letter's em.
_EMOJI_SCALE = 0.92
ELLIPSIS = "…"

_RAQM = features.check("raqm")
if not _RAQM:
    logger.warning(
        "Pillow has no RAQM layout (libraqm, libfribidi): Arabic, Hebrew and Thai text in "
        "pictures is drawn unshaped and in logical order"
    )

_CLUSTER = regex.compile(r"\X")
# Emoji shown as pictures: emoji presentation by default or by U+FE0F, flags, keycaps, skin
# tones, and pictographs beyond U+1F000 that text fonts do not have.
_EMOJI = regex.compile(
    r"\p{Emoji_Presentation}|\p{Regional_Indicator}|\p{Emoji}\uFE0F|\u20E3|\p{Emoji_Modifier}"
    r"|[\U0001F000-\U0001FFFF&&\p{Extended_Pictographic}]",
    regex.V1,
)
_SCRIPTS: tuple[tuple[Script, regex.Pattern[str]], ...] = (
    ("hebrew", regex.compile(r"\p{sc=Hebrew}")),
    ("arabic", regex.compile(r"\p{sc=Arabic}")),
    ("thai", regex.compile(r"\p{sc=Thai}")),
    ("latin", regex.compile(r"[\p{sc=Latin}\p{sc=Cyrillic}\p{sc=Greek}]")),
    # Common characters used only with one script: Arabic comma, semicolon, tatweel.
    ("arabic", regex.compile(r"\p{scx=Arabic}")),
    ("hebrew", regex.compile(r"\p{scx=Hebrew}")),
    ("thai", regex.compile(r"\p{scx=Thai}")),
)
# Bidi controls steer the levels and are then dropped: fonts would draw most of them as boxes.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_LANGUAGE_SCRIPT: dict[str, Script] = {
    "he": "hebrew",
    "fa": "arabic",
    "ar": "arabic",
    "th": "thai",
}


# --- fonts ------------------------------------------------------------------------------------


@cache
def font_file(script: Script, style: Style) -> Path | None:
    """The file drawing ``script`` in ``style``, or None when none is installed (logged once)."""
    if style == "mono" and script != "latin":
        return font_file(script, _MONO_FALLBACK)
    if script == "emoji":
        style = "regular"
    candidates = FONT_FILES[(script, style)]
    for path in candidates:
        if path.is_file():
            if path != candidates[0]:
                logger.warning(
                    "font %s missing: %s %s text is drawn with %s (make install brings it)",
                    candidates[0].name,
                    script,
                    style,
                    path.name,
                )
            return path
    if script == "latin":
        logger.warning("no font for %s text found; using Pillow's built-in font", style)
        return None
    fallback = font_file("latin", style)
    logger.warning(
        "no font for %s text (%s missing, make install brings it): drawn with %s, which may "
        "show boxes",
        script,
        candidates[0].name,
        fallback.name if fallback else "Pillow's built-in font",
    )
    return fallback


def _is_bitmap_emoji(path: Path | None) -> bool:
    return path is not None and path.name == "NotoColorEmoji.ttf"


def _face(path: Path | None, size: int) -> Font:
    if path is None:
        return default_font(size)
    return font(path, EMOJI_BITMAP_SIZE if _is_bitmap_emoji(path) else size)


# --- bidi -------------------------------------------------------------------------------------

_PAR_ON, _PAR_LTR, _PAR_RTL = 0x40, 0x110, 0x111  # FriBidiParType values from fribidi-types.h


def _load_fribidi() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libfribidi.so.0")
    except OSError:
        logger.warning("libfribidi missing: mixed-direction lines in pictures are not reordered")
        return None
    u32 = ctypes.POINTER(ctypes.c_uint32)
    lib.fribidi_get_bidi_types.argtypes = [u32, ctypes.c_int, u32]
    lib.fribidi_get_bidi_types.restype = None
    lib.fribidi_get_bracket_types.argtypes = [u32, ctypes.c_int, u32, u32]
    lib.fribidi_get_bracket_types.restype = None
    lib.fribidi_get_par_embedding_levels_ex.argtypes = [
        u32,
        u32,
        ctypes.c_int,
        u32,
        ctypes.POINTER(ctypes.c_int8),
    ]
    lib.fribidi_get_par_embedding_levels_ex.restype = ctypes.c_int8
    return lib


_FRIBIDI = _load_fribidi()


def embedding_levels(text: str, direction: Direction = "auto") -> tuple[list[int], bool]:
    """UAX #9 level of every code point, and whether the paragraph is right-to-left.

    ``auto`` takes the paragraph direction from the first strong character (rule P2), left to
    right when there is none.
    """
    forced = {"ltr": _PAR_LTR, "rtl": _PAR_RTL, "auto": _PAR_ON}[direction]
    n = len(text)
    if _FRIBIDI is None or n == 0:
        base = 1 if direction == "rtl" else 0
        return [base] * n, bool(base)
    chars = (ctypes.c_uint32 * n)(*map(ord, text))
    types = (ctypes.c_uint32 * n)()
    brackets = (ctypes.c_uint32 * n)()
    levels = (ctypes.c_int8 * n)()
    base_dir = ctypes.c_uint32(forced)
    _FRIBIDI.fribidi_get_bidi_types(chars, n, types)
    _FRIBIDI.fribidi_get_bracket_types(chars, n, types, brackets)
    if not _FRIBIDI.fribidi_get_par_embedding_levels_ex(types, brackets, n, base_dir, levels):
        base = 1 if direction == "rtl" else 0
        return [base] * n, bool(base)
    return list(levels), bool(base_dir.value & 1)


def visual_order(levels: Sequence[int]) -> list[int]:
    """Indices of items with these levels in left-to-right display order (UAX #9 rule L2)."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min(levels) | 1
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """Text drawn with one font in one direction; ``x`` is its left edge in the line."""

    text: str
    script: Script
    path: Path | None
    rtl: bool
    x: float
    width: float
    language: str | None


@dataclass(frozen=True, slots=True)
class Line:
    runs: tuple[Run, ...]
    """Left to right as seen."""
    width: float
    rtl: bool
    style: Style
    size: int


def _script_of(cluster: str) -> Script | None:
    if _EMOJI.search(cluster):
        return "emoji"
    first = cluster[0]
    for script, pattern in _SCRIPTS:
        if pattern.match(first):
            return script
    return None


def _scripts(clusters: Sequence[str]) -> list[Script]:
    """Every cluster's script; spaces and punctuation take a neighbouring text script."""
    found = [_script_of(cluster) for cluster in clusters]
    resolved: list[Script] = []
    previous: Script | None = None
    for i, script in enumerate(found):
        if script is None:
            nxt = next((s for s in found[i + 1 :] if s is not None and s != "emoji"), None)
            # A space between two words of one script stays in their font; anything else
            # (digits, Latin punctuation) is drawn in the Latin font, which has it.
            if clusters[i].isspace() and previous is not None and previous == nxt:
                script = previous
            else:
                script = "latin"
        resolved.append(script)
        if script != "emoji":
            previous = script
    return resolved


def _length(path: Path | None, size: int, text: str, rtl: bool, language: str | None) -> float:
    face = _face(path, size)
    if not isinstance(face, ImageFont.FreeTypeFont):
        return float(face.getlength(_latin1(text)))
    if _is_bitmap_emoji(path):
        return face.getlength(text) * size / EMOJI_BITMAP_SIZE * _EMOJI_SCALE
    if not _shapes(face):
        return face.getlength(text)
    return face.getlength(
        _override(text, rtl), direction="rtl" if rtl else "ltr", language=language
    )


def _shapes(face: ImageFont.FreeTypeFont) -> bool:
    # Pillow's built-in font is loaded with the BASIC layout even where RAQM is available.
    return bool(_RAQM) and face.layout_engine == ImageFont.Layout.RAQM


def _override(text: str, rtl: bool) -> str:
    """The run forced to its resolved direction for RAQM, which runs bidi again inside it.

    A run has one level, so this changes nothing for ordinary text; but RAQM's ``direction`` sets
    only the paragraph level, and Hebrew stored reversed under a left-to-right override would
    otherwise be reversed a second time. Harfbuzz draws the controls as nothing.
    """
    return ("\u202e" if rtl else "\u202d") + text + "\u202c"


def _latin1(text: str) -> str:
    # Pillow without FreeType has only a Latin-1 bitmap font, which raises on anything else.
    return text.replace(ELLIPSIS, "...").encode("latin-1", "replace").decode("latin-1")


@lru_cache(maxsize=4096)
def layout(
    text: str,
    style: Style = "regular",
    size: int = 32,
    direction: Direction = "auto",
    language: str | None = None,
) -> Line:
    """``text`` as runs in visual order, measured at ``size`` pixels."""
    clusters = _CLUSTER.findall(text)
    scripts = _scripts(clusters)
    levels, rtl = embedding_levels(text, direction)
    lang_script = _LANGUAGE_SCRIPT.get((language or "")[:2])
    # Group clusters into logical runs of one font and one level.
    groups: list[tuple[str, Script, Path | None, int]] = []
    offset = 0
    for cluster, script in zip(clusters, scripts, strict=True):
        level = levels[offset]
        offset += len(cluster)
        cluster = "".join(ch for ch in cluster if ch not in _BIDI_CONTROLS)
        if not cluster:
            continue
        path = font_file(script, style)
        if groups and groups[-1][2] == path and groups[-1][3] == level:
            head, first_script, _, _ = groups[-1]
            groups[-1] = (head + cluster, first_script, path, level)
        else:
            groups.append((cluster, script, path, level))
    runs: list[Run] = []
    x = 0.0
    for index in visual_order([group[3] for group in groups]):
        chunk, script, path, level = groups[index]
        run_rtl = bool(level & 1)
        language_here = language if lang_script == script else None
        width = _length(path, size, chunk, run_rtl, language_here)
        runs.append(Run(chunk, script, path, run_rtl, x, width, language_here))
        x += width
    return Line(tuple(runs), x, rtl, style, size)


def width(
    text: str,
    style: Style = "regular",
    size: int = 32,
    direction: Direction = "auto",
    language: str | None = None,
) -> float:
    return layout(text, style, size, direction, language).width


def clusters(text: str) -> list[str]:
    """User-perceived characters: what an ellipsis may cut between, never inside."""
    return list(_CLUSTER.findall(text))


def ellipsize(
    text: str,
    style: Style,
    size: int,
    max_width: float,
    direction: Direction = "auto",
    language: str | None = None,
) -> str:
    """``text`` if it fits, else as many whole grapheme clusters as fit before an ellipsis."""
    if width(text, style, size, direction, language) <= max_width:
        return text
    parts = clusters(text)

    def cut(n: int) -> str:
        return "".join(parts[:n]).rstrip() + ELLIPSIS

    lo, hi = 0, len(parts)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if width(cut(mid), style, size, direction, language) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return cut(lo) if lo else ""


def fit(
    text: str,
    style: Style,
    largest: int,
    smallest: int,
    max_width: float,
    direction: Direction = "auto",
    language: str | None = None,
    step: int = 2,
) -> tuple[int, str]:
    """The largest size (down to ``smallest``) the text fits in, ellipsized if even that fails."""
    size = largest
    while size > smallest and width(text, style, size, direction, language) > max_width:
        size = max(smallest, size - step)
    return size, ellipsize(text, style, size, max_width, direction, language)


# --- drawing ----------------------------------------------------------------------------------


def metrics(style: Style, size: int) -> tuple[int, int]:
    """(ascent, descent) of the line, from its Latin font so mixed lines share one baseline."""
    face = _face(font_file("latin", style), size)
    if isinstance(face, ImageFont.FreeTypeFont):
        return face.getmetrics()
    return size, 0


@lru_cache(maxsize=512)
def _emoji_tile(text: str, path: Path, size: int) -> tuple[Image.Image, int, int]:
    """Emoji drawn at the bitmap font's own size, scaled to ``size``, with its offset from the
    pen position on the baseline."""
    face = _face(path, size)
    x0, y0, x1, y1 = (round(v) for v in face.getbbox(text, anchor="ls"))
    tile = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((-x0, -y0), text, font=face, anchor="ls", embedded_color=True)
    k = size / EMOJI_BITMAP_SIZE * _EMOJI_SCALE
    scaled = tile.resize(
        (max(1, round(tile.width * k)), max(1, round(tile.height * k))), Image.Resampling.LANCZOS
    )
    return scaled, round(x0 * k), round(y0 * k)


def _composite(image: Image.Image, tile: Image.Image, at: tuple[int, int]) -> None:
    x, y = at
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(tile.width, image.width - x), min(tile.height, image.height - y)
    if right <= left or bottom <= top:
        return
    part = tile.crop((left, top, right, bottom))
    if image.mode == "RGBA":
        image.alpha_composite(part, (x + left, y + top))
    else:
        image.paste(part, (x + left, y + top), part)


def draw(
    image: Image.Image,
    xy: tuple[float, float],
    text: str,
    style: Style,
    size: int,
    fill: Fill,
    anchor: Anchor = "ls",
    direction: Direction = "auto",
    language: str | None = None,
) -> Line:
    """Draw one line: ``anchor`` as in Pillow (l/m/r, then t/m/s) for the whole line."""
    line = layout(text, style, size, direction, language)
    ascent, descent = metrics(style, size)
    x = xy[0] - {"l": 0.0, "m": line.width / 2, "r": line.width}[anchor[0]]
    baseline = xy[1] + {"s": 0.0, "m": (ascent - descent) / 2, "t": float(ascent)}[anchor[1]]
    pen = ImageDraw.Draw(image)
    for run in line.runs:
        face = _face(run.path, size)
        at = (x + run.x, baseline)
        if not isinstance(face, ImageFont.FreeTypeFont):
            pen.text((at[0], at[1] - ascent), _latin1(run.text), font=face, fill=fill)
        elif _is_bitmap_emoji(run.path) and run.path is not None:
            tile, dx, dy = _emoji_tile(run.text, run.path, size)
            _composite(image, tile, (round(at[0]) + dx, round(at[1]) + dy))
        elif _shapes(face):
            pen.text(
                at,
                _override(run.text, run.rtl),
                font=face,
                fill=fill,
                anchor="ls",
                direction="rtl" if run.rtl else "ltr",
                language=run.language,
                embedded_color=True,
            )
        else:
            pen.text(at, run.text, font=face, fill=fill, anchor="ls")
    return line


def clear_caches() -> None:
    """Forget chosen fonts and measured lines: after fonts were installed, or in tests."""
    font_file.cache_clear()
    layout.cache_clear()
    _emoji_tile.cache_clear()
