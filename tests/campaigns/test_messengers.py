"""Campaigns in every messenger: a person is reached in Telegram or in Viber, whichever they
joined in, and "first reachable" falls back from one to the other.

Telegram is the scripted channel of the other engine tests; Viber is the real channel against
the fake Viber, so what a person got is read from what Viber received."""

from __future__ import annotations

import pytest

from campaigns.audience import reachable_counts, snapshot
from campaigns.composer import Composer
from campaigns.spec import AudienceFilter
from campaigns.worker import DeliveryWorker
from channels.base import DeliveryResult, Reason
from channels.viber.api import ViberApi
from fakes.viber import FakeViber
from locales import RIGHT_TO_LEFT, SUPPORTED
from loyalty.customers import customer_for_identity
from loyalty.memberships import join
from loyalty.merchants import NewMerchant
from models import Customer, Delivery, Identity
from models.enums import Channel, DeliveryPolicy, Platform
from tests import factories
from tests.campaigns.helpers import SIGNER, ScriptedChannel, started
from tests.viber_fixtures import viber_channel

pytestmark = pytest.mark.usefixtures("db")


async def _member(
    shop: NewMerchant, *, telegram: str | None = None, viber: str | None = None
) -> Customer:
    """A member known by a Telegram chat id, a Viber user id, or both (one customer)."""
    person: Customer | None = None
    if telegram is not None:
        person = await customer_for_identity(Platform.TELEGRAM, telegram, language_code="en")
    if viber is not None:
        if person is None:
            person = await customer_for_identity(Platform.VIBER, viber, language_code="uk")
        else:
            await Identity.create(customer=person, platform=Platform.VIBER, external_id=viber)
    assert person is not None
    await join(person, shop.card)
    return person


def _worker(telegram: ScriptedChannel, viber_api: ViberApi, **channel: bool) -> DeliveryWorker:
    composer = Composer(SIGNER, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    return DeliveryWorker(
        {"telegram": telegram, "viber": viber_channel(viber_api, **channel)}, composer
    )


async def _rows(campaign_id: int) -> dict[tuple[int, str], tuple[str, str | None]]:
    return {
        (int(r[0]), str(r[1])): (str(r[2]), r[3])
        for r in await Delivery.filter(campaign_id=campaign_id).values_list(
            "customer_id", "channel", "status", "reason"
        )
    }


async def test_first_reachable_reaches_each_person_once_in_telegram_or_viber(
    viber: FakeViber, viber_api: ViberApi
) -> None:
    shop = await factories.merchant("Кав'ярня Львів")
    both_id, only_id, blocked_id = (viber.add_user(n) for n in ("Оля", "Петро", "Ірина"))
    both = await _member(shop, telegram="7100", viber=both_id)
    only = await _member(shop, viber=only_id)
    blocked = await _member(shop, telegram="7102", viber=blocked_id)
    telegram = ScriptedChannel("telegram")
    telegram.script["7102"].append(DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True))
    campaign = await started(
        shop,
        Channel.TELEGRAM,
        Channel.VIBER,
        text="<b>Осіннє меню</b> вже тут",
        policy=DeliveryPolicy.FIRST_REACHABLE,
        holdout_percent=0,
    )
    run = _worker(telegram, viber_api)

    await run.tick()  # Telegram first; Viber for the one who has only Viber
    await run.tick()  # Viber for the one who blocked the bot in Telegram

    assert sorted(m.address for m in telegram.sent) == ["7100", "7102"]
    assert viber.texts(both_id) == []
    for person, card_label, stop_label in (
        (only_id, "🪪 Моя картка", "Без пропозицій від \u2068Кав'ярня Львів\u2069"),
        (blocked_id, "🪪 My card", "Stop offers from \u2068Кав'ярня Львів\u2069"),
    ):
        # The shop's name heads every chat message (isolated, for a right-to-left reader's
        # sake); Telegram's bold is Viber's.
        assert viber.texts(person) == ["*\u2068Кав'ярня Львів\u2069*\n\n*Осіннє меню* вже тут"]
        (received,) = viber.received[person]
        assert received.keyboard is not None
        # In the person's language (Viber's, for the one who joined there); pressed, they
        # come back as the ids Telegram's buttons send.
        buttons = [(b["Text"], b["ActionBody"]) for b in received.keyboard["Buttons"]]
        assert [text for text, _ in buttons] == [card_label, stop_label]
        assert [body.rsplit(":", 1)[0] for _, body in buttons] == ["act:card:show", "act:off:stop"]
    rows = await _rows(campaign.id)
    assert rows[(both.id, "telegram")] == ("sent", None)
    assert rows[(both.id, "viber")] == ("standby", None)
    assert rows[(only.id, "telegram")] == ("skipped", "no_address")
    assert rows[(only.id, "viber")] == ("sent", None)
    assert rows[(blocked.id, "telegram")] == ("failed", "bot_blocked")
    assert rows[(blocked.id, "viber")] == ("sent", None)
    # The token Viber answered is the row's, for its delivered and seen receipts.
    token = await Delivery.get(campaign_id=campaign.id, customer_id=only.id, channel="viber")
    assert token.external_id == viber.received[only_id][0].token


