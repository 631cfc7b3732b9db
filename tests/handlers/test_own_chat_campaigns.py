"""A shop's own Viber bot and WhatsApp number on a deployment without a shared one: the wizard
offers them with the shop's own reach, the worker sends through them, notices of another shop
pass over them to the person's next messenger, and a template the own number lacks skips."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import BotRuntime
from bot.delivery import build_worker
from campaigns.stats import campaign_stats
from channels.viber.api import ViberApi
from fakes.telegram import visible
from fakes.viber import FakeViber
from fakes.whatsapp import FakeWhatsApp
from loyalty.clock import utcnow
from loyalty.customers import customer_for_identity
from loyalty.memberships import join
from loyalty.stamps import add_stamps
from models import Campaign, Delivery, Identity, Membership, MessengerAccount
from models.enums import AccountStatus, Channel, DeliveryStatus, Platform
from tests import factories
from tests.campaigns.helpers import started
from tests.chat import text_of
from tests.handlers.test_shop_viber import _cafe_with_its_viber, vibers
from tests.handlers.test_shop_viber import _joined as joined_on_viber
from tests.handlers.test_shop_whatsapp import _cafe_with_its_number, numbers
from tests.handlers.test_shop_whatsapp import _joined as joined_on_whatsapp
from tests.handlers.wizard.test_flow import labels, send_it, write_campaign

__all__ = ["numbers", "vibers"]  # the fixtures pointing shops' accounts at the fakes


async def deliver(runtime: BotRuntime, **channels: Any) -> None:
    """A few ticks of the worker as ``stampbot worker`` builds it, with these channels."""
    worker = build_worker(
        runtime.settings, runtime.bot, runtime.limiter, runtime.signer, **channels
    )
    for _ in range(4):
        await worker.tick()


async def _other_shops_account(platform: Platform, status: AccountStatus) -> MessengerAccount:
    """An account row of another shop (no client is ever built for it here)."""
    bakery = await factories.merchant("Bakery")
    return await MessengerAccount.create(
        merchant_id=bakery.merchant.id,
        platform=platform,
        credential_encrypted="sealed",
        external_id=f"bakery-{platform.value}",
        webhook_secret_hash="0" * 64,
        status=status,
    )


async def test_a_campaign_reaches_the_shops_viber_customers_without_a_shared_bot(
    new_chat: Any, vibers: FakeViber, runtime: BotRuntime
) -> None:
    assert runtime.viber is None  # the session's deployment has no shared Viber bot
    cafe, owner, shop_viber, account = await _cafe_with_its_viber(new_chat, vibers)
    person = await joined_on_viber(cafe, shop_viber)
    # A member of the café who came through another shop's own Viber bot: that bot's id.
    stranger = await customer_for_identity(Platform.VIBER, "bakery-user==")
    bakery_account = await _other_shops_account(Platform.VIBER, AccountStatus.ACTIVE)
    await Identity.filter(external_id="bakery-user==").update(account_id=bakery_account.id)
    await join(stranger, cafe.card)

    summary = await write_campaign(owner, "Pumpkin latte is back!")
    await owner.press_label(summary, "Channels")
    channels = owner.current(summary)
    # Offered, counting the one person the café's bot reaches; no WhatsApp anywhere.
    assert "Off · Viber chat · 1 person" in labels(channels)
    assert not any("WhatsApp" in label for label in labels(channels))
    await owner.press_label(channels, "Viber chat")
    await owner.press_label(owner.current(channels), "Back")
    summary = owner.current(channels)
    await send_it(owner, summary)

    await deliver(runtime, viber_accounts=runtime.shop_vibers)

    [message] = [m for m in shop_viber.received[person] if "Pumpkin latte" in m.text]
    assert message.message["sender"]["name"] == "Kafe Lviv"
    assert vibers.received == {}
    campaign = await Campaign.get(merchant_id=cafe.merchant.id)
    rows = await Delivery.filter(campaign_id=campaign.id, channel=Channel.VIBER).values_list(
        "customer_id", "status", "reason"
    )
    mine = await Identity.get(external_id=person)
    assert sorted(rows) == sorted(
        [
            (mine.customer_id, DeliveryStatus.SENT, None),
            (stranger.id, DeliveryStatus.SKIPPED, "no_address"),
        ]
    )
    assert account.id == mine.account_id
    # The own bot's receipts count as the shared bot's do.
    [sent] = await Delivery.filter(campaign_id=campaign.id, status=DeliveryStatus.SENT)
    assert sent.external_id is not None
    for event in ("delivered", "seen"):
        posted = await shop_viber.post_callback(
            shop_viber.receipt(event, sent.external_id, person)
        )
        assert posted.status == 200
    viber = (await campaign_stats(campaign)).channels["viber"]
    assert (viber.targeted, viber.sent, viber.delivered, viber.opened) == (2, 1, 1, 1)


@pytest.mark.parametrize("whose", ["another shop's", "disconnected"])
async def test_a_notice_passes_over_a_viber_bot_that_cannot_carry_it(
    new_chat: Any, numbers: FakeWhatsApp, runtime: BotRuntime, whose: str
) -> None:
    """Viber comes before WhatsApp, but this Viber id belongs to a bot that cannot write for
    the café: the stamps are told on the café's own number instead."""
    cafe, _owner, shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)
    person = await joined_on_whatsapp(cafe, shop_wa)
    identity = await Identity.get(platform=Platform.WHATSAPP, external_id=person)
    if whose == "disconnected":
        viber = await MessengerAccount.create(
            merchant_id=cafe.merchant.id,
            platform=Platform.VIBER,
            credential_encrypted="sealed",
            external_id="cafe-viber",
            webhook_secret_hash="0" * 64,
            status=AccountStatus.DISCONNECTED,
        )
    else:
        viber = await _other_shops_account(Platform.VIBER, AccountStatus.ACTIVE)
    await Identity.create(
        customer_id=identity.customer_id,
        platform=Platform.VIBER,
        external_id="viber-id==",
        account_id=viber.id,
    )
    membership = await Membership.get(card_id=cafe.card.id, customer_id=identity.customer_id)
    told = len(shop_wa.texts(person))

    stamped = await add_stamps(membership.id, 2, merchant_id=cafe.merchant.id)

    assert await runtime.notifier.stamps_added(membership.customer_id, stamped) is True
    assert len(shop_wa.texts(person)) == told + 1
    assert visible(shop_wa.texts(person)[-1]).splitlines()[0] == "+2 stamps at Kafe Lviv!"


