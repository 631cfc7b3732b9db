"""The card and voucher photos: what a customer and a cashier's camera actually see."""

from __future__ import annotations

import dataclasses
import itertools
import struct
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops

from render import card as card_image
from render import imaging, typeset
from render.card import (
    CardImage,
    VoucherImage,
    card_layout,
    render_card,
    render_voucher,
    stamp_centres,
    voucher_layout,
)

URL = "https://t.me/stampbot_test_bot?start=m-Q2xhcmtzb25fY29mZmVlX3Rva2Vu"
# The longest link start_link can build: 32-character bot name, 64-character payload.
LONGEST_URL = "https://t.me/" + "b" * 29 + "bot?start=m-" + "x" * 62
BG, FG, ACCENT = "#1F3A5F", "#FFFFFF", "#F2B134"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
ARTIFACTS.mkdir(parents=True, exist_ok=True)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def make_card(**changes: Any) -> CardImage:
    card = CardImage(
        merchant_name="Clarkson's Coffee",
        card_name="Coffee card",
        stamps_needed=10,
        balance=7,
        background=BG,
        foreground=FG,
        accent=ACCENT,
        qr_url=URL,
    )
    return dataclasses.replace(card, **changes)


def make_voucher(**changes: Any) -> VoucherImage:
    voucher = VoucherImage(
        merchant_name="Clarkson's Coffee",
        title="Free cappuccino",
        code="K7QM-3XPD-9TRA",
        background=BG,
        foreground=FG,
        accent=ACCENT,
        qr_url="https://t.me/stampbot_test_bot?start=v-abcdefghijklmnopqrstuv",
    )
    return dataclasses.replace(voucher, **changes)


def png(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def colours(image: Image.Image) -> set[object]:
    found = image.getcolors(image.width * image.height)
    assert found is not None
    return {colour for _, colour in found}


def logo_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (200, 120)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def zxing_reference(url: str, scale: int) -> Image.Image:
    """zxing-cpp's own modules of ``url`` with a four-module quiet zone, ``scale`` pixels a
    module (nearest-neighbour), black on white: what the code region must be, pixel for pixel."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = Image.fromarray(code.to_image(scale=1, add_quiet_zones=False))
    side = modules.width + 8
    framed = Image.new("L", (side, side), 255)
    framed.paste(modules, (4, 4))
    return framed.resize((side * scale, side * scale), Image.Resampling.NEAREST)


def scanned(image: Image.Image) -> list[tuple[str, zxingcpp.BarcodeFormat, str]]:
    """What a camera reads off the picture: each code's text, kind and error level."""
    return [(code.text, code.format, code.ec_level) for code in zxingcpp.read_barcodes(image)]


# --- stamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamps_needed", "balance"), [(10, 0), (10, 7), (10, 10), (40, 37), (100, 64), (1, 1)]
)
def test_each_collected_stamp_is_filled_and_each_missing_one_is_empty(
    stamps_needed: int, balance: int
) -> None:
    card = make_card(stamps_needed=stamps_needed, balance=balance)
    image = png(render_card(card))
    centres = stamp_centres(card)
    radius = card_layout(card).stamp_radius

    assert len(centres) == stamps_needed
    for i, (x, y) in enumerate(centres):
        expected = rgb(ACCENT) if i < balance else rgb(BG)
        assert image.getpixel((x, y)) == expected, f"stamp {i + 1} of {stamps_needed}"
        # Every slot, filled or not, has a visible outline.
        edge = image.getpixel((x - radius + 1, y))
        assert isinstance(edge, tuple)
        assert sum(abs(a - b) for a, b in zip(edge, rgb(BG), strict=True)) > 60


def test_progress_bar_is_filled_in_proportion_to_the_balance() -> None:
    card = make_card(stamps_needed=10, balance=7)
    image = png(render_card(card))
    left, top, right, _ = card_layout(card).progress_box
    # This row runs through the middle of the bar, which starts with its filled part.
    row = [image.getpixel((x, top + 44)) for x in range(left, right)]
    start = row.index(rgb(ACCENT))
    end = max(i for i, p in enumerate(row) if p != rgb(BG))
    filled = row.count(rgb(ACCENT))
    assert filled / (end - start + 1) == pytest.approx(0.7, abs=0.02)


def test_progress_digits_change_with_the_balance_and_nothing_else_does() -> None:
    def digits(card: CardImage) -> Image.Image:
        left, top, _, bottom = card_layout(card).progress_box
        return png(render_card(card)).crop((left, top, left + 150, bottom))

    seven = digits(make_card(balance=7))
    assert rgb(FG) in colours(seven)
    assert digits(make_card(balance=8)).tobytes() != seven.tobytes()
    assert digits(make_card(balance=7, card_name="Tea card")).tobytes() == seven.tobytes()


