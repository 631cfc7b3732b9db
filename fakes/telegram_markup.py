"""Telegram's text-formatting rules for the fake Bot API.

The parsers follow the behaviour of TDLib's ``MessageEntity.cpp`` (``parse_html``,
``parse_markdown_v2`` and ``parse_markdown``), which is what the official Bot API server runs:
they walk the UTF-8 bytes, because TDLib reports error positions as byte offsets, and they
count entity offsets in UTF-16 code units, because that is what the Bot API exposes.
Error messages are TDLib's own; the server prefixes them with
``Bad Request: can't parse entities:``.

Deliberately not reproduced: TDLib's later normalisation passes that merge adjacent entities
of the same type and the server-side detection of URL/mention/hashtag entities in text the bot
sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "Entity",
    "EntityParseError",
    "find_bot_commands",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "sort_entities",
    "trim_text",
    "utf16_len",
]

# TDLib's is_space() includes NUL; its parsers rely on the C string terminator to stop loops,
# which _at() below reproduces by answering 0 past the end.
_SPACES = frozenset(b" \t\r\n\x00\x0b")
_LT, _GT, _AMP, _SLASH, _EQ = ord("<"), ord(">"), ord("&"), ord("/"), ord("=")
_QUOTES = frozenset(b"\"'")
_BACKSLASH, _BACKTICK, _LF, _CR = ord("\\"), ord("`"), ord("\n"), ord("\r")

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

# TDLib's MessageEntity::get_type_priority(); it breaks ties when sorting entities.
_PRIORITY = {
    "mention": 50, "hashtag": 50, "bot_command": 50, "url": 50, "email": 50, "bold": 90,
    "italic": 91, "code": 20, "pre": 11, "text_link": 49, "text_mention": 49, "cashtag": 50,
    "phone_number": 50, "underline": 92, "strikethrough": 93, "blockquote": 0,
    "bank_card_number": 50, "spoiler": 94, "custom_emoji": 99, "expandable_blockquote": 0,
    "date_time": 95,
}  # fmt: skip

# The names TDLib prints in "Can't find end of ... entity" errors.
_TDLIB_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


class EntityParseError(ValueError):
    """A formatting error, worded as TDLib words it."""


@dataclass
class Entity:
    """One MessageEntity; offsets and lengths are UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None
    unix_time: int | None = None
    date_time_format: str | None = None

    def to_dict(self, users: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            data["url"] = self.url
        if self.language:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        if self.user_id is not None:
            # The real server embeds the full User; an unknown one gets a placeholder.
            fallback = {"id": self.user_id, "is_bot": False, "first_name": ""}
            data["user"] = (users or {}).get(self.user_id, fallback)
        if self.unix_time is not None:
            data["unix_time"] = self.unix_time
            if self.date_time_format:
                data["date_time_format"] = self.date_time_format
        return data


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities as TDLib's MessageEntity::operator< does."""
    return sorted(entities, key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 50)))


