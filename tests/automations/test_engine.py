"""The scheduler with a controlled clock: enrolment rules, each step once, quiet hours, the cap,
switching off and on, racing workers, a worker that died holding a batch."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from automations.chain import Chain
from automations.chain_yaml import load
from automations.engine import Scheduler, claim, enrol, switch, sync_step_campaigns
from campaigns.outbox import claim as claim_deliveries
from models import Automation, Campaign, Delivery, Enrollment, EnrollmentStep, Voucher
from models.enums import (
    CampaignStatus,
    DeliveryStatus,
    EnrollmentStatus,
    ResumeMode,
    VoucherSource,
)
from tests import factories
from tests.campaigns.helpers import audience, orphan_deliveries
from tests.conftest import Backend

# Monday 4 May 2026, 17:19 in Kyiv (UTC+3): outside the default quiet hours 21:00–09:00.
T0 = factories.T0

WIN_BACK = """\
name: Win-back
trigger: {kind: inactive, days: 30}
reentry: {rule: every_time}
steps:
  - id: first
    send:
      channels: [telegram, email]
      push: We miss you
      text: Come back this week.
      voucher: {title: Free cookie, days: 14}
  - id: pause
    wait: {days: 3}
  - id: check
    if: {opened_last: true}
    then: done
    else: nudge
  - id: nudge
    send: {channels: [email], text: Still there?}
  - id: done
    stop: true
