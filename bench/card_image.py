"""CPU milliseconds to draw the card photo, the hot path of joining and of /card.

Run: ``.venv/bin/python bench/card_image.py --runs 15`` (``--quick``: 5). Three cases per
script:

- cold: a card never drawn before (fresh shop names, so no kept drawing and no text layout is
  re-used), as for a shop's first member;
- join: the same card for a new member each time (their own QR link), as in a rush of people
  joining at one poster;
- repeat: the very same card again, as when Telegram forgot a file and it is uploaded anew.

Then the time and size of encoding one card photo in each candidate format. CPU time, not wall
time: the figures stay comparable on a busy machine. Prints medians and records the slowest
script's and the encoder's against the encoder it replaced (``var/bench/card_image.json``);
asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial
from io import BytesIO

from figures import Figures
from PIL import Image

from render import png
from render.card import CardImage, render_card

NAMES = {
    "en": ("Corner Coffee ☕", "Free cappuccino"),
    "he": ("קפה הפינה ☕", "קפוצ׳ינו חינם"),
    "fa": ("کافه سر کوچه ☕", "کاپوچینو رایگان"),
    "th": ("ร้านกาแฟหัวมุม ☕", "คาปูชิโน่ฟรี"),
    "uk": ("Кав'ярня на розі ☕", "Безкоштовне капучино"),
}
# A membership link as start_link makes it: the bot's name and a 22-character token.
LINK = "https://t.me/stampbot_test_bot?start=m-{:022d}"
# Every card drawn gets a member never seen before, so no kept QR code is re-used by accident.
_members = itertools.count()


def card(shop: str, name: str) -> CardImage:
    return CardImage(
        merchant_name=shop,
        card_name=name,
        stamps_needed=10,
        balance=0,
        background="#1F3A5F",
        foreground="#FFFFFF",
        accent="#F2A541",
        qr_url=LINK.format(next(_members)),
    )


def cpu_ms(action: Callable[[], object]) -> float:
    start = time.process_time()
    action()
    return (time.process_time() - start) * 1000


def median_ms(actions: list[Callable[[], object]]) -> float:
    return statistics.median(cpu_ms(action) for action in actions)


def renders(runs: int, figures: Figures) -> None:
    print(f"{'':4} {'cold ms':>8} {'join ms':>8} {'repeat ms':>9} {'bytes':>8}")
    slowest = {"cold": 0.0, "join": 0.0, "repeat": 0.0}
    for lang, (shop, name) in NAMES.items():
        fresh = [card(f"{shop} {n}", name) for n in range(runs)]
        cold = median_ms([partial(render_card, each) for each in fresh])
        render_card(card(shop, name))  # the poster's first member draws the card
        members = [card(shop, name) for _ in range(runs)]
        join = median_ms([partial(render_card, each) for each in members])
        again = card(shop, name)
        render_card(again)
        repeat = median_ms([partial(render_card, again)] * runs)
        size = len(render_card(card(shop, name)))
        print(f"{lang:4} {cold:8.1f} {join:8.1f} {repeat:9.1f} {size:8}")
        for case, ms in (("cold", cold), ("join", join), ("repeat", repeat)):
            slowest[case] = max(slowest[case], ms)
    for case, ms in slowest.items():
        figures.add(f"card photo, {case}, slowest script", ms, "ms CPU")


def encodings(runs: int, figures: Figures) -> None:
    image = Image.open(BytesIO(render_card(card(*NAMES["en"])))).convert("RGB")

    def pillow(kind: str, **options: int | bool) -> Callable[[], bytes]:
        def save() -> bytes:
            buf = BytesIO()
            image.save(buf, kind, **options)
            return buf.getvalue()

        return save

    formats: dict[str, Callable[[], bytes]] = {
        "PNG Pillow level 9 (before)": pillow("PNG", compress_level=9),
        "PNG Pillow level 1": pillow("PNG", compress_level=1),
        "PNG unfiltered level 1 (now)": partial(png.encode, image),
        "PNG unfiltered level 6": partial(png.encode, image, level=6),
        "JPEG quality 85": pillow("JPEG", quality=85),
        "JPEG quality 90, 4:4:4": pillow("JPEG", quality=90, subsampling=0),
        "WebP lossless, fastest": pillow("WEBP", lossless=True, quality=0, method=0),
    }
    print(f"\nencoding one {image.width}x{image.height} card photo")
    measured = {}
    for label, encode in formats.items():
        ms = median_ms([encode] * runs)
        measured[label] = ms, len(encode())
        print(f"{label:30} {ms:6.1f} ms {len(encode()):9} bytes")
    (now_ms, now_bytes), (before_ms, before_bytes) = (
        measured["PNG unfiltered level 1 (now)"], measured["PNG Pillow level 9 (before)"],
    )  # fmt: skip
    before = "Pillow PNG level 9, the encoder before"
    figures.add("card photo PNG encoding", now_ms, "ms CPU", baseline=before_ms,
                baseline_name=before)  # fmt: skip
    figures.add("card photo PNG size", now_bytes / 1000, "kB", baseline=before_bytes / 1000,
                baseline_name=before)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    figures = Figures("card_image")
    renders(runs, figures)
    encodings(runs, figures)
    print(f"saved {figures.save()}")


if __name__ == "__main__":
    main()
