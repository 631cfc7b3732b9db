"""Linking messengers with a code: the store, the rules of a code, and merging two customers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from loyalty.customers import customer_for_identity, erase_customer
from loyalty.errors import CustomerErased
from loyalty.ledger import ledger_sum
from loyalty.linking import (
    CODE_LENGTH,
    LinkCodes,
    LinkStatus,
    MemoryLinkCodeStore,
    RedisLinkCodeStore,
    looks_like_link_code,
    normalize_link_code,
)
from loyalty.memberships import join
from loyalty.stamps import add_stamps
from models import ChannelOptOut, Customer, Delivery, Identity, Membership, StampEvent, Voucher
from models.enums import Channel, LedgerKind, MembershipStatus, Platform, VoucherStatus
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")

KEY = b"k" * 32


@pytest.fixture(params=["memory", "redis"])
def codes(request: pytest.FixtureRequest, redis_client: Redis) -> LinkCodes:
    """The same rules over both stores: Redis in production, memory in the embedded default."""
    if request.param == "memory":
        return LinkCodes(MemoryLinkCodeStore(), KEY)
    return LinkCodes(RedisLinkCodeStore(redis_client), KEY)


async def _telegram_customer(telegram_id: int = 1001) -> Customer:
    return await factories.customer(telegram_id)


async def _viber_customer(viber_id: str = "viber-b") -> Customer:
    return await customer_for_identity(Platform.VIBER, viber_id, first_name="Olena")


async def _identities(customer_id: int) -> list[tuple[str, str]]:
    rows = await Identity.filter(customer_id=customer_id).order_by("platform")
    return [(row.platform, row.external_id) for row in rows]


# ---- the code's shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["K7Q-D30-1PA", "k7q-d30-1pa", "K7QD301PA", "k7q d30 1pa", " K7Q–D3O–IPA ", "K7Q-D3o-lPA"],
)
def test_a_typed_code_is_read_as_issued(typed: str) -> None:
    assert normalize_link_code(typed) == "K7QD301PA"


@pytest.mark.parametrize("typed", ["", "K7Q-D30-1P", "K7Q-D30-1PAX", "K7Q-D30-1PU", "🙂" * 9])
def test_what_cannot_be_a_code_is_not_one(typed: str) -> None:
    assert normalize_link_code(typed) is None


def test_a_plain_word_is_not_taken_for_a_code() -> None:
    # Nine letters that normalise to a code: a word unless typed in groups.
    assert looks_like_link_code("breakfast") is None
    assert looks_like_link_code("BRE-AKF-AST") == "BREAKFAST"
    assert looks_like_link_code("k7qd301pa") == "K7QD301PA"


async def test_a_code_is_nine_characters_grouped_and_the_store_never_holds_it(
    redis_client: Redis,
) -> None:
    person = await _telegram_customer()
    codes = LinkCodes(RedisLinkCodeStore(redis_client), KEY)

    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    raw = issued.code.replace("-", "")
    assert len(raw) == CODE_LENGTH
    assert issued.code.count("-") == 2
    assert issued.expires_at == T0 + timedelta(minutes=15)
    assert issued.code not in repr(issued)
    keys = [key async for key in redis_client.scan_iter()]
    assert keys
    stored = b" ".join(keys + [await redis_client.get(key) or b"" for key in keys])
    assert raw.encode() not in stored
    assert issued.code.encode() not in stored


# ---- redeeming ---------------------------------------------------------------------------------


async def test_a_new_messenger_account_joins_the_customer_of_the_code(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    typed = issued.code.lower().replace("-", " ")
    outcome = await codes.redeem(typed, Platform.VIBER, "viber-1", username="olena", now=T0)

    assert (outcome.status, outcome.customer_id, outcome.issued_on) == (
        LinkStatus.LINKED,
        person.id,
        Platform.TELEGRAM,
    )
    assert await _identities(person.id) == [("telegram", "1001"), ("viber", "viber-1")]
    # Single use: the next account typing it gets a refusal.
    again = await codes.redeem(issued.code, Platform.WHATSAPP, "380501234567", now=T0)
    assert again.status == LinkStatus.INVALID
    assert not await Identity.filter(platform=Platform.WHATSAPP).exists()


async def test_an_account_of_the_same_customer_is_already_linked(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    first = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
    await codes.redeem(first.code, Platform.VIBER, "viber-1", now=T0)
    second = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(second.code, Platform.VIBER, "viber-1", now=T0)

    assert (outcome.status, outcome.customer_id) == (LinkStatus.ALREADY_LINKED, person.id)
    assert await Identity.filter(customer_id=person.id).count() == 2


async def test_a_code_typed_in_the_messenger_that_showed_it_is_refused_and_stays_valid(
    codes: LinkCodes,
) -> None:
    person = await _telegram_customer()
    other = await _telegram_customer(2002)
    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(issued.code, Platform.TELEGRAM, "2002", now=T0)

    assert (outcome.status, outcome.issued_on) == (LinkStatus.SAME_MESSENGER, Platform.TELEGRAM)
    assert await _identities(other.id) == [("telegram", "2002")]
    assert await _identities(person.id) == [("telegram", "1001")]
    later = await codes.redeem(issued.code, Platform.VIBER, "viber-1", now=T0)
    assert later.status == LinkStatus.LINKED


async def test_a_new_code_replaces_the_old_one(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    old = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
    new = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    refused = await codes.redeem(old.code, Platform.VIBER, "viber-1", now=T0)
    linked = await codes.redeem(new.code, Platform.VIBER, "viber-1", now=T0)

    assert (refused.status, linked.status) == (LinkStatus.INVALID, LinkStatus.LINKED)


async def test_a_code_works_for_fifteen_minutes(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    early = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
    other = await _telegram_customer(2002)
    late = await codes.issue(other.id, Platform.TELEGRAM, now=T0)

    in_time = await codes.redeem(
        early.code, Platform.VIBER, "viber-1", now=T0 + timedelta(minutes=14, seconds=59)
    )
    expired = await codes.redeem(
        late.code, Platform.VIBER, "viber-2", now=T0 + timedelta(minutes=15, seconds=1)
    )

    assert (expired.status, in_time.status) == (LinkStatus.INVALID, LinkStatus.LINKED)
    assert not await Identity.filter(external_id="viber-2").exists()


async def test_wrong_codes_are_limited_per_typing_account(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
    wrong = "ZZZ-ZZZ-ZZ2" if issued.code != "ZZZ-ZZZ-ZZ2" else "YYY-YYY-YY2"

    for minute in range(5):
        outcome = await codes.redeem(
            wrong, Platform.VIBER, "viber-x", now=T0 + timedelta(minutes=minute)
        )
        assert outcome.status == LinkStatus.INVALID

    # The right code too is refused now, or guessing would go on; another account is not.
    blocked = await codes.redeem(
        issued.code, Platform.VIBER, "viber-x", now=T0 + timedelta(minutes=6)
    )
    assert blocked.status == LinkStatus.TOO_MANY_ATTEMPTS
    assert blocked.retry_at is not None
    assert blocked.retry_at > T0 + timedelta(minutes=6)
    assert not await Identity.filter(external_id="viber-x").exists()
    # Typing garbage costs no attempt (it cannot hit a code) and says nothing more.
    assert (await codes.redeem("hello", Platform.VIBER, "viber-y", now=T0)).status == (
        LinkStatus.INVALID
    )
    # After the window the account may try again, and the code still works.
    assert blocked.retry_at <= T0 + timedelta(minutes=15)
    fresh = await codes.issue(person.id, Platform.TELEGRAM, now=blocked.retry_at)
    after = await codes.redeem(fresh.code, Platform.VIBER, "viber-x", now=blocked.retry_at)
    assert after.status == LinkStatus.LINKED


@pytest.mark.parametrize("typed", ["", " ", "x" * 500, "/link", "🙂🙂🙂", "DROP TABLE"])
async def test_bad_input_is_refused_and_changes_nothing(codes: LinkCodes, typed: str) -> None:
    person = await _telegram_customer()
    await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(typed, Platform.VIBER, "viber-1", now=T0)

    assert outcome.status == LinkStatus.INVALID
    assert await Identity.all().count() == 1


async def test_the_code_of_an_erased_customer_links_nothing(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
    await erase_customer(person, now=T0)

    outcome = await codes.redeem(issued.code, Platform.VIBER, "viber-1", now=T0)

    assert outcome.status == LinkStatus.INVALID
    assert not await Identity.filter(external_id="viber-1").exists()
    with pytest.raises(CustomerErased):
        await codes.issue(person.id, Platform.TELEGRAM, now=T0)


# ---- merging -----------------------------------------------------------------------------------


async def test_two_customers_of_one_card_become_one_with_the_stamps_and_vouchers_of_both(
    codes: LinkCodes,
) -> None:
    cafe = await factories.merchant(stamps_needed=5)
    bakery = await factories.merchant("Bakery")
    telegram = await _telegram_customer()
    viber = await _viber_customer()
    kept = (await join(telegram, cafe.card, now=T0)).membership
    gone = (await join(viber, cafe.card, now=T0)).membership
    only_viber = (await join(viber, bakery.card, now=T0)).membership
    await add_stamps(kept.id, 5, merchant_id=cafe.merchant.id, now=T0)  # a reward, 0 left
    await add_stamps(kept.id, 2, merchant_id=cafe.merchant.id, now=T0)
    await add_stamps(gone.id, 5, merchant_id=cafe.merchant.id, now=T0)  # a reward, 0 left
    await add_stamps(gone.id, 1, merchant_id=cafe.merchant.id, now=T0)
    await add_stamps(only_viber.id, 3, merchant_id=bakery.merchant.id, now=T0)
    await ChannelOptOut.create(customer=viber, merchant=bakery.merchant, channel=Channel.EMAIL)
    viber.email = "olena@example.com"
    await viber.save()
    issued = await codes.issue(telegram.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(issued.code, Platform.VIBER, "viber-b", now=T0)

    assert (outcome.status, outcome.customer_id, outcome.merged_customer_id) == (
        LinkStatus.MERGED,
        telegram.id,
        viber.id,
    )
    assert await _identities(telegram.id) == [("telegram", "1001"), ("viber", "viber-b")]
    # One café card with 2 + 1 stamps and both rewards; the bakery card came over whole.
    mine = {
        m.card_id: m
        for m in await Membership.filter(customer_id=telegram.id, status=MembershipStatus.ACTIVE)
    }
    assert set(mine) == {cafe.card.id, bakery.card.id}
    assert mine[cafe.card.id].id == kept.id
    assert (mine[cafe.card.id].balance, mine[cafe.card.id].visits) == (3, 4)
    assert await ledger_sum(kept.id) == 3
    assert mine[bakery.card.id].id == only_viber.id
    assert mine[bakery.card.id].balance == 3
    vouchers = await Voucher.filter(membership_id=kept.id, status=VoucherStatus.ISSUED).count()
    assert vouchers == 2
    # The ledger says where the stamp went, on both sides; the emptied card adds up to 0.
    arrived = await StampEvent.filter(membership_id=kept.id, kind=LedgerKind.MERGE)
    left = await StampEvent.filter(membership_id=gone.id, kind=LedgerKind.MERGE)
    assert [(e.delta, e.reason) for e in arrived] == [(1, f"moved from #{gone.id}")]
    assert [(e.delta, e.reason) for e in left] == [(-1, f"moved to #{kept.id}")]
    emptied = await Membership.get(id=gone.id)
    assert (emptied.status, emptied.balance, emptied.counter_code) == (
        MembershipStatus.LEFT,
        0,
        None,
    )
    assert emptied.public_token != gone.public_token
    assert await ledger_sum(gone.id) == 0
    # The "no" to the bakery's emails still holds; the email came along.
    assert await ChannelOptOut.filter(
        customer_id=telegram.id, merchant_id=bakery.merchant.id, channel=Channel.EMAIL
    ).exists()
    merged = await Customer.get(id=telegram.id)
    assert merged.email == "olena@example.com"
    # What is left of the Viber customer holds the emptied card's history, and nothing of them.
    rest = await Customer.get(id=viber.id)
    assert rest.erased_at is not None
    assert (rest.first_name, rest.email) == (None, None)
    assert await Identity.filter(customer_id=viber.id).count() == 0
    assert await Membership.filter(customer_id=viber.id).values_list("id", flat=True) == [gone.id]


async def test_merged_stamps_that_fill_a_card_earn_its_reward(codes: LinkCodes) -> None:
    cafe = await factories.merchant(stamps_needed=5)
    telegram = await _telegram_customer()
    viber = await _viber_customer()
    kept = (await join(telegram, cafe.card, now=T0)).membership
    gone = (await join(viber, cafe.card, now=T0)).membership
    await add_stamps(kept.id, 3, merchant_id=cafe.merchant.id, now=T0)
    await add_stamps(gone.id, 4, merchant_id=cafe.merchant.id, now=T0)
    issued = await codes.issue(viber.id, Platform.VIBER, now=T0)

    # This time the code comes from Viber and is typed in Telegram: the Telegram customer
    # goes, the Viber one stays.
    outcome = await codes.redeem(issued.code, Platform.TELEGRAM, "1001", now=T0)

    assert (outcome.status, outcome.customer_id, outcome.rewards) == (
        LinkStatus.MERGED,
        viber.id,
        1,
    )
    card = await Membership.get(id=gone.id)
    assert (card.customer_id, card.balance) == (viber.id, 2)
    kinds = (
        await StampEvent.filter(membership_id=gone.id)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [LedgerKind.STAMP, LedgerKind.MERGE, LedgerKind.REWARD]
    issued_vouchers = await Voucher.filter(membership_id=gone.id, status=VoucherStatus.ISSUED)
    assert [v.title for v in issued_vouchers] == ["Free cappuccino"]
    assert (await Membership.get(id=kept.id)).status == MembershipStatus.LEFT


async def test_a_customer_with_no_card_in_common_is_merged_and_deleted(codes: LinkCodes) -> None:
    cafe = await factories.merchant()
    bakery = await factories.merchant("Bakery")
    telegram = await _telegram_customer()
    viber = await _viber_customer()
    await join(telegram, cafe.card, now=T0)
    bakery_card = (await join(viber, bakery.card, now=T0)).membership
    issued = await codes.issue(telegram.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(issued.code, Platform.VIBER, "viber-b", now=T0)

    assert outcome.status == LinkStatus.MERGED
    assert not await Customer.filter(id=viber.id).exists()
    assert (await Membership.get(id=bakery_card.id)).customer_id == telegram.id
    assert await Membership.filter(customer_id=telegram.id).count() == 2


async def test_erasing_a_linked_customer_removes_every_messenger_account(
    codes: LinkCodes,
) -> None:
    cafe = await factories.merchant()
    person = await _telegram_customer()
    await join(person, cafe.card, now=T0)
    for platform, account in ((Platform.VIBER, "viber-1"), (Platform.WHATSAPP, "380501234567")):
        issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)
        assert (await codes.redeem(issued.code, platform, account, now=T0)).linked
    assert await Identity.filter(customer_id=person.id).count() == 3

    await erase_customer(await Customer.get(id=person.id), now=T0)

    assert await Identity.all().count() == 0
    # Each messenger meets a stranger afterwards.
    for platform, account in (
        (Platform.TELEGRAM, "1001"),
        (Platform.VIBER, "viber-1"),
        (Platform.WHATSAPP, "380501234567"),
    ):
        again = await customer_for_identity(platform, account)
        assert again.id != person.id


async def test_a_code_typed_on_two_accounts_at_once_links_one(codes: LinkCodes) -> None:
    person = await _telegram_customer()
    issued = await codes.issue(person.id, Platform.TELEGRAM, now=T0)

    outcomes = await asyncio.gather(
        codes.redeem(issued.code, Platform.VIBER, "viber-1", now=T0),
        codes.redeem(issued.code, Platform.WHATSAPP, "380501234567", now=T0),
    )

    assert sorted(o.status for o in outcomes) == [LinkStatus.INVALID, LinkStatus.LINKED]
    assert await Identity.filter(customer_id=person.id).count() == 2


async def test_the_memory_store_stays_bounded() -> None:
    store = MemoryLinkCodeStore(limit=2)
    codes = LinkCodes(store, KEY)
    people = [await _telegram_customer(3000 + n) for n in range(3)]
    issued = [await codes.issue(p.id, Platform.TELEGRAM, now=T0) for p in people]

    oldest = await codes.redeem(issued[0].code, Platform.VIBER, "viber-0", now=T0)
    newest = await codes.redeem(issued[2].code, Platform.VIBER, "viber-2", now=T0)

    assert (oldest.status, newest.status) == (LinkStatus.INVALID, LinkStatus.LINKED)


async def test_a_merged_and_deleted_customer_leaves_no_delivery_rows(codes: LinkCodes) -> None:
    """No foreign key cascades from the customer (see ``models.Delivery``): the merge moves
    the deleted side's rows, and deletes those the kept side already has, in the database."""
    from campaigns.service import create_campaign
    from campaigns.spec import CampaignSpec
    from tests.campaigns.helpers import orphan_deliveries

    cafe = await factories.merchant()
    telegram = await _telegram_customer()
    viber = await _viber_customer()
    await join(telegram, cafe.card, now=T0)
    campaigns = [
        await create_campaign(
            cafe.merchant.id,
            CampaignSpec(card_id=cafe.card.id, channels=(Channel.EMAIL,), message_text=text),
        )
        for text in ("Both had it", "Only the Viber side had it")
    ]
    rows = [(telegram, campaigns[0]), (viber, campaigns[0]), (viber, campaigns[1])]
    for person, campaign in rows:
        await Delivery.create(
            campaign_id=campaign.id, customer_id=person.id, channel=Channel.EMAIL, attempts=0
        )
    issued = await codes.issue(telegram.id, Platform.TELEGRAM, now=T0)

    outcome = await codes.redeem(issued.code, Platform.VIBER, "viber-b", now=T0)

    assert outcome.status == LinkStatus.MERGED
    assert not await Customer.filter(id=viber.id).exists()
    kept = await Delivery.filter(customer_id=telegram.id).values_list("campaign_id", flat=True)
    assert sorted(kept) == sorted(c.id for c in campaigns)
    assert await Delivery.all().count() == 2
    assert await orphan_deliveries() == 0
