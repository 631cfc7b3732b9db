"""A membership's current ``.pkpass``: read what the card shows, build, sign, keep a copy.

The pass format and its signature are the adapter's (``channels.apple_wallet.pkpass`` and
``signing``), which takes plain values; reading them from the membership, its vouchers and the
member's language is database work, so it lives here. The web service and the download link
build the same pass through one ``WalletPasses``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.expressions import Q

# The web pages serve passes by this media type without importing the adapter.
from channels.apple_wallet.pkpass import MEDIA_TYPE as MEDIA_TYPE
from channels.apple_wallet.pkpass import PassContent, PassIdentity, build_pkpass
from channels.apple_wallet.signing import ManifestSigner
from locales import supported_language
from loyalty.clock import ensure_utc
from loyalty.links import LinkSigner
from loyalty.memberships import ensure_counter_code
from loyalty.messenger_accounts import own_bot_username
from loyalty.tokens import LinkKind, start_link
from models import Customer, Identity, Membership, Merchant, Voucher, WalletPass
from models.enums import MembershipStatus, VoucherStatus
from wallets.apple_registry import ensure_wallet_pass
from wallets.card_link import card_page_url

logger = logging.getLogger(__name__)

# Apple appends "/v1/..." to the webServiceURL; the web app mounts the service here.
WEB_SERVICE_PREFIX = "/passkit"


class WebServiceConfigError(ValueError):
    """Real Apple certificates with a base URL iPhones will not talk to."""


def web_service_url(base_url: str) -> str | None:
    """The pass's webServiceURL, or None: Wallet only updates passes over https."""
    if urlsplit(base_url).scheme != "https":
        return None
    return base_url.rstrip("/") + WEB_SERVICE_PREFIX


def check_web_service(base_url: str, *, real_certificates: bool) -> None:
    """Refuse to start with real certificates but no https: every pass would stay frozen.

    The demo certificates are for trying the bot out, where http on loopback is expected.
    """
    if real_certificates and web_service_url(base_url) is None:
        raise WebServiceConfigError(
            f"Apple Wallet: real pass certificates are configured but the public URL "
            f"{base_url!r} is not https. iPhones refuse to register passes with a plain-http "
            f"web service, so no pass would ever update. Set STAMPBOT_PUBLIC_URL to the "
            f"https address of this server, or remove the STAMPBOT_APPLE_PASS_* certificate "
            f"settings to use the demo certificates."
        )


async def member_language(membership: Membership, default: str) -> str:
    """The language the member reads: their choice, else their messenger's, else the shop's."""
    customer = await Customer.get(id=membership.customer_id)
    if (chosen := supported_language(customer.language)) is not None:
        return chosen
    codes = await Identity.filter(customer_id=customer.id).values_list("language_code", flat=True)
    for code in codes:
        if (language := supported_language(str(code) if code else None)) is not None:
            return language
    return supported_language(default) or "en"


def shop_locations(merchant: Merchant) -> tuple[tuple[float, float], ...]:
    """The shop's place on the pass, when the owner sent it (one shop, one place for now)."""
    if merchant.latitude is None or merchant.longitude is None:
        return ()
    return ((merchant.latitude, merchant.longitude),)


@dataclass(frozen=True, slots=True)
class IssuedPass:
    serial_number: str
    pkpass: bytes
    # When the pass's content last changed (the update tag's moment).
    updated_at: datetime
    path: Path | None


class WalletPasses:
    """Builds the signed pass of a membership; one instance per process."""

    def __init__(
        self,
        *,
        pass_type_identifier: str,
        team_identifier: str,
        base_url: str,
        signer: ManifestSigner,
        link_signer: LinkSigner,
        bot_username: str,
        passes_dir: Path | None = None,
    ) -> None:
        self.identity = PassIdentity(
            pass_type_identifier=pass_type_identifier,
            team_identifier=team_identifier,
            web_service_url=web_service_url(base_url),
        )
        if self.identity.web_service_url is None:
            logger.info(
                "Apple Wallet passes are not updatable: the base URL %s is not https "
                "(Wallet refuses a plain-http web service)",
                base_url,
            )
        self._signer = signer
        self._links = link_signer
        self._bot_username = bot_username
        self._dir = passes_dir

    @property
    def pass_type_identifier(self) -> str:
        return self.identity.pass_type_identifier

    def barcode_message(self, public_token: str, bot_username: str | None = None) -> str:
        """The personal QR payload: the same link the Telegram card image carries, to
        ``bot_username`` (the shop's own bot while connected), else the shared bot."""
        return start_link(bot_username or self._bot_username, LinkKind.MEMBERSHIP, public_token)

    async def content(
        self, wallet_pass: WalletPass, *, now: datetime | None = None
    ) -> PassContent:
        moment = ensure_utc(now)
        membership = await Membership.get(id=wallet_pass.membership_id).select_related(
            "card__merchant"
        )
        card, merchant = membership.card, membership.card.merchant
        active = membership.status == MembershipStatus.ACTIVE
        vouchers: list[Voucher] = []
        if active:
            vouchers = await Voucher.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=moment),
                membership_id=membership.id,
                status=VoucherStatus.ISSUED,
            ).order_by("expires_at", "id")
        return PassContent(
            serial_number=wallet_pass.serial_number,
            authentication_token=wallet_pass.authentication_token,
            merchant_name=merchant.name,
            card_name=card.name,
            stamps_needed=card.stamps_needed,
            balance=membership.balance,
            reward_text=card.reward_text,
            background=merchant.background_color,
            foreground=merchant.foreground_color,
            accent=merchant.accent_color,
            logo_png=merchant.logo_png,
            barcode_message=self.barcode_message(
                membership.public_token, await own_bot_username(merchant.id)
            ),
            card_page_url=card_page_url(self._links, membership.id, membership.public_token),
            voucher_titles=tuple(voucher.title for voucher in vouchers),
            campaign_message=wallet_pass.campaign_message,
            voided=not active,
            language=await member_language(membership, merchant.default_language),
            counter_code=await ensure_counter_code(membership) if active else "",
            locations=shop_locations(merchant),
        )

    async def build(self, wallet_pass: WalletPass, *, now: datetime | None = None) -> IssuedPass:
        content = await self.content(wallet_pass, now=now)
        data = build_pkpass(content, self.identity, self._signer)
        return IssuedPass(
            serial_number=wallet_pass.serial_number,
            pkpass=data,
            updated_at=wallet_pass.updated_at,
            path=self._keep(wallet_pass.serial_number, data),
        )

    async def issue(self, membership_id: int, *, now: datetime | None = None) -> IssuedPass:
        """The pass to hand to the customer ("Add to Apple Wallet"), made on first use."""
        wallet_pass = await ensure_wallet_pass(membership_id, now=now)
        return await self.build(wallet_pass, now=now)

    def _keep(self, serial_number: str, data: bytes) -> Path | None:
        """Write ``<serial>.pkpass`` atomically, so a reader never sees half a pass."""
        if self._dir is None:
            return None
        self._dir.mkdir(parents=True, exist_ok=True)
        target = self._dir / f"{serial_number}.pkpass"
        fd, temp = tempfile.mkstemp(dir=self._dir, prefix=".pass-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target
