"""What a campaign message carries in a chat besides the merchant's text: the shop's name on
top (one bot chat serves every shop a person joined), the gift line of an attached voucher,
and the buttons [My card] [Stop offers from <shop>] [Show the voucher].

Made here, in the person's language, so the messenger adapter only transmits. The button data
is the bot's own callback format (``handlers/callbacks.py``: ``card:show:<membership>``,
``vch:show:<voucher>``, ``off:stop:<merchant>``); a test keeps the two in step, since the domain
cannot import the messenger framework that packs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import format_date

from channels.base import Action
from channels.pass_texts import _translations, isolate

# Telegram shows about this much of a button; a longer shop name is cut with an ellipsis.
SHOP_IN_BUTTON = 32


def card_data(membership_id: int) -> str:
    return f"card:show:{membership_id}"


def voucher_data(voucher_id: int) -> str:
    return f"vch:show:{voucher_id}"


def stop_offers_data(merchant_id: int) -> str:
    return f"off:stop:{merchant_id}"


def preview_data() -> str:
    """The buttons of an owner's preview: they answer that they work in customers' chats."""
    return "off:preview:0"


@dataclass(frozen=True, slots=True)
class Gift:
    """The voucher a campaign gave this person."""

    voucher_id: int
    title: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChatParts:
    """Everything the chat rendition needs about this person beyond the campaign."""

    merchant_id: int
    membership_id: int | None
    gift: Gift | None = None
    timezone: str = "UTC"
    preview: bool = False


def _shop_in_button(name: str) -> str:
    return name if len(name) <= SHOP_IN_BUTTON else name[: SHOP_IN_BUTTON - 1] + "…"


def chat_html(body: str, *, merchant_name: str, parts: ChatParts, language: str) -> str:
    """The shop's name in bold, the merchant's text, then the gift line if there is one."""
    catalog = _translations(language)
    _ = catalog.gettext
    html = f"<b>{isolate(escape(merchant_name))}</b>\n\n{body}"
    gift = parts.gift
    if gift is not None:
        title = isolate(escape(gift.title))
        if gift.expires_at is None:
            line = _("🎁 Your gift: {title}").format(title=title)
        else:
            local = gift.expires_at.astimezone(ZoneInfo(parts.timezone))
            day = isolate(format_date(local, "medium", locale=language))
            line = _("🎁 Your gift: {title}, until {date}").format(title=title, date=day)
        html += "\n\n" + line
    return html


def chat_buttons(
    *, merchant_name: str, parts: ChatParts, language: str
) -> tuple[tuple[Action, ...], ...]:
    _ = _translations(language).gettext
    preview = preview_data() if parts.preview else None
    rows: list[tuple[Action, ...]] = []
    if parts.gift is not None:
        rows.append(
            (Action(_("🎟 Show the voucher"), id=preview or voucher_data(parts.gift.voucher_id)),)
        )
    first: list[Action] = []
    if parts.membership_id is not None or parts.preview:
        first.append(Action(_("🪪 My card"), id=preview or card_data(parts.membership_id or 0)))
    stop = _("Stop offers from {shop}").format(shop=isolate(_shop_in_button(merchant_name)))
    first.append(Action(stop, id=preview or stop_offers_data(parts.merchant_id)))
    rows.append(tuple(first))
    return tuple(rows)
