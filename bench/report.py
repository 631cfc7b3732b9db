"""One table and one chart of everything the bench scripts recorded in ``var/bench/``.

``make bench`` runs every script, each saving its headline figures with ``figures.py``, then
this: ``var/bench/README.md`` (a markdown table: script, figure, value, baseline, ratio,
target, met) and ``var/bench/chart.png`` (a bar per figure on a log scale around 1).

A bar shows the figure against its target when the target is a plain bound (``< 15 s``,
``>= 0.5x``: a trailing ``x`` bounds the ratio to the baseline, not the value), green when met
and vermilion when not; otherwise against its same-run baseline, in blue. A bound's side of 1
is where the figure should be: below 1 for ``<``, above 1 for ``>``. Figures with neither
stay in the table only.

Run: ``.venv/bin/python bench/report.py [--dir var/bench]``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from figures import OUT, Figure, load_all
from PIL import Image, ImageDraw

from render import typeset

# "< 15 s", "<= 50 MB", ">= 0.5x", "≥ 2,000/s": a comparison, a number, then "x" or a unit.
_BOUND = re.compile(r"\s*(<=|>=|<|>|≤|≥)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(.*)")

WIDTH = 1800
ROW = 44
TOP = 130
LABEL_RIGHT = 760  # labels end here, the plot begins
PLOT = (LABEL_RIGHT + 20, WIDTH - 440)  # left and right of the bars; their texts follow
SPAN = 6  # the axis runs from 2**-SPAN to 2**SPAN
INK, MUTED, GRID = (33, 37, 41), (108, 117, 125), (222, 226, 230)
# Okabe–Ito: told apart with the common colour-vision deficiencies.
MET, MISSED, PLAIN = (0, 158, 115), (213, 94, 0), (0, 114, 178)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    ratio: float
    against: str  # "target" or the baseline's name
    colour: tuple[int, int, int]


def number(value: float) -> str:
    """A figure as a person reads it: thousands grouped, about three significant digits."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


def with_unit(value: float, unit: str) -> str:
    return f"{number(value)} {unit}".strip()


def bar(script: str, figure: Figure) -> Bar | None:
    """The figure against its target if that is a plain bound, else against its baseline."""
    label = f"{script} · {figure.name}"
    bound = _BOUND.fullmatch(figure.target)
    if bound is not None and float(bound[2].replace(",", "")) > 0:
        compared = figure.ratio if bound[3].strip() in ("x", "×") else figure.value
        if compared is not None and compared > 0:
            colour = PLAIN if figure.met is None else MET if figure.met else MISSED
            return Bar(label, compared / float(bound[2].replace(",", "")), "target", colour)
    if figure.ratio is not None and figure.ratio > 0:
        return Bar(label, figure.ratio, figure.baseline_name or "baseline", PLAIN)
    return None


def table(runs: list[tuple[str, list[Figure]]]) -> str:
    lines = [
        "| script | figure | value | baseline | ratio | target | met |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for script, figures in runs:
        for f in figures:
            baseline = ""
            if f.baseline is not None:
                baseline = with_unit(f.baseline, f.unit)
                baseline += f" ({f.baseline_name})" if f.baseline_name else ""
            ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
            met = {True: "yes", False: "**no**", None: ""}[f.met]
            cells = [script, f.name, with_unit(f.value, f.unit), baseline, ratio, f.target, met]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def readme(runs: list[tuple[str, list[Figure]]], when: datetime) -> str:
    count = sum(len(figures) for _, figures in runs)
    missed = sum(f.met is False for _, figures in runs for f in figures)
    return (
        "# Bench figures\n\n"
        f"`make bench`, {when:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores: {count} figures "
        f"from {len(runs)} scripts, {missed} short of their target. Ratio is value / baseline "
        "(the baseline measured in the same run); the chart is `chart.png`.\n\n"
        f"{table(runs)}\n"
    )


def _x(ratio: float) -> float:
    """Where a ratio sits on the log axis (clamped to its ends)."""
    share = (max(-SPAN, min(SPAN, math.log2(ratio))) + SPAN) / (2 * SPAN)
    return PLOT[0] + share * (PLOT[1] - PLOT[0])


def chart(bars: list[Bar], title: str) -> Image.Image:
    height = TOP + max(1, len(bars)) * ROW + 60
    image = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    typeset.draw(image, (40, 48), title, "bold", 34, INK, "lm")
    legend = [(MET, "target met"), (MISSED, "target missed"), (PLAIN, "× its baseline")]
    x = 40
    for colour, text in legend:
        pen.rectangle((x, 86, x + 24, 110), fill=colour)
        typeset.draw(image, (x + 34, 98), text, "regular", 24, INK, "lm")
        x += 34 + round(typeset.width(text, "regular", 24)) + 48
    bottom = TOP + len(bars) * ROW
    for power in range(-SPAN, SPAN + 1, 2):
        at = _x(2.0**power)
        pen.line((at, TOP - 8, at, bottom), fill=MUTED if power == 0 else GRID, width=2)
        tick = f"{2.0**power:g}×" if power >= 0 else f"1/{2**-power}×"
        typeset.draw(image, (at, bottom + 12), tick, "regular", 20, MUTED, "mt")
    for n, each in enumerate(bars):
        middle = TOP + n * ROW + ROW / 2
        label = typeset.ellipsize(each.label, "regular", 22, LABEL_RIGHT - 40)
        typeset.draw(image, (LABEL_RIGHT, middle), label, "regular", 22, INK, "rm")
        one, end = _x(1.0), _x(each.ratio)
        left, right = sorted((one, end))
        right = max(right, left + 4)  # a figure right at 1 still shows its colour
        pen.rectangle((round(left), round(middle - 13), round(right), round(middle + 13)),
                      fill=each.colour)  # fmt: skip
        note = f"{each.ratio:.2f}× {each.against}"
        note = typeset.ellipsize(note, "regular", 20, WIDTH - PLOT[1] - 30)
        typeset.draw(image, (PLOT[1] + 16, middle), note, "regular", 20, MUTED, "lm")
    return image


def build(folder: Path, when: datetime | None = None) -> tuple[Path, Path]:
    """Write ``README.md`` and ``chart.png`` into ``folder`` from its ``*.json``."""
    runs = load_all(folder)
    if not runs:
        raise SystemExit(f"no figures in {folder}: run the bench scripts first")
    moment = when or datetime.now(UTC)
    text = folder / "README.md"
    text.write_text(readme(runs, moment))
    bars = [b for script, figures in runs for f in figures if (b := bar(script, f)) is not None]
    picture = folder / "chart.png"
    title = f"stampbot bench, {moment:%Y-%m-%d}: each figure against its target or baseline"
    chart(bars, title).save(picture, format="PNG", optimize=True)
    return text, picture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", type=Path, default=OUT, help="where the scripts saved figures")
    folder = parser.parse_args().dir
    text, picture = build(folder)
    print(text.read_text())
    print(f"wrote {text} and {picture}", file=sys.stderr)


if __name__ == "__main__":
    main()
