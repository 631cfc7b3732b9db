"""Creating and steering campaigns: draft → scheduled → sending → done, paused, cancelled."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from campaigns.errors import CampaignNotFound, InvalidCampaign, WrongCampaignState
from campaigns.spec import AudienceFilter, CampaignSpec, check_send_time, default_name
from channels.base import Reason
from loyalty.clock import ensure_utc
from models import Campaign, Card, Delivery, Merchant
from models.enums import CampaignStatus, Channel, DeliveryPolicy, DeliveryStatus

EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
FINISHED = (CampaignStatus.DONE, CampaignStatus.CANCELLED, CampaignStatus.FAILED)


async def get_campaign(campaign_id: int, *, merchant_id: int) -> Campaign:
    """A campaign of this merchant; another merchant's id is simply unknown."""
    campaign = await Campaign.get_or_none(id=campaign_id, merchant_id=merchant_id)
    if campaign is None:
        raise CampaignNotFound()
    return campaign


async def _card(merchant_id: int, card_id: int) -> Card:
    # A card the shop has switched off takes no new campaigns (nor edits of old ones).
    card = await Card.get_or_none(id=card_id, merchant_id=merchant_id, active=True)
    if card is None:
        raise InvalidCampaign("card_id", "No such card at this shop.")
    return card


def _apply(campaign: Campaign, spec: CampaignSpec) -> None:
    campaign.card_id = spec.card_id
    campaign.channels = [c.value for c in spec.channels]
    campaign.channel_order = [c.value for c in spec.ordered_channels()]
    campaign.message_text = spec.message_text
    campaign.push_text = spec.push_text
    campaign.push_text_limit = spec.push_text_limit
    campaign.audience_filters = spec.audience.as_json()
    campaign.voucher_title = spec.voucher_title
    campaign.voucher_validity_days = spec.voucher_validity_days
    campaign.delivery_policy = spec.policy
    campaign.photo_file_id = spec.photo_file_id
    campaign.holdout_percent = spec.holdout_percent
    campaign.whatsapp_template = spec.whatsapp_template
    campaign.whatsapp_template_language = spec.whatsapp_template_language


async def create_campaign(
    merchant_id: int,
    spec: CampaignSpec,
    *,
    created_by_id: int | None = None,
    now: datetime | None = None,
) -> Campaign:
    spec.validate()
    merchant = await Merchant.get(id=merchant_id)
    await _card(merchant_id, spec.card_id)
    campaign = Campaign(
        merchant_id=merchant_id,
        name=(spec.name or default_name(spec.card_id, ensure_utc(now), merchant.timezone)).strip(),
        created_by_id=created_by_id,
        status=CampaignStatus.DRAFT,
    )
    _apply(campaign, spec)
    await campaign.save()
    return campaign


async def update_campaign(campaign: Campaign, spec: CampaignSpec) -> Campaign:
    if campaign.status not in EDITABLE:
        raise WrongCampaignState("edited", campaign.status)
    spec.validate()
    await _card(campaign.merchant_id, spec.card_id)
    _apply(campaign, spec)
    if spec.name:
        campaign.name = spec.name.strip()
    await campaign.save()
    return campaign


def spec_of(campaign: Campaign) -> CampaignSpec:
    return CampaignSpec(
        card_id=campaign.card_id,
        channels=tuple(Channel(c) for c in campaign.channels),
        message_text=campaign.message_text,
        push_text=campaign.push_text,
        push_text_limit=campaign.push_text_limit,
        audience=AudienceFilter.from_json(campaign.audience_filters),
        voucher_title=campaign.voucher_title,
        voucher_validity_days=campaign.voucher_validity_days,
        policy=DeliveryPolicy(campaign.delivery_policy),
        photo_file_id=campaign.photo_file_id,
        holdout_percent=campaign.holdout_percent,
        channel_order=tuple(Channel(c) for c in campaign.channel_order if c in campaign.channels),
        whatsapp_template=campaign.whatsapp_template,
        whatsapp_template_language=campaign.whatsapp_template_language,
    )


