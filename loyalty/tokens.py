"""Unguessable tokens for links and human-friendly voucher codes."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

# 16 random bytes = 128 bits; urlsafe base64 stays inside Telegram's start-payload alphabet.
TOKEN_BYTES = 16

# Crockford-style alphabet without 0/O and 1/I/L: nothing a cashier can misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
CODE_GROUP = 4
_CODE_SEPARATORS = re.compile(r"[\s\-_.]+")
# Telegram's rule for a /start payload.
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


class LinkKind(StrEnum):
    """Deep-link payload prefixes: what a ``/start`` payload points at."""

    JOIN = "j"
    STAFF_INVITE = "i"
    MEMBERSHIP = "m"
    VOUCHER = "v"
    # A member's invite link for a friend (refer a friend).
    REFERRAL = "r"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_voucher_code() -> str:
    return _new_code(CODE_LENGTH)


def normalize_voucher_code(text: str) -> str | None:
    """Accept what a cashier types (any case, spaces or dashes); ``None`` when it cannot be one."""
    return _normalize_code(text, CODE_LENGTH)


def _grouped(raw: str) -> str:
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def _new_code(length: int) -> str:
    return _grouped("".join(secrets.choice(CODE_ALPHABET) for _ in range(length)))


def _normalize_code(text: str, length: int) -> str | None:
    raw = _CODE_SEPARATORS.sub("", text.strip().upper())
    if len(raw) != length or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return _grouped(raw)


# The code under a customer's QR for typing at the till: 8 characters (31^8 ≈ 8.5·10^11), found
# only among the cards of the shops the typing staff member works for.
COUNTER_CODE_LENGTH = 8


def new_counter_code() -> str:
    return _new_code(COUNTER_CODE_LENGTH)


def normalize_counter_code(text: str) -> str | None:
    return _normalize_code(text, COUNTER_CODE_LENGTH)


def payload(kind: LinkKind, token: str) -> str:
    return f"{kind.value}-{token}"


def parse_payload(text: str) -> tuple[LinkKind, str] | None:
    """Split a ``/start`` payload; ``None`` for anything that is not one of ours."""
    kind, sep, token = text.partition("-")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{16,62}", token):
        return None
    try:
        return LinkKind(kind), token
    except ValueError:
        return None


def start_link(bot_username: str, kind: LinkKind, token: str) -> str:
    """``https://t.me/<bot>?start=<payload>``.

    Built here rather than with aiogram's ``create_deep_link`` because the domain must not
    import aiogram (importing it costs about two seconds of start-up).
    """
    text = payload(kind, token)
    if not _BOT_USERNAME.fullmatch(bot_username):
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not _START_PAYLOAD.fullmatch(text):
        raise ValueError("a start payload is 1-64 characters of A-Z a-z 0-9 _ -")
    return f"https://t.me/{bot_username}?start={text}"