async def test_a_viber_user_who_left_the_chat_is_marked_unreachable_there_only(
    viber: FakeViber, viber_api: ViberApi
) -> None:
    shop = await factories.merchant()
    gone_id = viber.add_user("Left", subscribed=False)
    person = await _member(shop, telegram="7200", viber=gone_id)
    campaign = await started(shop, Channel.TELEGRAM, Channel.VIBER, holdout_percent=0)

    await _worker(ScriptedChannel("telegram"), viber_api).tick()

    rows = await _rows(campaign.id)
    assert rows[(person.id, "telegram")] == ("sent", None)
    assert rows[(person.id, "viber")] == ("failed", "unreachable")
    reachable = dict(
        await Identity.filter(customer_id=person.id).values_list("platform", "reachable")
    )
    assert reachable == {"telegram": True, "viber": False}
    # The next campaign skips them in Viber, and the wizard's count says so beforehand.
    counts = await reachable_counts(shop.card, AudienceFilter(), "UTC")
    assert (counts[Channel.TELEGRAM], counts[Channel.VIBER]) == (1, 0)
    later = await started(shop, Channel.VIBER, holdout_percent=0, text="Again")
    assert await snapshot(later.id) is not None
    assert (await _rows(later.id))[(person.id, "viber")] == ("skipped", "unreachable")


async def test_an_opt_out_of_viber_keeps_telegram(viber: FakeViber, viber_api: ViberApi) -> None:
    from models import ChannelOptOut

    shop = await factories.merchant()
    person = await _member(shop, telegram="7300", viber=viber.add_user())
    await ChannelOptOut.create(customer=person, merchant=shop.merchant, channel=Channel.VIBER)
    campaign = await started(shop, Channel.TELEGRAM, Channel.VIBER, holdout_percent=0)

    await _worker(ScriptedChannel("telegram"), viber_api).tick()

    rows = await _rows(campaign.id)
    assert rows[(person.id, "telegram")] == ("sent", None)
    assert rows[(person.id, "viber")] == ("skipped", "opted_out")


async def test_with_broadcasting_personal_chat_messages_still_go_one_by_one(
    viber: FakeViber, viber_api: ViberApi
) -> None:
    """A broadcast carries one message for all: a campaign's chat message is not one, as its
    [My card] button names each person's own card. The worker hands the batch to the channel
    at once, and the channel sends what differs apart, each to its own person."""
    shop = await factories.merchant()
    users = [viber.add_user(f"Reader {n}") for n in range(3)]
    members = [await _member(shop, viber=user) for user in users]
    campaign = await started(shop, Channel.VIBER, holdout_percent=0, text="Pumpkin latte")

    await _worker(ScriptedChannel("telegram"), viber_api, broadcast=True).tick()

    assert [method for method, _ in viber.calls] == ["send_message"] * 3
    for user, member in zip(users, members, strict=True):
        (received,) = viber.received[user]
        assert received.keyboard is not None
        membership = await member.memberships.all().first()
        assert membership is not None
        assert received.keyboard["Buttons"][0]["ActionBody"] == f"act:card:show:{membership.id}"
    assert {s for s, _ in (await _rows(campaign.id)).values()} == {"sent"}
