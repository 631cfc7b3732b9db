"""The platform-neutral values a conversation is made of.

``Screen`` is what one answer shows; ``Inbound`` is what a person did (typed, pressed, opened
the chat through a join link); ``StatusUpdate`` is a platform's receipt for a message we sent.
Platforms turn their webhooks into ``Inbound`` / ``StatusUpdate`` and their send calls out of
``Screen``; nothing below this line knows a platform's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from channels.base import Action, Receipt

__all__ = [
    "Action",
    "Conversation",
    "Inbound",
    "InboundKind",
    "Screen",
    "StatusUpdate",
]


@dataclass(frozen=True, slots=True)
class Screen:
    """One answer as a person sees it.

    ``text`` is in Telegram's HTML subset (<b>, <i>, <u>, <s>, <a href>, <code>), already
    localized and escaped; platforms without HTML adapt it (``channels.messenger_text``).
    ``image`` is PNG bytes; ``image_url`` a public address of the same picture, for platforms
    that fetch pictures by URL (Viber, WhatsApp). ``actions`` are rows of buttons.
    """

    text: str
    actions: tuple[tuple[Action, ...], ...] = ()
    image: bytes | None = None
    image_url: str = ""

    def flat_actions(self) -> tuple[Action, ...]:
        return tuple(action for row in self.actions for action in row)


class InboundKind(StrEnum):
    # The person opened the chat (Viber's conversation_started; a join link's payload, if any).
    OPENED = "opened"
    TEXT = "text"
    ACTION = "action"
    # The person left the chat on their side (Viber's unsubscribed).
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True, slots=True)
class Inbound:
    """Something a person did in a messenger, as every platform reports it.

    ``user_id`` is the platform's id of the person (Viber user id, WhatsApp number in E.164
    digits); ``account`` the messenger account it reached (the shared bot: ``""``).
    ``payload`` is a join link's context (Viber ``context``), ``text`` what they typed, and
    ``action_id`` the id of the button they pressed.
    """

    platform: str
    user_id: str
    kind: InboundKind
    message_id: str = ""
    account: str = ""
    text: str = ""
    action_id: str = ""
    payload: str = ""
    name: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A platform's receipt for one message we sent, keyed by the id the send call returned
    (Viber ``message_token``, WhatsApp ``wamid``)."""

    platform: str
    external_id: str
    kind: Receipt
    at: datetime
    user_id: str = ""
    error_code: int | None = None
    error_title: str = ""


class Conversation(Protocol):
    """What a platform's webhook hands every event to; the answers are for the platform to
    render and send (Viber returns the answer to ``OPENED`` in the HTTP response)."""

    async def handle(self, inbound: Inbound) -> list[Screen]: ...

    async def receipt(self, update: StatusUpdate) -> None: ...
