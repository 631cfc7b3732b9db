"""Files: what an upload becomes on Telegram's side, file ids, photo sizes and getFile.

Telegram stores every upload under a ``file_id`` the bot can send again, cuts a photo into a
row of sizes (each a file of its own), and serves the bytes at ``/file/bot<token>/<path>``
once ``getFile`` has named the path. Photos must be real images: it refuses what it cannot
decode, which is why the header sniffing below exists.
"""

from __future__ import annotations

import mimetypes
import secrets
import struct
from dataclasses import dataclass
from typing import Any, Final

from .calls import Params, UploadedFile, Uploads, bot_method
from .errors import WRONG_FILE_ID, ApiError, bad_request

# Bots may download files up to 20 MB; getFile refuses bigger ones, as Telegram does.
BOT_DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024

# A 1x1 PNG stands in for photos sent by URL, which the fake cannot download.
_TINY_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document", as TDLib names the type in its errors
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    source_url: str | None = None


def input_file(params: Params, files: Uploads, name: str) -> UploadedFile | str | None:
    """An upload (direct field or attach://), or a file_id/URL string."""
    if name in files:
        return files[name]
    value = params.text(name)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.startswith("attach://"):
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"there is no {name} in the request")
        return upload
    return value


class FileStore:
    """Every file the server holds, by file_id and by download path."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._paths: dict[str, StoredFile] = {}

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def at_path(self, file_path: str) -> StoredFile | None:
        return self._paths.get(file_path)

    def existing(self, reference: str, kind: str) -> StoredFile:
        """The file a file_id names, or a new one for a URL (which Telegram would fetch)."""
        if reference.lower().startswith(("http://", "https://")):
            # No network here: accept the URL as Telegram would after fetching it.
            data = _TINY_PNG if kind == "photo" else b""
            stored = self.new(kind, data, file_name=reference.rsplit("/", 1)[-1] or None)
            stored.source_url = reference
            return stored
        stored_file = self._files.get(reference)
        if stored_file is None:
            raise ApiError(400, WRONG_FILE_ID)
        if stored_file.kind != kind:
            raise bad_request(
                f"can't use file of type {stored_file.kind.title()} as {kind.title()}"
            )
        return stored_file

    def new(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = len(self._files)
        prefix = "AgACAgIAAxkBAA" if kind == "photo" else "BQACAgIAAxkBAA"
        extension = ".jpg" if kind == "photo" else mimetypes.guess_extension(mime_type or "") or ""
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type if kind == "document" else "image/jpeg",
        )
        self._files[stored.file_id] = stored
        self._paths[stored.file_path] = stored
        return stored

    def photo_sizes(self, upload: UploadedFile | str) -> list[dict[str, Any]]:
        """The PhotoSize row Telegram makes of a photo; a file_id sent again reuses its row."""
        if isinstance(upload, str):
            stored = self.existing(upload, "photo")
            if stored.file_id in self._photo_sets:
                return self._photo_sets[stored.file_id]
            data = stored.data
        else:
            data = upload.data
        if not data:
            raise bad_request("file must be non-empty")
        dimensions = image_size(data)
        if dimensions is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = dimensions
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[dict[str, Any]] = []
        longest = max(width, height)
        boxes = [box for box in (90, 320, 800, 1280) if longest > box] + [min(longest, 2560)]
        for box in boxes:
            scale = box / longest
            stored = self.new("photo", data)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    # Thumbnails are not really rescaled: every size serves the uploaded bytes.
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def document(self, upload: UploadedFile | str) -> dict[str, Any]:
        """The Document object of a sent file: a new upload, or one sent before by file_id."""
        if isinstance(upload, str):
            stored = self.existing(upload, "document")
        else:
            if not upload.data:
                raise bad_request("file must be non-empty")
            name = upload.filename or "document"
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            stored = self.new("document", upload.data, file_name=name, mime_type=mime)
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document


class FileMethods:
    """getFile and the bytes behind a file_id, for the fake's one :class:`FileStore`."""

    _files: FileStore

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(file_id)
        return stored.data

    @bot_method("getFile")
    async def _get_file(self, params: Params, files: Uploads) -> Any:
        file_id = (params.text("file_id") or "").strip()
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > BOT_DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF, BMP or WebP image; None if it is not one.

    Telegram rejects sendPhoto uploads it cannot decode (IMAGE_PROCESS_FAILED); sniffing the
    header is enough to tell images from other bytes without an imaging library.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return (width, height) if width and height else None
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return (width, height) if width and height else None
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return (abs(width), abs(height)) if width and height else None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            return width, 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return (width, height) if width and height else None
        pos += 2 + length
    return None
