"""Telegram's HTML parse mode, as TDLib's ``parse_html`` in ``MessageEntity.cpp`` runs it.

It walks the UTF-8 bytes so that errors name TDLib's byte offsets, and counts entity offsets
in UTF-16 units; the error wording is TDLib's own (the server prefixes it with
``Bad Request: can't parse entities:``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .entities import (
    SPACES,
    Entity,
    EntityParseError,
    byte_reader,
    decode,
    link_entity,
    sort_entities,
    terminated,
    utf16_units,
)

_LT, _GT, _AMP, _SLASH, _EQ = ord("<"), ord(">"), ord("&"), ord("/"), ord("=")
_QUOTES = frozenset(b"\"'")

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
    data, n, at = byte_reader(source)

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
            utf16 += utf16_units(c)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != _SLASH:
            while at(i) not in SPACES and at(i) != _GT:
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = decode(data[begin + 1 : i]).lower()
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
        while at(i) not in SPACES and at(i) != _GT:
            i += 1
        end_tag = decode(data[begin + 2 : i]).lower()
        while at(i) in SPACES and at(i) != 0:
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
    at = terminated(data)

    argument = ""
    attrs: dict[str, str] = {}
    while at(i) != _GT:
        while at(i) != 0 and at(i) in SPACES:
            i += 1
        if at(i) == _GT:
            break
        name_begin = i
        while at(i) not in SPACES and at(i) not in (_EQ, _GT, _SLASH) and at(i) not in _QUOTES:
            i += 1
        name = decode(data[name_begin:i])
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
            )
        while at(i) != 0 and at(i) in SPACES:
            i += 1
        if at(i) != _EQ:
            if at(i) == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while at(i) != 0 and at(i) in SPACES:
            i += 1
        if at(i) == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if at(i) not in _QUOTES:
            token_begin = i
            while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-"):
                i += 1
            value = decode(data[token_begin:i]).lower()
            if at(i) not in SPACES and at(i) != _GT:
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
            value = decode(raw)
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
        url = top.argument or decode(out[top.begin :])
        link = link_entity(url, offset, length)
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
