"""Editing and deleting what the bot sent: editMessageText/Caption/ReplyMarkup, deleteMessage.

An edit that changes nothing is an error on Telegram ("message is not modified"), which bots
meet when a user presses the same button twice; the fake keeps every earlier version in
``StoredMessage.history`` so tests can see what an edit replaced.
"""

from __future__ import annotations

import time
from typing import Any, Unpack

from .calls import Params, Uploads, bot_method
from .errors import MESSAGE_NOT_MODIFIED, ApiError, bad_request
from .formatting import CAPTION_LIMIT, format_param, message_text, utf16_len
from .keyboards import inline_only, reply_markup
from .state import MessageContent, StoredMessage, TelegramState


class EditingMethods(TelegramState):
    """The edit methods and deleteMessage, on messages the bot sent."""

    @bot_method("editMessageText")
    async def _edit_message_text(self, params: Params, files: Uploads) -> Any:
        plain, entities = message_text(params, self._user_dicts(), too_long="MESSAGE_TOO_LONG")
        markup = inline_only(reply_markup(params))
        message = self._edit_target(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(message, text=plain, entities=entities, reply_markup=markup)

    @bot_method("editMessageCaption")
    async def _edit_message_caption(self, params: Params, files: Uploads) -> Any:
        plain, entities = format_param(params, "caption", "caption_entities", self._user_dicts())
        if utf16_len(plain) > CAPTION_LIMIT:
            raise bad_request("MEDIA_CAPTION_TOO_LONG")
        markup = inline_only(reply_markup(params))
        message = self._edit_target(params)
        if not message.has_media:
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            message, caption=plain or None, caption_entities=entities, reply_markup=markup
        )

    @bot_method("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: Params, files: Uploads) -> Any:
        markup = inline_only(reply_markup(params))
        message = self._edit_target(params)
        return self._apply_edit(message, reply_markup=markup)

    @bot_method("deleteMessage")
    async def _delete_message(self, params: Params, files: Uploads) -> Any:
        chat = self._resolve_chat(params)
        message = self._messages.get((chat["id"], params.integer("message_id")))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    def _edit_target(self, params: Params) -> StoredMessage:
        if params.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the fake sends no inline messages
        chat = self._resolve_chat(params)
        message_id = params.integer("message_id")
        if message_id <= 0:
            raise bad_request("message identifier is not specified")
        message = self._messages.get((chat["id"], message_id))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    @staticmethod
    def _apply_edit(message: StoredMessage, **changes: Unpack[MessageContent]) -> dict[str, Any]:
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        message.history.append(message.to_dict())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return message.to_dict()
