"""A shop's own messenger accounts: connect, disconnect, look up; the credential kept sealed.

The token of a shop's bot is as good as the bot itself, so it is stored encrypted (Fernet,
AES-128-CBC with an HMAC) under a key derived from the deployment's link-signing secret
(``bot.factory.credential_key``), and it leaves this module only as a ``SecretStr``. The
webhook secret Telegram echoes back is stored as its SHA-256 only: it is told to Telegram once,
at connecting, and after that we only compare.

Connecting again (a new token from @BotFather, or the same bot after a disconnect) reuses the
shop's row for that platform, so the customers who came through it are its customers again;
disconnecting keeps the row and every membership: those customers are reached on the shared
bot until then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from loyalty.errors import LoyaltyError
from models import Identity, MessengerAccount
from models.enums import AccountStatus, Platform

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

# 32 random bytes, 256 bits: Telegram allows 1-256 characters of A-Z a-z 0-9 _ -.
WEBHOOK_SECRET_BYTES = 32
# What @BotFather hands out: the bot's id, a colon, 35 characters of URL-safe base64.
TELEGRAM_TOKEN = re.compile(r"[0-9]{5,12}:[A-Za-z0-9_-]{35}")
# What partners.viber.com shows as a bot's token: groups of letters and digits joined by dashes
# (three of 16 in the examples Viber gives; kept loose, Viber is the judge).
VIBER_TOKEN = re.compile(r"[A-Za-z0-9]{8,40}(?:-[A-Za-z0-9]{8,40}){1,4}")


class AccountTaken(LoyaltyError):
    """The bot is connected to another shop already (a token given to two shops)."""

    code = "account_taken"

    def __init__(self) -> None:
        super().__init__("This bot is connected to another shop.")


class BadBotToken(LoyaltyError):
    """Not a bot token at all (a typo, a message pasted instead): nothing was asked."""

    code = "bad_bot_token"

    def __init__(self) -> None:
        super().__init__("That is not a bot token.")


class BotTokenRefused(LoyaltyError):
    """The messenger does not know the token (revoked, or mistyped in the middle)."""

    code = "bot_token_refused"

    def __init__(self) -> None:
        super().__init__("The messenger refused this token.")


class MessengerUnavailable(LoyaltyError):
    """The messenger did not answer, or refused the webhook: nothing stays connected."""

    code = "messenger_unavailable"

    def __init__(self) -> None:
        super().__init__("The messenger did not answer.")


def checked_telegram_token(text: str) -> SecretStr:
    """The token in a message, or :class:`BadBotToken` (spaces around it are forgiven)."""
    token = text.strip()
    if not TELEGRAM_TOKEN.fullmatch(token):
        raise BadBotToken()
    return SecretStr(token)


def checked_viber_token(text: str) -> SecretStr:
    """The Viber auth token in a message, or :class:`BadBotToken`."""
    token = text.strip()
    if not VIBER_TOKEN.fullmatch(token):
        raise BadBotToken()
    return SecretStr(token)


# A shop's own WhatsApp number: what the owner copies from their Meta app.
PHONE_NUMBER_ID = re.compile(r"[0-9]{6,20}")
# A Meta app secret: 32 hexadecimal digits.
APP_SECRET = re.compile(r"[0-9a-fA-F]{32}")
# An access token: long, no spaces (Meta's start with "EAA").
ACCESS_TOKEN = re.compile(r"[A-Za-z0-9_\-]{40,512}")


def checked_phone_number_id(text: str) -> str:
    number_id = text.strip()
    if not PHONE_NUMBER_ID.fullmatch(number_id):
        raise BadBotToken()
    return number_id


def checked_access_token(text: str) -> SecretStr:
    token = text.strip()
    if not ACCESS_TOKEN.fullmatch(token):
        raise BadBotToken()
    return SecretStr(token)


def checked_app_secret(text: str) -> SecretStr:
    secret = text.strip()
    if not APP_SECRET.fullmatch(secret):
        raise BadBotToken()
    return SecretStr(secret)


class CredentialBox:
    """Seals and opens credentials with one Fernet key (32 raw bytes, from the settings).

    The Fernet is made on first use, not here: every process builds a box at start, and
    cryptography's bindings cost ~8 MB of idle memory in one that never meets a shop's bot."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a credential key is 32 bytes")
        self._key = base64.urlsafe_b64encode(key)
        self._made: Fernet | None = None

    @property
    def _fernet(self) -> Fernet:
        if self._made is None:
            from cryptography.fernet import Fernet

            self._made = Fernet(self._key)
        return self._made

    def seal(self, credential: SecretStr) -> str:
        return self._fernet.encrypt(credential.get_secret_value().encode()).decode("ascii")

    def open(self, sealed: str) -> SecretStr:
        """The credential; ``ValueError`` when it was sealed under another key."""
        from cryptography.fernet import InvalidToken  # loaded by _fernet already

        try:
            return SecretStr(self._fernet.decrypt(sealed.encode("ascii")).decode())
        except InvalidToken:
            raise ValueError("credential sealed under another key") from None


