"""Screens and campaign messages as Viber ``send_message`` payloads, within Viber's limits.

Limits (Viber's REST bot API documentation): a text message holds at most 7,000 characters;
a picture's description 768 (older versions of the page said 512, which we keep to, so older
clients show it whole); a keyboard is 6 columns wide, a button 1-6 columns and 1-2 rows, its
text at most 250 characters, and a portrait keyboard shows at most 12 rows (Viber's FAQ). We
also keep to 24 buttons per keyboard, the figure integrators quote. A request's JSON may hold
at most 30 KB, which a 7,000-character part with a full keyboard stays well under.

Text longer than a message is split at the last paragraph break before the limit, else the last
line break, else the last space, else hard; the keyboard rides on the last part, as a reader
sees it after the whole text. The keyboard replaces the phone's own keyboard until another
one is sent (Viber shows the last keyboard it received).

Buttons: an action with an id is a ``reply`` button whose ``ActionBody`` is the id behind
:data:`ACTION_PREFIX`. Viber reports a press as an ordinary ``message`` from the person whose
text is the ``ActionBody``, so the marker is what tells the webhook "pressed" from "typed"
(someone typing ``act:card`` by hand presses nothing they could not press). ``Silent`` keeps
the body out of the chat, where it would show as the person's message. An action with a url
is an ``open-url`` button.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.messenger_text import plain
from conversation.screen import Action, Screen

__all__ = [
    "ACTION_PREFIX",
    "BUTTON_TEXT_LIMIT",
    "KEYBOARD_COLUMNS",
    "KEYBOARD_MAX_BUTTONS",
    "KEYBOARD_MAX_ROWS",
    "PICTURE_TEXT_LIMIT",
    "SENDER_NAME_LIMIT",
    "TEXT_LIMIT",
    "Key",
    "Sender",
    "action_id",
    "keyboard",
    "message_payloads",
    "screen_payloads",
    "split_text",
    "welcome_payload",
]

TEXT_LIMIT = 7000
PICTURE_TEXT_LIMIT = 512
KEYBOARD_COLUMNS = 6
KEYBOARD_MAX_ROWS = 12
KEYBOARD_MAX_BUTTONS = 24
BUTTON_TEXT_LIMIT = 250
SENDER_NAME_LIMIT = 28
ACTION_PREFIX = "act:"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a message says it is from: ``sender.name`` (≤ 28 characters) and avatar URL."""

    name: str
    avatar: str = ""

    def payload(self) -> dict[str, str]:
        sender = {"name": self.name[:SENDER_NAME_LIMIT]}
        if self.avatar:
            sender["avatar"] = self.avatar
        return sender


@dataclass(frozen=True, slots=True)
class Key:
    """One keyboard button: ``action_id`` comes back when pressed, ``url`` opens a page."""

    label: str
    action_id: str = ""
    url: str = ""


def action_id(text: str) -> str | None:
    """The action id a ``message`` text carries when it is a button press, else None."""
    if text.startswith(ACTION_PREFIX) and len(text) > len(ACTION_PREFIX):
        return text[len(ACTION_PREFIX) :]
    return None


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at the best boundary."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for boundary in ("\n\n", "\n", " "):
            cut = window.rfind(boundary, 1, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def keyboard(rows: Sequence[Sequence[Key]]) -> dict[str, Any] | None:
    """A Viber keyboard of ``rows``: each row's buttons share its 6 columns (a row of more
    than 6 wraps); rows past 12, or buttons past 24, are left out (the screen's author gets a
    shorter keyboard, never a refused message)."""
    buttons: list[dict[str, Any]] = []
    used_rows = 0
    for row in rows:
        row = [key for key in row if key.action_id or key.url]
        for start in range(0, len(row), KEYBOARD_COLUMNS):
            chunk = row[start : start + KEYBOARD_COLUMNS]
            if used_rows == KEYBOARD_MAX_ROWS:
                return _keyboard(buttons)
            if len(buttons) + len(chunk) > KEYBOARD_MAX_BUTTONS:
                chunk = chunk[: KEYBOARD_MAX_BUTTONS - len(buttons)]
            columns = KEYBOARD_COLUMNS // max(1, len(chunk))
            buttons.extend(_button(key, columns) for key in chunk)
            used_rows += 1
            if len(buttons) == KEYBOARD_MAX_BUTTONS:
                return _keyboard(buttons)
    return _keyboard(buttons)


def _keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not buttons:
        return None
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}


def _button(key: Key, columns: int) -> dict[str, Any]:
    # Button text may hold a few HTML tags: a label is text, so its < and & are escaped.
    label = html.escape(key.label, quote=False)[:BUTTON_TEXT_LIMIT]
    if key.url:
        return {
            "Columns": columns,
            "Rows": 1,
            "ActionType": "open-url",
            "ActionBody": key.url,
            "Text": label,
        }
    return {
        "Columns": columns,
        "Rows": 1,
        "ActionType": "reply",
        "ActionBody": ACTION_PREFIX + key.action_id,
        "Text": label,
        "Silent": True,
    }


def message_payloads(
    text: str,
    sender: Sender,
    *,
    image_url: str = "",
    keys: Sequence[Sequence[Key]] = (),
) -> list[dict[str, Any]]:
    """Plain ``text`` (already in Viber's marks) as the messages to send, in order, without
    ``receiver``: a picture first when there is one (with the text as its description when it
    fits), then the text in parts; the keyboard on the last."""
    base: dict[str, Any] = {"sender": sender.payload()}
    payloads: list[dict[str, Any]] = []
    parts = split_text(text)
    if image_url:
        caption = ""
        if len(parts) == 1 and len(parts[0]) <= PICTURE_TEXT_LIMIT:
            caption = parts.pop()
        payloads.append({**base, "type": "picture", "text": caption, "media": image_url})
    payloads.extend({**base, "type": "text", "text": part} for part in parts)
    board = keyboard(keys)
    if board is not None and payloads:
        payloads[-1]["keyboard"] = board
    return payloads


def _keys(actions: tuple[tuple[Action, ...], ...]) -> list[list[Key]]:
    return [[Key(a.label, action_id=a.id, url=a.url) for a in row] for row in actions]


def screen_payloads(screen: Screen, sender: Sender) -> list[dict[str, Any]]:
    """A conversation screen as Viber messages (its HTML adapted by ``plain``)."""
    return message_payloads(
        plain(screen.text), sender, image_url=screen.image_url, keys=_keys(screen.actions)
    )


def welcome_payload(screen: Screen, sender: Sender) -> dict[str, Any]:
    """The one message Viber lets us answer ``conversation_started`` with (in the HTTP
    response): the screen's first message, text cut to one part, keyboard kept."""
    text = plain(screen.text).strip()
    board = keyboard(_keys(screen.actions))
    payload: dict[str, Any] = {"sender": sender.payload()}
    if screen.image_url and len(text) <= PICTURE_TEXT_LIMIT:
        payload |= {"type": "picture", "text": text, "media": screen.image_url}
    else:
        first = split_text(text)[:1] or [""]
        cut = first[0] if len(first[0]) == len(text) else first[0][: TEXT_LIMIT - 1] + "…"
        payload |= {"type": "text", "text": cut}
    if board is not None:
        payload["keyboard"] = board
    return payload
