"""🤖 A shop's own Telegram bot, connected and disconnected by its owner in the admin chat."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from fakes.telegram import FakeTelegramAPI
from loyalty.messenger_accounts import secret_matches
from models import Membership, MessengerAccount
from models.enums import AccountStatus, StaffRole
from tests import factories
from tests.chat import Chat, button, text_of
from tests.handlers.test_card_settings import _staff
from tests.shop_bots import bot_id, connect_own_bot, new_token, own_bot_screen, shop_bot_chat


def _token_message_deleted(owner: Chat, token: str) -> bool:
    typed = [m for m in owner.telegram.received_messages(owner.user.id) if m.text == token]
    assert len(typed) == 1
    return typed[0].deleted


async def test_the_owner_connects_the_shops_own_bot(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    telegram.bot(token, username="kafe_lviv_bot")

    screen = await own_bot_screen(owner)
    assert "Customers chat with the shared bot now." in text_of(screen)
    asked = (await owner.press_label(screen, "Connect your own Telegram bot"))[-1]
    assert "I delete your message as soon as I have read it." in text_of(asked)
    answer = await owner.send(token)

    assert [text_of(m) for m in answer] == [
        "Connected: @kafe_lviv_bot.\n"
        "Customers who start your bot are answered there, with your shop's name."
    ]
    assert _token_message_deleted(owner, token)
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    assert (account.external_id, account.username, account.status) == (
        str(bot_id(token)),
        "kafe_lviv_bot",
        AccountStatus.ACTIVE,
    )
    assert token not in account.credential_encrypted
    shop_bot = telegram.bot(token)
    assert [c.method for c in shop_bot.calls()][:2] == ["getMe", "setWebhook"]
    hook = shop_bot.last_call("setWebhook").params
    assert hook["url"].endswith(f"/tg/{account.id}")
    assert token not in hook["url"]
    assert secret_matches(account, hook["secret_token"])
    assert len(hook["secret_token"]) >= 22
    # Its own command menu, in every language.
    assert {c.params.get("language_code") for c in shop_bot.calls("setMyCommands")} >= {
        None,
        "uk",
        "he",
    }
    assert [c["command"] for c in shop_bot.commands({"type": "all_private_chats"})] == [
        "card",
        "vouchers",
        "settings",
        "help",
    ]
    # The shared bot was asked nothing with the shop's token, and set no webhook for it.
    assert all(token not in str(c.params) for c in telegram.calls())
    again = await own_bot_screen(owner)
    assert "Your shop's own bot: @kafe_lviv_bot" in text_of(again)


async def test_a_malformed_token_is_refused_without_asking_telegram(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    typo = "7100000999:short"

    answer = await connect_own_bot(owner, typo)

    assert "That is not a bot token." in text_of(answer[-1])
    assert _token_message_deleted(owner, typo)
    assert await MessengerAccount.all().count() == 0
    assert telegram.bot("7100000999:" + "x" * 35).calls() == []
    # Still asked: the right token now connects.
    token = new_token()
    assert "Connected:" in text_of((await owner.send(token))[-1])


async def test_a_token_telegram_refuses_stores_nothing(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    telegram.revoke(token)

    answer = await connect_own_bot(owner, token)

    assert "Telegram does not know this token." in text_of(answer[-1])
    assert _token_message_deleted(owner, token)
    assert await MessengerAccount.all().count() == 0
    assert telegram.bot(token).calls() == []  # 401s are not served by the bot


async def test_another_shops_bot_is_refused(new_chat: Any, telegram: FakeTelegramAPI) -> None:
    cafe = await factories.merchant("Kafe Lviv")
    bakery = await factories.merchant("Pekarnia")
    cafe_owner = await _staff(new_chat, cafe, StaffRole.OWNER, "Marta")
    bakery_owner = await _staff(new_chat, bakery, StaffRole.OWNER, "Oksana")
    token = new_token()
    await connect_own_bot(cafe_owner, token)
    hooks = len(telegram.bot(token).calls("setWebhook"))

    answer = await connect_own_bot(bakery_owner, token)

    assert "This bot is already connected to another shop." in text_of(answer[-1])
    assert await MessengerAccount.filter(merchant_id=bakery.merchant.id).count() == 0
    assert len(telegram.bot(token).calls("setWebhook")) == hooks
    cafe_account = await MessengerAccount.get(merchant_id=cafe.merchant.id)
    assert cafe_account.status == AccountStatus.ACTIVE


async def test_only_the_owner_may_connect(new_chat: Any, telegram: FakeTelegramAPI) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    manager = await _staff(new_chat, shop, StaffRole.MANAGER, "Ivan")
    screen = await own_bot_screen(owner)
    connect = button(screen, "Connect your own Telegram bot")

    # The manager presses the owner's button (forged into their chat): nothing happens.
    menu = (await manager.send("/admin"))[-1]
    await manager._post(telegram.callback_update(manager.user, menu, connect, check_button=False))
    assert manager.last_answer().get("text") == "This button has expired."
    answer = await manager.send(new_token())
    assert all("Connected" not in text_of(m) for m in answer)
    assert await MessengerAccount.all().count() == 0


async def test_disconnecting_keeps_the_members(new_chat: Any, telegram: FakeTelegramAPI) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    membership = await factories.member(shop, telegram_id=5101)
    token = new_token()
    await connect_own_bot(owner, token)

    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    confirm = owner.current(screen)
    assert "keep their cards and stamps" in text_of(confirm)
    await owner.press_label(confirm, "Yes, disconnect it")
    done = owner.current(screen)

    assert owner.last_answer()["text"] == (
        "Disconnected. Customers are answered by the shared bot again."
    )
    assert "Customers chat with the shared bot now." in text_of(owner.current(done))
    assert telegram.bot(token).calls()[-1].method == "deleteWebhook"
    assert telegram.bot(token).webhook.url == ""
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    assert account.status == AccountStatus.DISCONNECTED
    assert await Membership.filter(id=membership.id).exists()


async def test_another_bot_after_a_disconnect_takes_the_same_account(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    first, second = new_token(), new_token()
    await connect_own_bot(owner, first)
    account = await MessengerAccount.get(merchant_id=shop.merchant.id)
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")

    answer = await connect_own_bot(owner, second)

    assert "Connected:" in text_of(answer[-1])
    again = await MessengerAccount.get(merchant_id=shop.merchant.id)
    assert again.status == AccountStatus.ACTIVE
    assert again.id == account.id  # the same row: its customers stay its customers
    assert again.external_id == str(bot_id(second))
    assert telegram.bot(first).webhook.url == ""
    assert telegram.bot(second).webhook.url.endswith(f"/tg/{account.id}")


async def test_a_webhook_telegram_refuses_leaves_nothing_connected(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    telegram.bot(token).fail_with_error("setWebhook", 400, "Bad Request: bad webhook")

    answer = await connect_own_bot(owner, token)

    assert "Telegram did not answer just now." in text_of(answer[-1])
    assert await MessengerAccount.all().count() == 0
    assert telegram.bot(token).calls("setMyCommands") == []


async def test_the_counter_qr_opens_the_shops_own_bot_while_connected(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    telegram.bot(token, username="kafe_lviv_bot")
    await connect_own_bot(owner, token)
    join = f"?start=j-{shop.card.join_token}"

    shown = await owner.send("🖨 Counter QR")

    assert any(f"https://t.me/kafe_lviv_bot{join}" in text_of(m) for m in shown)
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")
    shown = await owner.send("🖨 Counter QR")
    assert any(f"https://t.me/stampbot_test_bot{join}" in text_of(m) for m in shown)


async def test_the_shared_bot_cannot_become_a_shops_own(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    webhook = telegram.webhook.url
    shared_token = f"{telegram.bot_id}:{'S' * 35}"  # the shared bot's id, a well-formed token
    telegram.bot(shared_token, username="stampbot_test_bot")

    answer = await connect_own_bot(owner, shared_token)

    assert "This bot is already connected to another shop." in text_of(answer[-1])
    assert await MessengerAccount.all().count() == 0
    assert telegram.bot(shared_token).calls("setWebhook") == []
    assert telegram.webhook.url == webhook


async def test_the_token_is_never_logged(
    new_chat: Any, telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    revoked = new_token()
    telegram.revoke(revoked)

    with caplog.at_level(logging.DEBUG):
        await connect_own_bot(owner, revoked)
        await owner.send(token)
        customer = shop_bot_chat(telegram, token, 880_501)
        await customer.scan(f"j-{shop.card.join_token}")

    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert await MessengerAccount.filter(merchant_id=shop.merchant.id).exists()
    assert caplog.records  # the capture saw the run (aiogram logs every update it handles)
    secret = token.split(":", 1)[1]
    assert secret not in logged
    assert revoked.split(":", 1)[1] not in logged
