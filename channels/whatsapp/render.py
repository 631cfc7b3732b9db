"""Screens and campaign messages as WhatsApp Cloud API message objects, within its limits.

Limits (Meta's Cloud API message pages): a text message's ``body`` holds at most 4,096
characters; an interactive message's body and an image's caption 1,024. Reply buttons: at
most 3, ``title`` ≤ 20 characters, ``id`` ≤ 256. A list: one button label ≤ 20, at most 10
sections with at most 10 rows in all, a row ``title`` ≤ 24, ``description`` ≤ 72, ``id`` ≤ 200,
a section ``title`` ≤ 24 (required only with more than one section). A ``cta_url``
interactive message carries one URL button, ``display_text`` ≤ 20.

WhatsApp's marks are Viber's (*bold*, _italic_, ~strike~, ```mono```), so the HTML goes
through :func:`channels.messenger_text.plain`.

The actions of a screen become: 1-3 with an id, reply buttons; 4-10, a list (one section,
rows in the screen's order); more than 10, a list of the first 10 (logged: the author should
split the screen). A single URL action and nothing else becomes a ``cta_url`` button; URL
actions beside id actions (WhatsApp session messages have no mixed keyboard) are written under
the text as "label: url" lines. The interactive message rides on the last part of the text;
since its body holds only 1,024 characters, a longer last part is cut once more so that the
buttons come with the end of the text, as a reader meets them.

Labels are cut on a grapheme boundary: a Hebrew letter keeps its points, a Thai consonant
its vowel and tone marks, an emoji its joiner sequence (cut by characters, then the base
before a combining mark is dropped with the mark), and a cut label ends with "…".
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.messenger_text import plain
from channels.viber.render import split_text
from conversation.screen import Action, Screen

from .api import (
    BUTTON_ID_LIMIT,
    BUTTON_TITLE_LIMIT,
    CAPTION_LIMIT,
    CTA_TEXT_LIMIT,
    INTERACTIVE_BODY_LIMIT,
    LIST_BUTTON_LIMIT,
    LIST_ROWS_LIMIT,
    MAX_REPLY_BUTTONS,
    ROW_DESCRIPTION_LIMIT,
    ROW_ID_LIMIT,
    ROW_TITLE_LIMIT,
    TEXT_LIMIT,
    ListRow,
    ListSection,
    button_message,
    cta_url_message,
    image_message,
    list_message,
    text_message,
)

__all__ = [
    "BUTTON_ID_LIMIT",
    "BUTTON_TITLE_LIMIT",
    "CAPTION_LIMIT",
    "INTERACTIVE_BODY_LIMIT",
    "LIST_BUTTON_LIMIT",
    "LIST_ROWS_LIMIT",
    "MAX_REPLY_BUTTONS",
    "ROW_DESCRIPTION_LIMIT",
    "ROW_TITLE_LIMIT",
    "TEXT_LIMIT",
    "Key",
    "cut_label",
    "message_payloads",
    "screen_payloads",
]

logger = logging.getLogger(__name__)

DEFAULT_LIST_LABEL = "Menu"
_JOINERS = frozenset({"\u200d", "\u034f"})


@dataclass(frozen=True, slots=True)
class Key:
    """One button: ``action_id`` comes back when pressed, ``url`` opens a page."""

    label: str
    action_id: str = ""
    url: str = ""


def _attached(char: str) -> bool:
    """True for a character that belongs to the one before it (a mark, a joiner, a selector)."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or unicodedata.combining(char) != 0
        or char in _JOINERS
        or "\ufe00" <= char <= "\ufe0f"
    )


