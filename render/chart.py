"""A campaign's days as a chart for the chat: messages sent as bars, visits after it as a line.

The figures come from ``campaigns.report``; this module only draws them, in any script the
title and labels are written in (a right-to-left title starts at the right edge).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from typing import Literal

from PIL import Image, ImageDraw

from render import typeset

# The figures and words live apart from the drawing, so the modules that compute them import
# no Pillow at start (idle memory); they are the same classes here.
from render.chart_data import BarDay as BarDay
from render.chart_data import BarLabels as BarLabels
from render.chart_data import ChartDay as ChartDay
from render.chart_data import ChartLabels as ChartLabels

# Telegram shows photos up to 1280 px on the long side; 16:9 fills a phone held sideways and
# leaves the text at about 10 pt when the chat shows it 400 points wide.
WIDTH, HEIGHT = 1280, 720
PLOT_BOX = (120, 180, WIDTH - 120, HEIGHT - 80)
"""Left, top, right, bottom of the plotting area; the days split its width evenly."""

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
# Okabe–Ito blue and vermillion: told apart with the common colour-vision deficiencies.
BAR_COLOUR = (0, 114, 178)
LINE_COLOUR = (213, 94, 0)

_BAR_SHARE = 0.6
_BAR_MAX = 120  # a week-long series still has bars, not blocks
_LINE_WIDTH = 6
_DOT_RADIUS = 8
_TICKS = 5

Anchor = Literal["lm", "rm", "mt", "mm", "lt"]  # a subset of typeset.Anchor


def render_chart(days: Sequence[ChartDay], *, title: str, labels: ChartLabels) -> bytes:
    """Bars of messages sent per day (left axis) and a line of attributed visits (right axis)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(image, title)
    if not days or not any(day.sent or day.visits for day in days):
        size, text = typeset.fit(_one_line(labels.no_data), "regular", 40, 24, WIDTH - 160)
        _put(image, (WIDTH / 2, HEIGHT / 2), text, "regular", size, MUTED, "mm")
        return _png(image)
    _legend(image, draw, labels)
    left, top, right, bottom = PLOT_BOX
    bar_top, bar_step = _scale(max(day.sent for day in days))
    line_top, line_step = _scale(max(day.visits for day in days))
    _axes(image, draw, bar_top, bar_step, line_top, line_step)
    column = (right - left) / len(days)

    def y(value: int, top_value: int) -> float:
        return bottom - value / top_value * (bottom - top)

    half_bar = min(_BAR_MAX / 2, max(1.0, column * _BAR_SHARE / 2))
    for n, day in enumerate(days):
        if day.sent:
            centre = left + (n + 0.5) * column
            # At least 2 px, so a day with one message among thousands still shows a bar.
            bar_y = min(y(day.sent, bar_top), bottom - 2)
            draw.rectangle(
                (round(centre - half_bar), round(bar_y), round(centre + half_bar) - 1, bottom - 1),
                fill=BAR_COLOUR,
            )
    points = [(left + (n + 0.5) * column, y(day.visits, line_top)) for n, day in enumerate(days)]
    if len(points) > 1:
        draw.line(points, fill=LINE_COLOUR, width=_LINE_WIDTH, joint="curve")
    radius = min(_DOT_RADIUS, max(2.0, column / 3))
    for x, y_ in points:
        draw.ellipse((x - radius, y_ - radius, x + radius, y_ + radius), fill=LINE_COLOUR)
    _day_labels(image, [day.day for day in days], column)
    return _png(image)


def _title(image: Image.Image, title: str) -> None:
    text = _one_line(title)
    width = WIDTH - 2 * 48
    size, text = typeset.fit(text, "bold", 40, 26, width)
    # A right-to-left title starts at the right edge, where its reader looks first.
    rtl = typeset.layout(text, "bold", size).rtl
    at = (WIDTH - 48, 56) if rtl else (48, 56)
    _put(image, at, text, "bold", size, INK, "rm" if rtl else "lm")


def _legend(image: Image.Image, draw: ImageDraw.ImageDraw, labels: ChartLabels) -> None:
    size = 28
    left, y = PLOT_BOX[0], 124
    room = (PLOT_BOX[2] - left) // 2 - 60
    draw.rectangle((left, y - 14, left + 28, y + 14), fill=BAR_COLOUR)
    text = typeset.ellipsize(_one_line(labels.deliveries), "regular", size, room)
    _put(image, (left + 40, y), text, "regular", size, INK, "lm")
    x = left + 40 + round(typeset.width(text, "regular", size)) + 56
    draw.line((x, y, x + 44, y), fill=LINE_COLOUR, width=_LINE_WIDTH)
    draw.ellipse(
        (x + 22 - _DOT_RADIUS, y - _DOT_RADIUS, x + 22 + _DOT_RADIUS, y + _DOT_RADIUS),
        fill=LINE_COLOUR,
    )
    text = typeset.ellipsize(_one_line(labels.visits), "regular", size, room)
    _put(image, (x + 56, y), text, "regular", size, INK, "lm")


