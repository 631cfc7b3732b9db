"""CPU milliseconds and bytes of the counter poster, A5 and A4, in every script we serve.

Run: ``.venv/bin/python bench/poster.py --runs 5`` (``--quick``: 2). Per script and paper:
drawing the picture at 300 dpi, encoding the PNG, wrapping it in the PDF, and the sizes of both
files. CPU time, not wall time, so the figures stay comparable on a busy machine. Prints
medians, asserts nothing. A poster is printed a few times in a shop's life; this is to keep it
well under the time a person waits for a file in a chat, and the files well under what
Telegram carries. Records each paper's slowest script and largest PDF
(``var/bench/poster.json``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from io import BytesIO

from figures import Figures
from PIL import Image

from render.poster import Paper, Poster, draw_poster, encode_pdf, encode_png

TEXTS = {
    "en": ("Corner Coffee ☕", "Scan to join and collect stamps", "Collect 10 stamps and get: "),
    "he": ("קפה הפינה ☕", "סרקו כדי להצטרף ולאסוף חותמות", "אספו 10 חותמות וקבלו: "),
    "fa": ("کافه سر کوچه ☕", "برای عضویت و جمع‌آوری مهر اسکن کنید", "۱۰ مهر جمع کنید و بگیرید: "),
    "th": ("ร้านกาแฟหัวมุม ☕", "สแกนเพื่อสมัคร และสะสมแสตมป์", "สะสม 10 แสตมป์ รับ: "),
    "uk": ("Кав'ярня на розі ☕", "Скануй і збирай штампи", "Збери 10 штампів: "),
}
LINK = "https://t.me/stampbot_test_bot?start=j-Q2xhcmtzb25fY29mZmVlX3Rva2Vu"


def logo() -> bytes:
    image = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    image.paste((200, 60, 40, 255), (96, 96, 416, 416))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def poster(language: str, paper: Paper, logo_png: bytes) -> Poster:
    shop, call, reward = TEXTS[language]
    return Poster(
        merchant_name=shop,
        card_name="Coffee card",
        call_to_action=call,
        reward_line=reward + "\u2068Free cappuccino\u2069",
        footer="Telegram",
        join_url=LINK,
        background="#1F3A5F",
        foreground="#FFFFFF",
        accent="#F2A541",
        language=language,
        paper=paper,
        logo_png=logo_png,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    mark = logo()
    figures = Figures("poster")
    print(f"counter poster, median of {runs} runs, CPU ms (draw + PNG + PDF = total), bytes")
    for paper in Paper:
        slowest, largest = 0.0, 0
        for language in TEXTS:
            spec = poster(language, paper, mark)
            draw, png_ms, pdf_ms = [], [], []
            png = pdf = b""
            for _ in range(runs):
                start = time.process_time()
                image = draw_poster(spec)
                drawn = time.process_time()
                png = encode_png(image)
                encoded = time.process_time()
                pdf = encode_pdf(png, spec)
                done = time.process_time()
                draw.append((drawn - start) * 1000)
                png_ms.append((encoded - drawn) * 1000)
                pdf_ms.append((done - encoded) * 1000)
            d, p, f = (statistics.median(v) for v in (draw, png_ms, pdf_ms))
            print(
                f"  {paper.value} {language}: {d:5.0f} + {p:4.0f} + {f:4.0f} = {d + p + f:5.0f} ms"
                f"   PNG {len(png):>9,} B   PDF {len(pdf):>9,} B"
            )
            slowest, largest = max(slowest, d + p + f), max(largest, len(pdf))
        figures.add(f"counter poster {paper.value}, slowest script", slowest, "ms CPU")
        figures.add(f"counter poster {paper.value} PDF, largest", largest / 1e6, "MB")
    print(f"saved {figures.save()}")


if __name__ == "__main__":
    main()