def _utf16_units(byte: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte: continuation bytes add none."""
    if byte & 0xC0 == 0x80:
        return 0
    return 2 if byte >= 0xF0 else 1


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "replace")


def checked_link(url: str) -> str | None:
    """Mimic LinkManager::get_checked_link: normalise a URL or reject it with None."""
    url = url.strip()
    if not url:
        return None
    lowered = url.lower()
    for scheme in ("tg", "ton"):
        if lowered.startswith(scheme + ":"):
            rest = url[len(scheme) + 1 :].removeprefix("//")
            return f"{scheme}://{rest}" if rest else None
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if "." not in host and ":" not in host:
        return None
    netloc = parts.netloc
    tail = url.split(netloc, 1)[1] if netloc else ""
    if port is None and netloc.endswith(":"):
        netloc = netloc[:-1]
    return f"{parts.scheme.lower()}://{netloc}{tail or '/'}"


def _link_user_id(url: str) -> int | None:
    """tg://user?id=N links become text_mention entities, as LinkManager::get_link_user_id."""
    lowered = url.lower()
    if not lowered.startswith("tg://user?id="):
        return None
    raw = url[len("tg://user?id=") :].split("&", 1)[0]
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _link_entity(kind_url: str, offset: int, length: int) -> Entity | None:
    user_id = _link_user_id(kind_url)
    if user_id is not None:
        return Entity("text_mention", offset, length, user_id=user_id)
    link = checked_link(kind_url)
    return Entity("text_link", offset, length, url=link) if link else None


def _custom_emoji_or_time(url: str, offset: int, length: int) -> Entity:
    """Resolve the target of ``![..](..)`` in MarkdownV2."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme.lower() == "tg" and parts.netloc.lower() == "time":
        unix = query.get("unix", "")
        if not unix.lstrip("-").isdigit():
            raise EntityParseError("Invalid Unix time specified")
        fmt = query.get("format")
        return Entity("date_time", offset, length, unix_time=int(unix), date_time_format=fmt)
    if parts.scheme.lower() != "tg" or parts.netloc.lower() != "emoji":
        raise EntityParseError("Custom emoji URL must have scheme tg and host emoji")
    emoji_id = query.get("id", "")
    if not emoji_id.isdigit() or int(emoji_id) == 0:
        raise EntityParseError("Invalid custom emoji identifier specified")
    return Entity("custom_emoji", offset, length, custom_emoji_id=emoji_id)


# --------------------------------------------------------------------------------------------
# HTML


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Return (code point, end position) for an entity at ``pos``, or (0, pos) if there is none.

    Unknown named entities and bare ``&`` are not errors in TDLib: they stay literal text.
    """
    n = len(data)
    end = pos + 1
    code = 0
    if end < n and data[end] == ord("#"):
        end += 1
        if end < n and data[end] == ord("x"):
            end += 1
            start = end
            while end < n and chr(data[end]) in "0123456789abcdefABCDEF":
                end += 1
            code = int(data[start:end], 16) if end > start else 0
        else:
            start = end
            while end < n and 0x30 <= data[end] <= 0x39:
                end += 1
            code = int(data[start:end]) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while end < n and chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(data[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if end < n and data[end] == ord(";"):
        end += 1
    return code, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    begin: int  # position in the output bytes, for <a> without href
    attrs: dict[str, str]


def parse_html(source: str) -> tuple[str, list[Entity]]:
    data = source.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    out = bytearray()
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    i = 0
    while i < n:
        c = data[i]
        if c == _AMP:
            code, end = _decode_html_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                i = end
                continue
        if c != _LT:
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != _SLASH:
            while at(i) not in _SPACES and at(i) != _GT:
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = _decode(data[begin + 1 : i]).lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument, attrs, i = _read_attributes(data, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append(_OpenTag(tag, argument, utf16, len(out), attrs))
            i += 1
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        end_tag = _decode(data[begin + 2 : i]).lower()
        while at(i) in _SPACES and at(i) != 0:
            i += 1
        if at(i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        top = stack[-1]
        if end_tag and end_tag != top.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{top.name}>", '
                f'found "</{end_tag}>"'
            )
        if utf16 > top.offset:
            _close_html_entity(top, utf16 - top.offset, out, entities)
        stack.pop()
        i += 1

    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    for entity in entities:
        if entity.type == "code":
            entity.language = None
    try:
        text = bytes(out).decode("utf-8")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return text, sort_entities(entities)


def _read_attributes(data: bytes, i: int, tag: str, begin: int) -> tuple[str, dict[str, str], int]:
    """Parse attributes up to the closing ``>``; returns (argument, attributes, index of '>')."""
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    argument = ""
    attrs: dict[str, str] = {}
    while at(i) != _GT:
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) == _GT:
            break
        name_begin = i
        while at(i) not in _SPACES and at(i) not in (_EQ, _GT, _SLASH) and at(i) not in _QUOTES:
            i += 1
        name = _decode(data[name_begin:i])
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
            )
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != _EQ:
            if at(i) == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if at(i) not in _QUOTES:
            token_begin = i
            while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-"):
                i += 1
            value = _decode(data[token_begin:i]).lower()
            if at(i) not in _SPACES and at(i) != _GT:
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {token_begin}"
                )
        else:
            quote = at(i)
            i += 1
            raw = bytearray()
            while at(i) != quote and at(i) != 0:
                if at(i) == _AMP:
                    code, end = _decode_html_entity(data, i)
                    if code:
                        raw += chr(code).encode("utf-8", "surrogatepass")
                        i = end
                        continue
                raw.append(at(i))
                i += 1
            if at(i) == quote:
                i += 1
            value = _decode(raw)
        if at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        attrs[name] = value
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif (tag == "tg-emoji" and name == "emoji-id") or (tag == "tg-time" and name == "unix"):
            argument = value
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return argument, attrs, i


def _close_html_entity(top: _OpenTag, length: int, out: bytearray, entities: list[Entity]) -> None:
    offset, tag = top.offset, top.name
    last = entities[-1] if entities else None
    same_span = last is not None and last.offset == offset and last.length == length
    if tag in _HTML_SIMPLE:
        entities.append(Entity(_HTML_SIMPLE[tag], offset, length))
    elif tag == "tg-emoji":
        if not top.argument.isdigit() or int(top.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=top.argument))
    elif tag == "tg-time":
        if top.argument.lstrip("-").isdigit():
            entities.append(
                Entity(
                    "date_time",
                    offset,
                    length,
                    unix_time=int(top.argument),
                    date_time_format=top.attrs.get("format"),
                )
            )
    elif tag == "a":
        url = top.argument or _decode(out[top.begin :])
        link = _link_entity(url, offset, length)
        if link is not None:
            entities.append(link)
    elif tag == "pre":
        # <pre><code class="language-x"> closes inside-out: the code entity is already there.
        if last is not None and same_span and last.type == "code" and last.language:
            last.type = "pre"
        else:
            entities.append(Entity("pre", offset, length))
    elif tag == "code":
        if last is not None and same_span and last.type == "pre" and top.argument:
            last.language = top.argument
        else:
            entities.append(Entity("code", offset, length, language=top.argument or None))
    elif tag == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append(Entity(kind, offset, length))


