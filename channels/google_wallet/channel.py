"""The Google Wallet channel: campaign messages on loyalty passes, and keeping passes current.

A campaign message becomes an ``addMessage`` on the member's loyalty object. It asks for a
lock-screen notification (``TEXT_AND_NOTIFY``) while the pass has notifications left in Google's
quota of 3 per 24 hours, and is added quietly (``TEXT``) otherwise — both when our own count
says the quota is spent and when Google refuses (403 ``quotaExceeded``). A quiet message is
still delivered; its result carries ``Reason.QUOTA_SILENT`` so statistics can show "added
without notification (quota)".

Every request to the API waits its turn in the issuer's rate limit (Google documents 20 requests
per second), a bucket shared by every worker when the limiter is Redis's; the notification
count is shared through Redis too (:class:`RedisNotifyQuota`).

Errors map like the other channels: 429 and 5xx are retried (after Google's ``Retry-After``
when given), a missing object fails the delivery and marks the address unreachable, and our own
configuration problems (a refused token, no permission on the issuer) are retried so an
operator can fix them before the attempts run out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis.exceptions import RedisError

from channels.base import DeliveryResult, OutboundMessage, Outcome, Reason
from channels.email_render import telegram_html_to_text
from channels.google_wallet.api import DEFAULT_API_URL, GoogleApiError, WalletObjectsApi
from channels.google_wallet.auth import AccessTokens, ServiceAccount, TokenError
from channels.google_wallet.passes import (
    LoyaltyPass,
    LoyaltyProgram,
    PassIds,
    class_body,
    erased_object_patch,
    object_body,
)
from channels.google_wallet.quota import NotifyCounter, NotifyQuota
from channels.google_wallet.save_link import save_url
from channels.ratelimit import MemoryRateLimiter, Rate, RateLimiter, acquire

__all__ = [
    "QUOTA_SILENT_DETAIL",
    "GoogleWalletChannel",
    "GoogleWalletSettings",
    "google_wallet_channel",
    "notified",
]

logger = logging.getLogger(__name__)

QUOTA_SILENT_DETAIL = "added without notification (quota)"
NOTIFY = "TEXT_AND_NOTIFY"
QUIET = "TEXT"
# "Calls to the Google Wallet API are rate limited to 20 requests per second" (Google's FAQ).
REQUESTS_PER_SECOND = 20.0
# The share of the issuer's rate we send at. Requests leave evenly spaced but reach Google
# with a jitter of their own (connections opening, a process descheduled on a busy machine),
# and a strict counter of any rolling second would refuse the 21st: 15% spare absorbs bunches
# of three (10% still let 3 of 900 through on a machine loaded four times over).
RATE_HEADROOM = 0.85
# Without a shared limiter the channels of one process still share one bucket per issuer.
_PROCESS_LIMITER = MemoryRateLimiter()


@dataclass(frozen=True, slots=True)
class GoogleWalletSettings:
    issuer_id: str
    key_file: Path
    api_url: str = DEFAULT_API_URL
    # Overrides the key file's token_uri (a fake in tests, a proxy in locked-down networks).
    token_url: str | None = None
    origins: tuple[str, ...] = ()
    timeout: float = 30.0
    requests_per_second: float = REQUESTS_PER_SECOND


def notified(result: DeliveryResult) -> bool:
    """Whether a delivered wallet message also raised a lock-screen notification."""
    return result.outcome is Outcome.DELIVERED and result.reason is not Reason.QUOTA_SILENT


class GoogleWalletChannel:
    name = "google_wallet"

    def __init__(
        self,
        account: ServiceAccount,
        ids: PassIds,
        *,
        session: aiohttp.ClientSession | None = None,
        api_url: str = DEFAULT_API_URL,
        token_url: str | None = None,
        origins: tuple[str, ...] = (),
        quota: NotifyCounter | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
        limiter: RateLimiter | None = None,
        requests_per_second: float = REQUESTS_PER_SECOND,
    ) -> None:
        """``limiter``: the deployment's shared one (Redis), else a bucket in this process;
        ``quota``: the shared notification count (:class:`RedisNotifyQuota`), else one in
        this process."""
        self.account = account
        self.ids = ids
        self.origins = origins
        self.clock = clock
        self.quota: NotifyCounter = quota if quota is not None else NotifyQuota(clock=clock)
        self.limiter: RateLimiter = limiter if limiter is not None else _PROCESS_LIMITER
        self.rate = Rate(per_second=requests_per_second * RATE_HEADROOM, burst=1)
        self.rate_key = f"google_wallet:{ids.issuer_id}"
        self._session = session
        self._owns_session = session is None
        self._api_url = api_url
        self._token_url = token_url
        self._timeout = timeout
        self._api: WalletObjectsApi | None = None

    @classmethod
    def from_settings(
        cls,
        settings: GoogleWalletSettings,
        *,
        secret: bytes,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
        limiter: RateLimiter | None = None,
        quota: NotifyCounter | None = None,
    ) -> GoogleWalletChannel:
        """Raises ``ServiceAccountError`` for an unusable key file and ``ValueError`` for an
        issuer id that is not a number: both are configuration mistakes to stop at start-up."""
        return cls(
            ServiceAccount.from_file(settings.key_file),
            PassIds(settings.issuer_id, secret),
            session=session,
            api_url=settings.api_url,
            token_url=settings.token_url,
            origins=settings.origins,
            clock=clock,
            timeout=settings.timeout,
            limiter=limiter,
            quota=quota,
            requests_per_second=settings.requests_per_second,
        )

    @property
    def api(self) -> WalletObjectsApi:
        """The REST client; its HTTP session is made on first use, inside the event loop."""
        if self._api is None:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            tokens = AccessTokens(
                self.account,
                self._session,
                token_url=self._token_url,
                clock=self.clock,
                timeout=self._timeout,
            )
            self._api = WalletObjectsApi(
                self._session,
                tokens,
                base_url=self._api_url,
                timeout=self._timeout,
                throttle=self._take_turn,
            )
        return self._api

    async def _take_turn(self) -> None:
        """Wait for the issuer's next request slot (shared by every worker through Redis)."""
        await acquire(self.limiter, self.rate_key, self.rate)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None if self._owns_session else self._session
        self._api = None

    async def __aenter__(self) -> GoogleWalletChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- ids and links -----------------------------------------------------------------------

    def object_id(self, membership_id: int) -> str:
        """The campaign address of a member on this channel."""
        return self.ids.object_id(membership_id)

    def save_url(
        self,
        card: LoyaltyPass,
        *,
        program: LoyaltyProgram | None = None,
        embed: bool = False,
    ) -> str:
        """The "Save to Google Wallet" link for a membership.

        By default it names the object already upserted with :meth:`sync_pass` (a short link).
        With ``embed`` the whole object (and ``program``'s class) travels in the JWT, so the
        pass can be saved even before the API has seen it; such links grow to a few kB.
        """
        if embed:
            objects: list[Mapping[str, Any]] = [object_body(card, self.ids)]
            classes = [class_body(program, self.ids)] if program is not None else []
        else:
            objects = [
                {
                    "id": self.ids.object_id(card.membership_id),
                    "classId": self.ids.class_id(card.card_id),
                }
            ]
            classes = []
        return save_url(
            self.account,
            loyalty_objects=objects,
            loyalty_classes=classes,
            origins=self.origins,
            now=self.clock(),
        )

    # -- keeping passes current --------------------------------------------------------------

    async def sync_program(self, program: LoyaltyProgram) -> DeliveryResult:
        """Create or update the card's loyalty class."""
        body = class_body(program, self.ids)
        try:
            done = await self.api.upsert_class(body)
        except _FAILURES as error:
            return self._result_for(error, body["id"])
        return DeliveryResult.delivered(external_id=f"{body['id']}:{done}")

    async def sync_pass(
        self, card: LoyaltyPass, *, program: LoyaltyProgram | None = None
    ) -> DeliveryResult:
        """Create or update a member's loyalty object (balance, vouchers, QR, links).

        With ``program`` a missing class is created on the way, so the first member of a new
        card needs no separate step.
        """
        body = object_body(card, self.ids)
        try:
            try:
                done = await self.api.upsert_object(body)
            except GoogleApiError as error:
                if error.status != 404 or program is None:
                    raise
                # The object's class is unknown to Google: make it, then the object.
                await self.api.upsert_class(class_body(program, self.ids))
                done = await self.api.upsert_object(body)
        except _FAILURES as error:
            return self._result_for(error, body["id"], missing=Reason.BAD_REQUEST)
        return DeliveryResult.delivered(external_id=f"{body['id']}:{done}")

    async def sync_class(self, program: LoyaltyProgram) -> DeliveryResult:
        """Create or update a card's class (its name, shop, colour, places): Google shows the
        change on every object of the class."""
        body = class_body(program, self.ids)
        try:
            await self.api.upsert_class(body)
        except _FAILURES as error:
            return self._result_for(error, body["id"], missing=Reason.BAD_REQUEST)
        return DeliveryResult.delivered(external_id=body["id"])

    async def expire_pass(self, membership_id: int) -> DeliveryResult:
        """A left or erased member: their object loses its name and is expired."""
        object_id = self.ids.object_id(membership_id)
        try:
            await self.api.patch_object(object_id, erased_object_patch())
        except _FAILURES as error:
            return self._result_for(error, object_id)
        return DeliveryResult.delivered(external_id=object_id)

    # -- campaign messages -------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        header = " ".join(message.push_text.split()) or message.merchant_name
        body = telegram_html_to_text(message.html).strip() or header
        return await self.push(
            message.address.strip(), header=header, body=body, message_id=f"d{message.delivery_id}"
        )

    async def push(
        self, object_id: str, *, header: str, body: str, message_id: str
    ) -> DeliveryResult:
        """Add a message to a pass, notifying if the pass has notifications left today."""
        if not object_id or not self.ids.owns(object_id):
            return DeliveryResult.failed(Reason.NO_ADDRESS, detail="no Google Wallet object id")
        try:
            claim = await self.quota.claim(object_id)
            if claim is not None:
                try:
                    await self.api.add_message(
                        object_id, _message(message_id, header, body, NOTIFY)
                    )
                except GoogleApiError as error:
                    if not error.quota_exceeded:
                        await self.quota.release(object_id, claim)
                        raise
                    # Notified where our count did not see it (a count lost with Redis's
                    # data, a process without Redis): Google counts, so we do from now on.
                    logger.info("google wallet %s: notification quota spent", object_id)
                    await self.quota.exhaust(object_id)
                except BaseException:
                    await self.quota.release(object_id, claim)
                    raise
                else:
                    return DeliveryResult.delivered(external_id=message_id)
            await self.api.add_message(object_id, _message(message_id, header, body, QUIET))
        except _FAILURES as error:
            return self._result_for(error, object_id)
        return DeliveryResult(
            Outcome.DELIVERED,
            reason=Reason.QUOTA_SILENT,
            external_id=message_id,
            detail=QUOTA_SILENT_DETAIL,
        )

    # -- errors ------------------------------------------------------------------------------

    @staticmethod
    def _result_for(
        error: Exception, resource_id: str, *, missing: Reason = Reason.UNREACHABLE
    ) -> DeliveryResult:
        if isinstance(error, TokenError):
            if not error.transient:
                # Our key or clock, never the member's: wait for an operator to fix it.
                logger.error("google wallet: the token endpoint refused: %s", error)
            return DeliveryResult.retry(Reason.SERVER_ERROR, detail=f"token: {error}")
        if isinstance(error, RedisError):
            return DeliveryResult.retry(Reason.NETWORK_ERROR, detail=f"redis: {error}")
        if isinstance(error, aiohttp.ClientError | TimeoutError):
            return DeliveryResult.retry(
                Reason.NETWORK_ERROR, detail=str(error) or type(error).__name__
            )
        assert isinstance(error, GoogleApiError)
        detail = str(error)
        if error.status == 404:
            return DeliveryResult.failed(
                missing, unreachable=missing is Reason.UNREACHABLE, detail=detail
            )
        if error.status == 429 or error.quota_exceeded:
            return DeliveryResult.retry(
                Reason.RATE_LIMITED, after=error.retry_after, detail=detail
            )
        if error.status >= 500:
            return DeliveryResult.retry(
                Reason.SERVER_ERROR, after=error.retry_after, detail=detail
            )
        if error.status in (401, 403):
            logger.error("google wallet %s: %s", resource_id, detail)
            return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
        logger.warning("google wallet %s refused: %s", resource_id, detail)
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=detail)


