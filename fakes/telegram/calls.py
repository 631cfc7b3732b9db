"""One method call as the server sees it: its parameters, uploads and recorded outcome.

The Bot API accepts the same parameters as a query string, a urlencoded or multipart form, or
a JSON body, and reads them leniently (``"true"``, ``1`` and ``True`` are all true); the
method modules read them through :class:`Params` so that every method is lenient alike.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, MultipartReader

# Parameters that carry JSON-serialized objects in form-encoded requests.
JSON_FIELDS: Final = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope",
        "link_preview_options", "reply_parameters", "media", "message_ids",
    }
)  # fmt: skip


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


Uploads = dict[str, UploadedFile]


@dataclass
class RecordedCall:
    """One HTTP request to a method, with nested JSON already decoded."""

    method: str
    params: dict[str, Any]
    files: Uploads
    timestamp: float
    http_method: str = "POST"
    status: int = 0
    response: dict[str, Any] | None = None
    via_webhook_response: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")


@dataclass
class Described:
    """A successful result that Telegram accompanies with a description."""

    result: Any
    description: str


class Params:
    """Typed access to request parameters, lenient the way the Bot API server is."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int = 0) -> int:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)


MethodHandler = Callable[[Params, Uploads], Awaitable[Any]]
CustomHandler = Callable[[dict[str, Any], Uploads], Any]
_Handler = TypeVar("_Handler", bound=Callable[..., Awaitable[Any]])


def bot_method(name: str) -> Callable[[_Handler], _Handler]:
    """Mark a coroutine method as serving the Bot API method ``name`` (e.g. "sendMessage").

    The server collects the marked methods of every mixin when it starts routing, so a method
    is declared once, next to its code, instead of in a table that has to be kept in step.
    """

    def mark(handler: _Handler) -> _Handler:
        handler.bot_method = name  # type: ignore[attr-defined]
        return handler

    return mark


def decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            # Undecodable JSON stays raw; the method then answers with Telegram's error.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def parse_body(content_type: str, body: str) -> dict[str, Any]:
    """Parameters of a JSON or urlencoded body (a webhook's answer); {} if there are none."""
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body))
    try:
        answer = json.loads(body) if body.strip() else None
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


async def read_multipart(reader: MultipartReader) -> tuple[dict[str, Any], Uploads]:
    params: dict[str, Any] = {}
    files: Uploads = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name, data = part.name or "", await part.read(decode=True)
        if part.filename:
            files[name] = UploadedFile(name, part.filename, part.headers.get("Content-Type"), data)
        else:
            params[name] = data.decode("utf-8", "replace")
    return params, files
