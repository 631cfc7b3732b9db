"""The bot's own profile: getMe and its command lists per scope and language.

Telegram keeps one command list per (scope, language code) and falls back to none; the fake
checks commands and descriptions as the server does (lowercase ASCII, lengths, at most 100).
"""

from __future__ import annotations

import json
import string
from typing import Any, Final

from .calls import Params, Uploads, bot_method
from .errors import bad_request
from .state import TelegramState

_COMMAND_CHARS: Final = frozenset(string.ascii_lowercase + string.digits + "_")
COMMAND_SCOPES: Final = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip


class ProfileMethods(TelegramState):
    """getMe and set/get/deleteMyCommands; ``commands()`` lets tests read a list back."""

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[Any]:
        return list(self._commands.get((_scope_key(scope), language_code), []))

    @bot_method("getMe")
    async def _get_me(self, params: Params, files: Uploads) -> Any:
        return self.bot_user

    @bot_method("setMyCommands")
    async def _set_my_commands(self, params: Params, files: Uploads) -> Any:
        commands = params.raw.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        cleaned = [_checked_command(item) for item in commands]
        if len(cleaned) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        key = _command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    @bot_method("getMyCommands")
    async def _get_my_commands(self, params: Params, files: Uploads) -> Any:
        return self._commands.get(_command_key(params), [])

    @bot_method("deleteMyCommands")
    async def _delete_my_commands(self, params: Params, files: Uploads) -> Any:
        self._commands.pop(_command_key(params), None)
        return True


def _checked_command(item: Any) -> dict[str, str]:
    if not isinstance(item, dict):
        raise bad_request("command must be non-empty")
    command = str(item.get("command", "")).strip().removeprefix("/")
    description = str(item.get("description", "")).strip()
    if not command:
        raise bad_request("command must be non-empty")
    if len(command) > 32:
        raise bad_request("command length must not exceed 32")
    if not description:
        raise bad_request("command description must be non-empty")
    if len(description) > 256:
        raise bad_request("command description length must not exceed 256")
    if not all(ch in _COMMAND_CHARS for ch in command):
        raise bad_request("BOT_COMMAND_INVALID")
    return {"command": command, "description": description}


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, dict):
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True)


def _command_key(params: Params) -> tuple[str, str]:
    scope = params.raw.get("scope")
    if scope is not None and (
        not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES
    ):
        raise bad_request("can't parse BotCommandScope JSON object")
    language = params.text("language_code") or ""
    if language and not (len(language) == 2 and language.isascii() and language.islower()):
        raise bad_request("invalid language code specified")
    return _scope_key(scope), language
