from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.errors import InvalidCampaign, WrongCampaignState
from campaigns.outbox import MAX_ATTEMPTS
from campaigns.service import cancel, copy_campaign, create_campaign, pause, resume
from campaigns.spec import AudienceFilter, CampaignSpec, default_name
from channels.base import DeliveryResult, Reason
from loyalty.clock import utcnow
from models import ChannelOptOut, Delivery, Identity, Voucher
from models.enums import (
    CampaignStatus,
    Channel,
    DeliveryPolicy,
    DeliveryStatus,
    VoucherSource,
)
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, orphan_deliveries, started, worker

pytestmark = pytest.mark.usefixtures("db")


async def _statuses(campaign_id: int) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for row in await Delivery.filter(campaign_id=campaign_id).values("channel", "status"):
        key = (str(row["channel"]), str(row["status"]))
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_the_default_name_is_card_id_and_local_time() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 5, 4, 11, 19, tzinfo=UTC)

    assert default_name(183, moment, "Europe/Kyiv") == "183_04.05.202614:19"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": ()}, "channels"),
        ({"message_text": "   "}, "message_text"),
        ({"push_text": "x" * 21, "channels": (Channel.APPLE_WALLET,)}, "push_text"),
        ({"channels": (Channel.GOOGLE_WALLET,)}, "push_text"),
        ({"voucher_title": "Free tea"}, "voucher"),
        ({"holdout_percent": 80}, "holdout_percent"),
        ({"channel_order": (Channel.EMAIL,)}, "channel_order"),
        ({"channel_order": (Channel.TELEGRAM, Channel.TELEGRAM)}, "channel_order"),
        ({"audience": AudienceFilter(inactive_days=0)}, "inactive_days"),
    ],
)
async def test_invalid_campaigns_are_refused_with_the_field(
    change: dict[str, object], field: str
) -> None:
    shop = await factories.merchant()
    spec: dict[str, object] = {
        "card_id": shop.card.id,
        "channels": (Channel.TELEGRAM,),
        "message_text": "Hi",
    }

    with pytest.raises(InvalidCampaign) as refused:
        await create_campaign(shop.merchant.id, CampaignSpec(**(spec | change)))  # type: ignore[arg-type]

    assert refused.value.field == field


async def test_a_campaign_goes_to_every_reachable_channel_and_finishes() -> None:
    shop = await factories.merchant()
    people = await audience(shop, 3)
    await Identity.filter(customer_id=people[2].id).update(reachable=False)
    await ChannelOptOut.create(customer=people[1], merchant=shop.merchant, channel=Channel.EMAIL)
    campaign = await started(shop, Channel.TELEGRAM, Channel.EMAIL)
    telegram, email = ScriptedChannel("telegram"), ScriptedChannel("email")

    tick = await worker(telegram, email).tick()

    assert (tick.started_campaigns, tick.claimed, tick.sent, tick.finished_campaigns) == (
        1,
        4,
        4,
        1,
    )
    assert await _statuses(campaign.id) == {
        ("telegram", "sent"): 2,
        ("telegram", "skipped"): 1,
        ("email", "sent"): 2,
        ("email", "skipped"): 1,
    }
    reasons = await Delivery.filter(campaign_id=campaign.id, status="skipped").values_list(
        "channel", "reason"
    )
    assert sorted(reasons) == [("email", "opted_out"), ("telegram", "unreachable")]
    assert {m.address for m in telegram.sent} == {"5000", "5001"}
    assert {m.address for m in email.sent} == {"p0@example.com", "p2@example.com"}
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


async def test_two_telegram_accounts_make_one_row_sent_to_the_reachable_one() -> None:
    """The snapshot joins the identities set-wise: a person with two accounts is still one row
    per channel, usable when either account is, and the counts say one person each."""
    from campaigns.audience import snapshot

    shop = await factories.merchant()
    people = await audience(shop, 3)
    await Identity.filter(customer_id=people[0].id).update(reachable=False)
    await Identity.create(
        customer=people[0], platform="telegram", external_id="7000", reachable=True
    )
    await Identity.filter(customer_id=people[1].id).update(reachable=False)
    await Identity.create(
        customer=people[1], platform="telegram", external_id="7001", reachable=False
    )
    await ChannelOptOut.create(customer=people[2], merchant=shop.merchant, channel=Channel.EMAIL)
    campaign = await started(shop, Channel.TELEGRAM, Channel.EMAIL, holdout_percent=0)

    taken = await snapshot(campaign.id)

    assert taken is not None
    assert (taken.rows, taken.people, taken.holdout) == (6, 3, 0)
    rows = await Delivery.filter(campaign_id=campaign.id).values_list(
        "customer_id", "channel", "status", "reason"
    )
    assert sorted(rows) == sorted(
        [
            (people[0].id, "telegram", "pending", None),
            (people[1].id, "telegram", "skipped", "unreachable"),
            (people[2].id, "telegram", "pending", None),
            (people[0].id, "email", "pending", None),
            (people[1].id, "email", "pending", None),
            (people[2].id, "email", "skipped", "opted_out"),
        ]
    )
    telegram, email = ScriptedChannel("telegram"), ScriptedChannel("email")
    await worker(telegram, email).tick()
    assert sorted(m.address for m in telegram.sent) == ["5002", "7000"]


