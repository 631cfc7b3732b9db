"""The counter poster as a printer and a customer's camera see it: page size, pixels, the QR.

The QR code is read back by an independent reader (zxing-cpp) from the PNG and from the PDF as
poppler rasterises it for printing (``pdftoppm``); the page size comes from ``pdfinfo``.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from render import poster as poster_module
from render import typeset
from render.poster import Paper, Poster, draw_poster, render_link_qr, render_poster

URL = "https://t.me/stampbot_test_bot?start=j-Q2xhcmtzb25fY29mZmVlX3Rva2Vu"
# The longest join link start_link can build: 32-character bot name, 64-character payload.
LONGEST_URL = "https://t.me/" + "b" * 29 + "bot?start=j-" + "x" * 62
BG, FG, ACCENT = "#1F3A5F", "#FFFFFF", "#F2B134"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
ARTIFACTS.mkdir(parents=True, exist_ok=True)
# PDF points are 1/72 inch: A5 is 148 x 210 mm, A4 210 x 297 mm.
PAGE_POINTS = {Paper.A5: (419.53, 595.28), Paper.A4: (595.28, 841.89)}


def make(**changes: Any) -> Poster:
    poster = Poster(
        merchant_name="Clarkson's Coffee",
        card_name="Coffee card",
        call_to_action="Scan to join and collect stamps",
        reward_line="Collect 10 stamps and get: Free cappuccino",
        footer="Opens in Telegram",
        join_url=URL,
        background=BG,
        foreground=FG,
        accent=ACCENT,
        language="en",
        paper=Paper.A5,
    )
    return dataclasses.replace(poster, **changes)


def logo_png() -> bytes:
    """A transparent logo with an opaque red square in the middle."""
    logo = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    logo.paste((220, 30, 40, 255), (100, 100, 300, 300))
    out = BytesIO()
    logo.save(out, format="PNG")
    return out.getvalue()


def decoded(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image)]


def rasterised(pdf: bytes, tmp_path: Path, dpi: int = 150) -> Image.Image:
    source = tmp_path / "poster.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603 - our own file, a fixed command
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(source), str(tmp_path / "page")],  # noqa: S607
        check=True,
        timeout=60,
    )
    with Image.open(tmp_path / "page.png") as page:
        return page.convert("RGB")


def page_size(pdf: bytes, tmp_path: Path) -> tuple[float, float]:
    source = tmp_path / "info.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(source)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    found = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
    assert found is not None, info
    return float(found.group(1)), float(found.group(2))


def test_paper_sizes_are_the_print_resolution_of_a5_and_a4() -> None:
    assert Paper.A5.pixels == (1748, 2480)
    assert Paper.A4.pixels == (2480, 3508)


@pytest.mark.parametrize("paper", list(Paper))
def test_the_png_is_the_page_at_300_dpi_and_its_qr_reads_as_the_join_link(paper: Paper) -> None:
    files = render_poster(make(paper=paper, logo_png=logo_png()))
    (ARTIFACTS / f"poster-{paper.value}.png").write_bytes(files.png)

    with Image.open(BytesIO(files.png)) as image:
        assert image.format == "PNG"
        assert image.size == paper.pixels == files.size
        assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
        assert decoded(image.convert("RGB")) == [URL]


@pytest.mark.parametrize("paper", list(Paper))
def test_the_pdf_is_one_page_of_the_paper_size_and_its_qr_reads_when_printed(
    paper: Paper, tmp_path: Path
) -> None:
    files = render_poster(make(paper=paper))
    (ARTIFACTS / f"poster-{paper.value}.pdf").write_bytes(files.pdf)

    assert files.pdf.startswith(b"%PDF-")
    width, height = page_size(files.pdf, tmp_path)
    assert (width, height) == pytest.approx(PAGE_POINTS[paper], abs=0.01)
    page = rasterised(files.pdf, tmp_path)
    # 150 dpi: the page as a printer driver at draft quality rasterises it.
    assert page.size == pytest.approx((width / 72 * 150, height / 72 * 150), abs=1)
    assert decoded(page) == [URL]
    # The picture fills the page edge to edge: the corners are the shop's colour.
    assert page.getpixel((2, 2)) == pytest.approx((0x1F, 0x3A, 0x5F), abs=2)


def test_files_stay_small_enough_to_send_and_print() -> None:
    for paper in Paper:
        files = render_poster(make(paper=paper, logo_png=logo_png()))
        assert len(files.png) < 1_000_000, paper
        assert len(files.pdf) < 1_500_000, paper


def test_the_shop_colours_logo_and_accent_band_are_drawn() -> None:
    image = draw_poster(make(logo_png=logo_png()))
    width, height = image.size
    assert image.getpixel((5, 5)) == (0x1F, 0x3A, 0x5F)
    assert image.getpixel((5, height - 5)) == (0xF2, 0xB1, 0x34)
    # The logo's transparent corners show its white tile; its red square is in the middle.
    colours = {colour for _, colour in image.getcolors(width * height) or []}
    assert (220, 30, 40) in colours
    assert (255, 255, 255) in colours


def test_a_broken_logo_is_left_out_and_the_poster_still_reads() -> None:
    image = draw_poster(make(logo_png=b"\x89PNG not really"))
    assert decoded(image) == [URL]


def test_the_longest_join_link_and_long_names_still_fit_and_read() -> None:
    poster = make(
        join_url=LONGEST_URL,
        merchant_name="The Very Long Name of a Neighbourhood Coffee Roastery and Bakery " * 3,
        card_name="A card name that goes on and on " * 4,
        reward_line="Collect 10 stamps and get: " + "a very generous reward " * 10,
    )
    image = draw_poster(poster)
    assert image.size == Paper.A5.pixels
    assert decoded(image) == [LONGEST_URL]


RTL_CASES = [
    (
        "he",
        "קפה הפינה ☕",
        "סרקו כדי להצטרף ולאסוף חותמות",
        "אספו 10 חותמות וקבלו: \u2068Free cappuccino\u2069",
    ),
    (
        "fa",
        "کافه گوشه",
        "برای عضویت و جمع‌آوری مهر اسکن کنید",
        "۱۰ مهر جمع کنید و بگیرید: \u2068قهوهٔ رایگان\u2069",
    ),
    ("th", "ร้านกาแฟมุมถนน", "สแกนเพื่อสมัคร และสะสมแสตมป์", "สะสม 10 แสตมป์ รับ: \u2068กาแฟฟรี\u2069"),
]


@pytest.mark.parametrize(("language", "shop", "call", "reward"), RTL_CASES)
def test_texts_in_the_shops_language_go_through_the_shaping_typesetter(
    language: str, shop: str, call: str, reward: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every line is drawn by ``render.typeset`` (RAQM shaping, fribidi order) with the
    language's direction: Hebrew and Persian right to left, Thai left to right, shaped."""
    drawn: list[tuple[str, str, str | None]] = []
    real_draw = typeset.draw

    def spy(image: Image.Image, xy: Any, text: str, *args: Any) -> typeset.Line:
        drawn.append((text, args[4], args[5]))
        return real_draw(image, xy, text, *args)

    monkeypatch.setattr(poster_module.typeset, "draw", spy)
    poster = make(merchant_name=shop, call_to_action=call, reward_line=reward, language=language)
    image = draw_poster(poster)
    (ARTIFACTS / f"poster-{language}.png").write_bytes(poster_module.encode_png(image))

    direction = "rtl" if language in {"he", "fa"} else "ltr"
    texts = " ".join(text for text, _, _ in drawn)
    assert shop in texts
    for line, line_direction, line_language in drawn:
        if line in call or line in reward or line == poster.footer:
            assert line_direction == direction, line
            assert line_language == language, line
    assert " ".join(t for t, _, _ in drawn if t in call) == call
    assert decoded(image) == [URL]
    # What typeset laid out for these lines is a right-to-left paragraph where it must be.
    first_call_line = next(t for t, _, _ in drawn if t in call)
    assert typeset.layout(first_call_line, "bold", 64, direction).rtl == (direction == "rtl")


