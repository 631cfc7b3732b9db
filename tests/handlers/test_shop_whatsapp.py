"""📞 A shop's own WhatsApp number: connected by its owner in three answers, its webhook
verified and signed with its own secrets, its customers answered, told and sent campaigns
through it, and disconnected without losing a member."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.app import BotRuntime
from bot.delivery import build_worker
from channels.whatsapp.api import WhatsAppApi
from fakes.telegram import FakeTelegramAPI
from fakes.whatsapp import FakeWhatsApp
from loyalty.messenger_accounts import secret_matches
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, payload
from models import Delivery, Identity, Membership, Merchant, MessengerAccount
from models.enums import AccountStatus, Channel, DeliveryStatus, Platform, StaffRole
from tests import factories
from tests.campaigns.helpers import started
from tests.chat import Chat, button, text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import (
    connect_own_whatsapp,
    own_whatsapp_screen,
    pointed_at,
    typed_deleted,
)


@pytest.fixture
async def numbers(runtime: BotRuntime, whatsapp: FakeWhatsApp) -> AsyncIterator[FakeWhatsApp]:
    """The session's shops' numbers pointed at this test's fake Graph API."""
    async with pointed_at(runtime.shop_whatsapps, whatsapp.base_url):
        yield whatsapp


async def _cafe_with_its_number(
    new_chat: Any, numbers: FakeWhatsApp
) -> tuple[factories.NewMerchant, Chat, FakeWhatsApp, MessengerAccount, str]:
    cafe = await factories.merchant("Kafe Lviv", stamps_needed=5)
    owner = await _staff(new_chat, cafe, StaffRole.OWNER, "Marta")
    shop_wa = numbers.add_number("380441234567", "Kafe Lviv")
    [answer] = await connect_own_whatsapp(
        owner, shop_wa.phone_number_id, shop_wa.access_token, shop_wa.app_secret
    )
    lines = text_of(answer).splitlines()
    assert lines[0] == "Connected: +380441234567."
    account = await MessengerAccount.get(merchant_id=cafe.merchant.id, platform=Platform.WHATSAPP)
    url, verify_token = lines[2], lines[3]
    assert url.endswith(f"/whatsapp/{account.id}")
    shop_wa.webhook_url = url
    return cafe, owner, shop_wa, account, verify_token


async def _joined(cafe: factories.NewMerchant, shop_wa: FakeWhatsApp) -> str:
    person = shop_wa.add_user("380501112233", "Olena")
    said = await shop_wa.user_says(
        person, f"Hello! I'd like to join the card: {payload(LinkKind.JOIN, cafe.card.join_token)}"
    )
    assert said.status == 200
    return person


async def test_the_owner_connects_the_shops_number_and_meta_verifies_the_webhook(
    new_chat: Any, numbers: FakeWhatsApp
) -> None:
    _cafe, owner, shop_wa, account, verify_token = await _cafe_with_its_number(new_chat, numbers)

    for typed in (shop_wa.phone_number_id, shop_wa.access_token, shop_wa.app_secret):
        assert typed_deleted(owner, typed)
    assert (account.external_id, account.username, account.status) == (
        shop_wa.phone_number_id,
        "380441234567",
        AccountStatus.ACTIVE,
    )
    for secret in (shop_wa.access_token, shop_wa.app_secret, verify_token):
        assert secret not in account.credential_encrypted
    assert secret_matches(account, verify_token)
    assert shop_wa.calls[:2] == [{"GET": shop_wa.phone_number_id}] * 2
    # Then its commands, in the shop's language (English here): a tap sends "/card".
    assert len(shop_wa.calls) == 3
    assert shop_wa.commands() == [
        ("card", "My card and QR"),
        ("vouchers", "My rewards, and how to use them"),
        ("settings", "Language, offers, leaving a card"),
        ("help", "What I can do"),
    ]
    assert numbers.calls == []
    # Meta's handshake: the challenge back with the right verify token, 403 with another.
    ok = await shop_wa.verify(verify_token, challenge="1158201444")
    assert (ok.status, ok.body) == (200, b"1158201444")
    assert (await shop_wa.verify("not-it")).status == 403
    assert "+380441234567" in text_of(await own_whatsapp_screen(owner))


async def test_the_numbers_commands_are_in_the_shops_language(
    new_chat: Any, numbers: FakeWhatsApp
) -> None:
    shop = await factories.merchant("Кава на Ринку")
    await Merchant.filter(id=shop.merchant.id).update(default_language="uk")
    # The owner reads Telegram in English: the list is the number's, in the shop's language.
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    shop_wa = numbers.add_number("380441234568", "Кава на Ринку")

    await connect_own_whatsapp(
        owner, shop_wa.phone_number_id, shop_wa.access_token, shop_wa.app_secret
    )

    assert shop_wa.commands() == [
        ("card", "Моя картка і QR-код"),
        ("vouchers", "Мої винагороди і як ними скористатися"),
        ("settings", "Мова, пропозиції, вихід із картки"),
        ("help", "Що я вмію"),
    ]
    assert numbers.automation is None  # the shared number's list is not touched


