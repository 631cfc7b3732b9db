"""Refer a friend with a controlled clock: the invite link, who counts as a friend, and the
rewards after the friend's first stamp — once per friend, never for oneself or a regular."""

from __future__ import annotations

from datetime import datetime, timedelta

from automations import service
from automations.engine import Scheduler, switch
from automations.recipes import Recipe, tuned
from automations.triggers import scan
from loyalty.memberships import join, leave
from loyalty.merchants import CardSpec, create_card
from loyalty.referrals import (
    Outcome,
    invite_token,
    invites_open,
    join_by_invite,
    referrer_by_token,
)
from loyalty.stamps import add_stamps
from models import Automation, Campaign, Delivery, Enrollment, Membership, Referral, Voucher
from models.enums import DeliveryStatus, VoucherSource
from tests import factories
from tests.conftest import Backend

T0 = factories.T0


async def switched_on(shop: factories.NewMerchant, **tuning: object) -> int:
    made = await service.create_from_recipe(
        shop.merchant.id,
        Recipe.REFER_A_FRIEND,
        tuned(Recipe.REFER_A_FRIEND, **tuning),
        str,
        created_by=None,
    )
    await switch(await Automation.get(id=made.id), True, now=T0 - timedelta(days=1))
    return made.id


async def run(now: datetime) -> None:
    await scan(now)
    await Scheduler("w1").run_until_idle(now)


async def invited(
    shop: factories.NewMerchant, referrer: Membership, telegram_id: int, name: str
) -> Membership:
    friend = await factories.customer(telegram_id, name)
    token = await invite_token(referrer)
    found = await referrer_by_token(token)
    result = await join_by_invite(friend, found, now=T0)
    assert result.outcome == Outcome.REFERRED
    return result.joined.membership


async def rewarded(automation_id: int) -> dict[str, list[int]]:
    """Step id → customers with a pending chat message from it."""
    found: dict[str, list[int]] = {}
    for campaign in await Campaign.filter(automation_id=automation_id):
        rows = await Delivery.filter(
            campaign_id=campaign.id, channel="telegram", status=DeliveryStatus.PENDING
        ).values_list("customer_id", flat=True)
        if rows:
            found[str(campaign.automation_step)] = sorted(int(str(r)) for r in rows)
    return found


async def test_the_invite_token_is_made_once_unguessable_and_apart_from_the_till_token(
    db: Backend,
) -> None:
    shop = await factories.merchant()
    member = await factories.member(shop, 1001)
    assert member.referral_token is None
    token = await invite_token(member)
    assert token == await invite_token(await Membership.get(id=member.id))
    assert token != member.public_token
    assert len(token) >= 22  # 16 random bytes, base64url
    assert (await referrer_by_token(token)).id == member.id


async def test_both_get_the_reward_after_the_friends_first_stamp_and_only_once(
    db: Backend,
) -> None:
    shop = await factories.merchant()
    automation_id = await switched_on(shop, voucher_title="Free croissant", voucher_days=14)
    member = await factories.member(shop, 1001)
    assert await invites_open(member)
    friend = await invited(shop, member, 2001, "Taras")
    assert await Referral.filter(referrer_id=member.id, friend_id=friend.id).count() == 1

    # Joining alone rewards nobody: the first stamp does.
    await run(T0 + timedelta(minutes=5))
    assert await rewarded(automation_id) == {}
    await add_stamps(friend.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(hours=1))
    await run(T0 + timedelta(hours=1, minutes=1))
    assert await rewarded(automation_id) == {
        "member": [member.customer_id],
        "friend": [friend.customer_id],
    }
    vouchers = await Voucher.filter(source=VoucherSource.AUTOMATION).order_by("membership_id")
    assert [(v.membership_id, v.title) for v in vouchers] == [
        (member.id, "Free croissant"),
        (friend.id, "Free croissant"),
    ]
    member_text = (
        await Campaign.get(automation_id=automation_id, automation_step="member")
    ).message_text
    assert "thank you for bringing them" in member_text

    # A second stamp, and scans again and again: nothing more.
    await add_stamps(friend.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(hours=2))
    for minutes in (121, 122, 180):
        await run(T0 + timedelta(minutes=minutes))
    assert await Voucher.filter(source=VoucherSource.AUTOMATION).count() == 2
    assert await Enrollment.filter(automation_id=automation_id).count() == 2

    # Another friend: the member is rewarded again, once more.
    second = await invited(shop, member, 2002, "Iryna")
    await add_stamps(second.id, 1, merchant_id=shop.merchant.id, now=T0 + timedelta(hours=3))
    await run(T0 + timedelta(hours=3, minutes=1))
    mine = Voucher.filter(source=VoucherSource.AUTOMATION, membership_id=member.id)
    assert await mine.count() == 2
    assert await Voucher.filter(source=VoucherSource.AUTOMATION).count() == 4


async def test_no_referral_for_oneself_or_for_someone_the_shop_already_knows(
    db: Backend,
) -> None:
    shop = await factories.merchant()
    await switched_on(shop)
    member = await factories.member(shop, 1001)
    referrer = await referrer_by_token(await invite_token(member))

    own = await join_by_invite(await member.customer, referrer, now=T0)
    assert own.outcome == Outcome.OWN_LINK
    assert own.joined.membership.id == member.id

    # Someone on another card of the same shop is a regular, not a new friend.
    other_card = await create_card(
        shop.merchant,
        CardSpec(name="Tea card", stamps_needed=6, reward_text="Free tea"),
    )
    tea_drinker = await factories.customer(3002, "Petro")
    await join(tea_drinker, other_card, now=T0)
    again = await join_by_invite(tea_drinker, referrer, now=T0)
    assert again.outcome == Outcome.RETURNING

    # Someone who left the card and comes back through a friend's link: a regular too.
    gone = await factories.member(shop, 3003)
    await leave(gone)
    back = await join_by_invite(await gone.customer, referrer, now=T0)
    assert back.outcome == Outcome.RETURNING
    assert back.joined.rejoined
    assert await Referral.all().count() == 0
