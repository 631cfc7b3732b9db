"""Who each trigger enrols now: a scan of the rows, not a hook in every code path.

Every trigger is read from what the database already holds (memberships, stamps, vouchers,
deliveries, birthdays, the shop's clock), so an event is never lost to a crash between the
stamp and the hook, and a scan repeated by every worker enrols nobody twice: each occurrence
has its event key ("joined", "stamp:812", "inactive:2026-11-02", "recurring:2026-12-08"), and
(automation, person, key) is unique. Scans look back at most ``LOOKBACK`` for events (a worker
down for a day catches up) and never before the automation was switched on, so switching on
does not replay the past — except for states that are true now (inactive, a voucher about to
expire, a birthday coming), which is what an owner switching on a win-back expects.

Refer a friend reads the referral rows (``loyalty.referrals``): "a friend joined" enrols the
member once per friend; "the friend's first visit" — their first stamp on the card they were
invited to — enrols both, once per friend, keyed so a branch can tell the two apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from automations.chain import (
    FRIEND_KEY_SUFFIX,
    REFERRER_KEY_SUFFIX,
    Birthday,
    CampaignDelivered,
    CampaignOpened,
    Chain,
    FriendJoined,
    FriendVisited,
    Inactive,
    Joined,
    Recurring,
    RewardReady,
    StampAdded,
    VoucherExpiring,
    clock_time,
)
from automations.engine import enrol
from automations.timing import next_local
from loyalty.clock import ensure_utc
from models import (
    Automation,
    Card,
    Customer,
    Delivery,
    Membership,
    Merchant,
    Referral,
    StampEvent,
    Voucher,
)
from models.enums import (
    DeliveryStatus,
    LedgerKind,
    MembershipStatus,
    VoucherSource,
    VoucherStatus,
)

LOOKBACK = timedelta(days=2)
# A recurring occurrence still enrols this long after its time (a worker restarting at 10:20).
RECURRING_GRACE = timedelta(hours=6)


async def scan(now: datetime | None = None) -> int:
    """Enrol whoever every switched-on automation's trigger names now; how many."""
    moment = ensure_utc(now)
    enrolled = 0
    for automation in await Automation.filter(enabled=True).order_by("id"):
        people = await who(automation, moment)
        enrolled += await enrol(automation, people, now=moment)
    return enrolled


async def who(automation: Automation, now: datetime) -> list[tuple[int, str]]:
    """(customer id, event key) for each person the trigger names at ``now``."""
    trigger = Chain.model_validate(automation.chain).trigger
    since = max(now - LOOKBACK, automation.switched_on_at or now)
    cards = await _cards(automation)
    members = Membership.filter(card_id__in=cards, status=MembershipStatus.ACTIVE)
    if isinstance(trigger, Joined):
        rows = await members.filter(joined_at__gt=since).values_list("customer_id", "id")
        return [(c, f"joined:{m}") for c, m in rows]
    if isinstance(trigger, StampAdded):
        stamps = await StampEvent.filter(
            card_id__in=cards, kind=LedgerKind.STAMP, created_at__gt=since
        ).values_list("membership__customer_id", "id")
        return [(c, f"stamp:{s}") for c, s in stamps]
    if isinstance(trigger, Inactive):
        cutoff = now - timedelta(days=trigger.days)
        rows = await members.filter(
            Q(last_visit_at__lte=cutoff) | Q(last_visit_at__isnull=True, joined_at__lte=cutoff)
        ).values_list("customer_id", "last_visit_at", "joined_at")
        return [(c, f"inactive:{(last or joined).date().isoformat()}") for c, last, joined in rows]
    if isinstance(trigger, RewardReady):
        ready = now - timedelta(days=trigger.days)
        vouchers = await Voucher.filter(
            card_id__in=cards, source=VoucherSource.REWARD, status=VoucherStatus.ISSUED,
            issued_at__lte=ready, issued_at__gt=since - timedelta(days=trigger.days),
        ).values_list("membership__customer_id", "id")  # fmt: skip
        return [(c, f"reward:{v}") for c, v in vouchers]
    if isinstance(trigger, VoucherExpiring):
        vouchers = await Voucher.filter(
            card_id__in=cards, status=VoucherStatus.ISSUED,
            expires_at__gt=now, expires_at__lte=now + timedelta(days=trigger.days),
        ).values_list("membership__customer_id", "id")  # fmt: skip
        return [(c, f"expiring:{v}") for c, v in vouchers]
    if isinstance(trigger, Birthday):
        zone = await _zone(automation)
        day = (now.astimezone(zone) + timedelta(days=trigger.days_before)).date()
        people = (
            await Customer.filter(
                memberships__card_id__in=cards,
                memberships__status=MembershipStatus.ACTIVE,
                birth_month=day.month,
                birth_day=day.day,
                erased_at__isnull=True,
            )
            .distinct()
            .values_list("id", flat=True)
        )
        return [(int(str(c)), f"birthday:{day.year}") for c in people]
    if isinstance(trigger, CampaignDelivered | CampaignOpened):
        field = "sent_at" if isinstance(trigger, CampaignDelivered) else "opened_at"
        rows = await Delivery.filter(
            campaign__merchant_id=automation.merchant_id,
            campaign__automation_id__isnull=True,
            status=DeliveryStatus.SENT,
            **{f"{field}__gt": since},
        ).values_list("customer_id", "campaign_id")
        return _distinct((c, f"{field}:{k}") for c, k in rows)
    if isinstance(trigger, Recurring):
        occurrence = await _occurrence(automation, trigger, now)
        if occurrence is None or occurrence <= (automation.switched_on_at or now):
            return []
        ids = await members.values_list("customer_id", flat=True)
        key = f"recurring:{occurrence.date().isoformat()}"
        return _distinct((int(str(c)), key) for c in ids)
    if isinstance(trigger, FriendJoined):
        rows = await Referral.filter(card_id__in=cards, joined_at__gt=since).values_list(
            "referrer__customer_id", "id"
        )
        return [(c, f"friend_joined:{r}") for c, r in rows]
    if isinstance(trigger, FriendVisited):
        return await _first_visits(cards, since)
    return []