async def test_a_template_the_shops_number_lacks_skips_the_row(
    new_chat: Any, numbers: FakeWhatsApp, runtime: BotRuntime
) -> None:
    """The template was approved on the shared number, not on the café's: someone outside
    the 24 hours is skipped with the reason, once, and nothing reaches them."""
    assert runtime.whatsapp is None
    cafe, _owner, shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)
    person = await joined_on_whatsapp(cafe, shop_wa)
    numbers.add_template("autumn_offer", "en", parameters=0)  # the shared number's only
    await Identity.filter(external_id=person).update(last_inbound_at=utcnow() - timedelta(days=2))
    told = len(shop_wa.texts(person))

    campaign = await started(
        cafe, Channel.WHATSAPP, text="Pumpkin latte is back!", whatsapp_template="autumn_offer"
    )
    await deliver(runtime, whatsapp_accounts=runtime.shop_whatsapps)

    [row] = await Delivery.filter(campaign_id=campaign.id)
    assert (row.status, row.reason, row.attempts) == (
        DeliveryStatus.SKIPPED,
        "outside_window",
        1,
    )
    assert shop_wa.refusals[132001] == 1  # asked once: no retry loop
    assert len(shop_wa.texts(person)) == told
    assert numbers.received == {}


async def test_of_a_persons_viber_ids_the_campaign_picks_its_shops_bot_else_the_shared(
    new_chat: Any, vibers: FakeViber, viber_api: ViberApi, runtime: BotRuntime
) -> None:
    """One person has an id on the café's own bot and one on the shared bot: the café's bot
    writes. Another has one on the shared bot and one on another shop's bot: the shared bot
    writes, and that shop's bot is not asked."""
    cafe, _owner, shop_viber, _account = await _cafe_with_its_viber(new_chat, vibers)
    regular = await joined_on_viber(cafe, shop_viber)
    regular_shared = vibers.add_user("Olena")
    customer = (await Identity.get(external_id=regular)).customer_id
    await Identity.create(
        customer_id=customer, platform=Platform.VIBER, external_id=regular_shared
    )
    visitor = vibers.add_user("Ira")
    person = await customer_for_identity(Platform.VIBER, visitor)
    await join(person, cafe.card)
    bakery = await _other_shops_account(Platform.VIBER, AccountStatus.ACTIVE)
    await Identity.create(
        customer_id=person.id,
        platform=Platform.VIBER,
        external_id="bakery-id==",
        account_id=bakery.id,
    )

    campaign = await started(cafe, Channel.VIBER, text="Pumpkin latte is back!")
    await deliver(runtime, viber=viber_api, viber_accounts=runtime.shop_vibers)

    assert any("Pumpkin latte is back!" in text for text in shop_viber.texts(regular))
    assert vibers.texts(regular_shared) == []
    assert any("Pumpkin latte is back!" in text for text in vibers.texts(visitor))
    statuses = await Delivery.filter(campaign_id=campaign.id).values_list("status", flat=True)
    assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SENT]


