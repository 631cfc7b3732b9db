"""Each recipe end to end with a controlled clock: the customer's state, a trigger scan, the
scheduler, and the delivery rows (and vouchers) that come out; the service around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from automations import service
from automations.chain_yaml import ChainRefused
from automations.engine import Scheduler, switch
from automations.recipes import Recipe, tuned
from automations.triggers import scan
from loyalty.stamps import add_stamps
from loyalty.views import vouchers_to_remind
from loyalty.vouchers import issue_voucher
from models import Automation, Campaign, Delivery, Membership, Voucher
from models.enums import DeliveryStatus, VoucherSource, VoucherStatus
from tests import factories
from tests.conftest import Backend

T0 = factories.T0  # Monday 4 May 2026, 17:19 in Kyiv: outside quiet hours


async def switched_on(shop: factories.NewMerchant, recipe: Recipe, **tuning: object) -> int:
    made = await service.create_from_recipe(
        shop.merchant.id, recipe, tuned(recipe, **tuning), str, created_by=None
    )
    await switch(await Automation.get(id=made.id), True, now=T0 - timedelta(days=10))
    return made.id


async def sent_by_step(automation_id: int) -> dict[str, list[int]]:
    """Step id → the customers with a pending delivery row on the step's first channel
    (steps nobody was sent leave out)."""
    found: dict[str, list[int]] = {}
    for campaign in await Campaign.filter(automation_id=automation_id):
        first = campaign.channels[0]
        rows = await Delivery.filter(
            campaign_id=campaign.id, channel=first, status=DeliveryStatus.PENDING
        ).values_list("customer_id", flat=True)
        if rows:
            found[str(campaign.automation_step)] = sorted(int(str(r)) for r in rows)
    return found


async def run(now: datetime) -> None:
    await scan(now)
    await Scheduler("w1").run_until_idle(now)


async def test_welcome_series_nudges_only_who_did_not_come(db: Backend) -> None:
    shop = await factories.merchant()
    came = await factories.member(shop, 1001)
    stayed = await factories.member(shop, 1002)
    await Membership.filter(id__in=[came.id, stayed.id]).update(joined_at=T0 - timedelta(hours=1))
    automation_id = await switched_on(shop, Recipe.WELCOME, days=3)
    await run(T0)
    welcomed = await sent_by_step(automation_id)
    assert welcomed == {"welcome": sorted([came.customer_id, stayed.customer_id])}
    welcome = await Campaign.get(automation_id=automation_id, automation_step="welcome")
    assert "Welcome to Kafe Lviv!" in welcome.message_text
    await add_stamps(came.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(days=1))
    await run(T0 + timedelta(days=3, minutes=1))
    after = await sent_by_step(automation_id)
    assert after["nudge"] == [stayed.customer_id]
    stats = await service.automation_stats(shop.merchant.id, automation_id)
    assert stats.enrolled == 2
    assert stats.waiting == 0
    assert stats.finished == 2
    by_id = {s.id: s for s in stats.steps}
    assert by_id["visited"].outcomes == {"yes": 1, "no": 1}
    assert by_id["nudge"].outcomes["sent"] == 1
    assert stats.reached.visitors == 1
    assert stats.reached.people == 2


async def test_reward_ready_and_voucher_expiring(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await issue_voucher(
        member, shop.card, source=VoucherSource.REWARD, title="Free cappuccino",
        validity_days=10, now=T0 - timedelta(days=3, hours=1),
    )  # fmt: skip
    ready = await switched_on(shop, Recipe.REWARD_READY, days=3)
    expiring = await switched_on(shop, Recipe.VOUCHER_EXPIRING, days=7)
    await run(T0)
    assert (await sent_by_step(ready)) == {"remind": [member.customer_id]}
    assert (await sent_by_step(expiring)) == {"remind": [member.customer_id]}
    # The expiring reminder also moves the wallet passes.
    wallet = await Campaign.get(automation_id=expiring)
    assert set(wallet.channels) >= {"apple_wallet", "google_wallet"}
    await run(T0 + timedelta(hours=2))  # a second scan enrols nobody again
    assert await Delivery.filter(campaign__automation_id=ready).count() == 2  # chat + email


async def test_the_expiring_recipe_takes_over_the_built_in_reminder(db: Backend) -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other")
    ours = await factories.member(shop, 1001)
    theirs = await factories.member(other, 1002)
    for member, card in ((ours, shop.card), (theirs, other.card)):
        await issue_voucher(
            member, card, source=VoucherSource.REWARD, title="Tea", validity_days=2, now=T0
        )
    await switched_on(shop, Recipe.VOUCHER_EXPIRING)
    reminded = await vouchers_to_remind(within=timedelta(days=3), now=T0)
    assert [customer for customer, _voucher in reminded] == [theirs.customer_id]


async def test_win_back_30_gives_a_voucher_and_45_tries_again(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    await Membership.filter(id=member.id).update(last_visit_at=T0 - timedelta(days=40))
    first = await switched_on(shop, Recipe.WIN_BACK_30, voucher_title="Free cookie")
    second = await switched_on(shop, Recipe.WIN_BACK_45)
    await run(T0)
    assert (await sent_by_step(first)) == {"win_back": [member.customer_id]}
    assert await sent_by_step(second) == {}
    voucher = await Voucher.get(membership_id=member.id, source=VoucherSource.AUTOMATION)
    assert voucher.title == "Free cookie"
    await run(T0 + timedelta(days=6))
    assert (await sent_by_step(second)) == {"win_back_2": [member.customer_id]}
    voucher.status = VoucherStatus.REDEEMED
    voucher.redeemed_at = T0 + timedelta(days=6)
    await voucher.save()
    # Visits in the 7 days after the enrolment count (two stamps, two visits); the one after
    # the window does not.
    for day in (2, 5, 9):
        await add_stamps(member.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(days=day))
    stats = await service.automation_stats(shop.merchant.id, first)
    assert stats.reached.redeemed == 1
    assert (stats.reached.visitors, stats.reached.visits) == (1, 2)


async def test_birthday_offer_issues_the_voucher_then_greets(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    person = await member.customer
    person.birth_month, person.birth_day = 5, 4
    await person.save()
    automation_id = await switched_on(shop, Recipe.BIRTHDAY, voucher_title="Cake", voucher_days=7)
    await run(T0)
    voucher = await Voucher.get(membership_id=member.id, source=VoucherSource.AUTOMATION)
    assert voucher.title == "Cake"
    assert (await sent_by_step(automation_id)) == {"greet": [person.id]}


async def test_slow_day_promotion_on_the_chosen_weekday_and_time(db: Backend) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop)
    automation_id = await switched_on(shop, Recipe.SLOW_DAY, weekday="wed", at="12:00")
    wednesday_noon = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)  # 12:00 in Kyiv
    await run(wednesday_noon - timedelta(minutes=5))
    assert await sent_by_step(automation_id) == {}
    await run(wednesday_noon + timedelta(minutes=5))
    assert (await sent_by_step(automation_id)) == {"promo": [member.customer_id]}


async def test_yaml_import_export_round_trip_and_refusal(db: Backend) -> None:
    shop = await factories.merchant()
    made = await service.create_from_recipe(
        shop.merchant.id, Recipe.WIN_BACK_30, None, str, created_by=None
    )
    name, text = await service.export_yaml(shop.merchant.id, made.id)
    assert name.endswith(".yaml")
    again = await service.import_yaml(shop.merchant.id, text, created_by=None)
    assert again.chain == made.chain
    broken = text.replace("kind: inactive", "kind: moon_phase")
    with pytest.raises(ChainRefused) as refused:
        await service.import_yaml(shop.merchant.id, broken, created_by=None)
    line = broken.splitlines().index("  kind: moon_phase") + 1
    assert [(p.line, p.message) for p in refused.value.problems] == [
        (line, "unknown trigger 'moon_phase'")
    ]
    assert await Automation.filter(merchant_id=shop.merchant.id).count() == 2


async def test_another_shops_automation_is_unknown(db: Backend) -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other")
    made = await service.create_from_recipe(
        shop.merchant.id, Recipe.WELCOME, None, str, created_by=None
    )
    with pytest.raises(service.AutomationNotFound):
        await service.set_enabled(other.merchant.id, made.id, True)
    with pytest.raises(service.AutomationNotFound):
        await service.delete_automation(other.merchant.id, made.id)
    assert not (await service.get_automation(shop.merchant.id, made.id)).enabled