async def schedule(campaign: Campaign, *, at: datetime, now: datetime | None = None) -> Campaign:
    """Send at ``at`` (or at once when it is not in the future), at most a year ahead."""
    if campaign.status not in EDITABLE:
        raise WrongCampaignState("scheduled", campaign.status)
    moment = ensure_utc(now)
    check_send_time(ensure_utc(at), moment)
    campaign.scheduled_at = max(ensure_utc(at), moment)
    campaign.status = CampaignStatus.SCHEDULED
    await campaign.save(update_fields=["scheduled_at", "status", "updated_at"])
    return campaign


async def send_now(campaign: Campaign, *, now: datetime | None = None) -> Campaign:
    return await schedule(campaign, at=ensure_utc(now), now=now)


async def _move(campaign: Campaign, action: str, allowed: tuple[str, ...], to: str) -> Campaign:
    # Conditional on the current status, so two admins pressing at once cannot both win.
    moved = await Campaign.filter(id=campaign.id, status__in=allowed).update(status=to)
    await campaign.refresh_from_db()
    if not moved:
        raise WrongCampaignState(action, campaign.status)
    return campaign


async def pause(campaign: Campaign) -> Campaign:
    return await _move(
        campaign,
        "paused",
        (CampaignStatus.SENDING, CampaignStatus.SCHEDULED),
        CampaignStatus.PAUSED,
    )


async def resume(campaign: Campaign) -> Campaign:
    target = CampaignStatus.SENDING if campaign.started_at else CampaignStatus.SCHEDULED
    return await _move(campaign, "resumed", (CampaignStatus.PAUSED,), target)


async def cancel(campaign: Campaign, *, now: datetime | None = None) -> Campaign:
    """Stop for good; what was not sent yet is recorded as skipped (cancelled)."""
    moment = ensure_utc(now)
    async with in_transaction():
        await _move(
            campaign,
            "cancelled",
            (
                CampaignStatus.DRAFT,
                CampaignStatus.SCHEDULED,
                CampaignStatus.SENDING,
                CampaignStatus.PAUSED,
            ),
            CampaignStatus.CANCELLED,
        )
        await Delivery.filter(
            campaign_id=campaign.id,
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.STANDBY),
        ).update(status=DeliveryStatus.SKIPPED, reason=Reason.CANCELLED)
        campaign.finished_at = moment
        await campaign.save(update_fields=["finished_at", "updated_at"])
    return campaign


async def copy_campaign(campaign: Campaign, *, now: datetime | None = None) -> Campaign:
    """A new draft with the same content and a fresh default name."""
    merchant = await Merchant.get(id=campaign.merchant_id)
    spec = spec_of(campaign)
    copy = Campaign(
        merchant_id=campaign.merchant_id,
        name=default_name(campaign.card_id, ensure_utc(now), merchant.timezone),
        created_by_id=campaign.created_by_id,
        status=CampaignStatus.DRAFT,
    )
    _apply(copy, spec)
    await copy.save()
    return copy


async def delete_campaign(campaign: Campaign) -> None:
    """Drafts, scheduled and finished campaigns go; one that is sending must be stopped first.

    The campaign's delivery rows go with it, deleted here: they have no foreign key that would
    cascade (see ``Delivery``). The row is locked and its status read again first, so a
    snapshot under way (which holds the same lock) ends before: the campaign is then sending
    and refused, instead of its rows being written after the delete looked for them.
    """
    async with in_transaction():
        locked = await Campaign.select_for_update().get_or_none(id=campaign.id)
        if locked is None:
            return
        if locked.status in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
            raise WrongCampaignState("deleted", locked.status)
        await Delivery.filter(campaign_id=locked.id).delete()
        await locked.delete()
