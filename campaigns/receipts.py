"""A messenger's receipts for what the engine sent: delivered, read, or failed after all.

Viber (``delivered``, ``seen``, ``failed``) and WhatsApp (``delivered``, ``read``, ``failed``)
report on a message some time after the send call took it; the delivery row is found by the
id that call returned (``Delivery.external_id``: Viber's ``message_token``, WhatsApp's
``wamid``). One Viber broadcast answers one token for up to 300 people, so a token matching
several rows is narrowed by the person the receipt names (their identity on the platform).

What each receipt changes, and only once (a platform resends, and receipts can come out of
order): ``delivered`` sets ``delivered_at``; ``read`` sets ``opened_at`` (the statistics'
"opened", as an email's open pixel sets it) and ``delivered_at`` when it is not set yet.

``failed`` is a refusal that came late, and the row goes where the same refusal of the send
call would have sent it (:func:`failure_result`, then the outbox's own rules,
:func:`campaigns.outbox.settle`). For WhatsApp's ``errors[0].code``:

- 131047 (more than 24 hours since the person wrote): skipped ``outside_window``;
- 131026 (not a WhatsApp user, an old app): failed ``unreachable``, and their WhatsApp
  identity is marked unreachable as after a refused send;
- 131049 (the per-user marketing limit) and the rate limits (130429, 131056): pending again,
  due after 1 h / 6 h / 24 h by the attempt (131049) or a minute (the rate limits), counting
  towards the outbox's maximum attempts, after which the row fails ``rate_limited``; a done
  campaign is sending again until the row is sent, a cancelled one records the row as it
  records any row it did not send (skipped ``cancelled``);
- the others as :mod:`channels.whatsapp.errors` says (templates, parameters: failed
  ``bad_request``; the marketing opt-out: ``opted_out``; our configuration: retried).

Viber's failed callbacks carry no code (only ``desc``): failed ``unreachable``, the identity
left reachable. A failed or skipped row hands a "first reachable" person to their next
channel, as a failed send does.

A failed receipt changes a row only while it stands as sent by the send the receipt names
(the same ``external_id``) and nothing said it arrived: a ``failed`` after ``delivered`` or
``read`` is taken for a stale resend and changes nothing (the phone has it; a read row stays
read), a repeat finds the row no longer sent, and one for an earlier send of a row sent again
since names another id. ``delivered`` and ``read`` after a ``failed`` still set their
times. A receipt for no row of ours (a welcome message, an answer in the chat) changes
nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from campaigns.outbox import Claimed, Settled, activate_fallbacks, settle
from channels.base import DeliveryResult, Reason, Receipt
from channels.whatsapp.errors import result_for_code
from loyalty.profile import mark_customer_unreachable
from models import Campaign, Delivery, Identity
from models.enums import MESSENGERS, CampaignStatus, Channel, DeliveryPolicy, DeliveryStatus

__all__ = ["Receipt", "failure_result", "record_receipt"]

logger = logging.getLogger(__name__)


async def _rows(channel: Channel, external_id: str, user_id: str) -> list[Delivery]:
    rows = await Delivery.filter(channel=channel, external_id=external_id).limit(1000)
    if len(rows) <= 1 or not user_id:
        return rows
    platform = MESSENGERS[channel]
    people = set(
        await Identity.filter(
            platform=platform,
            external_id=user_id,
            customer_id__in=list({row.customer_id for row in rows}),
        ).values_list("customer_id", flat=True)
    )
    return [row for row in rows if row.customer_id in people]


async def record_receipt(
    channel: Channel,
    external_id: str,
    receipt: Receipt,
    *,
    at: datetime,
    user_id: str = "",
    error_code: int | None = None,
    detail: str = "",
) -> int:
    """Apply one receipt; how many delivery rows it changed (0 for a repeat or not ours).

    ``error_code``: the platform's, on a failed receipt (WhatsApp's; Viber's say only why in
    words, ``detail``)."""
    if channel not in MESSENGERS or not external_id:
        return 0
    changed = 0
    for row in await _rows(channel, external_id, user_id):
        if receipt == Receipt.DELIVERED:
            changed += await Delivery.filter(id=row.id, delivered_at__isnull=True).update(
                delivered_at=at
            )
        elif receipt == Receipt.READ:
            await Delivery.filter(id=row.id, delivered_at__isnull=True).update(delivered_at=at)
            changed += await Delivery.filter(id=row.id, opened_at__isnull=True).update(
                opened_at=at
            )
        else:
            changed += await _failed(row, external_id, error_code, detail, at)
    return changed


def failure_result(
    channel: Channel, error_code: int | None, detail: str = "", *, attempt: int = 1
) -> DeliveryResult:
    """What a failed receipt means for the delivery, as if the send call had been refused so:
    WhatsApp's codes through the table its refusals go through
    (:func:`channels.whatsapp.errors.result_for_code`), so that the two never disagree;
    without a code (Viber's receipts have none) the person could not get it: failed,
    unreachable, though not for good (the identity stays as it is). ``attempt``: the attempt
    that sent it, for the growing waits of WhatsApp's per-user marketing limit."""
    if channel == Channel.WHATSAPP and error_code is not None:
        described = f"{error_code} {detail}".strip()
        return result_for_code(error_code, described, attempt=attempt)
    return DeliveryResult.failed(Reason.UNREACHABLE, detail=detail)


async def _failed(
    row: Delivery, external_id: str, error_code: int | None, detail: str, at: datetime
) -> int:
    """A failed receipt for one row: 1 when it changed the row."""
    channel = Channel(row.channel)
    result = failure_result(channel, error_code, detail, attempt=row.attempts)
    claimed = Claimed(row.id, row.campaign_id, row.customer_id, channel.value, row.attempts)
    settled = settle(claimed, result, now=at)
    campaign = await Campaign.get_or_none(id=row.campaign_id)
    if settled.status == DeliveryStatus.PENDING and (
        campaign is None or campaign.status not in _RETRY_STATES
    ):
        # What cancelling does to a row still waiting to be sent.
        settled = Settled(DeliveryStatus.SKIPPED, Reason.CANCELLED.value)
    values: dict[str, object] = {"status": settled.status, "reason": settled.reason}
    if settled.retry_at is not None:
        values.update(next_attempt_at=settled.retry_at, lease_expires_at=None)
    # Once: only the send this receipt is about, while it still stands as sent and nothing
    # said it arrived (a failed after delivered or read is a stale resend; the phone has it).
    if not await Delivery.filter(
        id=row.id,
        status=DeliveryStatus.SENT,
        external_id=external_id,
        delivered_at__isnull=True,
        opened_at__isnull=True,
    ).update(**values):
        return 0
    logger.info(
        "delivery %s %s after sending (%s): %s",
        row.id, settled.status, channel, (result.detail or detail)[:200],
    )  # fmt: skip
    if result.unreachable and settled.status == DeliveryStatus.FAILED:
        await mark_customer_unreachable(row.customer_id, MESSENGERS[channel])
    if campaign is not None and settled.status == DeliveryStatus.PENDING:
        await _reopen(campaign)
    elif campaign is not None:
        await _fall_back(row, campaign, at)
    return 1


async def _fall_back(row: Delivery, campaign: Campaign, now: datetime) -> None:
    """The person's next channel, when the campaign is "first reachable".

    The receipt often comes after the campaign's last send, when nothing was left to send and
    it was marked done: it is sending again then, until the fallback row is sent. A paused
    campaign gets the row for when it resumes; a cancelled one nothing."""
    if row.enrollment_id is not None:
        return
    if campaign.delivery_policy != DeliveryPolicy.FIRST_REACHABLE:
        return
    if campaign.status not in _FALLBACK_STATES:
        return
    waiting = Delivery.filter(
        campaign_id=campaign.id, customer_id=row.customer_id, status=DeliveryStatus.STANDBY
    )
    if not await waiting.exists():
        return
    await activate_fallbacks(
        [Claimed(row.id, campaign.id, row.customer_id, str(row.channel), row.attempts)], now=now
    )
    await _reopen(campaign)


async def _reopen(campaign: Campaign) -> None:
    """A done campaign that has a row to send again is sending until it is sent."""
    if campaign.status == CampaignStatus.DONE:
        await Campaign.filter(id=campaign.id, status=CampaignStatus.DONE).update(
            status=CampaignStatus.SENDING, finished_at=None
        )


_FALLBACK_STATES = (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.DONE)
# A row put back to be sent again is claimed while its campaign sends (an automation's step
# always does), waits for a paused one to resume, and reopens a done one.
_RETRY_STATES = (*_FALLBACK_STATES, CampaignStatus.AUTOMATION)
