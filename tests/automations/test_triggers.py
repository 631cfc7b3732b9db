"""Each trigger's scan names the right people once, and nothing from before it was switched on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from automations.chain_yaml import load
from automations.engine import enrol, switch
from automations.triggers import scan, who
from loyalty.stamps import add_stamps
from loyalty.vouchers import issue_voucher
from models import Automation, Enrollment, Membership
from models.enums import VoucherSource
from tests import factories
from tests.campaigns.helpers import audience
from tests.conftest import Backend

T0 = factories.T0  # Monday 4 May 2026, 17:19 in Kyiv


def chain(trigger: str) -> str:
    return (
        f"name: T\ntrigger: {trigger}\nreentry: {{rule: every_time}}\nsteps:\n"
        "  - id: hello\n    send: {channels: [telegram], text: Hello}\n"
    )


async def made(shop: factories.NewMerchant, trigger: str, on_at: datetime) -> Automation:
    parsed = load(chain(trigger))
    automation = await Automation.create(
        merchant_id=shop.merchant.id, card_id=shop.card.id, name="T",
        chain=parsed.model_dump(mode="json", by_alias=True), trigger=parsed.trigger.kind,
    )  # fmt: skip
    await switch(automation, True, now=on_at)
    return automation


async def test_joined_names_who_joined_after_switching_on_once(db: Backend) -> None:
    shop = await factories.merchant()
    before = await audience(shop, 1, first_id=100)  # joined at "now" of the helper, below
    automation = await made(shop, "{kind: joined}", datetime.now(UTC))
    after = await audience(shop, 2, first_id=200)
    now = datetime.now(UTC) + timedelta(seconds=1)
    names = {c for c, _ in await who(automation, now)}
    assert names == {p.id for p in after}
    assert not names & {p.id for p in before}
    assert await scan(now) == 2
    assert await scan(now) == 0  # the second scan (or another worker's) enrols nobody


async def test_inactive_enrols_once_per_lapse(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await Membership.filter(id=member.id).update(joined_at=T0)
    automation = await made(shop, "{kind: inactive, days: 30}", T0)
    assert await who(automation, T0 + timedelta(days=29)) == []
    lapsed = await who(automation, T0 + timedelta(days=31))
    assert lapsed == [(member.customer_id, "inactive:2026-05-04")]
    assert await enrol(automation, lapsed, now=T0 + timedelta(days=31)) == 1
    assert await enrol(automation, lapsed, now=T0 + timedelta(days=32)) == 0
    # A visit, then another lapse: a new occurrence.
    await add_stamps(member.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(days=40))
    again = await who(automation, T0 + timedelta(days=71))
    assert again == [(member.customer_id, "inactive:2026-06-13")]


async def test_voucher_expiring_and_reward_ready(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    voucher = await issue_voucher(
        member, shop.card, source=VoucherSource.REWARD, title="Free cappuccino",
        validity_days=30, now=T0,
    )  # fmt: skip
    expiring = await made(shop, "{kind: voucher_expiring, days: 7}", T0)
    ready = await made(shop, "{kind: reward_ready, days: 3}", T0)
    assert await who(expiring, T0 + timedelta(days=22)) == []
    assert await who(expiring, T0 + timedelta(days=24)) == [
        (member.customer_id, f"expiring:{voucher.id}")
    ]
    assert await who(ready, T0 + timedelta(days=2)) == []
    assert await who(ready, T0 + timedelta(days=3, minutes=1)) == [
        (member.customer_id, f"reward:{voucher.id}")
    ]


async def test_birthday_in_the_shops_calendar(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    person = await member.customer
    person.birth_month, person.birth_day = 5, 11
    await person.save()
    automation = await made(shop, "{kind: birthday, days_before: 7}", T0)
    # 4 May, 17:19 in Kyiv: 11 May is seven days away.
    assert await who(automation, T0) == [(person.id, "birthday:2026")]
    # 22:30 UTC on 4 May is already 5 May in Kyiv: the eleventh is six days away.
    assert await who(automation, T0.replace(hour=22, minute=30)) == []


async def test_a_recurring_time_enrols_everyone_once_per_occurrence(db: Backend) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 3)
    automation = await made(shop, "{kind: recurring, weekday: tue, at: '10:00'}", T0)
    tuesday_10 = datetime(2026, 5, 5, 7, 0, tzinfo=UTC)  # 10:00 in Kyiv
    assert await who(automation, tuesday_10 - timedelta(minutes=1)) == []
    named = await who(automation, tuesday_10 + timedelta(minutes=20))
    assert sorted(named) == sorted((p.id, "recurring:2026-05-05") for p in people)
    assert await scan(tuesday_10 + timedelta(minutes=20)) == 3
    assert await scan(tuesday_10 + timedelta(hours=1)) == 0
    # Long after the time (a worker down all day) the occurrence has passed.
    assert await who(automation, tuesday_10 + timedelta(hours=7)) == []
    assert await Enrollment.all().count() == 3
