"""Inline buttons, both ends: a user pressing one, and the bot's answerCallbackQuery.

A pressed button opens a callback query that the bot must answer once; an answer to an
unknown or already answered query is refused as Telegram refuses a stale one.
"""

from __future__ import annotations

from typing import Any

from .calls import Params, Uploads, bot_method
from .errors import bad_request
from .state import FakeUser, StoredMessage, TelegramState

ANSWER_TEXT_LIMIT = 200


class CallbackMethods(TelegramState):
    """Button presses (``callback_update``/``press_button``) and answerCallbackQuery."""

    def callback_update(
        self, user: FakeUser | int, message: Any, data: str, *, check_button: bool = True
    ) -> dict[str, Any]:
        """Build the Update for ``user`` pressing an inline button on a stored message.

        ``message`` may be a StoredMessage, an aiogram Message, a message dict or a
        ``(chat_id, message_id)`` pair. Real clients can only send data that is on the keyboard,
        so other data is refused unless ``check_button`` is False.
        """
        sender = self._user(user)
        stored = self.message(*_message_ref(message))
        if check_button and data not in stored.callback_data():
            raise ValueError(
                f"no button with callback_data={data!r} on message {stored.message_id}"
            )
        query_id = str(4_300_000_000_000_000_000 + next(self._callback_ids))
        query = {
            "id": query_id,
            "from": sender.to_dict(),
            "message": stored.to_dict(),
            "chat_instance": str(-8_000_000_000_000_000_000 + abs(stored.chat_id)),
            "data": data,
        }
        self._open_callbacks[query_id] = query
        return self._new_update("callback_query", query)

    def press_button(self, user: FakeUser | int, message: Any, data: str) -> dict[str, Any]:
        return self.queue_update(self.callback_update(user, message, data))

    @bot_method("answerCallbackQuery")
    async def _answer_callback_query(self, params: Params, files: Uploads) -> Any:
        query = self._open_callbacks.pop(params.text("callback_query_id") or "", None)
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text") or ""
        if len(text) > ANSWER_TEXT_LIMIT:
            self._open_callbacks[query["id"]] = query
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers.append(
            {
                "callback_query_id": query["id"],
                "text": text or None,
                "show_alert": params.flag("show_alert"),
                "url": params.text("url"),
                "cache_time": params.integer("cache_time"),
            }
        )
        return True


def _message_ref(message: Any) -> tuple[int, int]:
    if isinstance(message, tuple):
        return int(message[0]), int(message[1])
    if isinstance(message, dict):
        return int(message["chat"]["id"]), int(message["message_id"])
    if isinstance(message, StoredMessage):
        return message.chat_id, message.message_id
    return int(message.chat.id), int(message.message_id)  # an aiogram Message