@pytest.mark.parametrize(("given", "shown"), [(-3, 0), (12, 10), (10, 10)])
def test_balance_outside_the_card_is_clamped(given: int, shown: int) -> None:
    assert render_card(make_card(balance=given)) == render_card(make_card(balance=shown))


@pytest.mark.parametrize(
    ("stamps_needed", "per_row", "rows"),
    [(1, 1, 1), (5, 5, 1), (7, 4, 2), (10, 5, 2), (11, 6, 2), (20, 10, 2), (37, 10, 4)],
)
def test_stamps_are_laid_out_in_even_rows(stamps_needed: int, per_row: int, rows: int) -> None:
    centres = stamp_centres(make_card(stamps_needed=stamps_needed, balance=0))
    ys = sorted({y for _, y in centres})
    assert len(ys) == rows
    assert max(sum(1 for _, y in centres if y == row) for row in ys) == per_row


def test_a_hundred_stamp_card_stays_legible_and_inside_its_column() -> None:
    card = make_card(stamps_needed=100, balance=50)
    layout = card_layout(card)
    assert layout.stamp_radius >= 20
    left, top, right, bottom = layout.left_column
    for x, y in layout.stamp_centres:
        r = layout.stamp_radius
        assert left <= x - r < x + r <= right
        assert top <= y - r < y + r <= bottom


# --- QR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, LONGEST_URL, "https://t.me/b?start=1"])
def test_card_qr_is_exactly_zxings_code_on_white(url: str) -> None:
    card = make_card(qr_url=url)
    layout = card_layout(card)
    image = png(render_card(card))

    assert layout.qr_scale >= 8
    # Big enough to scan off a phone showing the photo full-width: about a third of its width.
    assert layout.qr_box[2] - layout.qr_box[0] >= 0.3 * image.width
    region = image.crop(layout.qr_box).convert("L")
    assert region.tobytes() == zxing_reference(url, layout.qr_scale).tobytes()
    assert scanned(image) == [(url, zxingcpp.BarcodeFormat.QRCode, "M")]
    # The panel around the symbol is white too, so the quiet zone is never the card colour.
    pl, pt, _, _ = layout.qr_panel
    assert image.getpixel((pl + 6, pt + 40)) == (255, 255, 255)


def test_voucher_qr_is_exactly_zxings_code() -> None:
    voucher = make_voucher()
    layout = voucher_layout(voucher)
    image = png(render_voucher(voucher))
    region = image.crop(layout.qr_box).convert("L")
    assert layout.qr_scale >= 8
    assert region.tobytes() == zxing_reference(voucher.qr_url, layout.qr_scale).tobytes()
    assert scanned(image) == [(voucher.qr_url, zxingcpp.BarcodeFormat.QRCode, "M")]


@pytest.mark.parametrize("render", ["card", "voucher"])
def test_qr_survives_telegram_style_jpeg_recompression(render: str) -> None:
    if render == "card":
        card = make_card(qr_url=LONGEST_URL)
        data, layout = render_card(card), card_layout(card)
        url = card.qr_url
        box, scale = layout.qr_box, layout.qr_scale
    else:
        voucher = make_voucher()
        data, vlayout = render_voucher(voucher), voucher_layout(voucher)
        url = voucher.qr_url
        box, scale = vlayout.qr_box, vlayout.qr_scale
    buf = BytesIO()
    png(data).save(buf, format="JPEG", quality=70)
    photo = Image.open(BytesIO(buf.getvalue())).convert("L")

    # A scanner samples each module near its centre; every sample must still read correctly.
    expected = zxing_reference(url, 1)
    for row in range(expected.height):
        for col in range(expected.width):
            dark = expected.getpixel((col, row)) == 0
            x = box[0] + col * scale + scale // 2
            y = box[1] + row * scale + scale // 2
            value = photo.getpixel((x, y))
            assert isinstance(value, int)
            assert (value < 128) == dark, (row, col)


@pytest.mark.parametrize("url", ["", "https://example.com/" + "x" * 400])
def test_unscannable_qr_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="qr_url"):
        render_card(make_card(qr_url=url))
    with pytest.raises(ValueError, match="qr_url"):
        render_voucher(make_voucher(qr_url=url))


# --- caching ---------------------------------------------------------------------------------


