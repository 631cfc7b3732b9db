"""Telegram's HTML subset as the plain-text markup of Viber and WhatsApp.

Both show *bold*, _italic_, ~strike~ and ```monospace``` and nothing else, so screens and
campaign messages are written once in HTML (Telegram's form) and adapted here: tags become
those marks, a link becomes its text followed by its address, entities are unescaped, and
every other tag is dropped with its text kept.
"""

from __future__ import annotations

from html.parser import HTMLParser

_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "strike": "~", "del": "~"}
_MONO = {"code", "pre"}


class _Plain(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _MARKS:
            self.parts.append(_MARKS[tag])
        elif tag in _MONO:
            self.parts.append("```")
        elif tag == "a":
            self._links.append(dict(attrs).get("href") or "")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _MARKS:
            self.parts.append(_MARKS[tag])
        elif tag in _MONO:
            self.parts.append("```")
        elif tag == "a" and self._links:
            href = self._links.pop()
            if href and not "".join(self.parts).endswith(href):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain(html: str) -> str:
    """``html`` (Telegram's subset) as Viber/WhatsApp text; unknown tags keep their text."""
    parser = _Plain()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
