from __future__ import annotations

from bot.app import BotRuntime, set_commands
from tests.fakes.telegram_api import FakeTelegramAPI

SCOPE = {"type": "all_private_chats"}


async def test_commands_are_registered_per_language(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    await set_commands(runtime.bot, runtime.i18n)

    default = telegram.commands(SCOPE)
    assert [c["command"] for c in default] == ["card", "vouchers", "settings", "help"]
    assert default[0]["description"] == "Show my card and QR code"
    for language in ("uk", "he", "fa", "th"):
        localized = telegram.commands(SCOPE, language)
        assert [c["command"] for c in localized] == ["card", "vouchers", "settings", "help"]
        assert localized[0]["description"] != default[0]["description"], language
