from __future__ import annotations

import logging

import pytest

from bot.app import set_commands, set_menu
from bot.factory import BotRuntime
from fakes.telegram import FakeTelegramAPI

SCOPE = {"type": "all_private_chats"}


async def test_commands_are_registered_per_language(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    await set_commands(runtime.bot, runtime.i18n)

    default = telegram.commands(SCOPE)
    assert [c["command"] for c in default] == ["card", "vouchers", "settings", "help"]
    assert default[0]["description"] == "My card and QR"
    for language in ("uk", "he", "fa", "th"):
        localized = telegram.commands(SCOPE, language)
        assert [c["command"] for c in localized] == ["card", "vouchers", "settings", "help"]
        assert localized[0]["description"] != default[0]["description"], language


async def test_where_viber_or_whatsapp_is_the_menu_offers_link_in_every_language(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    await set_commands(runtime.bot, runtime.i18n, linking=True)

    default = telegram.commands(SCOPE)
    assert [c["command"] for c in default] == ["card", "vouchers", "settings", "link", "help"]
    assert default[3]["description"] == "Link Viber or WhatsApp to this chat"
    for language in ("uk", "he", "fa", "th"):
        localized = telegram.commands(SCOPE, language)
        assert localized[3]["command"] == "link", language
        assert localized[3]["description"] not in ("", default[3]["description"]), language
    # Back to this run's own deployment (Telegram only): no /link.
    await set_commands(runtime.bot, runtime.i18n)
    assert "link" not in [c["command"] for c in telegram.commands(SCOPE)]


async def test_a_replica_starts_although_telegram_refuses_the_menu_for_now(
    runtime: BotRuntime, telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Many replicas restarting at once may meet a flood wait longer than replies wait."""
    telegram.fail_with_retry_after("setMyCommands", 300)
    try:
        with caplog.at_level(logging.WARNING):
            await set_menu(runtime)
    finally:
        telegram.clear_faults()

    assert "command menu not updated, the one set before stays: Flood control" in caplog.text


async def test_staff_get_a_menu_of_their_own_that_replaces_the_customers_one(
    runtime: BotRuntime, telegram: FakeTelegramAPI, db: object
) -> None:
    """Telegram shows the chat's list first, so it repeats the customer commands."""
    from handlers.command_menu import sync_staff_commands
    from models import Staff
    from models.enums import StaffRole
    from tests import factories

    await set_commands(runtime.bot, runtime.i18n)
    shop = await factories.merchant()
    user = telegram.add_user(None, "Marta", language_code="uk")
    seat = await Staff.create(
        merchant=shop.merchant, telegram_user_id=user.id, display_name="Marta",
        role=StaffRole.MANAGER,
    )  # fmt: skip

    await sync_staff_commands(runtime.bot, runtime.i18n, user.id, "uk")
    mine = telegram.menu_for(user.id, "uk")
    assert [c["command"] for c in mine] == [
        "card", "vouchers", "settings", "help", "admin", "redeem", "newcampaign", "campaigns",
    ]  # fmt: skip
    assert mine[0]["description"] == telegram.commands(SCOPE, "uk")[0]["description"]

    seat.role = StaffRole.CASHIER
    await seat.save(update_fields=["role"])
    await sync_staff_commands(runtime.bot, runtime.i18n, user.id)
    assert "newcampaign" not in [c["command"] for c in telegram.menu_for(user.id)]

    seat.active = False
    await seat.save(update_fields=["active"])
    await sync_staff_commands(runtime.bot, runtime.i18n, user.id)
    assert telegram.menu_for(user.id, "uk") == telegram.commands(SCOPE, "uk")


async def test_the_fake_refuses_command_scopes_telegram_refuses(
    runtime: BotRuntime, telegram: FakeTelegramAPI
) -> None:
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.types import (
        BotCommand,
        BotCommandScopeChat,
        BotCommandScopeChatAdministrators,
        BotCommandScopeChatMember,
    )

    user = telegram.add_user(None, "Taras")
    commands = [BotCommand(command="admin", description="Shop menu")]
    for scope, refusal in (
        (BotCommandScopeChat(chat_id=0), "chat not found"),
        (BotCommandScopeChatAdministrators(chat_id=user.id), "private chat"),
        (BotCommandScopeChatMember(chat_id=user.id, user_id=user.id), "private chat"),
    ):
        with pytest.raises(TelegramBadRequest, match=refusal):
            await runtime.bot.set_my_commands(commands, scope=scope)
    await runtime.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=user.id))
    assert telegram.menu_for(user.id) == [{"command": "admin", "description": "Shop menu"}]
    await runtime.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=user.id))
    assert telegram.commands({"type": "chat", "chat_id": user.id}) == []