# --------------------------------------------------------------------------------------------
# MarkdownV2


@dataclass
class _OpenMd:
    type: str  # entity type, or "pre_code" while a language is attached
    argument: str
    offset: int
    byte_offset: int
    begin: int


_MD_RESERVED = b"_*[]()~`>#+-=|{}.!\n"


def _reserved_error(char: int) -> EntityParseError:
    return EntityParseError(
        f"Character '{chr(char)}' is reserved and must be escaped with the preceding '\\'"
    )


def _unclosed(top: _OpenMd) -> EntityParseError:
    return EntityParseError(
        f"Can't find end of {_TDLIB_NAMES[top.type]} entity at byte offset {top.byte_offset}"
    )


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    data = source.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    out = bytearray()
    utf16 = 0
    stack: list[_OpenMd] = []
    entities: list[Entity] = []
    have_blockquote = False
    can_start_blockquote = True
    i = -1
    while True:
        i += 1  # a C-style for loop, so that `continue` advances like TDLib's
        if i >= n:
            break
        c = data[i]
        if c == _BACKSLASH and 0 < at(i + 1) <= 126:
            i += 1
            utf16 += 1
            out.append(data[i])
            if data[i] != _CR:
                can_start_blockquote = data[i] == _LF
            continue
        in_code = bool(stack) and stack[-1].type in ("code", "pre", "pre_code")
        reserved = b"`" if in_code else _MD_RESERVED
        if c not in reserved:
            if c & 0xC0 != 0x80:
                utf16 += _utf16_units(c)
                if c != _CR:
                    can_start_blockquote = False
            out.append(c)
            continue

        is_end = False
        if stack:
            top_type = stack[-1].type
            if have_blockquote and c == _LF and (i + 1 == n or data[i + 1] != _GT):
                is_end = True
            else:
                is_end = {
                    "bold": c == ord("*"),
                    "italic": c == ord("_") and at(i + 1) != ord("_"),
                    "code": c == _BACKTICK,
                    "pre": c == _BACKTICK and at(i + 1) == _BACKTICK and at(i + 2) == _BACKTICK,
                    "text_link": c == ord("]"),
                    "underline": c == ord("_") and at(i + 1) == ord("_"),
                    "strikethrough": c == ord("~"),
                    "spoiler": c == ord("|") and at(i + 1) == ord("|"),
                    "custom_emoji": c == ord("]"),
                    "blockquote": False,
                }.get("pre" if top_type == "pre_code" else top_type, False)

        if not is_end:
            kind: str | None
            argument = ""
            byte_offset = i
            if c == ord("_"):
                kind = "italic"
                if at(i + 1) == ord("_"):
                    kind = "underline"
                    i += 1
            elif c == ord("*"):
                kind = "bold"
            elif c == ord("~"):
                kind = "strikethrough"
            elif c == ord("|"):
                if at(i + 1) != ord("|"):
                    raise _reserved_error(c)
                i += 1
                kind = "spoiler"
            elif c == ord("["):
                kind = "text_link"
            elif c == _BACKTICK:
                kind = "code"
                if at(i + 1) == _BACKTICK and at(i + 2) == _BACKTICK:
                    i += 3
                    kind = "pre"
                    language_end = i
                    while at(language_end) not in _SPACES and at(language_end) != _BACKTICK:
                        language_end += 1
                    if i != language_end and language_end < n and at(language_end) != _BACKTICK:
                        kind = "pre_code"
                        argument = _decode(data[i:language_end])
                        i = language_end
                    if at(i) in (_LF, _CR):
                        if at(i + 1) in (_LF, _CR) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
            elif c == ord("!"):
                if at(i + 1) != ord("["):
                    raise _reserved_error(c)
                i += 1
                kind = "custom_emoji"
            elif c == _LF:
                utf16 += 1
                out.append(_LF)
                can_start_blockquote = True
                kind = None
            elif c == _GT:
                if not can_start_blockquote:
                    raise _reserved_error(c)
                kind = None
                if not have_blockquote:
                    kind = "blockquote"
                    have_blockquote = True
            else:
                raise _reserved_error(c)
            if kind is not None:
                stack.append(_OpenMd(kind, argument, utf16, byte_offset, len(out)))
            continue

        top = stack[-1]
        kind = top.type
        if c == _LF and kind != "blockquote":
            ends_spoiler = top.byte_offset == i - 2 or (
                top.byte_offset == i - 3 and out and out[-1] == _CR
            )
            if kind != "spoiler" or not ends_spoiler:
                raise _unclosed(top)
            stack.pop()
            top = stack[-1]
            if top.type != "blockquote":
                raise _unclosed(top)
            kind = "expandable_blockquote"
        skip = utf16 == top.offset
        entity: Entity | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            if at(i + 1) != ord("("):
                if kind == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = _decode(out[top.begin :])
            else:
                i += 2
                url_begin = i
                raw = bytearray()
                while i < n and data[i] != ord(")"):
                    if data[i] == _BACKSLASH and 0 < at(i + 1) <= 126:
                        raw.append(data[i + 1])
                        i += 2
                        continue
                    raw.append(data[i])
                    i += 1
                if at(i) != ord(")"):
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise EntityParseError(f"Can't find end of {what} at byte offset {url_begin}")
                url = _decode(raw)
            if kind == "custom_emoji":
                entity = _custom_emoji_or_time(url, top.offset, utf16 - top.offset)
            else:
                entity = _link_entity(url, top.offset, utf16 - top.offset)
                skip = skip or entity is None
        elif kind in ("blockquote", "expandable_blockquote"):
            have_blockquote = False
            out.append(data[i])
            can_start_blockquote = True
            utf16 += 1
            skip = False
        if not skip:
            if entity is None:
                entity_type = "pre" if kind == "pre_code" else kind
                entity = Entity(entity_type, top.offset, utf16 - top.offset)
                if kind == "pre_code":
                    entity.language = top.argument
            entities.append(entity)
        stack.pop()

    if have_blockquote:
        kind = "blockquote"
        if stack[-1].type == "spoiler" and stack[-1].byte_offset == n - 2:
            stack.pop()
            kind = "expandable_blockquote"
        if stack[-1].type == "blockquote":
            top = stack.pop()
            if utf16 != top.offset:
                entities.append(Entity(kind, top.offset, utf16 - top.offset))
    if stack:
        raise _unclosed(stack[-1])
    return _decode(out), sort_entities(entities)


