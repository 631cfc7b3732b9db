"""What the counter poster prints (``render.poster`` draws it): the paper, the texts, the files.

Apart from the drawing so that the handlers offering a poster import no Pillow or zxing-cpp: a web
process that draws no poster keeps that idle memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DPI = 300
MM_PER_INCH = 25.4
_COLOUR_HEX = frozenset("0123456789abcdefABCDEF")


class Paper(StrEnum):
    A5 = "A5"
    A4 = "A4"

    @property
    def millimetres(self) -> tuple[int, int]:
        return {Paper.A5: (148, 210), Paper.A4: (210, 297)}[self]

    @property
    def pixels(self) -> tuple[int, int]:
        """The page at 300 dpi: 1748 x 2480 (A5), 2480 x 3508 (A4)."""
        w, h = self.millimetres
        return round(w / MM_PER_INCH * DPI), round(h / MM_PER_INCH * DPI)


@dataclass(frozen=True, slots=True)
class Poster:
    """Everything printed; the texts are already in the shop's language."""

    merchant_name: str
    card_name: str
    call_to_action: str
    reward_line: str
    footer: str
    join_url: str
    background: str
    foreground: str
    accent: str
    language: str
    paper: Paper
    logo_png: bytes | None = None

    def __post_init__(self) -> None:
        for colour in (self.background, self.foreground, self.accent):
            if len(colour) != 7 or colour[0] != "#" or not set(colour[1:]) <= _COLOUR_HEX:
                raise ValueError(f"colour must be #RRGGBB, got {colour!r}")
        if not self.join_url:
            raise ValueError("join_url is empty")


@dataclass(frozen=True, slots=True)
class PosterFiles:
    png: bytes
    pdf: bytes
    size: tuple[int, int]