async def test_meta_refusing_the_commands_leaves_the_number_connected(
    new_chat: Any, numbers: FakeWhatsApp, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    shop_wa = numbers.add_number("380441234569")
    shop_wa.fail_next(code=100)

    with caplog.at_level(logging.WARNING, logger="bot.shop_whatsapps"):
        [answer] = await connect_own_whatsapp(
            owner, shop_wa.phone_number_id, shop_wa.access_token, shop_wa.app_secret
        )

    assert text_of(answer).startswith("Connected: +380441234569.")
    assert shop_wa.refusals[100] == 1
    assert shop_wa.automation is None
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    assert account.status == AccountStatus.ACTIVE
    assert "Meta refused the commands" in caplog.text
    for secret in (shop_wa.access_token, shop_wa.app_secret):
        assert secret not in caplog.text


async def test_a_token_meta_refuses_stores_nothing(new_chat: Any, numbers: FakeWhatsApp) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    shop_wa = numbers.add_number("380441234567")
    bad = "EAAG" + "x" * 60

    answer = await connect_own_whatsapp(owner, shop_wa.phone_number_id, bad, shop_wa.app_secret)

    assert "Meta does not accept this access token" in text_of(answer[-1])
    assert typed_deleted(owner, bad)
    assert shop_wa.refusals[190] == 1
    assert await MessengerAccount.all().count() == 0


async def test_only_the_owner_may_connect(
    new_chat: Any, telegram: FakeTelegramAPI, numbers: FakeWhatsApp
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    manager = await _staff(new_chat, shop, StaffRole.MANAGER, "Ivan")
    connect = button(await own_whatsapp_screen(owner), "Connect your own WhatsApp number")

    menu = (await manager.send("/admin"))[-1]
    await manager._post(telegram.callback_update(manager.user, menu, connect, check_button=False))
    assert manager.last_answer().get("text") == "This button has expired."
    assert all("Step 2" not in text_of(m) for m in await manager.send("106540352242923"))


async def test_customers_of_the_shops_number_are_answered_told_and_sent_campaigns_there(
    new_chat: Any,
    numbers: FakeWhatsApp,
    whatsapp_api: WhatsAppApi,
    runtime: BotRuntime,
    redis_client: Redis,
) -> None:
    cafe, _owner, shop_wa, account, _token = await _cafe_with_its_number(new_chat, numbers)
    person = await _joined(cafe, shop_wa)

    identity = await Identity.get(platform=Platform.WHATSAPP, external_id=person)
    assert identity.account_id == account.id
    assert shop_wa.texts(person), "the card came back on the shop's number"
    membership = await Membership.get(card_id=cafe.card.id, customer_id=identity.customer_id)
    stamped = await add_stamps(membership.id, 2, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped)
    assert "+2 stamps at" in shop_wa.texts(person)[-1]

    await started(cafe, Channel.WHATSAPP, text="Pumpkin latte is back!")
    worker = build_worker(
        runtime.settings,
        runtime.bot,
        runtime.limiter,
        runtime.signer,
        whatsapp=whatsapp_api,
        whatsapp_accounts=runtime.shop_whatsapps,
    )
    for _ in range(4):
        await worker.tick()

    assert any("Pumpkin latte is back!" in text for text in shop_wa.texts(person))
    assert numbers.received == {}
    assert await Delivery.filter(channel=Channel.WHATSAPP).values_list("status", flat=True) == [
        DeliveryStatus.SENT
    ]
    keys = {
        k.decode() if isinstance(k, bytes) else k for k in await redis_client.keys("*whatsapp:*")
    }
    assert any(key.endswith(f"whatsapp:{account.id}") for key in keys), keys


@pytest.mark.parametrize("forged_by", ["zero", "shared"])
async def test_a_notification_not_signed_with_the_shops_app_secret_is_refused(
    new_chat: Any, numbers: FakeWhatsApp, forged_by: str
) -> None:
    cafe, _owner, shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)
    person = shop_wa.add_user("380501112244", "Eve")
    event = shop_wa.text_event(person, payload(LinkKind.JOIN, cafe.card.join_token))

    if forged_by == "zero":
        result = await shop_wa.post_webhook(event, signature="sha256=" + "0" * 64)
    else:
        result = await numbers.post_webhook(event, url=shop_wa.webhook_url)

    assert result.status == 403
    assert not await Identity.filter(platform=Platform.WHATSAPP).exists()


async def test_disconnecting_keeps_the_members_and_stops_the_shops_number(
    new_chat: Any, numbers: FakeWhatsApp, runtime: BotRuntime
) -> None:
    cafe, owner, shop_wa, account, verify_token = await _cafe_with_its_number(new_chat, numbers)
    person = await _joined(cafe, shop_wa)
    received = len(shop_wa.texts(person))

    screen = await own_whatsapp_screen(owner)
    question = await owner.press_label(screen, "Disconnect the WhatsApp number")
    asked = question[-1] if question else owner.current(screen)
    assert "They agreed to hear from your number only" in text_of(asked)
    await owner.press_label(asked, "Yes, disconnect it")

    await account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    identity = await Identity.get(platform=Platform.WHATSAPP, external_id=person)
    assert identity.reachable is False
    membership = await Membership.get(card_id=cafe.card.id, customer_id=identity.customer_id)
    stamped = await add_stamps(membership.id, 1, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped) is False
    assert len(shop_wa.texts(person)) == received
    assert numbers.received == {}
    assert (await shop_wa.user_says(person, "hi")).status == 404
    assert (await shop_wa.verify(verify_token)).status == 404


async def test_the_counter_qr_lists_the_shops_own_number_while_connected(
    new_chat: Any, numbers: FakeWhatsApp
) -> None:
    _cafe, owner, _shop_wa, _account, _token = await _cafe_with_its_number(new_chat, numbers)

    shown = await owner.send("🖨 Counter QR")

    assert any("On WhatsApp: https://wa.me/380441234567?text=" in text_of(m) for m in shown)
