"""Telegram's text-formatting rules: parse modes, entities as the Bot API returns them.

The parsers follow TDLib's ``MessageEntity.cpp``, which is what the official Bot API server
runs; :func:`format_text` is the one entry the methods use, turning a request's text plus
``parse_mode`` or explicit entities into what Telegram stores, or into its error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from ..calls import Params
from ..errors import bad_request
from .entities import (
    Entity,
    EntityParseError,
    find_bot_commands,
    sort_entities,
    trim_text,
    utf16_len,
)
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "Entity",
    "EntityParseError",
    "find_bot_commands",
    "format_param",
    "format_text",
    "message_text",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "sort_entities",
    "trim_text",
    "utf16_len",
]

# Telegram counts both in UTF-16 units, after parsing and trimming.
TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024

_PARSERS: Final[dict[str, Callable[[str], tuple[str, list[Entity]]]]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def format_text(
    text: str,
    parse_mode: str | None,
    raw_entities: Any,
    *,
    field_name: str,
    users: Mapping[int, dict[str, Any]],
) -> tuple[str, list[dict[str, Any]]]:
    """Turn text plus parse_mode/entities into Telegram's plain text and entity list.

    ``users`` are the known users, embedded in text_mention entities as the server does.
    """
    mode = (parse_mode or "").strip().lower()
    if text and mode and mode != "none":
        parser = _PARSERS.get(mode)
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            plain, entities = parser(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        plain, entities = text, _input_entities(raw_entities, field_name)
    plain, entities = trim_text(plain, entities)
    return plain, [e.to_dict(users) for e in entities]


def format_param(
    params: Params, name: str, entities_field: str, users: Mapping[int, dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """:func:`format_text` of the request's ``name`` ("text", "caption"), its parse_mode and
    its ``entities_field`` ("entities", "caption_entities")."""
    return format_text(
        params.text(name) or "",
        params.text("parse_mode"),
        params.raw.get(entities_field),
        field_name=entities_field,
        users=users,
    )


def message_text(
    params: Params, users: Mapping[int, dict[str, Any]], *, too_long: str
) -> tuple[str, list[dict[str, Any]]]:
    """The formatted ``text`` of a send or edit, which must be non-empty and within the limit;
    ``too_long`` is the wording of the method (sendMessage and the edits word it apart)."""
    plain, entities = format_param(params, "text", "entities", users)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > TEXT_LIMIT:
        raise bad_request(too_long)
    return plain, entities


def _input_entities(raw: Any, field_name: str) -> list[Entity]:
    """Entities the bot sent explicitly (``entities``/``caption_entities``), validated."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise bad_request(f"can't parse {field_name} JSON object")
    entities = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request(f"can't parse {field_name} JSON object")
        user = item.get("user")
        entities.append(
            Entity(
                item["type"],
                int(item.get("offset", 0)),
                int(item.get("length", 0)),
                url=item.get("url"),
                language=item.get("language"),
                custom_emoji_id=item.get("custom_emoji_id"),
                user_id=int(user["id"]) if isinstance(user, dict) else None,
                unix_time=item.get("unix_time"),
                date_time_format=item.get("date_time_format"),
            )
        )
    return sort_entities([e for e in entities if e.length > 0])
