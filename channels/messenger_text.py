"""Telegram's HTML subset as the text of Viber and WhatsApp.

Both show *bold*, _italic_, ~strike~ and ```monospace``` and nothing else, so screens and
campaign messages are written once in HTML (Telegram's form) and turned into those marks by
the email's plain-text conversion (links as "text (url)", other tags dropped, their text kept).
"""

from __future__ import annotations

from channels.email_render import telegram_html_to_text

MARKS = {
    "b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "strike": "~", "del": "~",
    "code": "```", "pre": "```",
}  # fmt: skip


def plain(html: str) -> str:
    return telegram_html_to_text(html, marks=MARKS)