async def test_first_reachable_falls_back_to_email_when_telegram_is_blocked() -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    telegram, email = ScriptedChannel("telegram"), ScriptedChannel("email")
    telegram.script["5000"].append(DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True))
    campaign = await started(
        shop, Channel.TELEGRAM, Channel.EMAIL, policy=DeliveryPolicy.FIRST_REACHABLE
    )
    run = worker(telegram, email)

    await run.tick()
    await run.tick()

    assert [m.address for m in email.sent] == ["p0@example.com"]
    assert await _statuses(campaign.id) == {
        ("telegram", "failed"): 1,
        ("telegram", "sent"): 1,
        ("email", "sent"): 1,
        ("email", "standby"): 1,
    }
    assert (await Identity.get(customer_id=people[0].id)).reachable is False


async def test_first_reachable_follows_the_campaigns_channel_order() -> None:
    """channel_order, not the order the channels happened to be switched on, says who is first."""
    shop = await factories.merchant()
    await audience(shop, 1)
    telegram, email = ScriptedChannel("telegram"), ScriptedChannel("email")
    campaign = await started(
        shop,
        Channel.TELEGRAM,
        Channel.EMAIL,
        policy=DeliveryPolicy.FIRST_REACHABLE,
        channel_order=(Channel.EMAIL, Channel.TELEGRAM),
    )

    await worker(telegram, email).tick()

    assert campaign.channel_order == ["email", "telegram"]
    assert [m.address for m in email.sent] == ["p0@example.com"]
    assert telegram.sent == []
    assert await _statuses(campaign.id) == {("email", "sent"): 1, ("telegram", "standby"): 1}


async def test_retry_after_is_obeyed_exactly_and_backoff_grows() -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    telegram = ScriptedChannel("telegram")
    telegram.script["5000"].append(DeliveryResult.retry(Reason.RATE_LIMITED, after=7))
    telegram.script["5001"].append(DeliveryResult.retry(Reason.SERVER_ERROR))
    campaign = await started(shop, Channel.TELEGRAM)
    now = utcnow()

    await worker(telegram).tick(now)

    rows = {r.customer_id: r for r in await Delivery.filter(campaign_id=campaign.id)}
    # By person: PostgreSQL may number the snapshot's rows in any order.
    first, second = rows[people[0].id], rows[people[1].id]
    assert first.status == second.status == DeliveryStatus.PENDING
    assert first.next_attempt_at == now + timedelta(seconds=7)
    assert second.next_attempt_at is not None
    assert timedelta(seconds=2.5) <= second.next_attempt_at - now <= timedelta(seconds=5)
    assert (first.reason, second.reason) == ("rate_limited", "server_error")
    await worker(telegram).tick(now + timedelta(seconds=6))
    assert (await Delivery.get(id=first.id)).status == DeliveryStatus.PENDING
    await worker(telegram).tick(now + timedelta(seconds=7))
    assert (await Delivery.get(id=first.id)).status == DeliveryStatus.SENT


async def test_a_row_that_keeps_failing_ends_failed_after_the_last_attempt() -> None:
    shop = await factories.merchant()
    await audience(shop, 1)
    telegram = ScriptedChannel("telegram")
    telegram.script["5000"].extend(
        DeliveryResult.retry(Reason.SERVER_ERROR, after=0) for _ in range(MAX_ATTEMPTS)
    )
    campaign = await started(shop, Channel.TELEGRAM)
    run = worker(telegram)

    for _ in range(MAX_ATTEMPTS + 2):
        await run.tick()

    row = await Delivery.get(campaign_id=campaign.id)
    assert (row.status, row.reason, row.attempts) == (
        DeliveryStatus.FAILED,
        "server_error",
        MAX_ATTEMPTS,
    )
    assert len(telegram.sent) == MAX_ATTEMPTS


async def test_an_expired_lease_is_taken_over_and_nothing_is_lost() -> None:
    shop = await factories.merchant()
    await audience(shop, 3)
    campaign = await started(shop, Channel.TELEGRAM)
    dead = worker(ScriptedChannel("telegram"), worker_id="dead")
    now = utcnow()
    await dead.start_due(now)
    from campaigns.outbox import claim

    taken = await claim("dead", limit=2, lease=timedelta(seconds=60), now=now)
    assert len(taken) == 2
    alive_channel = ScriptedChannel("telegram")
    alive = worker(alive_channel, worker_id="alive")

    await alive.tick(now + timedelta(seconds=10))
    assert len(alive_channel.sent) == 1
    await alive.tick(now + timedelta(seconds=61))

    assert len(alive_channel.sent) == 3
    assert await _statuses(campaign.id) == {("telegram", "sent"): 3}


