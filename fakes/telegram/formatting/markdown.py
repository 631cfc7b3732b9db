"""Telegram's MarkdownV2 and legacy Markdown parse modes, as TDLib's ``MessageEntity.cpp``
runs them (``parse_markdown_v2`` and ``parse_markdown``).

Like the HTML parser they walk UTF-8 bytes and count UTF-16 units. Deliberately not
reproduced: TDLib's later passes that merge adjacent entities of the same type, and the
server-side detection of URL/mention/hashtag entities in text the bot sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .entities import (
    SPACES,
    Entity,
    EntityParseError,
    byte_reader,
    decode,
    link_entity,
    sort_entities,
    utf16_units,
)

_GT, _BACKSLASH, _BACKTICK, _LF, _CR = ord(">"), ord("\\"), ord("`"), ord("\n"), ord("\r")

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
    data, n, at = byte_reader(source)

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
                utf16 += utf16_units(c)
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
                    while at(language_end) not in SPACES and at(language_end) != _BACKTICK:
                        language_end += 1
                    if i != language_end and language_end < n and at(language_end) != _BACKTICK:
                        kind = "pre_code"
                        argument = decode(data[i:language_end])
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
                url = decode(out[top.begin :])
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
                url = decode(raw)
            if kind == "custom_emoji":
                entity = _custom_emoji_or_time(url, top.offset, utf16 - top.offset)
            else:
                entity = link_entity(url, top.offset, utf16 - top.offset)
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
    return decode(out), sort_entities(entities)


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    data, n, at = byte_reader(source)

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
            utf16 += utf16_units(c)
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
            while at(language_end) not in SPACES and at(language_end) != _BACKTICK:
                language_end += 1
            if i != language_end and language_end < n and at(language_end) != _BACKTICK:
                language = decode(data[i:language_end])
                i = language_end
            if at(i) in (_LF, _CR):
                i += 2 if at(i + 1) in (_LF, _CR) and at(i) != at(i + 1) else 1
        offset = utf16
        while i < n and (
            data[i] != end_char
            or (is_pre and not (at(i + 1) == _BACKTICK and at(i + 2) == _BACKTICK))
        ):
            utf16 += utf16_units(data[i])
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
                    url = decode(data[url_start:i])
                else:
                    url = decode(data[begin + 1 : i])
                link = link_entity(url, offset, length)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                entities.append(Entity("pre", offset, length, language=language or None))
            else:
                entities.append(Entity("code", offset, length))
        if is_pre:
            i += 2
    return decode(out), entities