"""


async def automation(shop: Any, text: str = WIN_BACK, *, on: bool = True) -> Automation:
    chain = load(text)
    made = await Automation.create(
        merchant_id=shop.merchant.id,
        card_id=shop.card.id,
        name=chain.name,
        chain=chain.model_dump(mode="json", by_alias=True),
        trigger=chain.trigger.kind,
    )
    if on:
        await switch(made, True, now=T0 - timedelta(days=1))
    return made


async def steps_of(enrollment_id: int) -> list[tuple[str, str, str]]:
    rows = await EnrollmentStep.filter(enrollment_id=enrollment_id).order_by("id")
    return [(r.step, r.outcome, r.reason or "") for r in rows]


async def test_a_chain_runs_step_by_step_at_the_right_times(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 3)
    made = await automation(shop)
    assert await enrol(made, [(p.id, f"inactive:{p.id}") for p in people], now=T0) == 3
    scheduler = Scheduler("w1")

    # T0: the first send fires (deliveries for the outbox, the gift voucher), then the wait.
    await scheduler.run_until_idle(T0)
    rows = await Delivery.filter(enrollment_id__not_isnull=True).order_by("id")
    assert sorted((r.customer_id, r.channel, r.status) for r in rows) == sorted(
        (p.id, ch, DeliveryStatus.PENDING) for p in people for ch in ("telegram", "email")
    )  # fmt: skip
    assert {r.campaign_id for r in rows} == {(await sync_step_campaigns(made))["first"]}
    vouchers = await Voucher.filter(source=VoucherSource.AUTOMATION)
    assert len(vouchers) == 3
    assert {v.title for v in vouchers} == {"Free cookie"}
    enrolled = await Enrollment.filter(automation_id=made.id).order_by("id")
    assert {(e.step, e.due_at) for e in enrolled} == {("check", T0 + timedelta(days=3))}

    # Nothing more until the wait is over.
    assert await scheduler.run_until_idle(T0 + timedelta(days=2)) == 0

    # One of them opened the message: the branch sends the nudge to the other two only.
    await Delivery.filter(customer_id=people[0].id, channel="email").update(opened_at=T0)
    await scheduler.run_until_idle(T0 + timedelta(days=3, minutes=1))
    nudges = await Delivery.filter(
        campaign_id=(await sync_step_campaigns(made))["nudge"]
    ).values_list("customer_id", flat=True)
    assert sorted(nudges) == sorted(p.id for p in people[1:])
    for e in await Enrollment.filter(automation_id=made.id):
        assert e.status == EnrollmentStatus.STOPPED
        assert e.finished_at == T0 + timedelta(days=3, minutes=1)
    first = next(e for e in enrolled if e.customer_id == people[0].id)
    assert await steps_of(first.id) == [
        ("first", "sent", ""), ("pause", "waited", ""), ("check", "yes", ""),
        ("done", "stopped", ""),
    ]  # fmt: skip
    other = next(e for e in enrolled if e.customer_id == people[1].id)
    assert [s[:2] for s in await steps_of(other.id)] == [
        ("first", "sent"), ("pause", "waited"), ("check", "no"), ("nudge", "sent"),
        ("done", "stopped"),
    ]  # fmt: skip


async def test_the_outbox_takes_an_automations_rows_like_a_campaigns(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    made = await automation(shop)
    await enrol(made, [(p.id, "x") for p in people], now=T0)
    await Scheduler("w1").run_until_idle(T0)
    step_campaigns = await Campaign.filter(automation_id=made.id)
    assert {c.status for c in step_campaigns} == {CampaignStatus.AUTOMATION}
    claimed = await claim_deliveries("d1", limit=100, lease=timedelta(minutes=1), now=T0)
    assert len(claimed) == 4


async def test_reentry_rules_and_the_unique_event_key(db: Backend) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1))[0]
    never = await automation(shop, WIN_BACK.replace("{rule: every_time}", "{rule: never}"))
    within = await automation(
        shop, WIN_BACK.replace("{rule: every_time}", "{rule: not_within, days: 60}")
    )
    always = await automation(shop)
    for made in (never, within, always):
        assert await enrol(made, [(person.id, "inactive:1")], now=T0) == 1
        # The same event seen again (a second scan, a second worker) enrols nobody.
        assert await enrol(made, [(person.id, "inactive:1")], now=T0) == 0
    later = T0 + timedelta(days=40)
    assert await enrol(never, [(person.id, "inactive:2")], now=later) == 0
    assert await enrol(within, [(person.id, "inactive:2")], now=later) == 0
    assert await enrol(always, [(person.id, "inactive:2")], now=later) == 1
    much_later = T0 + timedelta(days=61)
    assert await enrol(never, [(person.id, "inactive:3")], now=much_later) == 0
    assert await enrol(within, [(person.id, "inactive:3")], now=much_later) == 1


async def test_a_switched_off_automation_enrols_and_fires_nothing(db: Backend) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1))[0]
    made = await automation(shop, on=False)
    assert await enrol(made, [(person.id, "k")], now=T0) == 0
    await switch(made, True, now=T0)
    await enrol(made, [(person.id, "k")], now=T0)
    await switch(made, False, now=T0)
    assert await Scheduler("w1").run_until_idle(T0 + timedelta(hours=1)) == 0
    assert await Delivery.all().count() == 0


async def test_the_holdout_is_enrolled_and_sent_nothing(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 40)
    made = await automation(shop, WIN_BACK.replace("steps:", "holdout: 50\nsteps:"))
    await enrol(made, [(p.id, "k") for p in people], now=T0)
    held = await Enrollment.filter(status=EnrollmentStatus.HELD_OUT).count()
    assert 5 <= held <= 35
    await Scheduler("w1").run_until_idle(T0)
    sent_to = set(await Delivery.all().values_list("customer_id", flat=True))
    held_ids = set(
        await Enrollment.filter(status=EnrollmentStatus.HELD_OUT).values_list(
            "customer_id", flat=True
        )
    )
    assert len(sent_to) == 40 - held
    assert not sent_to & held_ids


async def test_quiet_hours_hold_a_send_until_morning_across_the_dst_change(db: Backend) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1))[0]
    made = await automation(shop)
    # Saturday 24 Oct 2026, 22:30 in Kyiv (UTC+3); the clocks go back at 04:00 that night.
    evening = datetime(2026, 10, 24, 19, 30, tzinfo=UTC)
    await enrol(made, [(person.id, "k")], now=evening)
    scheduler = Scheduler("w1")
    assert await scheduler.run_until_idle(evening) == 1
    assert await Delivery.all().count() == 0
    assert await EnrollmentStep.all().count() == 0
    enrolled = await Enrollment.get(customer_id=person.id)
    # 09:00 in Kyiv on Sunday is 07:00 UTC: winter time (UTC+2) by then.
    assert enrolled.due_at == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert enrolled.step == "first"
    await scheduler.run_until_idle(enrolled.due_at)
    assert await Delivery.all().count() == 2


async def test_the_frequency_cap_skips_with_the_reason_and_the_chain_goes_on(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    made = await automation(shop)
    other = await automation(shop, WIN_BACK.replace("Win-back", "Welcome"))
    # Two messages this week already for the first person (the shop's cap is 2 per 7 days).
    await enrol(other, [(people[0].id, "k")], now=T0 - timedelta(days=2))
    await Scheduler("w0").run_until_idle(T0 - timedelta(days=2))
    await Scheduler("w0").run_until_idle(T0 + timedelta(days=1))  # the other's nudge
    await enrol(made, [(p.id, "k") for p in people], now=T0 + timedelta(days=1))
    await Scheduler("w1").run_until_idle(T0 + timedelta(days=1))
    first_step = (await sync_step_campaigns(made))["first"]
    rows = await Delivery.filter(campaign_id=first_step).order_by("customer_id")
    assert [(r.customer_id, r.status, r.reason) for r in rows] == [
        (people[0].id, DeliveryStatus.SKIPPED, "frequency_cap"),
        (people[1].id, DeliveryStatus.PENDING, None),
        (people[1].id, DeliveryStatus.PENDING, None),
    ]
    capped = await Enrollment.get(automation_id=made.id, customer_id=people[0].id)
    assert (await steps_of(capped.id))[0] == ("first", "skipped", "frequency_cap")
    assert capped.step == "check"  # waited, and goes on


LATER_OFFER = """\
name: Later offer
trigger: {kind: joined}
steps:
  - id: hold
    wait: {days: 1}
  - id: offer
    send: {channels: [telegram], text: A cake on us today.}
