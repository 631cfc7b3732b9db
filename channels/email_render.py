"""Email bodies: Telegram's HTML subset made safe for mail, and the localized templates.

Campaign text arrives in Telegram's HTML subset, written by a merchant, so it is parsed again
with an allow-list (nothing but the subset survives; every text and attribute is re-escaped),
its newlines become paragraphs and line breaks, and every web link can be routed through the
click counter. Templates under ``templates/email/`` are rendered by jinja2 with autoescape and
the ``jinja2.ext.i18n`` extension, from the same gettext catalogs as the bot.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.support import NullTranslations, Translations
from markupsafe import Markup
from markupsafe import escape as markup_escape

from channels.base import CardStatus, OutboundMessage
from locales import DOMAIN, RIGHT_TO_LEFT, SUPPORTED, compile_catalogs

# jinja2 and segno are imported where an email is made: idle memory in every process, and the
# text conversions here (wallet messages, chat texts) need neither.
if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
MAX_DEPTH = 16
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
WEB_SCHEMES = frozenset({"http", "https"})

# Telegram's tags (and their aliases) → the element we keep.
_CANONICAL = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "a": "a",
}
_BLOCKS = frozenset({"pre", "blockquote"})
# Elements whose content is never shown: it goes with the tag.
_DROP_CONTENT = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "template", "noscript", "textarea",
        "title", "head", "svg", "math", "select", "noembed", "noframes", "xmp",
    }
)  # fmt: skip
_LINE_END = {"p": 2, "div": 1, "li": 1, "tr": 1, "h1": 2, "h2": 2, "h3": 2, "h4": 2}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(slots=True)
class _Element:
    tag: str
    href: str | None = None
    children: list[_Element | str] = field(default_factory=list)


def safe_url(value: str | None, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """An absolute URL with an allowed scheme, or None (``javascript:``, ``data:``, relative…)."""
    if not value:
        return None
    # Browsers drop tabs and newlines inside URLs ("java\tscript:"), so judge it without them.
    url = _CONTROL.sub("", value).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return None
    if scheme in WEB_SCHEMES and not parts.netloc:
        return None
    return url


def tracked_url(url: str, click: str | None) -> str:
    """``url`` routed through the click counter, for web links when a counter is given."""
    if not click or urlsplit(url).scheme.lower() not in WEB_SCHEMES:
        return url
    separator = "&" if "?" in click else "?"
    return f"{click}{separator}u={quote(url, safe='')}"


class _TreeBuilder(HTMLParser):
    """Telegram HTML → a balanced tree of allowed elements; everything else is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("root")
        self._open: list[_Element] = [self.root]
        self._spans: list[bool] = []  # for each open <span>: is it a spoiler?
        self._skipping: list[str] = []

    @property
    def _top(self) -> _Element:
        return self._open[-1]

    def _text(self, text: str) -> None:
        if not text:
            return
        children = self._top.children
        if children and isinstance(children[-1], str):
            children[-1] += text
        else:
            children.append(text)

    def _is_open(self, tag: str) -> bool:
        return any(element.tag == tag for element in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping or tag in _DROP_CONTENT:
            if tag in _DROP_CONTENT:
                self._skipping.append(tag)
            return
        if tag == "br":
            self._text("\n")
            return
        canonical = _CANONICAL.get(tag)
        if tag == "span":
            spoiler = "tg-spoiler" in (dict(attrs).get("class") or "").split()
            self._spans.append(spoiler)
            canonical = "spoiler" if spoiler else None
        if canonical is None or len(self._open) > MAX_DEPTH:
            return
        if canonical in _BLOCKS and self._is_open("pre"):
            return  # nothing block-level inside preformatted text
        href = None
        if canonical == "a":
            href = safe_url(dict(attrs).get("href"))
            if href is None or self._is_open("a"):
                return
        element = _Element(canonical, href)
        self._top.children.append(element)
        self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skipping and tag == "br":
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:
                while self._skipping.pop() != tag:
                    pass
            return
        canonical = _CANONICAL.get(tag)
        if tag == "span":
            canonical = "spoiler" if self._spans and self._spans.pop() else None
        elif tag in _LINE_END:
            self._text("\n" * _LINE_END[tag])
        if canonical is None:
            return
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == canonical:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text(data)


# A URL typed into the text, as Telegram links it: a web scheme, then anything but spaces and
# brackets, without the punctuation that ends the sentence around it.
_PLAIN_URL = re.compile(r"""https?://[^\s<>"'\u00a0]+""", re.IGNORECASE)
_TRAILING = ".,:;!?'\")]}»…"
_NO_AUTOLINK = frozenset({"a", "code", "pre"})


def plain_urls(text: str) -> list[str]:
    """The web URLs written as plain text in ``text``, in order, as links would target them."""
    found = []
    for match in _PLAIN_URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        if safe_url(url, WEB_SCHEMES):
            found.append(url)
    return found


def _linkify(text: str) -> list[_Element | str]:
    parts: list[_Element | str] = []
    rest = text
    for url in plain_urls(text):
        before, _, rest = rest.partition(url)
        if before:
            parts.append(before)
        parts.append(_Element("a", url, [url]))
    if rest:
        parts.append(rest)
    return parts


def _autolink(element: _Element) -> None:
    """Plain URLs become links, as in the chat (not inside a link, code or preformatted)."""
    children: list[_Element | str] = []
    for child in element.children:
        if isinstance(child, str):
            children.extend(_linkify(child))
        else:
            if child.tag not in _NO_AUTOLINK:
                _autolink(child)
            children.append(child)
    element.children = children


def parse_telegram_html(source: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(source.replace("\r\n", "\n").replace("\r", "\n"))
    builder.close()
    _autolink(builder.root)
    return builder.root


_CODE_STYLE = (
    "font-family:SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;font-size:14px;"
    "background-color:#f3f4f6;border-radius:4px;padding:1px 4px;"
)
_PRE_STYLE = (
    "margin:0 0 16px;padding:12px;background-color:#f3f4f6;border-radius:6px;"
    "font-family:SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;font-size:14px;"
    "line-height:1.45;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere;"
)
_PARAGRAPH_STYLE = "margin:0 0 16px;"
_LINK_STYLE = "color:#2563eb;text-decoration:underline;"


@dataclass(slots=True)
class _Block:
    kind: str  # "root", "blockquote" or "pre"
    inline: list[_Element] = field(default_factory=list)
    open_paragraph: bool = False
    started: bool = False
    newlines: int = 0


class _HtmlWriter:
    """Walks the tree; newlines become ``<p>`` and ``<br>``, every tag is our own."""

    def __init__(self, *, click: str | None, right_to_left: bool) -> None:
        self._click = click
        self._rtl = right_to_left
        self._out: list[str] = []
        self._blocks = [_Block("root")]

    def render(self, root: _Element) -> str:
        self._children(root)
        self._close_block(self._blocks[0])
        return "".join(self._out)

    def _children(self, element: _Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                self._text(child)
            elif child.tag in _BLOCKS:
                self._block(child)
            else:
                self._inline(child)

    def _open_tag(self, element: _Element) -> str:
        if element.tag == "a":
            href = tracked_url(element.href or "", self._click)
            return f'<a href="{escape(href)}" style="{_LINK_STYLE}" target="_blank">'
        if element.tag == "code":
            inside_pre = self._blocks[-1].kind == "pre"
            return "<code>" if inside_pre else f'<code style="{_CODE_STYLE}">'
        return {"b": "<strong>", "i": "<em>", "u": "<u>", "s": "<s>", "spoiler": "<span>"}[
            element.tag
        ]

    @staticmethod
    def _close_tag(element: _Element) -> str:
        return {
            "a": "</a>", "code": "</code>", "b": "</strong>", "i": "</em>", "u": "</u>",
            "s": "</s>", "spoiler": "</span>",
        }[element.tag]  # fmt: skip

    def _close_inline(self, block: _Block) -> None:
        self._out.extend(self._close_tag(element) for element in reversed(block.inline))

    def _start_content(self) -> None:
        """Before any visible content: pending newlines, and an open paragraph."""
        block = self._blocks[-1]
        if block.kind == "root":
            if block.open_paragraph and block.newlines >= 2:
                self._close_inline(block)
                self._out.append("</p>")
                block.open_paragraph = False
            elif block.open_paragraph and block.newlines == 1:
                self._out.append("<br>")
            if not block.open_paragraph:
                self._out.append(f'<p style="{_PARAGRAPH_STYLE}">')
                self._out.extend(self._open_tag(element) for element in block.inline)
                block.open_paragraph = True
        elif block.kind == "blockquote" and block.started and block.newlines:
            self._out.append("<br>" * min(block.newlines, 2))
        block.newlines = 0
        block.started = True

    def _text(self, text: str) -> None:
        block = self._blocks[-1]
        if block.kind == "pre":
            self._out.append(escape(text, quote=False))
            return
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if number:
                block.newlines += 1
                line = line.lstrip()
            if number < len(lines) - 1:
                line = line.rstrip()
            if line:
                self._start_content()
                self._out.append(escape(line, quote=False))

    def _inline(self, element: _Element) -> None:
        self._start_content()
        self._out.append(self._open_tag(element))
        block = self._blocks[-1]
        block.inline.append(element)
        self._children(element)
        block.inline.pop()
        if block.kind != "root" or block.open_paragraph:
            self._out.append(self._close_tag(element))

    def _block(self, element: _Element) -> None:
        outer = self._blocks[-1]
        if outer.kind == "root" and outer.open_paragraph:
            self._close_inline(outer)
            self._out.append("</p>")
            outer.open_paragraph = False
        elif outer.kind == "blockquote":
            self._close_inline(outer)
        outer.newlines = 0
        if element.tag == "pre":
            self._out.append(f'<pre dir="auto" style="{_PRE_STYLE}">')
        else:
            side = "right" if self._rtl else "left"
            self._out.append(
                f'<blockquote style="margin:0 0 16px;padding:4px 12px;color:#374151;'
                f'border-{side}:3px solid #d1d5db;">'
            )
        block = _Block(element.tag)
        self._blocks.append(block)
        self._children(element)
        self._close_block(block)
        self._blocks.pop()
        self._out.append("</pre>" if element.tag == "pre" else "</blockquote>")
        if outer.kind == "blockquote":
            self._out.extend(self._open_tag(inline) for inline in outer.inline)
            outer.started = False

    def _close_block(self, block: _Block) -> None:
        if block.kind == "root" and block.open_paragraph:
            self._close_inline(block)
            self._out.append("</p>")
            block.open_paragraph = False
        block.newlines = 0


def telegram_html_to_email(source: str, *, click: str | None, right_to_left: bool) -> Markup:
    """Safe, inline-styled HTML for the email body, links routed through ``click``."""
    root = parse_telegram_html(source)
    html = _HtmlWriter(click=click, right_to_left=right_to_left).render(root)
    return Markup(html)  # noqa: S704 - built only from our own tags and escaped text


def link_targets(source: str) -> set[str]:
    """The web links the email of ``source`` routes through the click counter, as sanitized.

    The click redirect follows only these: exactly the links a recipient can see, never a URL
    the allow-list dropped (``javascript:``, text inside ``<script>``, a comment).
    """
    found: set[str] = set()
    pending = [parse_telegram_html(source)]
    while pending:
        element = pending.pop()
        href = element.href if element.tag == "a" else None
        if href and urlsplit(href).scheme.lower() in WEB_SCHEMES:
            found.add(href)
        pending.extend(child for child in element.children if not isinstance(child, str))
    return found


def _plain(element: _Element, marks: Mapping[str, str]) -> str:
    parts: list[str] = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(child)
            continue
        inner = _plain(child, marks)
        if mark := marks.get(child.tag):
            inner = f"{mark}{inner}{mark}"
        if child.tag == "a" and child.href:
            target = child.href.removeprefix("mailto:")
            shown = inner.strip()
            parts.append(target if shown in {"", target, child.href} else f"{shown} ({target})")
        elif child.tag in _BLOCKS:
            if child.tag == "blockquote":
                inner = "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
            parts.append(f"\n\n{inner.strip(chr(10))}\n\n")
        else:
            parts.append(inner)
    return "".join(parts)


def telegram_html_to_text(source: str, *, marks: Mapping[str, str] | None = None) -> str:
    """Readable plain text: no tags, links as ``text (url)``, at most one blank line in a row.

    ``marks`` wraps an element's text in its tag's mark (``{"b": "*"}``: Viber's and
    WhatsApp's bold); without it every tag goes and only its text stays."""
    text = _plain(parse_telegram_html(source), marks or {})
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def header_text(value: str) -> str:
    """One line for a header: control characters (CR, LF …) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _fill(template: str, **values: object) -> Markup:
    """A translated ``{name}`` template filled in; the text and plain values are escaped."""
    return markup_escape(template).format(**values)


def _code(value: object) -> Markup:
    """A voucher code: left to right in any text, monospace, bold."""
    return Markup(
        '<span dir="ltr" style="font-family:Menlo,Consolas,\'Liberation Mono\',monospace;'
        'font-weight:700;">{}</span>'
    ).format(value)


Attach = Callable[[bytes, str], "str | None"]
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_COLOURS = {"background": "#1F2937", "foreground": "#FFFFFF", "accent": "#F59E0B"}
_QR_SCALE = 4


def _colour(value: str, key: str) -> str:
    # Colours go into style attributes, where HTML escaping protects nothing: only #RRGGBB.
    return value if _COLOUR.fullmatch(value) else DEFAULT_COLOURS[key]


def _colours(card: CardStatus | None) -> dict[str, str]:
    if card is None:
        return dict(DEFAULT_COLOURS)
    return {
        "background": _colour(card.background, "background"),
        "foreground": _colour(card.foreground, "foreground"),
        "accent": _colour(card.accent, "accent"),
    }


def qr_png(link: str) -> bytes:
    """A QR code as PNG: mail clients show neither SVG nor data: URLs."""
    import segno

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=_QR_SCALE, border=4)
    return out.getvalue()


def _card_context(message: OutboundMessage, embed: Attach) -> dict[str, object]:
    card = message.card
    assert card is not None
    zone = ZoneInfo(card.timezone)

    def until(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return format_date(moment.astimezone(zone), "medium", locale=message.language)

    vouchers = [
        {
            "title": voucher.title,
            "code": voucher.code,
            "until": until(voucher.expires_at),
            "qr_cid": embed(qr_png(voucher.qr_link), f"qr{number}") if voucher.qr_link else None,
        }
        for number, voucher in enumerate(card.vouchers, start=1)
    ]
    return {
        "name": card.card_name,
        "logo_cid": embed(card.logo_png, "logo") if card.logo_png else None,
        "stamps": [n < card.balance for n in range(card.stamps_needed)],
        "fraction": f"{min(card.balance, card.stamps_needed)}/{card.stamps_needed}",
        "more": card.stamps_to_reward,
        "reward": card.reward_text,
        "vouchers": vouchers,
    }


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    """Renders the email templates in a language, from catalogs compiled into ``catalogs_dir``."""

    def __init__(
        self,
        catalogs_dir: Path,
        *,
        templates_dir: Path = TEMPLATES_DIR,
        brand: str = "stampbot",
    ) -> None:
        self._catalogs = compile_catalogs(catalogs_dir)
        self._templates_dir = templates_dir
        self._environments: dict[str, Environment] = {}
        self.brand = brand

    def environment(self, language: str) -> Environment:
        """A jinja2 environment with ``language``'s translations installed (cached)."""
        language = language if language in SUPPORTED else "en"
        if language not in self._environments:
            from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

            env = Environment(
                loader=FileSystemLoader(self._templates_dir),
                autoescape=select_autoescape(
                    enabled_extensions=("html",), disabled_extensions=("txt",), default=True
                ),
                extensions=["jinja2.ext.i18n"],
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
            translations: NullTranslations = Translations.load(
                str(self._catalogs), [language], DOMAIN
            )
            env.install_gettext_translations(translations, newstyle=False)  # type: ignore[attr-defined]
            env.filters.update(fill=_fill, code=_code)
            self._environments[language] = env
        return self._environments[language]

    @staticmethod
    def _page(language: str, right_to_left: bool) -> dict[str, object]:
        return {
            "language": language,
            "direction": "rtl" if right_to_left else "ltr",
            "align": "right" if right_to_left else "left",
        }

    def campaign(self, message: OutboundMessage, *, attach: Attach | None = None) -> RenderedEmail:
        """Subject, text and HTML; ``attach`` embeds an image and returns its ``cid:`` name
        (None: the image is left out, e.g. a preview without attachments)."""
        env = self.environment(message.language)
        links = message.links
        embed: Attach = attach or (lambda data, name: None)
        web_link = safe_url(links.get("web"), WEB_SCHEMES)
        context: dict[str, object] = {
            **self._page(message.language, message.right_to_left),
            "subject": message.subject,
            "merchant_name": message.merchant_name,
            "preheader": header_text(message.push_text),
            "web_link": web_link,
            "unsubscribe_link": safe_url(links.get("unsubscribe"), LINK_SCHEMES),
            "open_pixel": safe_url(links.get("open"), WEB_SCHEMES),
            "photo_cid": embed(message.photo, "photo") if message.photo else None,
            "card": _card_context(message, embed) if message.card else None,
            "colours": _colours(message.card),
        }
        click = safe_url(links.get("click"), WEB_SCHEMES)
        body_html = telegram_html_to_email(
            message.html, click=click, right_to_left=message.right_to_left
        )
        html = env.get_template("email/campaign.html").render(context, body=body_html)
        text = env.get_template("email/campaign.txt").render(
            context, body=telegram_html_to_text(message.html)
        )
        return RenderedEmail(header_text(message.subject), text, html)

    def verification(
        self, language: str, merchant_name: str | None, link: str
    ) -> tuple[str, str, str]:
        """Subject, text and HTML of the double opt-in mail; ``link`` confirms the address."""
        url = safe_url(link, WEB_SCHEMES)
        if url is None:
            raise ValueError("the verification link must be an http(s) URL")
        env = self.environment(language)
        context: dict[str, object] = {
            **self._page(language, language in RIGHT_TO_LEFT),
            "merchant_name": merchant_name,
            "brand": self.brand,
            "preheader": "",
            "link": url,
        }
        text_module = env.get_template("email/verify.txt").make_module(context)
        subject = header_text(str(text_module.subject))  # type: ignore[attr-defined]
        html = env.get_template("email/verify.html").render(context, subject=subject)
        return subject, str(text_module), html
