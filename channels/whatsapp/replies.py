"""What WhatsApp's webhook answers a person with, behind the small protocol ``web.whatsapp``
knows.

Every answer is a session message (the person just wrote, so the 24-hour window is open):
each screen's messages from :func:`channels.whatsapp.render.screen_payloads`, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from conversation.screen import Screen

from .api import WhatsAppApi, WhatsAppUnavailable
from .render import DEFAULT_LIST_LABEL, screen_payloads

logger = logging.getLogger(__name__)


class WhatsAppReplies:
    def __init__(self, api: WhatsAppApi, *, list_label: str = DEFAULT_LIST_LABEL) -> None:
        self.api = api
        self.list_label = list_label

    async def send(self, user_id: str, screens: Sequence[Screen]) -> bool:
        """Send each screen's messages in order; False (and logged) at the first one that does
        not go: the rest would arrive out of context."""
        for screen in screens:
            for payload in screen_payloads(screen, list_label=self.list_label):
                try:
                    reply = await self.api.send(user_id, payload)
                except WhatsAppUnavailable as exc:
                    logger.warning("WhatsApp answer not sent: %s", exc.reason)
                    return False
                if not reply.ok:
                    detail = reply.error.describe() if reply.error else "no message id"
                    logger.warning("WhatsApp refused an answer: %s", detail)
                    return False
        return True
