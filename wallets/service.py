"""A membership's wallet passes: handing them out, and keeping them current after each change.

Apple: the signed ``.pkpass`` for "Add to Apple Wallet"; after a change the pass's update tag
moves and every registered device gets an (empty) APNs push, then fetches the new pass.
Google: "Save to Google Wallet" creates the member's loyalty object at Google (recorded in
``GoogleWalletObject``, which is what makes the member reachable there) and links to it; after a
change the object is patched.

Updates are best-effort: a wallet that cannot be told now never fails the stamp or the
redemption that changed it; the failure is logged, and the next change or the device's own
refresh catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError

from channels.base import DeliveryResult, Outcome
from channels.google_wallet import (
    GoogleWalletChannel,
    LoyaltyPass,
    pass_from_card,
    program_from_card,
)
from loyalty.clock import utcnow
from loyalty.errors import MembershipNotFound
from loyalty.links import LinkSigner
from loyalty.messenger_accounts import own_bot_username
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, customer_card
from models import (
    Card,
    Customer,
    GoogleWalletObject,
    Membership,
    Merchant,
    Voucher,
    WalletPass,
)
from models.enums import MembershipStatus
from wallets.apple_passes import IssuedPass, WalletPasses, member_language, shop_locations
from wallets.apple_registry import forget_push_tokens, pass_changed, start_retiring
from wallets.card_link import card_page_url

if TYPE_CHECKING:
    # The APNs client (h2, hpack, PyJWT) loads only once a pass is pushed: a web replica of a
    # shop without Apple Wallet, or one idle, does not carry it.
    from channels.apple_wallet.apns import ApnsClient

__all__ = [
    "LOGO_PATH",
    "CardsUpdate",
    "WalletUpdate",
    "Wallets",
    "card_logo_png",
    "forget_google_object",
]

logger = logging.getLogger(__name__)

# Google fetches a class's logo itself: the web app serves each card's logo here.
LOGO_PATH = "/wallet/logo/"
# The biggest square Apple size; Google scales it down for the pass header.
LOGO_FILE = "icon@3x.png"


@dataclass(frozen=True, slots=True)
class CardsUpdate:
    """What a change to cards told the wallets: passes touched, devices pushed, Google
    objects and classes patched."""

    passes: int = 0
    apple_devices: int = 0
    google_objects: int = 0
    google_classes: int = 0


@dataclass(frozen=True, slots=True)
class WalletUpdate:
    """What one change told the wallets (for logs and tests)."""

    apple_devices: int = 0
    apple: DeliveryResult | None = None
    google: DeliveryResult | None = None


class Wallets:
    """The deployment's wallets: Apple passes always (demo-signed by default), APNs and Google
    Wallet only when configured."""

    def __init__(
        self,
        *,
        passes: WalletPasses,
        link_signer: LinkSigner,
        bot_username: str,
        apns: ApnsClient | None = None,
        google: GoogleWalletChannel | None = None,
        base_url: str | None = None,
    ) -> None:
        self.passes = passes
        self.apns = apns
        self.google = google
        self._links = link_signer
        self._bot_username = bot_username
        self._base_url = base_url

    async def close(self) -> None:
        if self.apns is not None:
            await self.apns.close()
        if self.google is not None:
            await self.google.close()

    # -- handing passes out ---------------------------------------------------------------------

    async def apple_pass(self, membership_id: int) -> IssuedPass:
        """The membership's signed pass, made (serial, token) on first use."""
        return await self.passes.issue(membership_id)

    def logo_url(self, card_id: int) -> str:
        base = (self._base_url or self._links.base_url).rstrip("/")
        return f"{base}{LOGO_PATH}{card_id}.png"

    async def google_save_url(self, card: CardView) -> str | None:
        """The "Save to Google Wallet" link; None when Google is off or refused for now.

        The first time, the loyalty object (and the card's class) is created at Google, so the
        link stays short and campaigns can reach the member from then on.
        """
        if self.google is None:
            return None
        try:
            google_pass = await self._google_pass(card)
            if not await GoogleWalletObject.exists(membership_id=card.membership_id):
                result = await self._sync_google(card, google_pass)
                if result.outcome is not Outcome.DELIVERED:
                    logger.info(
                        "no Google Wallet link for membership %s now: %s (%s)",
                        card.membership_id, result.reason, result.detail,
                    )  # fmt: skip
                    return None
            return self.google.save_url(google_pass)
        except Exception:
            # The card must still show; the button comes back with the next card.
            logger.exception("Google Wallet link for membership %s failed", card.membership_id)
            return None

    # -- after a change -------------------------------------------------------------------------

    async def membership_changed(self, membership_id: int) -> WalletUpdate:
        """Stamps, a reward, a voucher: bump the Apple pass and push, patch the Google object."""
        apple: DeliveryResult | None = None
        devices = 0
        try:
            tokens = await pass_changed(membership_id)
            devices = len(tokens)
            if tokens and self.apns is not None:
                from channels.apple_wallet.channel import push_to_devices

                apple = await push_to_devices(self.apns, tokens)
                await forget_push_tokens(apple.forget)
                if apple.outcome is not Outcome.DELIVERED:
                    logger.info(
                        "Apple Wallet pass of membership %s: push %s (%s)",
                        membership_id, apple.outcome, apple.reason,
                    )  # fmt: skip
        except Exception:
            logger.exception(
                "updating the Apple Wallet pass of membership %s failed", membership_id
            )
        google = await self._google_changed(membership_id)
        return WalletUpdate(apple_devices=devices, apple=apple, google=google)

    async def forget_left_memberships(self, customer_id: int) -> list[WalletUpdate]:
        """After leaving a card or erasing: the wallets keep nothing that points at the person.

        For every left membership of the customer (erasure leaves them all): each Apple
        device holding the pass gets one last push, and the pass is retiring: the devices can
        still ask for it and download the voided copy with the old token, and nothing else is
        pushed to them. Once they have it (or unregistered, or ``RETIRING_GRACE`` is over) the
        registrations go and the token changes, so the old copy can ask nothing any more
        (``wallets.apple_registry``). The Google object is expired with its
        ``accountName`` cleared, and no longer counted as a way to reach the member.
        Idempotent: a second run pushes nothing again and finds no Google object. Best-effort
        like every wallet update.
        """
        left = await Membership.filter(
            customer_id=customer_id, status=MembershipStatus.LEFT
        ).values_list("id", flat=True)
        return [await self._membership_gone(int(str(m))) for m in left]

    async def _membership_gone(self, membership_id: int) -> WalletUpdate:
        apple: DeliveryResult | None = None
        devices = 0
        try:
            tokens = await start_retiring(membership_id)
            devices = len(tokens)
            if tokens and self.apns is not None:
                from channels.apple_wallet.channel import push_to_devices

                apple = await push_to_devices(self.apns, tokens)
                await forget_push_tokens(apple.forget)
        except Exception:
            logger.exception(
                "retiring the Apple Wallet pass of membership %s failed", membership_id
            )
        google: DeliveryResult | None = None
        if self.google is not None:
            try:
                if await GoogleWalletObject.exists(membership_id=membership_id):
                    google = await self.google.expire_pass(membership_id)
                    if google.outcome is Outcome.DELIVERED or google.unreachable:
                        await GoogleWalletObject.filter(membership_id=membership_id).delete()
                    else:
                        logger.warning(
                            "Google Wallet object of membership %s not expired: %s (%s)",
                            membership_id, google.reason, google.detail,
                        )  # fmt: skip
            except Exception:
                logger.exception(
                    "expiring the Google Wallet object of membership %s failed", membership_id
                )
        return WalletUpdate(apple_devices=devices, apple=apple, google=google)

    async def campaign_vouchers_issued(self, campaign_id: int, *, parallel: int = 16) -> int:
        """A campaign handed out its voucher: update the passes of the people who have one.

        Returns how many passes were told. Runs ``parallel`` updates at once: each is a few
        queries and one push per device.
        """
        memberships = set(
            await Voucher.filter(campaign_id=campaign_id).values_list("membership_id", flat=True)
        )
        with_pass = set(
            await WalletPass.filter(membership_id__in=list(memberships)).values_list(
                "membership_id", flat=True
            )
        ) | set(
            await GoogleWalletObject.filter(membership_id__in=list(memberships)).values_list(
                "membership_id", flat=True
            )
        )
        slots = asyncio.Semaphore(parallel)

        async def update(membership_id: int) -> None:
            async with slots:
                await self.membership_changed(membership_id)

        await asyncio.gather(*(update(int(str(m))) for m in with_pass))
        return len(with_pass)

    async def cards_changed(self, card_ids: list[int], *, parallel: int = 16) -> CardsUpdate:
        """An owner changed a card (or the shop's colours or logo, which every card shows):
        Google's loyalty class of each card is patched, then every pass of those cards is
        bumped and pushed (Apple) and every saved object patched (Google).

        Awaited by the change's screen, so the owner is told how many passes were reached.
        """
        memberships = await Membership.filter(card_id__in=card_ids).values_list("id", "card_id")
        by_id = {int(str(m)): int(str(c)) for m, c in memberships}
        with_pass = set(
            await WalletPass.filter(membership_id__in=list(by_id)).values_list(
                "membership_id", flat=True
            )
        ) | set(
            await GoogleWalletObject.filter(membership_id__in=list(by_id)).values_list(
                "membership_id", flat=True
            )
        )
        classes = 0
        if self.google is not None:
            # One member's card stands for the class: the class holds what all members share.
            for card_id in sorted(set(card_ids)):
                member = next((m for m, c in sorted(by_id.items()) if c == card_id), None)
                if member is not None and await self._sync_class(member):
                    classes += 1
        slots = asyncio.Semaphore(parallel)
        updates: list[WalletUpdate] = []

        async def update(membership_id: int) -> None:
            async with slots:
                updates.append(await self.membership_changed(membership_id))

        await asyncio.gather(*(update(int(str(m))) for m in sorted(with_pass)))
        return CardsUpdate(
            passes=len(with_pass),
            apple_devices=sum(u.apple_devices for u in updates),
            google_objects=sum(
                1
                for u in updates
                if u.google is not None and u.google.outcome is Outcome.DELIVERED
            ),
            google_classes=classes,
        )

    async def _sync_class(self, membership_id: int) -> bool:
        assert self.google is not None
        try:
            membership = await Membership.get(id=membership_id)
            card = await customer_card(membership_id, membership.customer_id)
            merchant = await Merchant.get(cards__id=card.card_id)
            program = program_from_card(
                card, logo_url=self.logo_url(card.card_id), locations=shop_locations(merchant)
            )
            result = await self.google.sync_program(program)
        except MembershipNotFound:
            return False
        except Exception:
            logger.exception(
                "updating the Google Wallet class of card of %s failed", membership_id
            )
            return False
        if result.outcome is not Outcome.DELIVERED:
            logger.info("Google Wallet class not updated: %s (%s)", result.reason, result.detail)
        return result.outcome is Outcome.DELIVERED

    async def shop_changed(self, merchant_id: int, *, parallel: int = 16) -> int:
        """The shop's name or place changed, or it connected or disconnected its own bot (the
        passes' QR codes open it): every card of it changed (``cards_changed``).
        Apple phones fetch the pass with its new ``locations``; Google gets class and objects
        again. Returns how many memberships with a pass were told."""
        card_ids = await Card.filter(merchant_id=merchant_id).values_list("id", flat=True)
        update = await self.cards_changed([int(str(c)) for c in card_ids], parallel=parallel)
        return update.passes

    async def voucher_changed(self, voucher_id: int) -> WalletUpdate:
        membership_id = await Voucher.filter(id=voucher_id).values_list("membership_id", flat=True)
        if not membership_id:
            return WalletUpdate()
        return await self.membership_changed(int(str(membership_id[0])))

    async def _google_changed(self, membership_id: int) -> DeliveryResult | None:
        if self.google is None:
            return None
        try:
            if not await GoogleWalletObject.exists(membership_id=membership_id):
                return None  # never saved: nothing at Google to update
            membership = await Membership.get(id=membership_id)
            try:
                card = await customer_card(membership_id, membership.customer_id)
            except MembershipNotFound:
                return None  # left the card; the object keeps its last state
            result = await self._sync_google(card, await self._google_pass(card))
            if result.outcome is not Outcome.DELIVERED:
                logger.info(
                    "Google Wallet object of membership %s not updated: %s (%s)",
                    membership_id, result.outcome, result.reason,
                )  # fmt: skip
            return result
        except Exception:
            logger.exception(
                "updating the Google Wallet object of membership %s failed", membership_id
            )
            return None

    # -- Google objects ------------------------------------------------------------------------

    async def _google_pass(self, card: CardView) -> LoyaltyPass:
        membership = await Membership.get(id=card.membership_id).select_related("card__merchant")
        customer = await Customer.get(id=membership.customer_id)
        return pass_from_card(
            card,
            account_name=customer.first_name or card.card_name,
            # The shop's own bot while connected, as its join links (``shop_changed`` on
            # connecting and disconnecting brings the saved objects along).
            barcode_value=start_link(
                await own_bot_username(card.merchant_id) or self._bot_username,
                LinkKind.MEMBERSHIP,
                card.token,
            ),
            card_page_url=card_page_url(self._links, card.membership_id, card.token),
            language=await member_language(membership, membership.card.merchant.default_language),
            counter_code=card.counter_code,
        )

    async def _sync_google(self, card: CardView, google_pass: LoyaltyPass) -> DeliveryResult:
        assert self.google is not None
        merchant = await Merchant.get(cards__id=card.card_id)
        program = program_from_card(
            card, logo_url=self.logo_url(card.card_id), locations=shop_locations(merchant)
        )
        result = await self.google.sync_pass(google_pass, program=program)
        if result.outcome is Outcome.DELIVERED:
            await _record_object(card.membership_id, self.google.object_id(card.membership_id))
        return result


