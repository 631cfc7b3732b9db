"""Campaigns in every messenger: a person is reached in Telegram, Viber or WhatsApp, whichever
they joined in, and "first reachable" falls back from one to the next.

Telegram is the scripted channel of the other engine tests; Viber and WhatsApp are the real
channels against their fakes, so what a person got is read from what the platform received."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.audience import reachable_counts, snapshot
from campaigns.spec import AudienceFilter
from channels.base import DeliveryResult, Reason
from channels.viber.api import ViberApi
from channels.whatsapp.api import WhatsAppApi
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from models import Customer, Delivery, Identity
from models.enums import Channel, DeliveryPolicy
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, messenger_member, messenger_worker, started

pytestmark = pytest.mark.usefixtures("db")


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
    both = await messenger_member(shop, telegram="7100", viber=both_id)
    only = await messenger_member(shop, viber=only_id)
    blocked = await messenger_member(shop, telegram="7102", viber=blocked_id)
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
    run = messenger_worker(telegram, viber_api)

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
    person = await messenger_member(shop, telegram="7200", viber=gone_id)
    campaign = await started(shop, Channel.TELEGRAM, Channel.VIBER, holdout_percent=0)

    await messenger_worker(ScriptedChannel("telegram"), viber_api).tick()

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
    person = await messenger_member(shop, telegram="7300", viber=viber.add_user())
    await ChannelOptOut.create(customer=person, merchant=shop.merchant, channel=Channel.VIBER)
    campaign = await started(shop, Channel.TELEGRAM, Channel.VIBER, holdout_percent=0)

    await messenger_worker(ScriptedChannel("telegram"), viber_api).tick()

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
    members = [await messenger_member(shop, viber=user) for user in users]
    campaign = await started(shop, Channel.VIBER, holdout_percent=0, text="Pumpkin latte")

    await messenger_worker(ScriptedChannel("telegram"), viber_api, broadcast=True).tick()

    assert [method for method, _ in viber.calls] == ["send_message"] * 3
    for user, member in zip(users, members, strict=True):
        (received,) = viber.received[user]
        assert received.keyboard is not None
        membership = await member.memberships.all().first()
        assert membership is not None
        assert received.keyboard["Buttons"][0]["ActionBody"] == f"act:card:show:{membership.id}"
    assert {s for s, _ in (await _rows(campaign.id)).values()} == {"sent"}


async def test_one_person_on_three_messengers_is_reached_once_falling_back_across_them(
    viber: FakeViber, viber_api: ViberApi, whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi
) -> None:
    """Telegram blocked, the Viber chat left: the third channel, WhatsApp, reaches them (they
    wrote there an hour ago, so the message itself goes, in Hebrew)."""
    shop = await factories.merchant("קפה גינה")
    viber_id = viber.add_user("Noa", subscribed=False)
    number = whatsapp.add_user("972501234567", "Noa", wrote_ago=3600)
    person = await messenger_member(
        shop, telegram="7500", viber=viber_id, whatsapp=number, wrote_ago=timedelta(hours=1)
    )
    await Customer.filter(id=person.id).update(language="he")
    telegram = ScriptedChannel("telegram")
    telegram.script["7500"].append(DeliveryResult.failed(Reason.BOT_BLOCKED, unreachable=True))
    campaign = await started(
        shop,
        Channel.TELEGRAM,
        Channel.VIBER,
        Channel.WHATSAPP,
        text="<b>סתיו</b> בקפה",
        policy=DeliveryPolicy.FIRST_REACHABLE,
        holdout_percent=0,
    )
    run = messenger_worker(telegram, viber_api, whatsapp_api)

    for _ in range(3):
        await run.tick()

    assert [m.address for m in telegram.sent] == ["7500"]
    assert viber.texts(viber_id) == []  # refused: not subscribed
    (received,) = whatsapp.messages(number)
    assert received.type == "interactive"  # the text with [My card] and the way out
    assert "*סתיו* בקפה" in received.text
    assert "קפה גינה" in received.text
    rows = await _rows(campaign.id)
    assert rows[(person.id, "telegram")] == ("failed", "bot_blocked")
    assert rows[(person.id, "viber")] == ("failed", "unreachable")
    assert rows[(person.id, "whatsapp")] == ("sent", None)


async def test_outside_whatsapps_window_the_template_goes_or_the_person_is_skipped(
    whatsapp: FakeWhatsApp, whatsapp_api: WhatsAppApi, viber_api: ViberApi
) -> None:
    """Two days since they wrote: only an approved template may go. With the campaign's
    template it does, in the person's language; without one they are skipped with the reason,
    and "first reachable" tries their next channel."""
    shop = await factories.merchant()
    whatsapp.add_template("autumn_menu", "uk")
    late = whatsapp.add_user("380501112233", "Taras", wrote_ago=2 * 86400)
    other = whatsapp.add_user("380504445566", "Marta", wrote_ago=2 * 86400)
    taras = await messenger_member(shop, whatsapp=late, wrote_ago=timedelta(days=2))
    await Customer.filter(id=taras.id).update(language="uk")
    marta = await messenger_member(
        shop, whatsapp=other, telegram="7600", wrote_ago=timedelta(days=2)
    )
    with_template = await started(
        shop, Channel.WHATSAPP, holdout_percent=0, whatsapp_template="autumn_menu"
    )
    telegram = ScriptedChannel("telegram")
    run = messenger_worker(telegram, viber_api, whatsapp_api)
    await run.tick()
    (sent,) = whatsapp.messages(late)
    assert sent.type == "template"
    assert (sent.message["template"]["name"], sent.message["template"]["language"]["code"]) == (
        "autumn_menu",
        "uk",
    )
    rows = await _rows(with_template.id)
    assert rows[(taras.id, "whatsapp")] == ("sent", None)
    # Marta's language is Telegram's English, for which the template has no translation.
    assert rows[(marta.id, "whatsapp")][0] == "failed"

    without = await started(
        shop,
        Channel.WHATSAPP,
        Channel.TELEGRAM,
        policy=DeliveryPolicy.FIRST_REACHABLE,
        holdout_percent=0,
        text="No template",
    )
    calls = len(whatsapp.calls)
    await run.tick()
    await run.tick()

    assert len(whatsapp.calls) == calls  # nothing asked of WhatsApp
    rows = await _rows(without.id)
    assert rows[(taras.id, "whatsapp")] == ("skipped", "outside_window")
    assert rows[(marta.id, "whatsapp")] == ("skipped", "outside_window")
    assert rows[(marta.id, "telegram")] == ("sent", None)
    assert [m.address for m in telegram.sent] == ["7600"]
