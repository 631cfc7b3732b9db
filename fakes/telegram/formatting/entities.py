"""Message entities and what the three parsers share: UTF-16 offsets, links, trimming.

Entity offsets and lengths are UTF-16 code units, because that is what the Bot API exposes;
the parsers walk UTF-8 bytes, because TDLib reports error positions as byte offsets. The
helpers here convert between the two and resolve links the way TDLib's LinkManager does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# TDLib's is_space() includes NUL; its parsers rely on the C string terminator to stop loops,
# which ``byte_reader`` reproduces by answering 0 past the end.
SPACES = frozenset(b" \t\r\n\x00\x0b")

# TDLib's MessageEntity::get_type_priority(); it breaks ties when sorting entities.
_PRIORITY = {
    "mention": 50, "hashtag": 50, "bot_command": 50, "url": 50, "email": 50, "bold": 90,
    "italic": 91, "code": 20, "pre": 11, "text_link": 49, "text_mention": 49, "cashtag": 50,
    "phone_number": 50, "underline": 92, "strikethrough": 93, "blockquote": 0,
    "bank_card_number": 50, "spoiler": 94, "custom_emoji": 99, "expandable_blockquote": 0,
    "date_time": 95,
}  # fmt: skip


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

    def to_dict(self, users: Mapping[int, dict[str, Any]] | None = None) -> dict[str, Any]:
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


def byte_reader(source: str) -> tuple[bytes, int, Callable[[int], int]]:
    """The UTF-8 bytes of ``source``, their count, and a reader that answers 0 past the end
    (TDLib's C string terminator), which every parser loop relies on to stop."""
    data = source.encode("utf-8", "surrogatepass")
    return data, len(data), terminated(data)


def terminated(data: bytes) -> Callable[[int], int]:
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    return at


def utf16_units(byte: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte: continuation bytes add none."""
    if byte & 0xC0 == 0x80:
        return 0
    return 2 if byte >= 0xF0 else 1


def decode(data: bytes | bytearray) -> str:
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


def link_entity(kind_url: str, offset: int, length: int) -> Entity | None:
    """The entity a link markup makes: a text_mention, a text_link, or none for a bad URL."""
    user_id = _link_user_id(kind_url)
    if user_id is not None:
        return Entity("text_mention", offset, length, user_id=user_id)
    link = checked_link(kind_url)
    return Entity("text_link", offset, length, url=link) if link else None


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
