"""Text in pictures: Hebrew and Persian right to left, Persian joined, Thai marks on their
consonants, colour emoji, and an ellipsis that never cuts a character in two.

References are drawn with Pillow's RAQM layout directly, one font per call; where a test could
pass with shaping or bidi switched off, it also checks that the BASIC layout looks different.
Pictures land in ``var/test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import regex
from PIL import Image, ImageChops, ImageDraw, ImageFont

from render import typeset

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
SIZE = 64
INK = (0, 0, 0)
TOFU = "\U0010fffd"  # a noncharacter: no font maps it, every font draws its .notdef box


def canvas(width: int = 900, height: int = 120) -> Image.Image:
    return Image.new("RGB", (width, height), (255, 255, 255))


def ours(
    text: str, style: typeset.Style = "regular", direction: typeset.Direction = "auto"
) -> Image.Image:
    image = canvas()
    typeset.draw(image, (20, 90), text, style, SIZE, INK, direction=direction)
    return image


def reference(
    text: str,
    script: typeset.Script,
    layout: ImageFont.Layout = ImageFont.Layout.RAQM,
    direction: str | None = None,
) -> Image.Image:
    """``text`` drawn by Pillow in one call with the font ``typeset`` picks for ``script``."""
    path = typeset.font_file(script, "regular")
    assert path is not None
    face = ImageFont.truetype(str(path), SIZE, layout_engine=layout)
    image = canvas()
    if layout == ImageFont.Layout.RAQM:
        ImageDraw.Draw(image).text((20, 90), text, font=face, fill=INK, anchor="ls",
                                   direction=direction)  # fmt: skip
    else:
        ImageDraw.Draw(image).text((20, 90), text, font=face, fill=INK, anchor="ls")
    return image


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def save(name: str, *images: Image.Image) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sheet = Image.new("RGB", (images[0].width, sum(i.height for i in images)), (255, 255, 255))
    for n, image in enumerate(images):
        sheet.paste(image, (0, n * images[0].height))
    sheet.save(ARTIFACTS / f"typeset-{name}.png")


def test_hebrew_is_drawn_right_to_left() -> None:
    word = "שלום"
    drawn = ours(word)
    basic = reference(word, "hebrew", ImageFont.Layout.BASIC)
    save("hebrew", drawn, basic)
    assert same(drawn, reference(word, "hebrew", direction="rtl"))
    # The same letters in logical order, left to right, is what unshaped text looks like.
    assert not same(drawn, basic)


def test_persian_letters_join() -> None:
    word = "کافه می‌خواهم"
    drawn = ours(word)
    isolated = ours("\u200c".join(word))  # a non-joiner between letters: isolated forms
    save("persian", drawn, isolated)
    assert same(drawn, reference(word, "arabic", direction="rtl"))
    assert not same(drawn, isolated)
    assert typeset.width(word) != typeset.width("\u200c".join(word))


def test_thai_marks_sit_on_their_consonants_and_no_boxes() -> None:
    word = "น้ำผึ้งปั่น"
    drawn = ours(word)
    save("thai", drawn, reference(word, "thai", ImageFont.Layout.BASIC))
    assert same(drawn, reference(word, "thai", direction="ltr"))
    # Every letter comes from a font that has it: none draws the font's .notdef box.
    for run in typeset.layout(word, "regular", SIZE).runs:
        assert run.path is not None
        face = ImageFont.truetype(str(run.path), SIZE)
        tofu = bytes(face.getmask(TOFU))
        for char in "นผงปน":
            assert bytes(face.getmask(char)) != tofu, (run.path.name, char)


@pytest.mark.parametrize(
    ("text", "direction", "visual"),
    [
        # "Free cappuccino" in a Hebrew shop: the English stays left to right, to the left.
        ("קפה הפינה: Free cappuccino", "auto", ["Free cappuccino", "קפה הפינה:"]),
        # A code and a fraction inside Persian read left to right, in right-to-left order.
        ("کد AB-123 برای ۲/۳", "auto", ["۲", "/", "۳", "برای", "AB-123", "کد"]),
        ("2/3 کارت", "rtl", ["کارت", "2/3"]),
        ("Café ☕ שלום", "auto", ["Café", "☕", "שלום"]),
    ],
)
def test_mixed_direction_lines_come_out_in_visual_order(
    text: str, direction: typeset.Direction, visual: list[str]
) -> None:
    line = typeset.layout(text, "regular", SIZE, direction)
    # "/" between Persian digits is in the Latin font: a run of its own, still in order.
    seen = [run.text.strip() for run in line.runs]
    assert [part for part in seen if part] == visual


def test_mixed_hebrew_and_latin_match_a_single_bidi_call() -> None:
    # DejaVu has both scripts, so Pillow can draw the whole line in one RAQM call: our runs,
    # drawn one by one, must land where fribidi inside RAQM puts them.
    text = "קפה הפינה Free cappuccino"
    drawn = ours(text)
    whole = reference(text, "hebrew", direction="rtl")
    save("mixed", drawn, whole)
    assert (
        ImageChops.difference(drawn, whole).convert("L").point(lambda v: v > 64).getbbox() is None
    )


def test_bidi_controls_steer_the_order_and_draw_nothing() -> None:
    assert same(ours("\u2067שלום\u2069"), ours("שלום"))
    # A left-to-right override shows the letters as stored: reversed text reads as the word.
    assert same(ours("\u202dםולש\u202c"), ours("שלום"))


@pytest.mark.parametrize("emoji", ["☕", "🍪", "🎃", "👍🏽", "🇮🇱"])
def test_emoji_are_drawn_in_colour(emoji: str) -> None:
    drawn = ours(f"Coffee {emoji}")
    save(f"emoji-{ord(emoji[0]):x}", drawn)
    box = drawn.getbbox()
    assert box is not None
    coloured = [
        px
        for px in drawn.get_flattened_data()
        if max(px) - min(px) > 60  # type: ignore[arg-type]
    ]
    assert len(coloured) > 50


@pytest.mark.parametrize(
    "text",
    [
        "น้ำผึ้ง" * 12,
        "👨‍👩‍👧" * 20,
        "🇮🇱🇺🇦🇹🇭" * 10,
        "می‌خواهم " * 10,
        "קָפֶה " * 12,
        "1️⃣👍🏽" * 15,
    ],
    ids=["thai", "zwj-family", "flags", "persian-zwnj", "hebrew-niqqud", "keycap-skin-tone"],
)
def test_ellipsis_never_cuts_inside_a_character(text: str) -> None:
    whole = typeset.clusters(text)
    for max_width in range(40, 800, 37):
        cut = typeset.ellipsize(text, "bold", 40, max_width)
        if not cut:
            continue
        assert cut.endswith("…")
        assert typeset.width(cut, "bold", 40) <= max_width
        kept = typeset.clusters(cut[:-1])
        assert kept == whole[: len(kept)] or kept == [
            *whole[: len(kept) - 1],
            whole[len(kept) - 1].rstrip(),
        ]


def test_missing_font_is_logged_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "NotoSansThaiUI-Regular.ttf"
    files = dict(typeset.FONT_FILES)
    files[("thai", "regular")] = (missing,)
    monkeypatch.setattr(typeset, "FONT_FILES", files)
    typeset.clear_caches()
    try:
        with caplog.at_level(logging.WARNING, logger="render.typeset"):
            chosen = typeset.font_file("thai", "regular")
        assert chosen == typeset.font_file("latin", "regular")
        assert "NotoSansThaiUI-Regular.ttf" in caplog.text
        # Still a picture, with the Latin part readable.
        assert ours("Café กาแฟ").getbbox() is not None
    finally:
        typeset.clear_caches()


def test_grapheme_clusters_follow_unicode() -> None:
    assert typeset.clusters("น้ำ👨‍👩‍👧🇮🇱") == ["น้ำ", "👨‍👩‍👧", "🇮🇱"]
    assert regex.fullmatch(r"\X", "👍🏽")
