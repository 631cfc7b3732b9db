"""The links that open a chat with us on each messenger, carrying a payload.

Telegram: ``https://t.me/<bot>?start=<payload>``. Viber: ``viber://pa?chatURI=<uri>&context=
<payload>`` (the context comes back in ``conversation_started``). WhatsApp has no payload: its
``https://wa.me/<number>?text=<text>`` fills the person's message field, so the payload rides
in a short sentence they send (``conversation.joining.find_payload`` reads it back out).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from loyalty.messenger_accounts import active_account, active_account_of
from loyalty.tokens import LinkKind, payload, start_link
from models.enums import Platform

__all__ = ["MessengerLinks", "account_links", "shop_links"]


@dataclass(frozen=True, slots=True)
class MessengerLinks:
    """Where each configured messenger is: the bot's username, Viber's chat URI, the WhatsApp
    number in international digits. An empty one is a messenger we are not on."""

    telegram_username: str = ""
    viber_uri: str = ""
    whatsapp_number: str = ""

    def platforms(self) -> tuple[Platform, ...]:
        present = (
            (Platform.TELEGRAM, self.telegram_username),
            (Platform.VIBER, self.viber_uri),
            (Platform.WHATSAPP, self.whatsapp_number),
        )
        return tuple(platform for platform, where in present if where)

    def others(self, here: Platform) -> tuple[Platform, ...]:
        """The messengers besides ``here`` that we are on: where a link code shown ``here``
        can be typed. None, and there is nothing to link (a Telegram-only deployment)."""
        return tuple(platform for platform in self.platforms() if platform != here)

    def link(
        self, platform: Platform, kind: LinkKind, token: str, *, sentence: str = "{code}"
    ) -> str | None:
        """The link opening ``platform``'s chat with this payload, None where we are not.

        ``sentence`` is what WhatsApp puts in the message field, ``{code}`` the payload: in
        the language of whoever the link is made for (a shop's poster, a member's invite);
        the payload is all the conversation reads back."""
        text = payload(kind, token)
        if platform == Platform.TELEGRAM and self.telegram_username:
            return start_link(self.telegram_username, kind, token)
        if platform == Platform.VIBER and self.viber_uri:
            return "viber://pa?" + urlencode({"chatURI": self.viber_uri, "context": text})
        if platform == Platform.WHATSAPP and self.whatsapp_number:
            digits = "".join(ch for ch in self.whatsapp_number if ch.isdigit())
            return f"https://wa.me/{digits}?text={quote(sentence.format(code=text))}"
        return None


async def shop_links(links: MessengerLinks, merchant_id: int) -> MessengerLinks:
    """The links of a shop: its own Viber bot's chat and WhatsApp number while connected
    (whoever joins there is answered there), the shared ones otherwise."""
    viber = await active_account_of(merchant_id, Platform.VIBER)
    whatsapp = await active_account_of(merchant_id, Platform.WHATSAPP)
    return replace(
        links,
        viber_uri=(viber.username if viber else None) or links.viber_uri,
        whatsapp_number=(whatsapp.username if whatsapp else None) or links.whatsapp_number,
    )


async def account_links(links: MessengerLinks, account: str) -> MessengerLinks:
    """The links of a chat on a shop's own account (``Inbound.account``, its id; "" the
    shared bot): an invite made there opens the same bot or number."""
    if not account.isdigit():
        return links
    found = await active_account(int(account))
    if found is None or not found.username:
        return links
    if found.platform == Platform.VIBER:
        return replace(links, viber_uri=found.username)
    if found.platform == Platform.WHATSAPP:
        return replace(links, whatsapp_number=found.username)
    return links
