"""Sending to a person who came through a shop's own Viber bot or WhatsApp number.

Viber and WhatsApp user ids are the bot's or the number's own: the shared account cannot
write to them. So such a message goes through that account's client, counted in that
account's own rate bucket, or, the account disconnected, not at all: unreachable, so the
delivery is not retried and the person is reached on their other channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar

from channels.base import DeliveryChannel, DeliveryResult, OutboundMessage, Reason

C = TypeVar("C")
C_co = TypeVar("C_co", covariant=True)


class OwnAccounts(Protocol[C_co]):
    """Shops' own accounts of one platform by id (``bot.shop_accounts.ChatAccounts``)."""

    async def client_of_account(self, account_id: int | None) -> C_co | None: ...


async def send_through_account(
    message: OutboundMessage,
    account_id: int,
    accounts: OwnAccounts[C] | None,
    channel_for: Callable[[C, int], DeliveryChannel],
    off: str,
) -> DeliveryResult:
    """``message`` through account ``account_id``'s channel (``channel_for`` its client);
    unreachable, with ``off`` as the detail, when the account is not connected."""
    client = await accounts.client_of_account(account_id) if accounts is not None else None
    if client is None:
        return DeliveryResult.failed(Reason.UNREACHABLE, unreachable=True, detail=off)
    return await channel_for(client, account_id).send(replace(message, account_id=None))
