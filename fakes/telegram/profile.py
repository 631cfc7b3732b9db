"""The bot's own profile: getMe and its command lists per scope and language.

Telegram keeps one command list per (scope, language code); the fake checks commands and
descriptions as the server does (lowercase ASCII, lengths, at most 100), the scopes' fields (a
chat scope names a chat the bot knows, a member scope a user too, and neither is a private
chat's admins or members) and shows a private chat the first list set among: that chat +
language, that chat, all private chats + language, all private chats, default + language,
default (``menu_for``).
"""

from __future__ import annotations

import json
import string
from typing import Any, Final

from .calls import Params, Uploads, bot_method
from .errors import bad_request
from .state import TelegramState

_CHAT_SCOPES: Final = frozenset({"chat", "chat_administrators", "chat_member"})
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

    def menu_for(self, chat_id: int, language_code: str = "") -> list[Any]:
        """What the person in this private chat sees behind the menu button."""
        for scope in ({"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, None):
            for language in (language_code, ""):
                found = self._commands.get((_scope_key(scope), language))
                if found:
                    return list(found)
        return []

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
        key = self._command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    @bot_method("getMyCommands")
    async def _get_my_commands(self, params: Params, files: Uploads) -> Any:
        return self._commands.get(self._command_key(params), [])

    @bot_method("deleteMyCommands")
    async def _delete_my_commands(self, params: Params, files: Uploads) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    def _command_key(self, params: Params) -> tuple[str, str]:
        scope = params.raw.get("scope")
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError:
                raise bad_request("can't parse BotCommandScope JSON object") from None
        if scope is not None and (
            not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES
        ):
            raise bad_request("can't parse BotCommandScope JSON object")
        if isinstance(scope, dict) and scope["type"] in _CHAT_SCOPES:
            scope = self._checked_chat_scope(scope)
        language = params.text("language_code") or ""
        if language and not (len(language) == 2 and language.isascii() and language.islower()):
            raise bad_request("invalid language code specified")
        return _scope_key(scope), language

    def _checked_chat_scope(self, scope: dict[str, Any]) -> dict[str, Any]:
        """A chat scope names a known chat by id; a member scope a user id as well."""
        raw = scope.get("chat_id")
        if raw is None or str(raw).strip() == "":
            raise bad_request("can't parse BotCommandScope JSON object")
        try:
            chat_id = int(str(raw).strip())
        except ValueError:
            raise bad_request("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None and (self.strict_chats or chat_id == 0):
            raise bad_request("chat not found")
        private = chat is None or chat.get("type") == "private"
        if scope["type"] != "chat" and private:
            # A private chat has no administrators or members to aim a list at.
            raise bad_request("can't use a private chat for this scope")
        checked: dict[str, Any] = {"type": scope["type"], "chat_id": chat_id}
        if scope["type"] == "chat_member":
            user = scope.get("user_id")
            if not isinstance(user, int) or isinstance(user, bool) or user <= 0:
                raise bad_request("can't parse BotCommandScope JSON object")
            checked["user_id"] = user
        return checked


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
