"""Closing the shops' clients at a stop: all of them, side by side."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest

from bot.shop_accounts import AccountClients
from models import MessengerAccount


def _account(account_id: int, credential: str) -> MessengerAccount:
    return cast(
        "MessengerAccount", SimpleNamespace(id=account_id, credential_encrypted=credential)
    )


async def test_close_closes_every_client_at_once_and_survives_one_that_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiogram waits 250 ms after closing each bot's session: one after another, a process
    with hundreds of shops' bots took minutes to stop."""
    open_now = peak = 0
    closed: list[str] = []

    async def close_client(client: str) -> None:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        await asyncio.sleep(0.05)
        open_now -= 1
        if client == "broken":
            raise OSError("connection reset")
        closed.append(client)

    clients = AccountClients(close_client)
    for n in range(10):
        clients.keep(_account(n, "sealed"), f"bot {n}")
    clients.keep(_account(3, "sealed again"), "bot 3, new token")  # "bot 3" is retired
    clients.keep(_account(10, "sealed"), "broken")

    await clients.close()

    assert peak == 12
    assert sorted(closed) == sorted([f"bot {n}" for n in range(10)] + ["bot 3, new token"])
    assert "closing a shop account's client failed" in caplog.text
    assert clients.kept(_account(1, "sealed")) is None