@dataclass(frozen=True, slots=True)
class Connected:
    """A connected account and its new webhook secret (given to the messenger, then gone)."""

    account: MessengerAccount
    webhook_secret: SecretStr


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def secret_matches(account: MessengerAccount, sent: str) -> bool:
    """Whether ``sent`` is the account's webhook secret, in constant time."""
    return hmac.compare_digest(secret_hash(sent), account.webhook_secret_hash)


def credential_of(account: MessengerAccount, box: CredentialBox) -> SecretStr:
    return box.open(account.credential_encrypted)


async def connect_account(
    merchant_id: int,
    platform: Platform,
    credential: SecretStr,
    *,
    external_id: str,
    username: str | None,
    box: CredentialBox,
) -> Connected:
    """Store the shop's account for ``platform`` as active, with a new webhook secret.

    Raises :class:`AccountTaken`, writing nothing, when another shop's active account is the
    same bot (``external_id``, the id the messenger reported)."""
    secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    async with in_transaction():
        taken = (
            await MessengerAccount.filter(
                platform=platform, external_id=external_id, status=AccountStatus.ACTIVE
            )
            .exclude(merchant_id=merchant_id)
            .exists()
        )
        if taken:
            raise AccountTaken()
        account = (
            await MessengerAccount.filter(merchant_id=merchant_id, platform=platform)
            .select_for_update()
            .first()
        )
        fields: dict[str, object] = {
            "credential_encrypted": box.seal(credential),
            "external_id": external_id,
            "username": (username or "")[:64] or None,
            "webhook_secret_hash": secret_hash(secret),
            "status": AccountStatus.ACTIVE,
            "disconnected_at": None,
        }
        if account is None:
            account = MessengerAccount(merchant_id=merchant_id, platform=platform, **fields)
            await account.save()
        else:
            account.update_from_dict(fields)
            await account.save()
    return Connected(account, SecretStr(secret))


async def disconnect_account(
    merchant_id: int, platform: Platform, *, now: datetime | None = None
) -> MessengerAccount | None:
    """Mark the shop's account disconnected (memberships and identities untouched); the
    account as it was before, or None when there was no active one."""
    account = await active_account_of(merchant_id, platform)
    if account is None:
        return None
    updated = await MessengerAccount.filter(id=account.id, status=AccountStatus.ACTIVE).update(
        status=AccountStatus.DISCONNECTED, disconnected_at=ensure_utc(now)
    )
    return account if updated else None


async def forget_account(account_id: int) -> None:
    """Drop a just-created account whose connecting failed half way (the webhook refused)."""
    await MessengerAccount.filter(id=account_id).delete()


async def came_through(account_id: int, platform: Platform, external_id: str) -> None:
    """The person wrote through this account: answers and notices of its shop go there."""
    await Identity.filter(platform=platform, external_id=external_id).update(account_id=account_id)


async def set_reachable_through(account_id: int, platform: Platform, *, reachable: bool) -> int:
    """Mark everyone who came through this account on ``platform`` (un)reachable; how many.

    For Viber, whose user ids are the bot's own: after a disconnect (or another bot replacing
    it) nobody can write to them, not even the shared bot, so they are reached on their other
    messengers, by email or on their wallet pass until the same bot is connected again."""
    return await Identity.filter(account_id=account_id, platform=platform).update(
        reachable=reachable
    )


async def active_account_of(merchant_id: int, platform: Platform) -> MessengerAccount | None:
    return await MessengerAccount.get_or_none(
        merchant_id=merchant_id, platform=platform, status=AccountStatus.ACTIVE
    )


async def own_bot_username(merchant_id: int) -> str | None:
    """The username of the shop's own Telegram bot while connected: its join links open it."""
    account = await active_account_of(merchant_id, Platform.TELEGRAM)
    return account.username if account is not None else None


async def active_account(
    account_id: int, platform: Platform | None = None
) -> MessengerAccount | None:
    """The account by id while it is connected (on ``platform``, when given); None once
    disconnected or unknown."""
    account = await MessengerAccount.get_or_none(id=account_id, status=AccountStatus.ACTIVE)
    if account is None or (platform is not None and account.platform != platform):
        return None
    return account


async def own_viber_uri(merchant_id: int) -> str | None:
    """The chat URI of the shop's own Viber bot while connected: its join links open it."""
    account = await active_account_of(merchant_id, Platform.VIBER)
    return account.username if account is not None else None
