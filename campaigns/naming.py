"""What a campaign is called on the owner's screens, and renaming it.

The stored default name is the spec's ``<cardId>_<dd.mm.yyyyHH:MM>``, which nobody reads well
(``1_02.12.202600:35``). While the owner has not named the campaign, the screens call it by
the first line of its message instead; whatever follows the default part (a copy's
`` (copy)``) is kept. A name the owner typed is shown as it is.
"""

from __future__ import annotations

import re
from html import unescape

from campaigns.errors import CampaignNotFound, InvalidCampaign
from models import Campaign

# Short enough for a list button on a phone, long enough for "Autumn menu is here".
NAME_LIMIT = 60
TITLE_LIMIT = 32
_DEFAULT = re.compile(r"\d+_\d{2}\.\d{2}\.\d{4}\d{2}:\d{2}")
_TAG = re.compile(r"<[^>]*>")


def is_default(name: str) -> bool:
    """The spec's generated name, possibly with a suffix such as a copy's."""
    return _DEFAULT.match(name) is not None


def first_line(message_html: str, *, limit: int = TITLE_LIMIT) -> str:
    """The message's first non-empty line as plain text, cut at ``limit`` with an ellipsis."""
    text = unescape(_TAG.sub("", message_html))
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    # At a word's end when there is one in the second half: "Our autumn…", not "Our autu…".
    if (space := cut.rfind(" ")) > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–—") + "…"


def title_parts(name: str, message_html: str) -> tuple[str | None, str]:
    """``(title, suffix)`` for a default-named campaign: the message's first line (None for a
    photo without a caption) and what follows the default part; ``(name, "")`` otherwise."""
    match = _DEFAULT.match(name)
    if match is None:
        return name, ""
    return first_line(message_html) or None, name[match.end() :]


async def name_copy(copy_id: int, *, merchant_id: int, source: str, suffix: str) -> Campaign:
    """A copy is called as its original plus ``suffix`` (" (copy)" in the owner's words), so
    two campaigns copied within a minute are still told apart; cut to fit the column."""
    name = source[: 120 - len(suffix)] + suffix
    if not await Campaign.filter(id=copy_id, merchant_id=merchant_id).update(name=name):
        raise CampaignNotFound()
    return await Campaign.get(id=copy_id)


def check_name(text: str) -> str:
    """The typed name, trimmed, or :class:`InvalidCampaign` (empty, too long, several lines)."""
    name = " ".join(text.split())
    if "\n" in text.strip() or not 1 <= len(name) <= NAME_LIMIT:
        raise InvalidCampaign("name", f"A campaign name is 1 to {NAME_LIMIT} characters.")
    return name


async def rename(campaign_id: int, *, merchant_id: int, text: str) -> Campaign:
    """Rename a campaign of this shop, in any state: the name is only a label."""
    name = check_name(text)
    if not await Campaign.filter(id=campaign_id, merchant_id=merchant_id).update(name=name):
        raise CampaignNotFound()
    return await Campaign.get(id=campaign_id)


__all__ = ["NAME_LIMIT", "check_name", "first_line", "is_default", "name_copy", "rename"]
