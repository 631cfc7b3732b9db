"""A conversation that records what a platform's webhook handed it, for the webhook tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from conversation.screen import Action, Inbound, Screen, StatusUpdate


@dataclass
class Recording:
    """Answers every event with one screen (bold text, one button) and keeps what it heard."""

    heard: list[Inbound] = field(default_factory=list)
    receipts: list[StatusUpdate] = field(default_factory=list)

    async def handle(self, inbound: Inbound) -> list[Screen]:
        self.heard.append(inbound)
        return [Screen("<b>Hello</b>", ((Action("Card", id="card:list:0"),),))]

    async def receipt(self, update: StatusUpdate) -> None:
        self.receipts.append(update)
