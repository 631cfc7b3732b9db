from __future__ import annotations

import logging

import pytest

from bot.app import set_commands, set_menu
from bot.factory import BotRuntime
from fakes.telegram import FakeTelegramAPI

SCOPE = {"type": "all_private_chats"}


async def test_commands_are_registered_per_language(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    await set_commands(runtime.bot, runtime.i18n)

    default = telegram.commands(SCOPE)
    assert [c["command"] for c in default] == ["card", "vouchers", "settings", "help"]
    assert default[0]["description"] == "My card and QR"
    for language in ("uk", "he", "fa", "th"):
        localized = telegram.commands(SCOPE, language)
        assert [c["command"] for c in localized] == ["card", "vouchers", "settings", "help"]
        assert localized[0]["description"] != default[0]["description"], language


async def test_a_replica_starts_although_telegram_refuses_the_menu_for_now(
    runtime: BotRuntime, telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Many replicas restarting at once may meet a flood wait longer than replies wait."""
    telegram.fail_with_retry_after("setMyCommands", 300)
    try:
        with caplog.at_level(logging.WARNING):
            await set_menu(runtime)
    finally:
        telegram.clear_faults()

    assert "command menu not updated, the one set before stays: Flood control" in caplog.text