async def test_the_shops_number_sends_without_a_shared_one_and_its_receipts_count(
    new_chat: Any, numbers: FakeWhatsApp, runtime: BotRuntime
) -> None:
    cafe, _owner, shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)
    person = await joined_on_whatsapp(cafe, shop_wa)  # wrote just now: the window is open

    campaign = await started(cafe, Channel.WHATSAPP, text="Pumpkin latte is back!")
    await deliver(runtime, whatsapp_accounts=runtime.shop_whatsapps)

    assert any("Pumpkin latte is back!" in text for text in shop_wa.texts(person))
    assert numbers.received == {}
    [row] = await Delivery.filter(campaign_id=campaign.id)
    assert row.status == DeliveryStatus.SENT
    assert row.external_id is not None
    for status in ("delivered", "read"):
        posted = await shop_wa.post_webhook(shop_wa.status_event(status, row.external_id, person))
        assert posted.status == 200
    whatsapp = (await campaign_stats(campaign)).channels["whatsapp"]
    assert (whatsapp.sent, whatsapp.delivered, whatsapp.opened) == (1, 1, 1)


async def test_the_wizard_offers_the_shops_number_and_asks_for_its_template(
    new_chat: Any, numbers: FakeWhatsApp
) -> None:
    cafe, owner, shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)
    await joined_on_whatsapp(cafe, shop_wa)

    summary = await write_campaign(owner, "Pumpkin latte is back!")
    await owner.press_label(summary, "Channels")
    channels = owner.current(summary)
    assert "Off · WhatsApp chat · 1 person" in labels(channels)
    assert not any("Viber" in label for label in labels(channels))
    await owner.press_label(channels, "WhatsApp chat")
    await owner.press_label(owner.current(channels), "Back")
    await owner.press_label(owner.current(channels), "More options")
    more = owner.current(channels)
    await owner.press_label(more, "WhatsApp template")

    assert text_of(owner.current(more)).startswith(
        "Send the name of a message template WhatsApp approved for your own number"
    )
    more = (await owner.send("autumn_offer"))[-1]
    await owner.press_label(more, "Back")
    await send_it(owner, owner.current(more))
    campaign = await Campaign.get(merchant_id=cafe.merchant.id)
    assert (campaign.channels, campaign.whatsapp_template) == (
        ["telegram", "whatsapp"],
        "autumn_offer",
    )