def test_rendering_is_byte_for_byte_repeatable() -> None:
    card, voucher = make_card(logo_png=logo_bytes((200, 60, 40))), make_voucher()
    first_card, first_voucher = render_card(card), render_voucher(voucher)
    # Fresh font and QR caches must not change a single byte either.
    imaging.font.cache_clear()
    typeset.clear_caches()
    card_image.clear_caches()
    assert render_card(card) == first_card
    assert render_voucher(voucher) == first_voucher


def test_members_joining_one_card_share_its_drawing_and_each_gets_their_own_qr() -> None:
    # The first member's render draws the card and keeps it; the next ones paste their QR on.
    card_image.clear_caches()
    first = make_card(balance=0, qr_url=URL)
    others = [make_card(balance=0, qr_url=f"{URL[:-4]}{n:04d}") for n in range(3)]
    first_image = png(render_card(first))
    box = card_layout(first).qr_box
    assert card_image._card_base.cache_info().currsize == 1
    for other in others:
        data = render_card(other)
        image = png(data)
        assert [code.text for code in zxingcpp.read_barcodes(image)] == [other.qr_url]
        # Outside the QR code the picture is the first member's, pixel for pixel.
        outside = ImageChops.difference(image, first_image)
        outside.paste((0, 0, 0), box)
        assert outside.getbbox() is None
    assert card_image._card_base.cache_info().currsize == 1
    assert card_image._card_base.cache_info().hits == len(others)
    # Pasted onto a kept drawing or drawn from nothing, the bytes are the same.
    card_image.clear_caches()
    assert render_card(others[-1]) == data


def test_vouchers_of_one_reward_share_its_drawing_and_each_gets_its_code_and_qr() -> None:
    card_image.clear_caches()
    first = make_voucher()
    first_image = png(render_voucher(first))
    layout = voucher_layout(first)
    other = make_voucher(code="AAAA-BBBB-CCCC", qr_url=first.qr_url[:-4] + "wxyz")
    data = render_voucher(other)
    image = png(data)
    assert card_image._voucher_base.cache_info().hits == 1
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [other.qr_url]
    # Outside the code's plate and the QR code the picture is the first voucher's.
    outside = ImageChops.difference(image, first_image)
    outside.paste((0, 0, 0), layout.qr_box)
    outside.paste((0, 0, 0), layout.code_box)
    assert outside.getbbox() is None
    assert image.crop(layout.code_box).tobytes() != first_image.crop(layout.code_box).tobytes()
    # Drawn on a kept drawing or from nothing, the bytes are the same.
    card_image.clear_caches()
    assert render_voucher(other) == data


def test_a_new_balance_or_design_is_drawn_afresh() -> None:
    card_image.clear_caches()
    render_card(make_card(balance=0))
    render_card(make_card(balance=1))
    render_card(make_card(balance=0, accent="#00AA00"))
    render_card(make_card(balance=0, qr_url=LONGEST_URL))  # a bigger QR code moves the columns
    assert card_image._card_base.cache_info().currsize == 4
    # A balance beyond the card is drawn as the full card: the same picture, kept once.
    render_card(make_card(balance=10))
    render_card(make_card(balance=12))
    assert card_image._card_base.cache_info().currsize == 5


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append(kind)
        pos += 12 + length
    return chunks


def test_png_carries_pixels_only() -> None:
    for data in (render_card(make_card()), render_voucher(make_voucher())):
        assert set(png_chunks(data)) == {b"IHDR", b"IDAT", b"IEND"}


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        raise AssertionError("no boolean fields expected")
    if isinstance(value, int):
        return value - 1
    if isinstance(value, str) and value.startswith("#"):
        return "#ABCDEF"
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return b"logo"
    raise AssertionError(f"unexpected field value {value!r}")


def test_card_cache_key_changes_with_every_field() -> None:
    card = make_card()
    key = card.cache_key()
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert make_card().cache_key() == key
    keys = {key}
    for field in dataclasses.fields(CardImage):
        other = dataclasses.replace(card, **{field.name: changed(getattr(card, field.name))})
        assert other.cache_key() not in keys, field.name
        keys.add(other.cache_key())
    with_logo = make_card(logo_png=b"one")
    assert with_logo.cache_key() != make_card(logo_png=b"two").cache_key()


def test_voucher_cache_key_changes_with_every_field() -> None:
    voucher = make_voucher()
    keys = {voucher.cache_key()}
    assert make_voucher().cache_key() in keys
    for field in dataclasses.fields(VoucherImage):
        other = dataclasses.replace(voucher, **{field.name: changed(getattr(voucher, field.name))})
        assert other.cache_key() not in keys, field.name
        keys.add(other.cache_key())


