"""CPU milliseconds to draw the card photo (the hot path of /card) for shops in several scripts.

Run: ``.venv/bin/python bench/card_image.py --runs 15``. Each render uses fresh names so no
layout cache is hit, as for a shop's first /card. CPU time, not wall time: the figure stays
comparable on a busy machine. Prints the median per language, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from render.card import CardImage, render_card

NAMES = {
    "en": ("Corner Coffee ☕", "Free cappuccino"),
    "he": ("קפה הפינה ☕", "קפוצ׳ינו חינם"),
    "fa": ("کافه سر کوچه ☕", "کاپوچینو رایگان"),
    "th": ("ร้านกาแฟหัวมุม ☕", "คาปูชิโน่ฟรี"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for lang, (shop, card) in NAMES.items():
        times = []
        for n in range(args.runs):
            image = CardImage(
                merchant_name=f"{shop} {n}",
                card_name=card,
                stamps_needed=10,
                balance=n % 10,
                background="#1F3A5F",
                foreground="#FFFFFF",
                accent="#F2A541",
                qr_url=f"https://t.me/stampbot?start=c{n:08d}",
            )
            start = time.process_time()
            render_card(image)
            times.append((time.process_time() - start) * 1000)
        print(f"{lang}: median {statistics.median(times):.1f} ms over {args.runs} renders")


if __name__ == "__main__":
    main()