def test_a_hebrew_line_with_a_latin_reward_is_ordered_as_a_right_to_left_paragraph() -> None:
    """In a right-to-left paragraph the Latin reward stands at the left end of the line, in a
    left-to-right one at the right end: the two posters differ only by that order."""
    reward = "אספו 10 חותמות וקבלו: \u2068Free cappuccino\u2069"
    hebrew = draw_poster(make(reward_line=reward, language="he"))
    as_if_english = draw_poster(make(reward_line=reward, language="en"))
    assert hebrew.tobytes() != as_if_english.tobytes()
    line = typeset.layout("אספו 10 חותמות וקבלו: Free cappuccino", "regular", 64, "rtl", "he")
    assert line.rtl
    assert line.runs[0].script == "latin"  # leftmost on the page: "Free cappuccino"
    assert line.runs[-1].script == "hebrew"  # rightmost: where the sentence starts


def test_bad_colours_and_empty_links_are_refused() -> None:
    with pytest.raises(ValueError, match="colour"):
        make(background="red")
    with pytest.raises(ValueError, match="join_url"):
        make(join_url="")


@pytest.mark.parametrize("url", [URL, "https://t.me/b?start=1"])
def test_the_poster_and_invite_codes_are_regular_qr_codes_at_level_m(url: str) -> None:
    # Never a Micro QR, even for a short link: many phone scanners cannot read one.
    poster = draw_poster(make(join_url=url))
    with Image.open(BytesIO(render_link_qr(url))) as invite:
        for image in (poster, invite.convert("RGB")):
            codes = zxingcpp.read_barcodes(image)
            assert [(c.text, c.format, c.ec_level) for c in codes] == [
                (url, zxingcpp.BarcodeFormat.QRCode, "M")
            ]