def cut_label(label: str, limit: int) -> str:
    """``label`` in at most ``limit`` characters, cut before a whole grapheme, with "…"."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    end = limit - 1
    # Back up until the character after the cut starts a grapheme of its own, and the kept
    # text does not end in a joiner waiting for its partner.
    while end > 0 and (_attached(label[end]) or label[end - 1] in _JOINERS):
        end -= 1
    return label[:end].rstrip() + "…"


def _body(text: str) -> str:
    return text or "…"


def _buttons(keys: Sequence[Key], body: str) -> dict[str, Any]:
    titles: list[tuple[str, str]] = []
    for key in keys:
        title = cut_label(key.label, BUTTON_TITLE_LIMIT) or "…"
        # Meta refuses two buttons with one title; a cut can make two labels one.
        while title in (t for _, t in titles):
            title = cut_label(title, BUTTON_TITLE_LIMIT - 1) + "·"
        titles.append((key.action_id[:BUTTON_ID_LIMIT], title))
    return button_message(_body(body), titles)


def _row(key: Key) -> ListRow:
    title = cut_label(key.label, ROW_TITLE_LIMIT) or "…"
    description = ""
    if len(" ".join(key.label.split())) > ROW_TITLE_LIMIT:
        # The whole label, as far as it goes, where the list has room for it.
        description = cut_label(key.label, ROW_DESCRIPTION_LIMIT)
    return ListRow(key.action_id[:ROW_ID_LIMIT], title, description)


def _list(keys: Sequence[Key], body: str, label: str) -> dict[str, Any]:
    button = cut_label(label, LIST_BUTTON_LIMIT) or DEFAULT_LIST_LABEL
    return list_message(_body(body), button, [ListSection(tuple(_row(k) for k in keys))])


def _cta(key: Key, body: str) -> dict[str, Any]:
    return cta_url_message(_body(body), cut_label(key.label, CTA_TEXT_LIMIT) or "…", key.url)


def _interactive(keys: Sequence[Key]) -> tuple[str, list[Key]]:
    """Which interactive message the keys make ("buttons", "list", "cta" or "") and the keys
    it holds."""
    pressed = [k for k in keys if k.action_id]
    links = [k for k in keys if k.url and not k.action_id]
    if not pressed and len(links) == 1:
        return "cta", links
    if len(pressed) > LIST_ROWS_LIMIT:
        logger.warning(
            "a WhatsApp list holds %d rows; %d actions left out",
            LIST_ROWS_LIMIT,
            len(pressed) - LIST_ROWS_LIMIT,
        )
        pressed = pressed[:LIST_ROWS_LIMIT]
    if not pressed:
        return "", []
    return ("buttons" if len(pressed) <= MAX_REPLY_BUTTONS else "list"), pressed


def _link_lines(keys: Sequence[Key], kind: str) -> str:
    if kind == "cta":
        return ""
    return "\n".join(f"{k.label}: {k.url}" for k in keys if k.url and not k.action_id)


def message_payloads(
    text: str,
    *,
    image_url: str = "",
    keys: Sequence[Sequence[Key]] = (),
    list_label: str = DEFAULT_LIST_LABEL,
) -> list[dict[str, Any]]:
    """Plain ``text`` (already in WhatsApp's marks) as the message objects to send, in order,
    without ``to``: a picture first when there is one (the text as its caption when it fits
    and no buttons follow), then the text in parts, the buttons on the last."""
    flat = [key for row in keys for key in row if key.action_id or key.url]
    kind, chosen = _interactive(flat)
    links = _link_lines(flat, kind)
    text = text.strip()
    if links:
        text = f"{text}\n\n{links}" if text else links
    parts = split_text(text, TEXT_LIMIT)
    if kind and parts and len(parts[-1]) > INTERACTIVE_BODY_LIMIT:
        parts[-1:] = split_text(parts[-1], INTERACTIVE_BODY_LIMIT)
    payloads: list[dict[str, Any]] = []
    if image_url:
        caption = ""
        if not kind and len(parts) == 1 and len(parts[0]) <= CAPTION_LIMIT:
            caption = parts.pop()
        payloads.append(image_message(image_url, caption=caption))
    body = parts.pop() if kind and parts else ""
    payloads.extend(text_message(part) for part in parts)
    if kind == "buttons":
        payloads.append(_buttons(chosen, body))
    elif kind == "list":
        payloads.append(_list(chosen, body, list_label))
    elif kind == "cta":
        payloads.append(_cta(chosen[0], body))
    return payloads


def _keys(actions: tuple[tuple[Action, ...], ...]) -> list[list[Key]]:
    return [[Key(a.label, action_id=a.id, url=a.url) for a in row] for row in actions]


def screen_payloads(
    screen: Screen, *, list_label: str = DEFAULT_LIST_LABEL
) -> list[dict[str, Any]]:
    """A conversation screen as WhatsApp messages (its HTML adapted by ``plain``)."""
    return message_payloads(
        plain(screen.text),
        image_url=screen.image_url,
        keys=_keys(screen.actions),
        list_label=list_label,
    )
