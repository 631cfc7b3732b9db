"""Telegram's HTML subset: make arbitrary HTML acceptable to the Bot API, measure it, split it.

Everything here is pure: the stdlib ``html.parser`` tokenizes, and the text is modelled as runs
of characters, each run carrying the stack of (kept) elements around it. Rendering runs always
yields well-nested HTML, so mis-nested or unclosed input comes out balanced, and any slice of
the runs renders as a valid message on its own: the tags open around a cut are closed at the
end of one part and opened again at the start of the next.

Lengths are UTF-16 code units of the visible text (after entity decoding), which is what
Telegram counts against its limits.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "sanitize",
    "split",
    "utf16_len",
    "visible_length",
    "visible_text",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# Tags Telegram's HTML parse mode understands; everything else is dropped, its text kept.
_SIMPLE = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"})
_KEPT = _SIMPLE | {"a", "code", "pre", "blockquote", "span", "tg-emoji"}
# Elements whose content is not text for people: dropped together with their tags.
_DROP_CONTENT = frozenset({"script", "style", "template", "iframe", "object", "noembed"})
_LINK_SCHEMES = ("http://", "https://", "tg:", "mailto:")
_LANGUAGE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+#._-")
# Telegram trims these around a message; a split never leaves them at the edge of a part.
_TRIM = " \t\r\n"
_SPACES = " \t"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(eq=False, slots=True)
class _Element:
    """One element of the input; ``opening`` is None when its tag is dropped (text kept).

    Compared by identity: two adjacent ``<b>`` elements stay two elements.
    """

    name: str
    opening: str | None

    @property
    def closing(self) -> str:
        return f"</{self.name}>"


_Run = tuple[str, tuple[_Element, ...]]


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[_Run] = []
        self._stack: list[_Element] = []
        self._skipping = 0

    # -- tokens ---------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self._skipping += 1
            return
        if self._skipping:
            return
        if tag == "br":
            self._add_text("\n")
        elif tag in _KEPT:
            values: dict[str, str] = {}
            for key, value in attrs:
                values.setdefault(key, value or "")
            self._stack.append(_Element(tag, self._opening(tag, values)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self._skipping = max(0, self._skipping - 1)
            return
        if self._skipping:
            return
        # Mis-nesting: close the innermost element of that name and leave the others open, so
        # <b><i>x</b>y</i> renders as <b><i>x</i></b><i>y</i>. Unmatched end tags vanish.
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index].name == tag:
                if tag == "pre":
                    # A <code> opened in this <pre> ends with it: outside a <pre> its language
                    # is not allowed, and a second sanitize would drop it (not idempotent).
                    inside = self._stack[index + 1 :]
                    self._stack[index:] = [e for e in inside if e.name != "code"]
                else:
                    del self._stack[index]
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._add_text(data)

    # Comments, doctypes, processing instructions and CDATA carry no visible text: the default
    # handlers ignore them.

    # -- helpers --------------------------------------------------------------------------

    def _add_text(self, data: str) -> None:
        text = _clean_text(data)
        if not text:
            return
        stack = tuple(e for e in self._stack if e.opening is not None)
        if self.runs and self.runs[-1][1] == stack:
            self.runs[-1] = (self.runs[-1][0] + text, stack)
        else:
            self.runs.append((text, stack))

    def _opening(self, tag: str, attrs: dict[str, str]) -> str | None:
        around = [e.name for e in self._stack if e.opening is not None]
        if "pre" in around or "code" in around:
            # Code is literal: the only tag allowed inside is <code> directly in <pre>, which
            # carries the language.
            if tag != "code" or around[-1] != "pre":
                return None
            language = _language(attrs.get("class", ""))
            return f'<code class="language-{language}">' if language else "<code>"
        if tag in _SIMPLE or tag in ("pre", "code"):
            return f"<{tag}>"
        if tag == "a":
            href = _safe_href(attrs.get("href", ""))
            if href is None or "a" in around:
                return None
            return f'<a href="{_escape(href, quote=True)}">'
        if tag == "blockquote":
            if "blockquote" in around:
                return None
            return "<blockquote expandable>" if "expandable" in attrs else "<blockquote>"
        if tag == "span":
            if "tg-spoiler" not in attrs.get("class", "").split():
                return None
            return '<span class="tg-spoiler">'
        if tag == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "").strip()
            if not (emoji_id.isascii() and emoji_id.isdigit()) or int(emoji_id) == 0:
                return None
            return f'<tg-emoji emoji-id="{emoji_id}">'
        return None


def _clean_text(data: str) -> str:
    """Newlines as ``\\n``; no NUL and no lone surrogates, which Telegram cannot store."""
    data = data.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if any("\ud800" <= ch <= "\udfff" for ch in data):
        data = "".join(ch for ch in data if not "\ud800" <= ch <= "\udfff")
    return data


def _language(css_class: str) -> str | None:
    for name in css_class.split():
        if name.startswith("language-"):
            language = name.removeprefix("language-").lower()
            if language and len(language) <= 32 and set(language) <= _LANGUAGE_CHARS:
                return language
    return None


def _safe_href(href: str) -> str | None:
    """The link if its scheme is http, https, tg or mailto; None for anything else.

    Control characters are refused outright: browsers ignore them inside a scheme, which is
    how ``java&#9;script:`` slips past naive checks.
    """
    href = href.strip()
    if not href or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in href):
        return None
    if not href.lower().startswith(_LINK_SCHEMES):
        return None
    return href.replace(" ", "%20")


def _escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _parse(html: str) -> list[_Run]:
    tokenizer = _Tokenizer()
    tokenizer.feed(html)
    tokenizer.close()
    return tokenizer.runs


def _render(runs: list[_Run]) -> str:
    out: list[str] = []
    current: tuple[_Element, ...] = ()
    for text, stack in runs:
        common = 0
        while common < min(len(current), len(stack)) and current[common] is stack[common]:
            common += 1
        out.extend(e.closing for e in reversed(current[common:]))
        out.extend(e.opening or "" for e in stack[common:])
        out.append(_escape(text))
        current = stack
    out.extend(e.closing for e in reversed(current))
    return "".join(out)


def _slice(runs: list[_Run], start: int, end: int) -> list[_Run]:
    """The runs covering characters ``start:end`` of the visible text."""
    sliced: list[_Run] = []
    offset = 0
    for text, stack in runs:
        run_end = offset + len(text)
        if run_end > start and offset < end:
            sliced.append((text[max(start - offset, 0) : end - offset], stack))
        offset = run_end
        if offset >= end:
            break
    return sliced


# ---------------------------------------------------------------------------------------------
# Public API


def sanitize(html: str) -> str:
    """Turn arbitrary input into HTML that Telegram's parse_mode=HTML accepts.

    Keeps Telegram's tags (links only with http/https/tg/mailto targets), drops other tags but
    keeps their text (script/style content goes too), escapes stray ``<``, ``>`` and ``&``,
    closes unclosed tags and repairs mis-nesting. ``<br>`` becomes a line break.
    """
    return _render(_parse(html))


def visible_text(html: str) -> str:
    """The text a reader sees once the (sanitized) HTML is parsed, before Telegram trims it."""
    return "".join(text for text, _ in _parse(html))


def visible_length(html: str) -> int:
    """UTF-16 code units of the visible text, as Telegram counts against its limits.

    Surrounding whitespace, which Telegram trims, is counted, so this never undercounts.
    """
    return utf16_len(visible_text(html))


def split(html: str, limit: int, *, first_limit: int | None = None) -> list[str]:
    """Sanitize ``html`` and cut it into parts of at most ``limit`` visible UTF-16 units.

    ``first_limit`` bounds the first part instead (a photo caption followed by messages).
    Cuts fall at the last paragraph break (``\\n\\n``) that fits, else the last line break, else
    the last space, else wherever the limit falls. The whitespace at a cut and around the
    whole text is dropped, as Telegram would trim it; no part is empty or blank. Every part is
    valid on its own: elements open across a cut are closed and reopened. Empty input gives
    no parts.
    """
    if limit < 2 or (first_limit is not None and first_limit < 2):
        raise ValueError("a limit below 2 cannot fit every character")
    runs = _parse(html)
    text = "".join(run_text for run_text, _ in runs)
    size = len(text)
    # units[i] = UTF-16 units of text[:i]
    units = [0] * (size + 1)
    for index, char in enumerate(text):
        units[index + 1] = units[index] + (2 if ord(char) > 0xFFFF else 1)

    parts: list[str] = []
    position = 0
    while True:
        while position < size and text[position] in _TRIM:
            position += 1
        if position >= size:
            return parts
        start = position
        budget = first_limit if first_limit is not None and not parts else limit
        fits = bisect_right(units, units[start] + budget) - 1  # text[start:fits] fits
        cut = size if fits >= size else _cut(text, start, fits)
        end = cut
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        parts.append(_render(_slice(runs, start, end)))
        position = cut


def _cut(text: str, start: int, fits: int) -> int:
    """Where to end a part that starts at ``start`` and may not go past ``fits``."""
    cut = text.rfind("\n\n", start + 1, fits + 2)
    if cut == -1:
        cut = text.rfind("\n", start + 1, fits + 1)
    if cut == -1:
        cut = max(text.rfind(space, start + 1, fits + 1) for space in _SPACES)
    if cut == -1:
        cut = fits
    return cut
