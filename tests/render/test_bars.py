"""The dashboard chart: each day's two bars stand as tall as its figures, and a right-to-left
chart starts its legend at the right edge."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image

from render.chart import (
    BAR_COLOUR,
    PLOT_BOX,
    SECOND_BAR_COLOUR,
    BarDay,
    BarLabels,
    render_bars,
)
from tests.render.charts import column_pixels

LABELS = BarLabels(visits="Visits", stamps="Stamps", no_data="No visits yet")
HE = BarLabels(visits="ביקורים", stamps="חותמות", no_data="עדיין אין ביקורים")


def _days(*figures: tuple[int, int]) -> list[BarDay]:
    start = date(2026, 11, 29)
    return [BarDay(start + timedelta(days=n), v, s) for n, (v, s) in enumerate(figures)]


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_bars_are_as_tall_as_the_figures() -> None:
    image = _image(render_bars(_days((2, 4), (0, 0), (1, 2)), title="Week", labels=LABELS))

    visits = [column_pixels(image, n, 3, BAR_COLOUR) for n in range(3)]
    stamps = [column_pixels(image, n, 3, SECOND_BAR_COLOUR) for n in range(3)]
    assert visits[1] == stamps[1] == 0
    assert abs(visits[0] / visits[2] - 2) < 0.05
    assert abs(stamps[0] / visits[0] - 2) < 0.05
    assert abs(stamps[2] / visits[2] - 2) < 0.05


def _legend_side(image: Image.Image) -> tuple[int, int]:
    """Leftmost and rightmost x of the visits colour in the legend row."""
    pixels = image.load()
    assert pixels is not None
    xs = [x for x in range(image.width) if pixels[x, 124] == BAR_COLOUR]
    return min(xs), max(xs)


def test_a_right_to_left_legend_starts_at_the_right_edge() -> None:
    days = _days((1, 1), (2, 3))
    ltr = _legend_side(_image(render_bars(days, title="Week", labels=LABELS)))
    rtl = _legend_side(_image(render_bars(days, title="השבוע", labels=HE, rtl=True)))

    assert ltr[0] == PLOT_BOX[0]
    assert rtl[1] == PLOT_BOX[2]


def test_an_empty_period_says_so() -> None:
    image = _image(render_bars(_days((0, 0)), title="Week", labels=LABELS))
    pixels = image.load()
    assert pixels is not None
    assert not any(
        pixels[x, y] in (BAR_COLOUR, SECOND_BAR_COLOUR)
        for x in range(0, image.width, 4)
        for y in range(0, image.height, 4)
    )
