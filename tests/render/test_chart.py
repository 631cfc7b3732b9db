"""The campaign chart: bars and a line that read true, and words in every script."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from render.chart import (
    BAR_COLOUR,
    HEIGHT,
    LINE_COLOUR,
    WIDTH,
    ChartDay,
    ChartLabels,
    render_chart,
)
from tests.render.charts import column_pixels

LABELS = ChartLabels(deliveries="Messages sent", visits="Visits", no_data="No data yet")


def test_bars_follow_the_messages_sent_and_the_line_the_visits() -> None:
    days = [
        ChartDay(date(2026, 5, 4) + timedelta(days=n), sent=sent, visits=visits)
        for n, (sent, visits) in enumerate([(3, 0), (0, 1), (2, 0), (1, 0)])
    ]

    image = Image.open(io.BytesIO(render_chart(days, title="Autumn menu", labels=LABELS)))

    assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT))
    rgb = image.convert("RGB")
    bars = [column_pixels(rgb, n, len(days), BAR_COLOUR) for n in range(len(days))]
    assert bars[0] > bars[2] > bars[3] > 0
    assert bars[1] == 0
    # The line peaks on the one day with a visit, so its column holds the most line pixels.
    line = [column_pixels(rgb, n, len(days), LINE_COLOUR) for n in range(len(days))]
    assert max(line) == line[1]


def test_an_empty_series_draws_a_no_data_chart() -> None:
    image = Image.open(io.BytesIO(render_chart([], title="Autumn menu", labels=LABELS)))

    assert image.size == (WIDTH, HEIGHT)
    colours = {colour for _, colour in image.convert("RGB").getcolors(WIDTH * HEIGHT) or []}
    assert BAR_COLOUR not in colours
    assert LINE_COLOUR not in colours
    assert len(colours) > 2  # the title and the message are drawn


def test_right_to_left_and_overlong_labels_draw_without_crashing() -> None:
    days = [
        ChartDay(date(2026, 5, 4) + timedelta(days=n), sent=900 * n, visits=n) for n in range(60)
    ]
    labels = ChartLabels(
        deliveries="הודעות שנשלחו " * 20, visits="بازدیدها", no_data="אין עדיין נתונים"
    )

    for series in (days, []):
        png = render_chart(series, title="קמפיין סתיו\n" + "ا" * 300, labels=labels)
        assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)


ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
TRANSLATED = {
    "he": (
        "קמפיין סתיו ☕",
        ChartLabels("הודעות שנמסרו", "ביקורים אחרי הקמפיין", "עדיין אין משלוחים"),
    ),
    "fa": (
        "کمپین پاییز ☕",
        ChartLabels("پیام‌های تحویل‌شده", "مراجعه‌ها پس از کمپین", "هنوز پیامی تحویل نشده"),
    ),
    "th": ("แคมเปญฤดูใบไม้ร่วง ☕", ChartLabels("ข้อความที่ส่งถึง", "การมาที่ร้านหลังแคมเปญ", "ยังไม่มีการส่ง")),
}
ROWS = [ChartDay(date(2026, 5, 4) + timedelta(days=n), sent=5 + 3 * n, visits=n) for n in range(7)]


def _chart(title: str, labels: ChartLabels = LABELS, days: list[ChartDay] = ROWS) -> Image.Image:
    return Image.open(io.BytesIO(render_chart(days, title=title, labels=labels))).convert("RGB")


def _band(image: Image.Image, top: int, bottom: int) -> Image.Image:
    return image.crop((0, top, WIDTH, bottom))


@pytest.mark.parametrize("lang", sorted(TRANSLATED))
def test_translated_charts_are_saved_for_a_person_to_look_at(lang: str) -> None:
    title, labels = TRANSLATED[lang]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _chart(title, labels).save(ARTIFACTS / f"chart-{lang}.png")
    _chart(title, labels, []).save(ARTIFACTS / f"chart-{lang}-empty.png")


def test_a_hebrew_title_reads_right_to_left_from_the_right_edge() -> None:
    # The same letters stored reversed under a left-to-right override show as stored: that is
    # how the title must look. Without bidi the two differ.
    title = _band(_chart("קמפיין סתיו"), 20, 90)
    stored = _band(_chart("\u202dויתס ןייפמק\u202c"), 20, 90)
    assert ImageChops.difference(title, stored).getbbox() is None
    box = ImageChops.invert(title).getbbox()
    assert box is not None
    assert box[2] > WIDTH - 60  # right-aligned
    assert box[0] > WIDTH // 2


def test_thai_and_persian_labels_are_not_boxes() -> None:
    for text in ("ข้อความที่ส่งถึง", "مراجعه‌ها"):
        tofu = "\U0010fffd" * len(text)
        drawn = _band(_chart("x", ChartLabels(text, text, text)), 100, 150)
        boxes = _band(_chart("x", ChartLabels(tofu, tofu, tofu)), 100, 150)
        assert ImageChops.difference(drawn, boxes).getbbox() is not None


def _shapes(band: Image.Image) -> int:
    """Separate shapes on a line of dark text, told apart by blank columns between them."""
    grey = band.convert("L").tobytes()  # one byte per pixel, row by row
    ink = [
        any(grey[y * band.width + x] < 128 for y in range(band.height)) for x in range(band.width)
    ]
    return sum(1 for a, b in itertools.pairwise(ink) if a and not b)


def test_a_persian_title_is_joined() -> None:
    # کافه is two joined shapes (ک to ا, ف to ه); unshaped it is four letters.
    assert _shapes(_band(_chart("کافه"), 20, 90)) == 2
    assert _shapes(_band(_chart("\u200c".join("کافه")), 20, 90)) == 4