def _axes(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    bar_top: int,
    bar_step: int,
    line_top: int,
    line_step: int,
) -> None:
    left, top, right, bottom = PLOT_BOX
    ticks = bar_top // bar_step
    for n in range(ticks + 1):
        y = bottom - n * (bottom - top) / ticks
        draw.line((left, y, right, y), fill=GRID if n else MUTED, width=2)
        _put(image, (left - 14, y), str(n * bar_step), "regular", 24, BAR_COLOUR, "rm")
    # The visits axis has its own ticks; put them at its own heights, so each reads true.
    for n in range(line_top // line_step + 1):
        y = bottom - n * line_step / line_top * (bottom - top)
        _put(image, (right + 14, y), str(n * line_step), "regular", 24, LINE_COLOUR, "lm")


def _day_labels(image: Image.Image, days: Sequence[date], column: float) -> None:
    left, _, _, bottom = PLOT_BOX
    widest = max(typeset.width(day.strftime("%d.%m"), "regular", 24) for day in days)
    every = max(1, math.ceil((widest + 16) / column))
    for n, day in enumerate(days):
        if n % every == 0:
            _put(
                image,
                (left + (n + 0.5) * column, bottom + 14),
                day.strftime("%d.%m"),
                "regular",
                24,
                MUTED,
                "mt",
            )


def _scale(peak: int) -> tuple[int, int]:
    """A round axis maximum at or above ``peak`` and its whole-number step (at most 5 steps)."""
    peak = max(peak, 1)
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if peak <= step * _TICKS:
                return step * math.ceil(peak / step), step
        magnitude *= 10


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _put(
    image: Image.Image,
    xy: tuple[float, float],
    text: str,
    style: typeset.Style,
    size: int,
    fill: tuple[int, int, int],
    anchor: Anchor,
) -> None:
    if text:
        typeset.draw(image, xy, text, style, size, fill, anchor)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- the shop's dashboard: two series of bars side by side ------------------------------------


SECOND_BAR_COLOUR = LINE_COLOUR


def render_bars(
    days: Sequence[BarDay], *, title: str, labels: BarLabels, rtl: bool = False
) -> bytes:
    """Visits and stamps per column as pairs of bars on one axis (stamps ≥ visits).

    ``rtl``: the title and the legend start at the right edge, where a Hebrew or Persian
    reader looks first; the days still run left to right, as dates and digits do in RTL text.
    """
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(image, title)
    if not days or not any(day.visits or day.stamps for day in days):
        size, text = typeset.fit(_one_line(labels.no_data), "regular", 40, 24, WIDTH - 160)
        _put(image, (WIDTH / 2, HEIGHT / 2), text, "regular", size, MUTED, "mm")
        return _png(image)
    _bar_legend(image, draw, labels, rtl)
    left, top, right, bottom = PLOT_BOX
    peak, step = _scale(max(max(day.visits, day.stamps) for day in days))
    ticks = peak // step
    for n in range(ticks + 1):
        y = bottom - n * (bottom - top) / ticks
        draw.line((left, y, right, y), fill=GRID if n else MUTED, width=2)
        _put(image, (left - 14, y), str(n * step), "regular", 24, MUTED, "rm")
    column = (right - left) / len(days)
    half = min(_BAR_MAX / 2, max(1.0, column * _BAR_SHARE / 2))
    for n, day in enumerate(days):
        centre = left + (n + 0.5) * column
        for value, colour, x0, x1 in (
            (day.visits, BAR_COLOUR, centre - half, centre),
            (day.stamps, SECOND_BAR_COLOUR, centre, centre + half),
        ):
            if value:
                top_y = min(bottom - value / peak * (bottom - top), bottom - 2)
                draw.rectangle(
                    (round(x0), round(top_y), max(round(x0), round(x1) - 1), bottom - 1),
                    fill=colour,
                )
    _day_labels(image, [day.day for day in days], column)
    return _png(image)


def _bar_legend(
    image: Image.Image, draw: ImageDraw.ImageDraw, labels: BarLabels, rtl: bool
) -> None:
    size, y = 28, 124
    room = (PLOT_BOX[2] - PLOT_BOX[0]) // 2 - 60
    entries = [(labels.visits, BAR_COLOUR), (labels.stamps, SECOND_BAR_COLOUR)]
    if rtl:
        x = PLOT_BOX[2]
        for text, colour in entries:
            text = typeset.ellipsize(_one_line(text), "regular", size, room)
            draw.rectangle((x - 28, y - 14, x, y + 14), fill=colour)
            _put(image, (x - 40, y), text, "regular", size, INK, "rm")
            x -= 40 + round(typeset.width(text, "regular", size)) + 56
        return
    x = PLOT_BOX[0]
    for text, colour in entries:
        text = typeset.ellipsize(_one_line(text), "regular", size, room)
        draw.rectangle((x, y - 14, x + 28, y + 14), fill=colour)
        _put(image, (x + 40, y), text, "regular", size, INK, "lm")
        x += 40 + round(typeset.width(text, "regular", size)) + 56
