"""The campaign being composed in the wizard, kept in the FSM storage between messages.

Plain JSON types only: with Redis storage another replica (or this one after a restart)
continues the same conversation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram.fsm.context import FSMContext

from campaigns.spec import AudienceFilter, CampaignSpec
from campaigns.views import CampaignShop
from models.enums import Channel, DeliveryPolicy

if TYPE_CHECKING:
    from models import Campaign

DRAFT_KEY = "campaign_draft"
# The shop as the wizard read it when it opened: its name, time zone and cards, so the steps
# after it ask the database nothing but who may still compose (and the counts they show).
SHOP_KEY = "campaign_shop"
# The channel step's rows, top to bottom: the wallet card, email, the messenger.
CHANNEL_STEP_ORDER = (Channel.APPLE_WALLET, Channel.GOOGLE_WALLET, Channel.EMAIL, Channel.TELEGRAM)


@dataclass
class Draft:
    merchant_id: int
    campaign_id: int | None = None
    card_id: int | None = None
    audience: dict[str, int | bool] = field(default_factory=dict)
    push_text: str = ""
    with_voucher: bool = False
    voucher_title: str | None = None
    voucher_days: int | None = None
    channels: list[str] = field(default_factory=list)
    policy: str = DeliveryPolicy.EVERY_CHANNEL.value
    message_text: str = ""
    photo_file_id: str | None = None
    send_at: str | None = None  # ISO datetime in UTC; None = now
    history: list[str] = field(default_factory=list)
    # Not asked by the wizard, but an edited campaign keeps the holdout it was made with.
    holdout_percent: int = 0

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
            # "Only the first that reaches them" tries them as the channel step lists them.
            channel_order=tuple(c for c in CHANNEL_STEP_ORDER if c in self.channels),
        )

    @property
    def audience_filter(self) -> AudienceFilter:
        return AudienceFilter.from_json(dict(self.audience))

    @property
    def send_time(self) -> datetime | None:
        return datetime.fromisoformat(self.send_at) if self.send_at else None

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> Draft:
        return cls(
            merchant_id=campaign.merchant_id,
            campaign_id=campaign.id,
            card_id=campaign.card_id,
            audience=dict(campaign.audience_filters),
            push_text=campaign.push_text,
            with_voucher=campaign.voucher_title is not None,
            voucher_title=campaign.voucher_title,
            voucher_days=campaign.voucher_validity_days,
            channels=list(campaign.channels),
            policy=str(campaign.delivery_policy),
            message_text=campaign.message_text,
            photo_file_id=campaign.photo_file_id,
            holdout_percent=campaign.holdout_percent,
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