# --------------------------------------------------------------------------------------------
# Legacy Markdown


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    data = source.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    out = bytearray()
    entities: list[Entity] = []
    utf16 = 0
    specials = b"_*`["
    i = -1
    while True:
        i += 1
        if i >= n:
            break
        c = data[i]
        if c == _BACKSLASH and at(i + 1) in specials and at(i + 1):
            i += 1
            out.append(data[i])
            utf16 += 1
            continue
        if c not in specials:
            utf16 += _utf16_units(c)
            out.append(c)
            continue
        begin = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        language = ""
        i += 1
        if c == _BACKTICK and at(i) == _BACKTICK and at(i + 1) == _BACKTICK:
            i += 2
            is_pre = True
            language_end = i
            while at(language_end) not in _SPACES and at(language_end) != _BACKTICK:
                language_end += 1
            if i != language_end and language_end < n and at(language_end) != _BACKTICK:
                language = _decode(data[i:language_end])
                i = language_end
            if at(i) in (_LF, _CR):
                i += 2 if at(i + 1) in (_LF, _CR) and at(i) != at(i + 1) else 1
        offset = utf16
        while i < n and (
            data[i] != end_char
            or (is_pre and not (at(i + 1) == _BACKTICK and at(i + 2) == _BACKTICK))
        ):
            utf16 += _utf16_units(data[i])
            out.append(data[i])
            i += 1
        if i == n:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        if offset != utf16:
            length = utf16 - offset
            if c == ord("_"):
                entities.append(Entity("italic", offset, length))
            elif c == ord("*"):
                entities.append(Entity("bold", offset, length))
            elif c == ord("["):
                if at(i + 1) == ord("("):
                    i += 2
                    url_start = i
                    while i < n and data[i] != ord(")"):
                        i += 1
                    url = _decode(data[url_start:i])
                else:
                    url = _decode(data[begin + 1 : i])
                link = _link_entity(url, offset, length)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                entities.append(Entity("pre", offset, length, language=language or None))
            else:
                entities.append(Entity("code", offset, length))
        if is_pre:
            i += 2
    return _decode(out), entities


