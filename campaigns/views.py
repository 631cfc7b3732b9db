"""Read models for the campaign screens: small frozen values, so the bot draws from plain data
and every query behind a screen lives here, next to the rows it reads.

Each function looks within one shop: another shop's campaign id is simply unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from campaigns.errors import CampaignNotFound
from campaigns.report import DayRow, daily_series
from campaigns.spec import AudienceFilter
from campaigns.stats import CampaignStats, campaign_stats
from models import Campaign, Card, Merchant, MessengerAccount
from models.enums import AccountStatus, CampaignStatus, Channel, Platform

# The paid chats a shop may have an account of its own on.
OWN_CHATS: dict[Channel, Platform] = {
    Channel.VIBER: Platform.VIBER,
    Channel.WHATSAPP: Platform.WHATSAPP,
}

_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?")


@dataclass(frozen=True, slots=True)
class CardChoice:
    """A card a campaign can be for; what the audience counts need of it, too."""

    id: int
    merchant_id: int
    name: str
    stamps_needed: int


@dataclass(frozen=True, slots=True)
class CampaignShop:
    """What composing a campaign needs of the shop, read once when the wizard opens."""

    merchant_id: int
    name: str
    timezone: str
    cards: tuple[CardChoice, ...]  # active, oldest first
    # The paid chats the shop has an account of its own on (its Viber bot, its WhatsApp
    # number): offered in the wizard even where the deployment has no shared one.
    own_chats: tuple[Channel, ...] = ()

    def card(self, card_id: int | None) -> CardChoice | None:
        return next((card for card in self.cards if card.id == card_id), None)

    def as_json(self) -> dict[str, object]:
        """Plain JSON types, to keep between messages (the FSM storage may be Redis)."""
        return {
            "merchant_id": self.merchant_id,
            "name": self.name,
            "timezone": self.timezone,
            "cards": [[c.id, c.name, c.stamps_needed] for c in self.cards],
            "own_chats": [c.value for c in self.own_chats],
        }

    @classmethod
    def from_json(cls, data: object) -> CampaignShop | None:
        """The stored shop, or None when it is missing or was stored in another shape."""
        if not isinstance(data, dict):
            return None
        try:
            merchant_id, name, timezone = data["merchant_id"], data["name"], data["timezone"]
            cards = tuple(
                CardChoice(
                    id=int(i), merchant_id=int(merchant_id), name=str(n), stamps_needed=int(s)
                )
                for i, n, s in data["cards"]
            )
            # A shop stored before it had own chats has none.
            own = tuple(Channel(c) for c in data.get("own_chats", ()))
            return cls(int(merchant_id), str(name), str(timezone), cards, own)
        except (KeyError, TypeError, ValueError):
            return None


async def campaign_shop(merchant_id: int) -> CampaignShop:
    merchant = await Merchant.get(id=merchant_id)
    cards = await Card.filter(merchant_id=merchant_id, active=True).order_by("id")
    own = set(
        await MessengerAccount.filter(
            merchant_id=merchant_id,
            platform__in=list(OWN_CHATS.values()),
            status=AccountStatus.ACTIVE,
        ).values_list("platform", flat=True)
    )
    return CampaignShop(
        merchant_id=merchant.id,
        name=merchant.name,
        timezone=merchant.timezone,
        cards=tuple(
            CardChoice(
                id=c.id, merchant_id=c.merchant_id, name=c.name, stamps_needed=c.stamps_needed
            )
            for c in cards
        ),
        own_chats=tuple(channel for channel, platform in OWN_CHATS.items() if platform in own),
    )


@dataclass(frozen=True, slots=True)
class CampaignLine:
    id: int
    name: str
    status: CampaignStatus
    # What the list button says besides the name: the message's first line, the state's day.
    message_text: str = ""
    created_at: datetime | None = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CampaignPage:
    """One page of a shop's campaigns, newest first; ``page`` is clamped to the pages there are."""

    campaigns: tuple[CampaignLine, ...]
    page: int
    pages: int
    timezone: str = "UTC"


