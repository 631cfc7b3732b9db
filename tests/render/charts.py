"""Reading a drawn chart back: how many pixels of a colour each day's column holds."""

from __future__ import annotations

from PIL import Image

from render.chart import PLOT_BOX


def column_pixels(image: Image.Image, index: int, count: int, colour: tuple[int, ...]) -> int:
    """Pixels of ``colour`` in the plot column of day ``index`` out of ``count`` days."""
    left, top, right, bottom = PLOT_BOX
    width = (right - left) / count
    x0, x1 = round(left + index * width), round(left + (index + 1) * width)
    pixels = image.load()
    assert pixels is not None
    return sum(pixels[x, y] == colour for x in range(x0, x1) for y in range(top, bottom))
