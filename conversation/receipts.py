"""A messenger's receipts, from the conversation to the delivery rows they are about."""

from __future__ import annotations

from campaigns.receipts import Receipt, record_receipt
from models.enums import MESSENGERS, Channel

from .screen import ReceiptKind, StatusUpdate

_RECEIPTS = {
    ReceiptKind.DELIVERED: Receipt.DELIVERED,
    ReceiptKind.READ: Receipt.READ,
    ReceiptKind.FAILED: Receipt.FAILED,
}


class DeliveryReceipts:
    """``receipt`` of a conversation: each status update onto the campaign or automation
    message it names (``sent`` tells nothing the send call did not)."""

    async def record(self, update: StatusUpdate) -> None:
        kind = _RECEIPTS.get(update.kind)
        channel = next((c for c in MESSENGERS if c.value == update.platform), None)
        if kind is None or channel is None or channel == Channel.TELEGRAM:
            return
        await record_receipt(
            channel,
            update.external_id,
            kind,
            at=update.at,
            user_id=update.user_id,
            error_code=update.error_code,
            detail=update.error_title,
        )
