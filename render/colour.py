"""``#RRGGBB`` colours as numbers: for the pictures, and for the pass that names the same
colours in its JSON without drawing anything (so it imports no Pillow)."""

from __future__ import annotations

RGB = tuple[int, int, int]


def rgb(colour: str) -> RGB:
    """``#RRGGBB`` → (r, g, b); anything else is a ValueError."""
    if len(colour) != 7 or colour[0] != "#":
        raise ValueError(f"colour must be #RRGGBB, got {colour!r}")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