"""


async def test_switching_back_on_resumes_or_skips_what_fell_due(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    resume = await automation(shop, LATER_OFFER)
    skip = await automation(shop, LATER_OFFER.replace("Later offer", "Skipper"))
    skip.resume_mode = ResumeMode.SKIP
    await skip.save()
    for made in (resume, skip):
        await enrol(made, [(p.id, "joined") for p in people], now=T0)
    scheduler = Scheduler("w1")
    await scheduler.run_until_idle(T0)  # both waiting a day for "offer"
    off, on = T0 + timedelta(hours=1), T0 + timedelta(days=10)
    for made in (resume, skip):
        await switch(made, False, now=off)
    assert await scheduler.run_until_idle(T0 + timedelta(days=2)) == 0
    for made in (resume, skip):
        await switch(made, True, now=on)
    # Resume: the day's wait counts only the time the automation was on: no burst at once.
    waiting = await Enrollment.filter(automation_id=resume.id).values_list("due_at", flat=True)
    assert set(waiting) == {T0 + timedelta(days=1) + (on - off)}
    await scheduler.run_until_idle(on)
    assert await Enrollment.filter(automation_id=resume.id, step="offer").count() == 2
    # Skip: the offer fell due while it was off, so it is skipped with the reason.
    offers = (await sync_step_campaigns(skip))["offer"]
    assert await Delivery.filter(campaign_id=offers).count() == 0
    skipped = await EnrollmentStep.filter(step="offer").values_list("outcome", "reason")
    assert skipped == [("skipped", "switched_off")] * 2
    done = await Enrollment.filter(automation_id=skip.id, status=EnrollmentStatus.DONE).count()
    assert done == 2
    # Resumed, the offer goes out a day of "on" later.
    await scheduler.run_until_idle(on + timedelta(hours=23, minutes=1))
    resumed = (await sync_step_campaigns(resume))["offer"]
    assert await Delivery.filter(campaign_id=resumed).count() == 2


async def test_a_worker_that_lost_its_lease_fires_nothing(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 3)
    made = await automation(shop)
    await enrol(made, [(p.id, "k") for p in people], now=T0)
    # w1 claims the batch and dies (kill -9: no transaction of its firing ever committed).
    held = await claim("w1", limit=10, lease=timedelta(minutes=2), now=T0)
    assert len(held) == 3
    assert await Scheduler("w2").run_until_idle(T0) == 0  # still leased
    later = T0 + timedelta(minutes=3)
    await Scheduler("w2").run_until_idle(later)
    assert await Delivery.filter(status=DeliveryStatus.PENDING).count() == 6
    # w1 comes back to life mid-batch: its lease is gone, its firing writes nothing.
    stale = Scheduler("w1")
    rows = await Enrollment.filter(automation_id=made.id).values(
        "id", "customer_id", "due_at", "entered_at"
    )
    from automations.engine import _Row

    group = [_Row(r["id"], r["customer_id"], r["due_at"], r["entered_at"]) for r in rows]
    merchant = await made.merchant
    await stale._fire(made, merchant, "first", group, later)
    assert await Delivery.all().count() == 6
    assert await EnrollmentStep.filter(step="first").count() == 3


async def test_two_workers_racing_fire_each_step_once(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 30)
    made = await automation(shop)
    await enrol(made, [(p.id, "k") for p in people], now=T0)
    workers = [Scheduler(f"w{n}", batch_size=7) for n in range(3)]
    await asyncio.gather(*(w.run_until_idle(T0) for w in workers))
    assert await EnrollmentStep.filter(step="first").count() == 30
    assert await Delivery.all().count() == 60
    assert await Voucher.filter(source=VoucherSource.AUTOMATION).count() == 30
    assert set(await Enrollment.all().values_list("leased_by", flat=True)) == {None}


def test_the_stored_chain_is_what_was_sent() -> None:
    chain = load(WIN_BACK)
    assert Chain.model_validate(chain.model_dump(mode="json", by_alias=True)) == chain


@pytest.mark.parametrize("offset", [0, 1])
async def test_a_wait_until_a_local_time_follows_the_shops_clock(db: Backend, offset: int) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1))[0]
    text = """\