def test_cache_key_changes_with_the_render_version(monkeypatch: pytest.MonkeyPatch) -> None:
    key = make_card().cache_key()
    monkeypatch.setattr(card_image, "RENDER_VERSION", "card-image-next")
    assert make_card().cache_key() != key


# --- text ------------------------------------------------------------------------------------

AWKWARD_NAMES = [
    "קפה השכונה של אבא",
    "ร้านกาแฟบ้านสวนคุณยาย",
    "☕ Coffee 🎉👩‍👩‍👧 Time",
    "W" * 120,
    "Long merchant name with many words " * 4,
    "line one\nline two\tand a tab\x00",
    "e\u0301" * 60,
    "",
]


def gap_is_clear(image: Image.Image, left_column_right: int, panel_left: int, top: int) -> bool:
    """Nothing is drawn between the text column and the QR panel: text never overflows."""
    strip = image.crop((left_column_right + 1, top, panel_left - 1, top + 130))
    return colours(strip) == {rgb(BG)}


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_awkward_card_names_fit_the_card(name: str) -> None:
    plain = png(render_card(make_card()))
    card = make_card(merchant_name=name, card_name=name)
    image = png(render_card(card))
    layout = card_layout(card)

    assert image.size == plain.size
    assert gap_is_clear(image, layout.left_column[2], layout.qr_panel[0], layout.header_box[1])


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_awkward_voucher_texts_fit_the_voucher(name: str) -> None:
    voucher = make_voucher(merchant_name=name, title=name, code=name or "X")
    image = png(render_voucher(voucher))
    layout = voucher_layout(voucher)

    assert image.size == png(render_voucher(make_voucher())).size
    # Between the text column and the dashed tear line nothing but card colour.
    left_end, tear = layout.left_column[2], (layout.left_column[2] + layout.qr_panel[0]) // 2
    strip = image.crop((left_end + 1, layout.left_column[1], tear - 4, layout.left_column[3]))
    assert colours(strip) == {rgb(BG)}


def test_voucher_code_is_drawn_on_its_plate() -> None:
    voucher = make_voucher()
    image = png(render_voucher(voucher))
    plate = image.crop(voucher_layout(voucher).code_box)
    assert rgb(FG) in colours(plate)
    # Codes with different letters look different.
    other = png(render_voucher(make_voucher(code="AAAA-BBBB-CCCC")))
    assert other.crop(voucher_layout(voucher).code_box).tobytes() != plate.tobytes()


def test_missing_fonts_fall_back_to_pillows_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    normal_card, normal_voucher = render_card(make_card()), render_voucher(make_voucher())
    missing = tmp_path / "no-such-font.ttf"
    monkeypatch.setattr(typeset, "FONT_FILES", dict.fromkeys(typeset.FONT_FILES, (missing,)))
    typeset.clear_caches()
    try:
        card = make_card(merchant_name="W" * 120, card_name="ร้านกาแฟ ☕")
        fallback_card = render_card(card)
        fallback_voucher = render_voucher(make_voucher(title="T" * 120))
    finally:
        typeset.clear_caches()

    assert fallback_card != normal_card
    assert fallback_voucher != normal_voucher
    image = png(fallback_card)
    assert image.size == png(normal_card).size
    layout = card_layout(card)
    assert gap_is_clear(image, layout.left_column[2], layout.qr_panel[0], layout.header_box[1])
    assert png(fallback_voucher).size == png(normal_voucher).size


# --- every script ------------------------------------------------------------------------------


def header(card: CardImage) -> Image.Image:
    image = png(render_card(card))
    image.save(ARTIFACTS / f"card-{card.merchant_name.encode().hex()[:16]}.png")
    return image.crop(card_layout(card).header_box)


def test_hebrew_shop_name_reads_right_to_left() -> None:
    # Under a left-to-right override the reversed letters show exactly as stored: that is how
    # the name must look. Drawn in logical order (no bidi), the two would differ.
    name = header(make_card(merchant_name="קפה הפינה", card_name="Free cappuccino"))
    stored = header(make_card(merchant_name="\u202dהניפה הפק\u202c", card_name="Free cappuccino"))
    assert ImageChops.difference(name, stored).getbbox() is None


def test_thai_and_persian_names_are_not_boxes() -> None:
    for text in ("กขคงจฉ", "کافه سر کوچه"):
        tofu = header(make_card(merchant_name="\U0010fffd" * len(text)))
        assert ImageChops.difference(header(make_card(merchant_name=text)), tofu).getbbox()


