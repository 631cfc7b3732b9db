"""Probing the web app as an attacker would: raw sockets, and what a request may not change.

``raw_exchange`` writes bytes exactly as given (in several writes, with pauses), which aiohttp's
client cannot: half a body, a non-ASCII header, headers that never end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest
from tortoise import Tortoise


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


async def raw_exchange(
    url: str, chunks: Sequence[bytes], *, pause: float = 0.0, wait: float = 10.0
) -> tuple[int, bytes]:
    """Send ``chunks`` to ``url``'s server one write at a time; the status and the raw reply."""
    host, port = host_port(url)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
        reply = await asyncio.wait_for(reader.read(65536), wait)
    finally:
        writer.close()
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else 0
    return status, reply


def request_bytes(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT"}:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def database_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ours, to show a request changed nothing at all."""
    snapshot = {}
    connection = Tortoise.get_connection("default")
    for model in Tortoise.apps.get_models_iterable():
        if model._meta.app != "models" or model._meta.db_table == "aerich":
            continue
        table = model._meta.db_table
        _, rows = await connection.execute_query(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608
        snapshot[table] = [tuple(row) for row in rows]  # sqlite3.Row and asyncpg Record
    return snapshot


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records at ERROR or worse, for asserting that none were written."""
    return [record.getMessage() for record in caplog.records if record.levelno >= 40]


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(token: str) -> list[str]:
    """Strings Python's base64 decoder reads as ``token``'s own bytes: unused low bits of a
    segment's last character set, "+" for "-", padding, characters outside the alphabet."""
    variants = []
    segments = token.split(".")
    for index, segment in enumerate(segments):
        unused_bits = (6 * len(segment)) % 8
        last = _B64.index(segment[-1])
        changed = [
            segment[:-1] + _B64[last | 1] if unused_bits and not last & 1 else None,
            segment + "==" if len(segment) % 4 == 2 else segment + "=",
            segment[:3] + "!!!!" + segment[3:],
            segment.replace("-", "+") if "-" in segment else None,
        ]
        for spelling in changed:
            if spelling is not None and spelling != segment:
                variants.append(".".join([*segments[:index], spelling, *segments[index + 1 :]]))
    return variants