# --------------------------------------------------------------------------------------------
# Post-processing and detection


_TRIM = " \t\r\n"


def trim_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace and clip entities, as TDLib's fix_formatted_text does."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM))])
    size = utf16_len(stripped)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - lead, 0)
        end = min(entity.offset + entity.length - lead, size)
        if end > start:
            entity.offset, entity.length = start, end - start
            result.append(entity)
    return stripped, result


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def find_bot_commands(text: str) -> list[Entity]:
    """Detect ``/command[@bot]`` the way TDLib's match_bot_commands regex does."""
    found: list[Entity] = []
    pos = 0
    while (pos := text.find("/", pos)) != -1:
        start = pos
        if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in "/<>"):
            pos += 1
            continue
        pos += 1
        while pos < len(text) and text[pos].isascii() and _is_word_char(text[pos]):
            pos += 1
        if not 1 <= pos - start - 1 <= 64:
            continue
        if pos < len(text) and text[pos] == "@":
            mention_start = pos + 1
            pos = mention_start
            while pos < len(text) and text[pos].isascii() and _is_word_char(text[pos]):
                pos += 1
            if not 3 <= pos - mention_start <= 32:
                continue
        if pos < len(text) and (_is_word_char(text[pos]) or text[pos] in "/<>"):
            continue
        offset = utf16_len(text[:start])
        found.append(Entity("bot_command", offset, utf16_len(text[start:pos])))
    return found