def ink_gaps(image: Image.Image) -> int:
    """Separate shapes on the name's line, told apart by blank columns between them."""
    image = image.crop((0, 0, image.width, 60))  # the merchant name, above the card name
    red = image.getchannel("R")
    ink = [
        any(abs(int(red.getpixel((x, y))) - rgb(BG)[0]) > 100 for y in range(image.height))  # type: ignore[arg-type]
        for x in range(image.width)
    ]
    return sum(1 for a, b in itertools.pairwise(ink) if a and not b)


def test_persian_name_is_joined() -> None:
    # کافه joins ک to ا and ف to ه: two connected shapes. Unshaped, each letter stands alone.
    joined = header(make_card(merchant_name="کافه", card_name="x"))
    isolated = header(make_card(merchant_name="\u200c".join("کافه"), card_name="x"))
    assert ink_gaps(joined) == 2
    assert ink_gaps(isolated) == 4


def test_emoji_in_names_are_in_colour() -> None:
    plain = header(make_card(merchant_name="Corner Coffee", card_name="Coffee card"))
    with_emoji = header(make_card(merchant_name="Corner Coffee 🎃", card_name="Coffee card 🍪"))
    text_colours = {rgb(FG), rgb(BG)}

    def vivid(image: Image.Image) -> int:
        # Text is anti-aliased between the two card colours; emoji bring colours of their own.
        pixels: list[tuple[int, int, int]] = list(image.get_flattened_data())  # type: ignore[arg-type]
        return sum(
            1
            for px in pixels
            if min(sum(abs(a - b) for a, b in zip(px, c, strict=True)) for c in text_colours) > 90
            and max(px) - min(px) > 60
        )

    assert vivid(plain) == 0
    assert vivid(with_emoji) > 200


@pytest.mark.parametrize("name", ["น้ำผึ้ง" * 20, "👨‍👩‍👧🇺🇦" * 20, "می‌خواهم " * 20])
def test_long_names_are_shortened_between_characters(name: str) -> None:
    for room in range(300, 1000, 61):
        size, text = card_image._fit(name, "bold", 92, 60, room)
        assert text.endswith("…")
        assert typeset.width(text, "bold", size) <= room
        kept = typeset.clusters(text[:-1])
        assert typeset.clusters(name)[: len(kept)] == kept


# --- logo ------------------------------------------------------------------------------------


def test_logo_is_shown_in_the_header() -> None:
    card = make_card(logo_png=logo_bytes((200, 60, 40)))
    image = png(render_card(card))
    left, top, _, _ = card_layout(card).header_box
    assert image.getpixel((left + 56, top + 56)) == (200, 60, 40)


@pytest.mark.parametrize(
    "logo",
    [
        b"not an image",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        logo_bytes((0, 0, 0), size=(300, 300))[:60],
    ],
)
def test_broken_logo_is_left_out_rather_than_failing(logo: bytes) -> None:
    assert render_card(make_card(logo_png=logo)) == render_card(make_card())


def test_oversized_logo_is_left_out() -> None:
    buf = BytesIO()
    Image.new("1", (5000, 5000)).save(buf, format="PNG")
    assert render_card(make_card(logo_png=buf.getvalue())) == render_card(make_card())


# --- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stamps_needed", [1, 5, 10, 11, 20, 40, 100])
def test_card_photo_fits_telegram_limits(stamps_needed: int) -> None:
    card = make_card(
        stamps_needed=stamps_needed,
        balance=stamps_needed // 2,
        qr_url=LONGEST_URL,
        logo_png=logo_bytes((10, 200, 90), size=(800, 800)),
    )
    data = render_card(card)
    image = png(data)
    width, height = image.size
    assert max(width, height) <= 1280
    assert max(width / height, height / width) < 3
    assert len(data) < 1_000_000


def test_voucher_photo_fits_telegram_limits() -> None:
    data = render_voucher(make_voucher(qr_url=LONGEST_URL))
    width, height = png(data).size
    assert max(width, height) <= 1280
    assert max(width / height, height / width) < 3
    assert len(data) < 1_000_000


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", ["red", "#FFF", "#GGGGGG", "FFFFFF", "#1234567", " #123456"])
@pytest.mark.parametrize("field", ["background", "foreground", "accent"])
def test_invalid_colours_are_refused(field: str, colour: str) -> None:
    with pytest.raises(ValueError, match="#RRGGBB"):
        make_card(**{field: colour})
    with pytest.raises(ValueError, match="#RRGGBB"):
        make_voucher(**{field: colour})


@pytest.mark.parametrize("stamps_needed", [0, -1, 101])
def test_stamp_count_outside_1_to_100_is_refused(stamps_needed: int) -> None:
    with pytest.raises(ValueError, match="stamps_needed"):
        make_card(stamps_needed=stamps_needed)
