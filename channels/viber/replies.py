"""What Viber's webhook answers a person with, behind the small protocol ``web.viber`` knows.

The webhook turns callbacks into conversation events without importing an adapter; this is
the Viber side of its answers: the welcome message (returned in the HTTP response to
``conversation_started``), answers sent with ``send_message``, and reading a keyboard press
out of a message text (the marker is the renderer's).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from conversation.screen import Screen

from .api import ViberApi, ViberUnavailable
from .render import Sender, action_id, screen_payloads, welcome_payload

logger = logging.getLogger(__name__)


class ViberReplies:
    def __init__(self, api: ViberApi, sender: Sender) -> None:
        self.api = api
        self.sender = sender

    def welcome(self, screen: Screen) -> dict[str, Any]:
        return welcome_payload(screen, self.sender)

    def action_id(self, text: str) -> str | None:
        return action_id(text)

    async def send(self, user_id: str, screens: Sequence[Screen]) -> bool:
        """Send each screen's messages in order; False (and logged) at the first one that does
        not go: the rest would arrive out of context."""
        for screen in screens:
            for payload in screen_payloads(screen, self.sender):
                try:
                    reply = await self.api.send_message(user_id, payload)
                except ViberUnavailable as exc:
                    logger.warning("Viber answer not sent: %s", exc.reason)
                    return False
                if not reply.ok:
                    logger.warning(
                        "Viber refused an answer: %s %s", reply.status, reply.status_message
                    )
                    return False
        return True
