"""The campaign being composed in the wizard, kept in the FSM storage between messages.

Plain JSON types only: with Redis storage another replica (or this one after a restart)
continues the same conversation.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from html import unescape
from typing import TYPE_CHECKING, Any

import regex
from aiogram.fsm.context import FSMContext

from campaigns.spec import AudienceFilter, CampaignSpec
from campaigns.views import CampaignShop
from models.enums import CampaignStatus, Channel, DeliveryPolicy

if TYPE_CHECKING:
    from models import Campaign

DRAFT_KEY = "campaign_draft"
# The shop as the wizard read it when it opened: its name, time zone and cards, so the steps
# after it ask the database nothing but who may still compose (and the counts they show).
SHOP_KEY = "campaign_shop"
# The channel screen's rows, top to bottom, and the fallback order a new campaign starts with:
# the lock screen first (seen without opening anything), then email, then the chat.
# The chats a bot pays to start a conversation in (Viber since 2024; WhatsApp outside the
# 24-hour window): offered when configured, never switched on by default, tried last.
PAID_CHATS = (Channel.VIBER, Channel.WHATSAPP)
CHANNEL_STEP_ORDER = (
    Channel.APPLE_WALLET,
    Channel.GOOGLE_WALLET,
    Channel.EMAIL,
    Channel.TELEGRAM,
    *PAID_CHATS,
)
_TAG = regex.compile(r"<[^>]+>")


def first_line(message_html: str, limit: int) -> str:
    """The message's first non-empty line without formatting, cut to ``limit`` characters as
    the lock screen counts them (grapheme clusters, like ``push_length``)."""
    for line in unescape(_TAG.sub("", message_html)).splitlines():
        if text := " ".join(line.split()):
            graphemes = regex.findall(r"\X", text)
            return "".join(graphemes[:limit]).strip()
    return ""


@dataclass
class Draft:
    merchant_id: int
    campaign_id: int | None = None
    card_id: int | None = None
    audience: dict[str, int | bool] = field(default_factory=dict)
    push_text: str = ""
    # The lock-screen line follows the message's first line until the owner sets or skips it.
    push_auto: bool = True
    with_voucher: bool = False
    voucher_title: str | None = None
    voucher_days: int | None = None
    channels: list[str] = field(default_factory=list)
    # Until the owner touches the channels, they are every channel that reaches someone.
    channels_auto: bool = True
    policy: str = DeliveryPolicy.EVERY_CHANNEL.value
    # Under "once only": the order channels are tried in (the chosen ones, first to last).
    channel_order: list[str] = field(default_factory=lambda: [c.value for c in CHANNEL_STEP_ORDER])
    message_text: str = ""
    photo_file_id: str | None = None
    send_at: str | None = None  # ISO datetime in UTC; None = now
    holdout_percent: int = 0
    name: str | None = None
    whatsapp_template: str = ""
    # What a typed answer is for, on the steps that take a number or a text.
    asking: str = ""
    # The summary message in the chat, edited in place by every button step.
    screen_id: int | None = None
    # A new campaign (or a draft row) is kept as a draft row at every summary, so leaving the
    # wizard any way (/exit too) loses nothing; a scheduled one changes only when confirmed.
    autosave: bool = True
    # Fixed per draft: the send confirmation carries it, so a second Yes is recognised.
    nonce: str = field(default_factory=lambda: secrets.token_hex(6))

    def spec(self, push_limit: int) -> CampaignSpec:
        assert self.card_id is not None
        return CampaignSpec(
            card_id=self.card_id,
            channels=tuple(Channel(c) for c in self.channels),
            message_text=self.message_text,
            push_text=self.push_text,
            push_text_limit=push_limit,
            audience=self.audience_filter,
            voucher_title=self.voucher_title if self.with_voucher else None,
            voucher_validity_days=self.voucher_days if self.with_voucher else None,
            policy=DeliveryPolicy(self.policy),
            photo_file_id=self.photo_file_id,
            holdout_percent=self.holdout_percent,
            name=self.name,
            channel_order=self.ordered_channels(),
            whatsapp_template=self.whatsapp_template,
        )

    def ordered_channels(self) -> tuple[Channel, ...]:
        """The chosen channels in their fallback order."""
        order = [Channel(c) for c in self.channel_order if c in self.channels]
        rest = [Channel(c) for c in CHANNEL_STEP_ORDER if c in self.channels and c not in order]
        return (*order, *rest)

    @property
    def audience_filter(self) -> AudienceFilter:
        return AudienceFilter.from_json(dict(self.audience))

    @property
    def send_time(self) -> datetime | None:
        return datetime.fromisoformat(self.send_at) if self.send_at else None

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> Draft:
        order = [str(c) for c in campaign.channel_order]
        scheduled = campaign.status == CampaignStatus.SCHEDULED and campaign.scheduled_at
        return cls(
            merchant_id=campaign.merchant_id,
            campaign_id=campaign.id,
            card_id=campaign.card_id,
            audience=dict(campaign.audience_filters),
            push_text=campaign.push_text,
            push_auto=False,
            with_voucher=campaign.voucher_title is not None,
            voucher_title=campaign.voucher_title,
            voucher_days=campaign.voucher_validity_days,
            channels=list(campaign.channels),
            channels_auto=False,
            policy=str(campaign.delivery_policy),
            channel_order=order or [c.value for c in CHANNEL_STEP_ORDER],
            message_text=campaign.message_text,
            photo_file_id=campaign.photo_file_id,
            send_at=campaign.scheduled_at.isoformat()
            if scheduled and campaign.scheduled_at
            else None,
            holdout_percent=campaign.holdout_percent,
            name=campaign.name,
            whatsapp_template=campaign.whatsapp_template,
            autosave=campaign.status == CampaignStatus.DRAFT,
        )


async def load_draft(state: FSMContext) -> tuple[Draft, CampaignShop] | None:
    """The campaign being composed and its shop, or None when there is none (or it was
    stored by an older version of the wizard: start again rather than guess)."""
    stored = await state.get_data()
    data: dict[str, Any] = stored.get(DRAFT_KEY) or {}
    shop = CampaignShop.from_json(stored.get(SHOP_KEY))
    try:
        draft = Draft(**data) if data else None
    except TypeError:
        return None
    if draft is None or shop is None or shop.merchant_id != draft.merchant_id:
        return None
    return draft, shop


async def save_draft(
    state: FSMContext, draft: Draft | None, shop: CampaignShop | None = None
) -> None:
    """Keep the draft (None: forget it, and its shop); ``shop`` when the wizard opens."""
    update: dict[str, Any] = {DRAFT_KEY: asdict(draft) if draft is not None else None}
    if shop is not None or draft is None:
        update[SHOP_KEY] = shop.as_json() if shop is not None else None
    await state.update_data(update)