name: Tuesday
trigger: {kind: joined}
steps:
  - id: hold
    wait: {until: "10:00", weekday: tue}
  - id: offer
    send: {channels: [telegram], text: Two for one today.}
"""
    made = await automation(shop, text)
    start = T0 + timedelta(days=offset)  # Monday or Tuesday 17:19 in Kyiv
    await enrol(made, [(person.id, "k")], now=start)
    await Scheduler("w1").run_until_idle(start)
    enrolled = await Enrollment.get(customer_id=person.id)
    # Next Tuesday 10:00 Kyiv summer time (UTC+3) = 07:00 UTC.
    expected = datetime(2026, 5, 5, 7, 0, tzinfo=UTC) + timedelta(days=7 * offset)
    assert enrolled.due_at == expected


async def test_kill_9_while_firing_loses_nothing_and_sends_nothing_twice(db: Backend) -> None:
    if not db.is_postgres:
        pytest.skip("the killed worker is another process; it needs the PostgreSQL server")
    shop = await factories.merchant()
    people = await audience(shop, 5)
    made = await automation(shop)
    await enrol(made, [(p.id, "k") for p in people], now=T0)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.automations.dying_worker", db.url, T0.isoformat(),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await child.communicate()
    assert child.returncode == -signal.SIGKILL, err.decode()
    # Its transaction died with it: no delivery, no step, the batch still leased to it.
    assert await Delivery.all().count() == 0
    assert await EnrollmentStep.all().count() == 0
    assert set(await Enrollment.all().values_list("leased_by", flat=True)) == {"dying"}
    # Once the lease runs out, another worker fires every step once.
    await Scheduler("w2").run_until_idle(T0 + timedelta(minutes=3))
    assert await EnrollmentStep.filter(step="first").count() == 5
    assert await Delivery.all().count() == 10
    assert await Voucher.filter(source=VoucherSource.AUTOMATION).count() == 5


async def test_deleting_an_automation_deletes_its_delivery_rows(db: Backend) -> None:
    """Delivery rows have no foreign key to cascade from the step campaign or the enrolment:
    the delete removes them itself, and leaves another automation's rows alone."""
    from automations.service import delete_automation

    shop = await factories.merchant()
    people = await audience(shop, 2)
    made, kept = await automation(shop), await automation(shop)
    for each in (made, kept):
        await enrol(each, [(p.id, f"x:{each.id}") for p in people], now=T0)
    await Scheduler("w1").run_until_idle(T0)
    steps = await Campaign.filter(automation_id=made.id).values_list("id", flat=True)
    assert await Delivery.filter(campaign_id__in=list(steps)).count() == 4
    others = await Delivery.exclude(campaign_id__in=list(steps)).count()

    await delete_automation(shop.merchant.id, made.id)

    assert await Delivery.filter(campaign_id__in=list(steps)).count() == 0
    assert await Delivery.all().count() == others == 4
    assert await orphan_deliveries() == 0