async def test_pause_stops_claiming_and_resume_continues() -> None:
    shop = await factories.merchant()
    await audience(shop, 2)
    campaign = await started(shop, Channel.TELEGRAM)
    telegram = ScriptedChannel("telegram")
    run = worker(telegram)
    await run.start_due(utcnow())

    await pause(campaign)
    paused_tick = await run.tick()
    await resume(campaign)
    resumed_tick = await run.tick()

    assert (paused_tick.claimed, resumed_tick.claimed) == (0, 2)
    with pytest.raises(WrongCampaignState):
        await pause(campaign)


async def test_cancel_skips_what_was_not_sent() -> None:
    shop = await factories.merchant()
    await audience(shop, 2)
    campaign = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram")).start_due(utcnow())

    await cancel(campaign)

    assert await _statuses(campaign.id) == {("telegram", "skipped"): 2}
    assert set(
        await Delivery.filter(campaign_id=campaign.id).values_list("reason", flat=True)
    ) == {"cancelled"}
    assert (await worker(ScriptedChannel("telegram")).tick()).claimed == 0


async def test_holdout_people_get_nothing_but_are_recorded() -> None:
    shop = await factories.merchant()
    await audience(shop, 40)
    campaign = await started(shop, Channel.TELEGRAM, Channel.EMAIL, holdout_percent=25)
    telegram, email = ScriptedChannel("telegram"), ScriptedChannel("email")

    await worker(telegram, email, batch_size=200).tick()

    statuses = await _statuses(campaign.id)
    held = statuses[("telegram", "holdout")]
    assert 3 <= held <= 18
    assert ("email", "holdout") not in statuses
    assert len(telegram.sent) == len(email.sent) == 40 - held


async def test_a_campaign_voucher_goes_to_the_targeted_not_the_holdout() -> None:
    shop = await factories.merchant()
    await audience(shop, 20)
    campaign = await started(
        shop,
        Channel.TELEGRAM,
        voucher_title="Free croissant",
        voucher_validity_days=7,
        holdout_percent=20,
    )

    await worker(ScriptedChannel("telegram")).start_due(utcnow())

    held = await Delivery.filter(campaign_id=campaign.id, status="holdout").count()
    vouchers = await Voucher.filter(campaign_id=campaign.id)
    assert len(vouchers) == 20 - held
    assert {(v.source, v.title) for v in vouchers} == {(VoucherSource.CAMPAIGN, "Free croissant")}
    assert len({v.membership_id for v in vouchers}) == len({v.code for v in vouchers}) == 20 - held
    assert {(v.status, v.issued_at + timedelta(days=7)) for v in vouchers} == {
        ("issued", v.expires_at) for v in vouchers
    }
    assert len({v.issued_at for v in vouchers}) == 1


