"""🤖 A shop's own Telegram bot, connected and disconnected by its owner in the admin chat."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from typing import Any
from urllib.parse import unquote

import pytest

from bot.app import BotRuntime
from fakes.telegram import FakeTelegramAPI
from loyalty.messenger_accounts import secret_matches
from models import Customer, Membership, MessengerAccount, WalletPass
from models.enums import AccountStatus, StaffRole
from tests import factories
from tests.chat import button, text_of
from tests.handlers.test_card_settings import _staff
from tests.handlers.test_staff import _invite
from tests.shop_bots import (
    bot_id,
    connect_own_bot,
    new_token,
    own_bot_screen,
    shop_bot_chat,
    typed_deleted,
)
from wallets.apple_passes import IssuedPass


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
    assert typed_deleted(owner, token)
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


@pytest.mark.usefixtures("other_messengers")
async def test_a_shops_bot_offers_link_where_viber_or_whatsapp_is(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()

    await connect_own_bot(owner, token)

    shop_bot = telegram.bot(token)
    menu = shop_bot.commands({"type": "all_private_chats"})
    assert [c["command"] for c in menu] == ["card", "vouchers", "settings", "link", "help"]
    assert menu[3]["description"] == "Link Viber or WhatsApp to this chat"
    ukrainian = shop_bot.commands({"type": "all_private_chats"}, "uk")
    assert ukrainian[3]["command"] == "link"
    assert ukrainian[3]["description"] != menu[3]["description"]


async def test_a_malformed_token_is_refused_without_asking_telegram(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    typo = "7100000999:short"

    answer = await connect_own_bot(owner, typo)

    assert "That is not a bot token." in text_of(answer[-1])
    assert typed_deleted(owner, typo)
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
    assert typed_deleted(owner, token)
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


async def test_a_shops_bot_answers_another_shops_join_link_with_that_shops_link(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    """Joining shop B through shop A's bot would make the person B's customer in A's chat."""
    lviv, bakery, roastery = (
        await factories.merchant("Kafe Lviv"),
        await factories.merchant("Pekarnia"),
        await factories.merchant("Roastery"),
    )
    lviv_token, roastery_token = new_token(), new_token()
    telegram.bot(lviv_token, username="kafe_lviv_bot")
    telegram.bot(roastery_token, username="roastery_bot")
    await connect_own_bot(await _staff(new_chat, lviv, StaffRole.OWNER, "Marta"), lviv_token)
    roaster = await _staff(new_chat, roastery, StaffRole.OWNER, "Ivan")
    await connect_own_bot(roaster, roastery_token)
    customer = shop_bot_chat(telegram, lviv_token, 880_601)

    bakery_join = f"j-{bakery.card.join_token}"
    answer = await customer.scan(bakery_join)

    assert [text_of(m) for m in answer] == [
        f"This link is for {bakery.card.name} at Pekarnia, another shop. Join it in that "
        f"shop's chat:\nhttps://t.me/stampbot_test_bot?start={bakery_join}"
    ]
    roastery_join = f"j-{roastery.card.join_token}"
    answer = await customer.scan(roastery_join)
    assert text_of(answer[-1]).endswith(f"\nhttps://t.me/roastery_bot?start={roastery_join}")
    assert await Membership.all().count() == 0
    assert await Customer.all().count() == 0  # nobody was made
    # The shop's own card joins there as ever.
    await customer.scan(f"j-{lviv.card.join_token}")
    assert await Membership.filter(card_id=lviv.card.id).count() == 1


async def test_a_saved_wallet_pass_follows_the_shops_bot(
    new_chat: Any, telegram: FakeTelegramAPI, runtime: BotRuntime
) -> None:
    """The pass's QR opens the shop's own bot while connected, the shared one after."""
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    member = await factories.member(shop)
    await runtime.wallets.apple_pass(member.id)
    before = await WalletPass.get(membership_id=member.id)
    token = new_token()
    telegram.bot(token, username="kafe_lviv_bot")

    await connect_own_bot(owner, token)

    connected = await WalletPass.get(membership_id=member.id)
    assert connected.update_tag > before.update_tag
    assert _barcode(await runtime.wallets.passes.build(connected)) == (
        f"https://t.me/kafe_lviv_bot?start=m-{member.public_token}"
    )
    screen = await own_bot_screen(owner)
    await owner.press_label(screen, "Disconnect the bot")
    await owner.press_label(owner.current(screen), "Yes, disconnect it")
    disconnected = await WalletPass.get(membership_id=member.id)
    assert disconnected.update_tag > connected.update_tag
    assert _barcode(await runtime.wallets.passes.build(disconnected)) == (
        f"https://t.me/stampbot_test_bot?start=m-{member.public_token}"
    )


def _barcode(issued: IssuedPass) -> str:
    with zipfile.ZipFile(io.BytesIO(issued.pkpass)) as pkpass:
        document = json.loads(pkpass.read("pass.json"))
    return str(document["barcodes"][0]["message"])


async def test_the_staff_invite_opens_the_shops_own_bot_while_connected(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")
    token = new_token()
    telegram.bot(token, username="kafe_lviv_bot")
    await connect_own_bot(owner, token)

    photo, payload = await _invite(owner, "Cashier")

    shared = unquote(str(next(b["url"] for b in photo.inline_buttons() if "url" in b)))
    assert f"https://t.me/kafe_lviv_bot?start={payload}" in shared


@pytest.mark.usefixtures("other_messengers")
async def test_staff_keep_link_in_their_own_menu_where_viber_or_whatsapp_is(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    """A staff member's chat menu replaces the customers' one: it repeats /link too."""
    shop = await factories.merchant()
    owner = await _staff(new_chat, shop, StaffRole.OWNER, "Marta")

    await owner.send("/admin")

    commands = [c["command"] for c in telegram.menu_for(owner.user.id)]
    assert commands[:5] == ["card", "vouchers", "settings", "link", "help"]
    assert "admin" in commands
