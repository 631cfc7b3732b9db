"""Notices reach a customer through the shop's own bot they came through, while it is
connected and only for that shop's news; the shared bot otherwise."""

from __future__ import annotations

import itertools
from typing import Any

from redis.asyncio import Redis

from bot.app import BotRuntime
from bot.delivery import build_worker
from fakes.telegram import FakeTelegramAPI
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, payload
from models import Delivery, Identity, Membership, MessengerAccount
from models.enums import Channel, DeliveryStatus, StaffRole
from tests import factories
from tests.campaigns.helpers import started
from tests.chat import Chat, png_bytes, text_of, uploaded_photo
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import connect_own_bot, new_token, own_bot_screen, shop_bot_chat

# Telegram user ids of this module's customers: the fake Bot API lives for the whole session.
_people = itertools.count(890_001)


async def _cafe_with_its_bot(
    new_chat: Any, telegram: FakeTelegramAPI
) -> tuple[factories.NewMerchant, Chat, Chat, MessengerAccount]:
    """The café, its owner, its bot, and a customer who joined through that bot."""
    cafe = await factories.merchant("Kafe Lviv", stamps_needed=5)
    owner = await _staff(new_chat, cafe, StaffRole.OWNER, "Marta")
    token = new_token()
    await connect_own_bot(owner, token)
    customer = shop_bot_chat(telegram, token, next(_people))
    await customer.scan(payload(LinkKind.JOIN, cafe.card.join_token))
    account = await MessengerAccount.get(merchant_id=cafe.merchant.id)
    return cafe, owner, customer, account


async def test_the_shops_news_come_through_its_own_bot(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime, redis_client: Redis
) -> None:
    cafe, _owner, customer, account = await _cafe_with_its_bot(new_chat, telegram)
    membership = await Membership.get(card_id=cafe.card.id)

    stamped = await add_stamps(membership.id, 2, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped)

    [notice] = customer.new_messages()
    assert text_of(notice).splitlines()[0] == "+2 stamps at Kafe Lviv!"
    assert telegram.sent_messages(customer.user.id) == []
    # Counted against the shop bot's own limit, not the shared bot's.
    keys = {
        key.decode() if isinstance(key, bytes) else key
        for key in await redis_client.keys("*tg:global*")
    }
    assert any(key.endswith(f"tg:global:{account.id}") for key in keys), keys


async def test_another_shops_news_come_through_the_shared_bot(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime, webhook_url: str
) -> None:
    _cafe, _owner, customer, _account = await _cafe_with_its_bot(new_chat, telegram)
    bakery = await factories.merchant("Pekarnia", stamps_needed=5)
    # The same person in the shared bot's chat.
    shared = Chat(telegram, telegram.add_user(customer.user.id, "Olena"), webhook_url)
    await shared.scan(payload(LinkKind.JOIN, bakery.card.join_token))
    customer.new_messages()
    membership = await Membership.get(card_id=bakery.card.id)

    stamped = await add_stamps(membership.id, 1, merchant_id=bakery.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped)

    assert customer.new_messages() == []
    assert text_of(shared.new_messages()[-1]).splitlines()[0] == "+1 stamp at Pekarnia!"


async def test_after_a_disconnect_the_shared_bot_speaks_and_the_member_stays(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    cafe, owner, customer, account = await _cafe_with_its_bot(new_chat, telegram)
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")
    membership = await Membership.get(card_id=cafe.card.id)
    identity = await Identity.get(external_id=str(customer.user.id))
    assert identity.account_id == account.id  # kept: connecting again brings them back

    stamped = await add_stamps(membership.id, 1, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped)

    assert customer.new_messages() == []
    [notice] = [m for m in telegram.sent_messages(customer.user.id) if m.from_bot]
    assert text_of(notice).splitlines()[0] == "+1 stamp at Kafe Lviv!"


async def test_blocking_the_shops_bot_leaves_the_person_reachable_elsewhere(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    cafe, _owner, customer, _account = await _cafe_with_its_bot(new_chat, telegram)
    membership = await Membership.get(card_id=cafe.card.id)
    customer.telegram.block_chat(customer.user.id)

    stamped = await add_stamps(membership.id, 1, merchant_id=cafe.merchant.id)
    assert await runtime.notifier.stamps_added(membership.customer_id, stamped) is False

    assert (await Identity.get(external_id=str(customer.user.id))).reachable is True
    assert telegram.sent_messages(customer.user.id) == []


async def _deliver(runtime: BotRuntime) -> None:
    assert runtime.shop_bots is not None
    worker = build_worker(
        runtime.settings,
        runtime.bot,
        runtime.limiter,
        runtime.signer,
        shop_bots=runtime.shop_bots,
    )
    for _ in range(4):
        await worker.tick()


async def test_a_campaign_reaches_the_shops_customers_on_its_bot_and_the_rest_on_the_shared(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    cafe, _owner, customer, account = await _cafe_with_its_bot(new_chat, telegram)
    regular: Chat = new_chat(first_name="Dana")
    await regular.scan(payload(LinkKind.JOIN, cafe.card.join_token))
    customer.new_messages()
    regular.new_messages()
    await started(cafe, Channel.TELEGRAM, text="Pumpkin latte is back!")

    await _deliver(runtime)

    [mine] = customer.new_messages()
    assert "Pumpkin latte is back!" in text_of(mine)
    assert mine.sender["id"] == int(account.external_id)
    [theirs] = regular.new_messages()
    assert "Pumpkin latte is back!" in text_of(theirs)
    assert telegram.sent_messages(customer.user.id) == []
    assert set(
        await Delivery.filter(campaign__merchant_id=cafe.merchant.id).values_list(
            "status", flat=True
        )
    ) == {DeliveryStatus.SENT}


async def test_a_campaign_photo_is_uploaded_to_the_shops_bot(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    cafe, _owner, customer, _account = await _cafe_with_its_bot(new_chat, telegram)
    customer.new_messages()
    # The owner's photo, as the shared bot received it in the admin chat.
    upload = telegram.photo_update(telegram.add_user(123_321, "Marta"), png_bytes(64, 64))
    file_id = upload["message"]["photo"][-1]["file_id"]
    await started(cafe, Channel.TELEGRAM, text="New cakes", photo_file_id=file_id)

    await _deliver(runtime)

    [sent] = customer.new_messages()
    assert sent.photo is not None
    call = customer.telegram.last_call("sendPhoto")
    assert call.ok
    assert uploaded_photo(call) == png_bytes(64, 64)
