"""Shops' own WhatsApp numbers: connecting a number of the shop's own Meta app, and a client
each.

The owner gives three things, one message each: the number's phone number id, a permanent
(System User) access token and the app secret of their Meta app. The token is checked at once
with a Graph API GET of the number (``?fields=display_phone_number,verified_name``; Meta's
code 190 is a token it does not know), kept sealed until the app secret arrives (the chat's
state holds only the sealed form), then the account is stored: the token and the app secret
sealed together as one JSON (``loyalty.messenger_accounts``), the phone number id as
``external_id``, the number's digits as ``username`` (for ``wa.me`` links).

WhatsApp's webhook cannot be pointed at us by a call with these credentials as Viber's can:
it is the Meta app's, set in its App Dashboard (WhatsApp → Configuration) with a callback URL
and a verify token Meta sends back once in its GET handshake. So connecting makes a verify
token (stored as its SHA-256, like a Telegram webhook secret) and the owner is shown it with
``/whatsapp/<account id>`` to paste there; ``web.shop_whatsapps`` answers the handshake and
checks every notification with that app secret.

Disconnecting marks the account disconnected (its webhook URL answers 404 from then on; the
owner removes it in the dashboard) and, as for Viber, the people who wrote to that number
unreachable on WhatsApp: they agreed to hear from the shop's number, not from ours. The same
number connected again makes them reachable again.

Connecting also sets the number's commands (``bot.whatsapp_commands``) in the shop's default
language: Meta refusing them, or not answering, is logged and the number stays connected (the
list is a convenience; the chat works without it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.shop_accounts import ChatAccounts
from bot.whatsapp_commands import number_commands
from channels.whatsapp.api import WhatsAppApi, WhatsAppUnavailable
from channels.whatsapp.replies import WhatsAppReplies
from loyalty.messenger_accounts import (
    AccountTaken,
    BadBotToken,
    BotTokenRefused,
    Connected,
    CredentialBox,
    MessengerUnavailable,
    connect_account,
    credential_of,
)
from models import Merchant, MessengerAccount
from models.enums import Platform
from web.shop_whatsapps import SHOP_WHATSAPP_PREFIX

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

    from bot.config import WhatsAppSettings
    from loyalty.links import LinkSigner

logger = logging.getLogger(__name__)

# Meta's code for an access token it cannot parse or that has expired.
INVALID_TOKEN = 190


@dataclass(frozen=True, slots=True)
class WhatsAppNumber:
    """Who the Graph API says a number is."""

    id: str
    display: str
    name: str


@dataclass(frozen=True, slots=True)
class NumberSecrets:
    access_token: SecretStr
    app_secret: SecretStr


class ShopWhatsApps(ChatAccounts[WhatsAppApi, WhatsAppReplies]):
    """Checks, connects and disconnects shops' own numbers, and keeps one client each."""

    platform = Platform.WHATSAPP
    path_prefix = SHOP_WHATSAPP_PREFIX
    credential = "WhatsApp credentials"
    # No ``_unhook``: the webhook is the Meta app's, set and removed in its App Dashboard (the
    # disconnected account's URL answers 404 from then on).

    def __init__(
        self, whatsapp: WhatsAppSettings, box: CredentialBox, signer: LinkSigner, i18n: I18n
    ) -> None:
        super().__init__(box, signer, _close_client)
        self._i18n = i18n
        self.api_url = whatsapp.api_url
        self._version = whatsapp.api_version
        self._shared_number = whatsapp.phone_number_id

    def _api(self, token: SecretStr, phone_number_id: str) -> WhatsAppApi:
        return WhatsAppApi(token, phone_number_id, base_url=self.api_url, version=self._version)

    def seal(self, secret: SecretStr) -> str:
        """A secret kept between two questions: only its sealed form goes into chat state."""
        return self._box.seal(secret)

    def secrets_of(self, account: MessengerAccount) -> NumberSecrets:
        """The account's access token and app secret; ``ValueError`` when they cannot be
        unsealed (or are not what this module sealed)."""
        try:
            stored = json.loads(credential_of(account, self._box).get_secret_value())
            return NumberSecrets(
                SecretStr(stored["access_token"]), SecretStr(stored["app_secret"])
            )
        except (KeyError, TypeError, json.JSONDecodeError):
            raise ValueError("not a WhatsApp credential") from None

    def app_secret_of(self, account: MessengerAccount) -> SecretStr:
        return self.secrets_of(account).app_secret

    def client_for(self, account: MessengerAccount) -> WhatsAppApi:
        kept = self._clients.kept(account)
        if kept is not None:
            return kept
        api = self._api(self.secrets_of(account).access_token, account.external_id)
        return self._clients.keep(account, api)

    async def _client(self, account: MessengerAccount) -> WhatsAppApi:
        return self.client_for(account)

    async def replies_for(self, account: MessengerAccount) -> WhatsAppReplies:
        return WhatsAppReplies(self.client_for(account))

    async def check(self, phone_number_id: str, token: SecretStr) -> WhatsAppNumber:
        """The number as the token sees it; :class:`BotTokenRefused` on Meta's 190,
        :class:`BadBotToken` when the token sees no such number, else
        :class:`MessengerUnavailable`."""
        if self._shared_number and phone_number_id == self._shared_number:
            raise AccountTaken()  # the shared number: its webhook is everybody's
        api = self._api(token, phone_number_id)
        try:
            reply = await api.phone_number()
        except WhatsAppUnavailable as error:
            logger.warning("the Graph API did not answer for a shop's number: %s", error.reason)
            raise MessengerUnavailable() from None
        finally:
            await api.close()
        if reply.error is not None:
            if reply.error.code == INVALID_TOKEN:
                raise BotTokenRefused()
            logger.info("the Graph API refused a shop's number: %s", reply.error.describe())
            raise BadBotToken()
        body = reply.body or {}
        display, name = body.get("display_phone_number"), body.get("verified_name")
        return WhatsAppNumber(
            phone_number_id,
            "".join(ch for ch in display if ch.isdigit()) if isinstance(display, str) else "",
            name if isinstance(name, str) else "",
        )

    async def check_sealed(self, phone_number_id: str, sealed_token: str) -> WhatsAppNumber:
        return await self.check(phone_number_id, self._box.open(sealed_token))

    async def connect(
        self, merchant_id: int, phone_number_id: str, sealed_token: str, app_secret: SecretStr
    ) -> Connected:
        """Check the number again and store it; the account and its new verify token (shown
        to the owner once, for the App Dashboard)."""
        try:
            token = self._box.open(sealed_token)
        except ValueError:
            raise BadBotToken() from None
        number = await self.check(phone_number_id, token)
        before = await self._previous(merchant_id)
        credential = json.dumps(
            {
                "access_token": token.get_secret_value(),
                "app_secret": app_secret.get_secret_value(),
            }
        )
        connected = await connect_account(
            merchant_id,
            Platform.WHATSAPP,
            SecretStr(credential),
            external_id=number.id,
            username=number.display or None,
            box=self._box,
        )
        account = connected.account
        await self._people_follow(account, before)
        self.forget(account.id)
        logger.info(
            "shop %s connected its own WhatsApp number (account %s)", merchant_id, account.id
        )
        await self._set_commands(merchant_id, number.id, token)
        return connected

    async def _set_commands(
        self, merchant_id: int, phone_number_id: str, token: SecretStr
    ) -> None:
        """The number's command list in the shop's language; a refusal is only logged."""
        language = (
            await Merchant.filter(id=merchant_id)
            .first()
            .values_list("default_language", flat=True)
        )
        commands = number_commands(self._i18n, language if isinstance(language, str) else None)
        api = self._api(token, phone_number_id)
        try:
            reply = await api.set_commands(commands)
        except WhatsAppUnavailable as error:
            logger.warning("no commands for shop %s's number: %s", merchant_id, error.reason)
            return
        finally:
            await api.close()
        if reply.error is not None:
            logger.warning(
                "Meta refused the commands of shop %s's number: %s",
                merchant_id,
                reply.error.message or reply.error.describe(),
            )


async def _close_client(api: WhatsAppApi) -> None:
    await api.close()
