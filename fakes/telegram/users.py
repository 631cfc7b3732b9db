"""The people on the other side: updates for what a user sends the bot.

Each builder stores the user's message as Telegram would (so the bot can reply to it or send
its photo on by file_id) and returns the Update; ``send_text`` also queues it for getUpdates,
while webhook tests post it with ``post_update``.
"""

from __future__ import annotations

from typing import Any

from .calls import UploadedFile
from .formatting import find_bot_commands
from .state import FakeUser, StoredMessage, TelegramState


class UserActions(TelegramState):
    """Private messages from users: text (with bot_command entities), photos and files."""

    def message_update(
        self,
        user: FakeUser | int,
        text: str,
        *,
        entities: list[dict[str, Any]] | None = None,
        reply_to: StoredMessage | None = None,
    ) -> dict[str, Any]:
        """Build the Update for a private text message from ``user``, with bot_command entities."""
        sender = self._user(user)
        if entities is None:
            entities = [e.to_dict() for e in find_bot_commands(text)]
        message = self._store_message(
            sender.private_chat(),
            from_bot=False,
            sender=sender.to_dict(),
            text=text,
            entities=entities,
            reply_to=reply_to,
        )
        return self._new_update("message", message.to_dict())

    def photo_update(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        caption: str = "",
        caption_entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Build the Update for a private photo message from ``user``; the photo is stored as
        Telegram would store an upload, so the bot can send it on by file_id."""
        sender = self._user(user)
        photo = self._files.photo_sizes(UploadedFile("photo", "photo.jpg", "image/jpeg", data))
        message = self._store_message(
            sender.private_chat(),
            from_bot=False,
            sender=sender.to_dict(),
            photo=photo,
            caption=caption or None,
            caption_entities=caption_entities or [],
        )
        return self._new_update("message", message.to_dict())

    def document_update(
        self,
        user: FakeUser | int,
        data: bytes,
        *,
        file_name: str = "file.bin",
    ) -> dict[str, Any]:
        """Build the Update for a private file (document) message from ``user``; the file is
        stored as Telegram would, with its real ``file_size`` and a type from its name."""
        sender = self._user(user)
        document = self._files.document(UploadedFile("document", file_name, None, data))
        message = self._store_message(
            sender.private_chat(), from_bot=False, sender=sender.to_dict(), document=document
        )
        return self._new_update("message", message.to_dict())

    def send_text(self, user: FakeUser | int, text: str) -> dict[str, Any]:
        return self.queue_update(self.message_update(user, text))