_FAILURES = (GoogleApiError, TokenError, aiohttp.ClientError, TimeoutError, RedisError)


def _message(message_id: str, header: str, body: str, message_type: str) -> dict[str, str]:
    return {"id": message_id, "header": header, "body": body, "messageType": message_type}


def google_wallet_channel(
    issuer_id: str | None,
    key_file: Path | None,
    *,
    secret: bytes,
    api_url: str = DEFAULT_API_URL,
    token_url: str | None = None,
    origins: tuple[str, ...] = (),
    session: aiohttp.ClientSession | None = None,
    clock: Callable[[], float] = time.time,
    limiter: RateLimiter | None = None,
    quota: NotifyCounter | None = None,
    requests_per_second: float = REQUESTS_PER_SECOND,
) -> GoogleWalletChannel | None:
    """The channel when both the issuer id and the key file are configured, else None."""
    if not issuer_id or key_file is None:
        logger.info(
            "Google Wallet is off: set STAMPBOT_GOOGLE_WALLET_ISSUER_ID and "
            "STAMPBOT_GOOGLE_WALLET_KEY_FILE to turn it on"
        )
        return None
    settings = GoogleWalletSettings(
        issuer_id=issuer_id, key_file=key_file, api_url=api_url, token_url=token_url,
        origins=origins, requests_per_second=requests_per_second,
    )  # fmt: skip
    channel = GoogleWalletChannel.from_settings(
        settings, secret=secret, session=session, clock=clock, limiter=limiter, quota=quota
    )
    logger.info(
        "Google Wallet is on: issuer %s, service account %s",
        issuer_id,
        channel.account.client_email,
    )
    return channel