async def test_a_voucher_code_taken_at_the_shop_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Campaign vouchers are written in bulk: a collision with an existing code leaves that
    person out of the first round only."""
    import campaigns.audience as snapshot_module
    from loyalty.tokens import new_voucher_code
    from loyalty.vouchers import issue_voucher
    from models import Membership

    shop = await factories.merchant()
    people = await audience(shop, 3)
    first = await Membership.get(customer_id=people[0].id, card_id=shop.card.id)
    taken = await issue_voucher(
        first, shop.card, source=VoucherSource.GOODWILL, title="Sorry", validity_days=None
    )
    draws = iter([taken.code])
    monkeypatch.setattr(
        snapshot_module, "new_voucher_code", lambda: next(draws, None) or new_voucher_code()
    )
    campaign = await started(
        shop, Channel.TELEGRAM, voucher_title="Free croissant", voucher_validity_days=7
    )

    await worker(ScriptedChannel("telegram")).start_due(utcnow())

    vouchers = await Voucher.filter(campaign_id=campaign.id)
    assert len({v.membership_id for v in vouchers}) == len(vouchers) == 3
    assert taken.code not in {v.code for v in vouchers}


async def test_audience_filters_narrow_the_snapshot() -> None:
    shop = await factories.merchant()
    people = await audience(shop, 3)
    people[0].birth_month = utcnow().month
    await people[0].save()
    campaign = await started(
        shop, Channel.TELEGRAM, audience=AudienceFilter(birthday_this_month=True)
    )

    await worker(ScriptedChannel("telegram")).start_due(utcnow())

    assert await Delivery.filter(campaign_id=campaign.id).values_list(
        "customer_id", flat=True
    ) == [people[0].id]


async def test_copy_makes_a_new_draft_and_sent_campaigns_cannot_be_edited() -> None:
    shop = await factories.merchant()
    await audience(shop, 1)
    campaign = await started(shop, Channel.TELEGRAM, push_text="Sale!")
    await worker(ScriptedChannel("telegram")).tick()
    await campaign.refresh_from_db()

    copy = await copy_campaign(campaign)

    assert (copy.status, copy.push_text, copy.message_text) == (
        CampaignStatus.DRAFT,
        "Sale!",
        campaign.message_text,
    )
    from campaigns.service import spec_of, update_campaign

    with pytest.raises(WrongCampaignState):
        await update_campaign(campaign, spec_of(campaign))


@pytest.mark.parametrize(
    ("audience_filter", "chosen"),
    [
        (AudienceFilter(new_within_days=7), [0]),
        (AudienceFilter(close_to_reward=2), [1]),
        (AudienceFilter(inactive_days=30), [2]),
        (AudienceFilter(has_unused_voucher=True), [1]),
        (AudienceFilter(inactive_days=30, new_within_days=7), []),
    ],
)
async def test_each_audience_filter_picks_the_right_people(
    audience_filter: AudienceFilter, chosen: list[int]
) -> None:
    from loyalty.stamps import add_stamps
    from models import Membership

    shop = await factories.merchant(stamps_needed=5, max_per_call=5)
    people = await audience(shop, 3)
    now = utcnow()
    memberships = [await Membership.get(customer_id=p.id, card_id=shop.card.id) for p in people]
    # 0: joined yesterday. 1: a regular, 1 short of a second reward, holds a voucher.
    # 2: joined and last seen two months ago.
    await Membership.filter(id=memberships[0].id).update(joined_at=now - timedelta(days=1))
    await Membership.filter(id=memberships[1].id).update(joined_at=now - timedelta(days=60))
    await add_stamps(memberships[1].id, 5, merchant_id=shop.merchant.id, now=now)
    await add_stamps(
        memberships[1].id, 4, merchant_id=shop.merchant.id, now=now + timedelta(minutes=1)
    )
    await Membership.filter(id=memberships[2].id).update(
        joined_at=now - timedelta(days=60), last_visit_at=now - timedelta(days=59)
    )
    campaign = await started(shop, Channel.TELEGRAM, audience=audience_filter)

    await worker(ScriptedChannel("telegram")).start_due(utcnow())

    targeted = await Delivery.filter(campaign_id=campaign.id).values_list("customer_id", flat=True)
    assert sorted(targeted) == sorted(people[i].id for i in chosen)


async def test_delete_refuses_a_sending_campaign_and_removes_a_draft() -> None:
    from campaigns.errors import CampaignNotFound
    from campaigns.service import delete_campaign, get_campaign

    shop = await factories.merchant()
    other = await factories.merchant("Other")
    await audience(shop, 1)
    sending = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram", delay=0)).start_due(utcnow())
    await sending.refresh_from_db()
    draft = await create_campaign(
        shop.merchant.id,
        CampaignSpec(card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text="Hi"),
    )

    with pytest.raises(WrongCampaignState):
        await delete_campaign(sending)
    with pytest.raises(CampaignNotFound):
        await get_campaign(draft.id, merchant_id=other.merchant.id)
    await delete_campaign(draft)
    with pytest.raises(CampaignNotFound):
        await get_campaign(draft.id, merchant_id=shop.merchant.id)


async def test_deleting_a_finished_campaign_deletes_its_delivery_rows() -> None:
    """No foreign key cascades from the campaign (see ``models.Delivery``): the delete takes
    the rows itself, and another campaign's rows stay."""
    from campaigns.service import delete_campaign

    shop = await factories.merchant()
    await audience(shop, 3)
    done = await started(shop, Channel.TELEGRAM)
    other = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram")).tick()
    for campaign in (done, other):
        await campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.DONE
    assert await Delivery.filter(campaign_id=done.id).count() == 3

    await delete_campaign(done)

    assert await Delivery.filter(campaign_id=done.id).count() == 0
    assert await Delivery.filter(campaign_id=other.id).count() == 3
    assert await orphan_deliveries() == 0


async def test_a_campaign_is_deleted_by_its_stored_status_not_a_stale_copy() -> None:
    """A copy read while it was scheduled is refused once the campaign is sending (its
    snapshot was taken meanwhile): its rows are not left without their campaign."""
    from campaigns.service import delete_campaign

    shop = await factories.merchant()
    await audience(shop, 2)
    stale = await started(shop, Channel.TELEGRAM)
    await worker(ScriptedChannel("telegram", delay=0)).start_due(utcnow())

    with pytest.raises(WrongCampaignState):
        await delete_campaign(stale)
    assert await Delivery.filter(campaign_id=stale.id).count() == 2
