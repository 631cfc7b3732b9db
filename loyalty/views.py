"""Read models: what a customer's card and vouchers look like, for chat, web and wallets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from loyalty.clock import ensure_utc
from loyalty.errors import MembershipNotFound, VoucherNotFound
from loyalty.memberships import ensure_counter_code
from loyalty.referrals import REFERRAL_TRIGGERS
from models import Automation, Card, Customer, Identity, Membership, Merchant, Voucher
from models.enums import MembershipStatus, Platform, VoucherStatus


@dataclass(frozen=True, slots=True)
class Brand:
    merchant_name: str
    timezone: str
    background: str
    foreground: str
    accent: str
    logo_png: bytes | None

    @classmethod
    def of(cls, merchant: Merchant) -> Brand:
        return cls(
            merchant_name=merchant.name,
            timezone=merchant.timezone,
            background=merchant.background_color,
            foreground=merchant.foreground_color,
            accent=merchant.accent_color,
            logo_png=merchant.logo_png,
        )


@dataclass(frozen=True, slots=True)
class VoucherView:
    id: int
    merchant_id: int
    title: str
    code: str
    token: str
    status: VoucherStatus
    expires_at: datetime | None
    redeemed_at: datetime | None
    card_name: str
    brand: Brand

    def usable(self, moment: datetime) -> bool:
        return self.status == VoucherStatus.ISSUED and (
            self.expires_at is None or self.expires_at > moment
        )


@dataclass(frozen=True, slots=True)
class CardView:
    membership_id: int
    token: str
    card_id: int
    card_name: str
    stamps_needed: int
    balance: int
    reward_text: str
    brand: Brand
    vouchers: tuple[VoucherView, ...]
    counter_code: str = ""
    # The shop rewards friends who join through this member's invite link (refer a friend).
    invites_open: bool = False

    @property
    def stamps_to_reward(self) -> int:
        return self.stamps_needed - self.balance


@dataclass(frozen=True, slots=True)
class Contact:
    """Where and in which language to reach a customer on a messenger."""

    customer_id: int
    platform: Platform
    chat_id: str
    language: str | None


def _voucher_view(voucher: Voucher, card: Card, merchant: Merchant) -> VoucherView:
    return VoucherView(
        id=voucher.id,
        merchant_id=voucher.merchant_id,
        title=voucher.title,
        code=voucher.code,
        token=voucher.token,
        status=VoucherStatus(voucher.status),
        expires_at=voucher.expires_at,
        redeemed_at=voucher.redeemed_at,
        card_name=card.name,
        brand=Brand.of(merchant),
    )


async def _views(memberships: list[Membership], moment: datetime) -> list[CardView]:
    ids = [m.id for m in memberships]
    vouchers = (
        # A voucher without an expiry date never expires: NULL must not drop out of the filter.
        await Voucher.filter(membership_id__in=ids, status=VoucherStatus.ISSUED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .order_by("expires_at", "id")
    )
    inviting = await _inviting(memberships)
    views = []
    for membership in memberships:
        card: Card = membership.card
        merchant: Merchant = card.merchant
        own = tuple(
            _voucher_view(v, card, merchant) for v in vouchers if v.membership_id == membership.id
        )
        views.append(
            CardView(
                membership_id=membership.id,
                token=membership.public_token,
                card_id=card.id,
                card_name=card.name,
                stamps_needed=card.stamps_needed,
                balance=membership.balance,
                reward_text=card.reward_text,
                brand=Brand.of(merchant),
                vouchers=own,
                counter_code=await ensure_counter_code(membership),
                invites_open=(card.merchant_id, card.id) in inviting
                or (card.merchant_id, None) in inviting,
            )
        )
    return views


async def _inviting(memberships: list[Membership]) -> set[tuple[int, int | None]]:
    """(shop, card or None for all its cards) with a switched-on refer-a-friend automation."""
    shops = {m.card.merchant_id for m in memberships}
    if not shops:
        return set()
    rows = await Automation.filter(
        merchant_id__in=shops, enabled=True, trigger__in=REFERRAL_TRIGGERS
    ).values_list("merchant_id", "card_id")
    return {(int(shop), card) for shop, card in rows}


async def customer_cards(customer_id: int, *, now: datetime | None = None) -> list[CardView]:
    memberships = (
        await Membership.filter(customer_id=customer_id, status=MembershipStatus.ACTIVE)
        .select_related("card__merchant")
        .order_by("-last_visit_at", "-joined_at", "id")
    )
    return await _views(memberships, ensure_utc(now))


async def cards_on(
    card_ids: set[int], customer_ids: set[int], *, now: datetime | None = None
) -> dict[tuple[int, int], CardView]:
    """(customer id, card id) → the active card, in one query, for messages sent in bulk."""
    memberships = await Membership.filter(
        customer_id__in=customer_ids, card_id__in=card_ids, status=MembershipStatus.ACTIVE
    ).select_related("card__merchant")
    views = await _views(memberships, ensure_utc(now))
    return {(m.customer_id, m.card_id): view for m, view in zip(memberships, views, strict=True)}


async def customer_card(
    membership_id: int, customer_id: int, *, now: datetime | None = None
) -> CardView:
    """One card of this customer; another customer's membership id is simply unknown."""
    membership = await Membership.get_or_none(
        id=membership_id, customer_id=customer_id, status=MembershipStatus.ACTIVE
    ).select_related("card__merchant")
    if membership is None:
        raise MembershipNotFound()
    return (await _views([membership], ensure_utc(now)))[0]