async def _first_visits(cards: list[int], since: datetime) -> list[tuple[int, str]]:
    """The member and the friend, for each referred friend whose first stamp came after
    ``since`` (a later stamp of a friend whose first was earlier enrols nobody)."""
    stamped = await (
        StampEvent.filter(card_id__in=cards, kind=LedgerKind.STAMP, created_at__gt=since)
        .distinct()
        .values_list("membership_id", flat=True)
    )
    if not stamped:
        return []
    referrals = await Referral.filter(card_id__in=cards, friend_id__in=stamped).values_list(
        "id", "friend_id", "friend__customer_id", "referrer__customer_id"
    )
    if not referrals:
        return []
    friends = {friend: (ref, f, r) for ref, friend, f, r in referrals}
    first: dict[int, datetime] = {}
    stamps = await StampEvent.filter(
        membership_id__in=list(friends), kind=LedgerKind.STAMP
    ).values_list("membership_id", "created_at")
    for membership, at in stamps:
        if membership not in first or at < first[membership]:
            first[membership] = at
    people: list[tuple[int, str]] = []
    for membership, at in first.items():
        if ensure_utc(at) <= since:
            continue
        referral, friend, referrer = friends[membership]
        key = f"friend_visited:{referral}"
        people += [(referrer, key + REFERRER_KEY_SUFFIX), (friend, key + FRIEND_KEY_SUFFIX)]
    return people


async def _occurrence(
    automation: Automation, trigger: Recurring, now: datetime
) -> datetime | None:
    """The latest occurrence at or before ``now``, if it is within the grace period."""
    zone = await _zone(automation)
    latest = next_local(now - timedelta(days=7), clock_time(trigger.at), zone, trigger.weekday)
    while (following := next_local(latest, clock_time(trigger.at), zone, trigger.weekday)) <= now:
        latest = following
    return latest if now - latest <= RECURRING_GRACE else None


async def _cards(automation: Automation) -> list[int]:
    if automation.card_id is not None:
        return [automation.card_id]
    ids = await Card.filter(merchant_id=automation.merchant_id).values_list("id", flat=True)
    return [int(str(i)) for i in ids]


async def _zone(automation: Automation) -> ZoneInfo:
    merchant = await Merchant.get(id=automation.merchant_id)
    return ZoneInfo(merchant.timezone)


def _distinct(rows: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    return list(dict.fromkeys(rows))