def _search(query: QuerySet[Campaign], text: str, timezone: str) -> QuerySet[Campaign]:
    """A date (dd.mm or dd.mm.yyyy) finds campaigns created, scheduled or sent that day in the
    shop's time zone; anything else is part of a name."""
    if match := _DATE.fullmatch(text.strip()):
        zone = ZoneInfo(timezone)
        today = datetime.now(zone)
        try:
            day = datetime(
                int(match[3] or today.year), int(match[2]), int(match[1]), tzinfo=zone
            ).astimezone(UTC)
        except ValueError:
            return query.filter(id=0)
        until = day + timedelta(days=1)
        return query.filter(
            Q(created_at__gte=day, created_at__lt=until)
            | Q(scheduled_at__gte=day, scheduled_at__lt=until)
            | Q(started_at__gte=day, started_at__lt=until)
        )
    return query.filter(name__icontains=text.strip())


async def campaign_page(
    merchant_id: int,
    *,
    page: int,
    size: int,
    statuses: tuple[CampaignStatus, ...] | None = None,
    search: str | None = None,
) -> CampaignPage:
    """Campaigns in ``statuses`` (None: all), or those ``search`` finds."""
    # An automation's send steps are campaign rows too; they are listed with the automation.
    query = Campaign.filter(merchant_id=merchant_id, automation_id__isnull=True)
    merchant = await Merchant.get(id=merchant_id)
    if search:
        query = _search(query, search, merchant.timezone)
    elif statuses is not None:
        query = query.filter(status__in=statuses)
    total = await query.count()
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    rows = await query.order_by("-created_at", "-id").offset(page * size).limit(size)
    return CampaignPage(
        campaigns=tuple(
            CampaignLine(
                c.id,
                c.name,
                CampaignStatus(c.status),
                message_text=c.message_text,
                created_at=c.created_at,
                scheduled_at=c.scheduled_at,
                started_at=c.started_at,
                finished_at=c.finished_at,
            )
            for c in rows
        ),
        page=page,
        pages=pages,
        timezone=merchant.timezone,
    )


@dataclass(frozen=True, slots=True)
class CampaignDetail:
    """A campaign's page: what it is, when it goes, and (once it started) how it did."""

    id: int
    merchant_id: int
    name: str
    status: CampaignStatus
    card_name: str
    timezone: str
    audience: AudienceFilter
    channels: tuple[str, ...]
    push_text: str
    voucher_title: str | None
    voucher_validity_days: int | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    stats: CampaignStats | None
    message_text: str = ""
    created_at: datetime | None = None


async def _campaign(campaign_id: int, merchant_id: int) -> Campaign:
    campaign = await Campaign.get_or_none(id=campaign_id, merchant_id=merchant_id).select_related(
        "merchant", "card"
    )
    if campaign is None:
        raise CampaignNotFound()
    return campaign


async def campaign_detail(campaign_id: int, *, merchant_id: int) -> CampaignDetail:
    campaign = await _campaign(campaign_id, merchant_id)
    return CampaignDetail(
        id=campaign.id,
        merchant_id=campaign.merchant_id,
        name=campaign.name,
        status=CampaignStatus(campaign.status),
        card_name=campaign.card.name,
        timezone=campaign.merchant.timezone,
        audience=AudienceFilter.from_json(campaign.audience_filters),
        channels=tuple(campaign.channels),
        push_text=campaign.push_text,
        voucher_title=campaign.voucher_title,
        voucher_validity_days=campaign.voucher_validity_days,
        scheduled_at=campaign.scheduled_at,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        stats=await campaign_stats(campaign) if campaign.started_at is not None else None,
        message_text=campaign.message_text,
        created_at=campaign.created_at,
    )


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """The exports of a campaign: per local day in the shop's time zone, and (for the CSV)
    the statistics per channel."""

    name: str
    days: list[DayRow]
    stats: CampaignStats | None


async def campaign_report(
    campaign_id: int, *, merchant_id: int, with_stats: bool
) -> CampaignReport:
    campaign = await _campaign(campaign_id, merchant_id)
    days = await daily_series(campaign, timezone=campaign.merchant.timezone)
    stats = await campaign_stats(campaign) if with_stats else None
    return CampaignReport(name=campaign.name, days=days, stats=stats)