async def customer_vouchers(customer_id: int, *, now: datetime | None = None) -> list[VoucherView]:
    cards = await customer_cards(customer_id, now=now)
    return [voucher for card in cards for voucher in card.vouchers]


async def customer_voucher(voucher_id: int, customer_id: int) -> VoucherView:
    voucher = await Voucher.get_or_none(
        id=voucher_id, membership__customer_id=customer_id
    ).select_related("card__merchant")
    if voucher is None:
        raise VoucherNotFound()
    return _voucher_view(voucher, voucher.card, voucher.card.merchant)


async def contact_of(customer_id: int, platform: Platform = Platform.TELEGRAM) -> Contact | None:
    """The reachable messenger identity of a customer, or None."""
    identity = await Identity.get_or_none(
        customer_id=customer_id, platform=platform, reachable=True
    )
    if identity is None:
        return None
    customer = await Customer.get(id=customer_id)
    return Contact(
        customer_id=customer_id,
        platform=platform,
        chat_id=identity.external_id,
        language=customer.language or identity.language_code,
    )


async def vouchers_to_remind(
    *, within: timedelta, now: datetime | None = None
) -> list[tuple[int, VoucherView]]:
    """(customer id, voucher) for usable vouchers expiring within ``within``, not yet reminded.

    Shops that switched on the "voucher expiring" automation remind through it instead.
    """
    moment = ensure_utc(now)
    automated = await Automation.filter(trigger="voucher_expiring", enabled=True).values_list(
        "merchant_id", flat=True
    )
    vouchers = (
        await Voucher.filter(
            status=VoucherStatus.ISSUED,
            expiry_reminded_at__isnull=True,
            expires_at__gt=moment,
            expires_at__lte=moment + within,
        )
        .exclude(card__merchant_id__in=list(automated))
        .select_related("card__merchant", "membership")
        .order_by("expires_at", "id")
    )
    return [
        (v.membership.customer_id, _voucher_view(v, v.card, v.card.merchant)) for v in vouchers
    ]


async def claim_reminder(voucher_id: int, *, now: datetime | None = None) -> bool:
    """Take the voucher's one expiry reminder; False when another process took it first (or
    the voucher was used meanwhile).

    One conditional UPDATE decides, so any number of ``run``/``web`` processes listing the
    same vouchers send each reminder once. Taken before sending: a crash between the two
    loses that reminder rather than sending it twice.
    """
    taken = await Voucher.filter(
        id=voucher_id, status=VoucherStatus.ISSUED, expiry_reminded_at__isnull=True
    ).update(expiry_reminded_at=ensure_utc(now))
    return taken == 1


async def release_reminder(voucher_id: int) -> None:
    """Give a claimed reminder back after a send that failed for a passing reason (network,
    Telegram down), so the next round tries it again."""
    await Voucher.filter(id=voucher_id).update(expiry_reminded_at=None)
