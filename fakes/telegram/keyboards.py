"""Reply markup: the keyboards a bot attaches, checked the way the Bot API checks them.

Telegram refuses a malformed keyboard before it looks at the chat, and keeps only inline
keyboards on a message (a reply keyboard lives in the client, not on the message).
"""

from __future__ import annotations

from typing import Any, Final

from .calls import Params
from .errors import bad_request

CALLBACK_DATA_LIMIT: Final = 64
INLINE_BUTTON_ACTIONS: Final = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


def reply_markup(params: Params) -> dict[str, Any] | None:
    """The request's ``reply_markup``, validated; None when there is none."""
    markup = params.raw.get("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("keyboard") or []:
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict) and "web_app" in button:
                    _check_web_app(button["web_app"], "keyboard button")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("InlineKeyboardMarkup inline_keyboard row must be an Array")
        for button in row:
            _check_inline_button(button)
    return markup


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not any(key in button for key in INLINE_BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "web_app" in button:
        _check_web_app(button["web_app"], "inline keyboard button")
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")


def inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Telegram keeps (and echoes back) only non-empty inline keyboards on a message."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _check_web_app(web_app: Any, where: str) -> None:
    """A Mini App opens only from an HTTPS address (WebAppInfo: "An HTTPS URL of a Web App")."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url.lower().startswith("https://"):
        raise bad_request(f"{where} Web App URL '{url}' is invalid: Only HTTPS links are allowed")