async def _record_object(membership_id: int, object_id: str) -> None:
    moment = utcnow()
    updated = await GoogleWalletObject.filter(membership_id=membership_id).update(synced_at=moment)
    if updated:
        return
    # A concurrent save may have made the row a moment ago.
    with contextlib.suppress(IntegrityError):
        await GoogleWalletObject.create(
            membership_id=membership_id, object_id=object_id, synced_at=moment
        )


async def card_logo_png(card_id: int) -> bytes | None:
    """The card's logo as Google shows it: the square badge the Apple pass uses as its icon
    (the merchant's logo, or their initial on their colours). None for an unknown card."""
    from render.pass_images import pass_images  # here: Pillow only when a badge is drawn

    card = await Card.get_or_none(id=card_id).select_related("merchant")
    if card is None:
        return None
    merchant = card.merchant
    images = pass_images(
        merchant.name,
        merchant.background_color,
        merchant.foreground_color,
        merchant.accent_color,
        merchant.logo_png,
    )
    return images[LOGO_FILE]


async def forget_google_object(customer_id: int, card_id: int) -> int:
    """Google answered 404 for the member's object: they are no longer reachable there."""
    membership_ids = await Membership.filter(customer_id=customer_id, card_id=card_id).values_list(
        "id", flat=True
    )
    return await GoogleWalletObject.filter(membership_id__in=list(membership_ids)).delete()
