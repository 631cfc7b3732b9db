"""Notices reach a customer through the shop's own bot they came through, while it is
connected and only for that shop's news; the shared bot otherwise."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.app import BotRuntime
from fakes.telegram import FakeTelegramAPI
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, payload
from models import Identity, Membership, MessengerAccount
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import connect_own_bot, new_token, own_bot_screen, shop_bot_chat


async def _cafe_with_its_bot(
    new_chat: Any, telegram: FakeTelegramAPI
) -> tuple[factories.NewMerchant, Chat, Chat, MessengerAccount]:
    """The café, its owner, its bot, and a customer who joined through that bot."""
    cafe = await factories.merchant("Kafe Lviv", stamps_needed=5)
    owner = await _staff(new_chat, cafe, StaffRole.OWNER, "Marta")
    token = new_token()
    await connect_own_bot(owner, token)
    customer = shop_bot_chat(telegram, token, 890_000 + cafe.merchant.id)
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
