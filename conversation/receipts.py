"""A messenger's receipts, from the conversation to the delivery rows they are about."""

from __future__ import annotations

from campaigns.receipts import record_receipt
from models.enums import MESSENGERS, Channel

from .screen import StatusUpdate


class DeliveryReceipts:
    """``receipt`` of a conversation: each status update onto the campaign or automation
    message it names."""

    async def record(self, update: StatusUpdate) -> None:
        channel = next((c for c in MESSENGERS if c.value == update.platform), None)
        if channel is None or channel == Channel.TELEGRAM:
            return
        await record_receipt(
            channel,
            update.external_id,
            update.kind,
            at=update.at,
            user_id=update.user_id,
            error_code=update.error_code,
            detail=update.error_title,
        )
