"""Sending: sendMessage, sendPhoto, sendDocument and sendChatAction.

Checks run in Telegram's order — text and keyboard first, then the chat, the file, the
message replied to, and last the flood limit — so a request with several faults gets the
error the real server gives. Every send ends in :meth:`SendingMethods._send`.
"""

from __future__ import annotations

from typing import Any, Final

from .calls import Params, UploadedFile, Uploads, bot_method
from .errors import bad_request
from .faults import FaultInjection
from .files import input_file
from .formatting import CAPTION_LIMIT, format_param, message_text, utf16_len
from .keyboards import inline_only, reply_markup
from .state import MessageContent, StoredMessage

CHAT_ACTIONS: Final = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip

_Request = tuple[MessageContent, dict[str, Any] | None, dict[str, Any], UploadedFile | str]


class SendingMethods(FaultInjection):
    """The send methods; they consult the flood limit of :class:`FaultInjection`."""

    @bot_method("sendMessage")
    async def _send_message(self, params: Params, files: Uploads) -> Any:
        plain, entities = message_text(params, self._user_dicts(), too_long="message is too long")
        markup = reply_markup(params)
        chat = self._resolve_chat(params)
        return self._send(
            "sendMessage", params, chat, markup, {"text": plain, "entities": entities}
        )

    @bot_method("sendPhoto")
    async def _send_photo(self, params: Params, files: Uploads) -> Any:
        caption, markup, chat, upload = self._media_request(params, files, "photo")
        photo = self._files.photo_sizes(upload)
        return self._send("sendPhoto", params, chat, markup, {"photo": photo, **caption})

    @bot_method("sendDocument")
    async def _send_document(self, params: Params, files: Uploads) -> Any:
        caption, markup, chat, upload = self._media_request(params, files, "document")
        document = self._files.document(upload)
        return self._send("sendDocument", params, chat, markup, {"document": document, **caption})

    @bot_method("sendChatAction")
    async def _send_chat_action(self, params: Params, files: Uploads) -> Any:
        chat = self._resolve_chat(params)
        action = (params.text("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    def _media_request(self, params: Params, files: Uploads, kind: str) -> _Request:
        """Caption, keyboard, chat and file of a photo or document send, checked in order."""
        caption: MessageContent = {"caption": None, "caption_entities": []}
        if params.text("caption"):
            plain, entities = format_param(
                params, "caption", "caption_entities", self._user_dicts()
            )
            if utf16_len(plain) > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
            caption = {"caption": plain or None, "caption_entities": entities}
        markup = reply_markup(params)
        chat = self._resolve_chat(params)
        upload = input_file(params, files, kind)
        if upload is None:
            raise bad_request(f"there is no {kind} in the request")
        return caption, markup, chat, upload

    def _send(
        self,
        method: str,
        params: Params,
        chat: dict[str, Any],
        markup: dict[str, Any] | None,
        content: MessageContent,
    ) -> dict[str, Any]:
        """Store a message the bot sent, once the reply target and the flood limit allow it."""
        reply_to = self._reply_target(chat["id"], params)
        self._check_rate_limit(method, chat["id"])
        sent: MessageContent = {
            **content,
            "reply_markup": inline_only(markup),
            "sent_reply_markup": markup,
            "reply_to": reply_to,
        }
        message = self._store_message(chat, from_bot=True, sender=self.bot_sender, **sent)
        return message.to_dict()

    def _reply_target(self, chat_id: int, params: Params) -> StoredMessage | None:
        reply = params.raw.get("reply_parameters")
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = int(reply.get("message_id", 0))
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if not message_id:
            return None
        target = self._messages.get((chat_id, message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target
