"""The shop's own Telegram bot, from the admin chat: connect it with a token, disconnect it.

Owners only (``Permission.OWN_BOT``), checked on every press and on the typed token: the
token speaks for the shop to every customer. The message holding the token is deleted as
soon as it is read, whatever comes of it; it is a secret, and chats are kept on phones. These
steps are every own account's (``handlers.own_account``); this module says them in Telegram's
words. Connecting and its refusals are ``bot.shop_bots``'s; this module only asks and answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import AdminAction, AdminOp
from handlers.own_account import ANSWER, OwnAccountSpec, connect_with, entry_button, pressed
from handlers.texts import ltr
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import (
    AccountTaken,
    BadBotToken,
    BotTokenRefused,
    checked_telegram_token,
)
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount

router = Router(name="shop_bot")


class ShopBotService(Protocol):
    """What the conversation and the webhook need of shops' own bots (``bot.shop_bots``)."""

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount: ...

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None: ...

    def bot_for(self, account: MessengerAccount) -> Bot: ...


# The shop the typed token is for, in the FSM data.
TOKEN_KEY = "own_bot_merchant"


class OwnBotForm(StatesGroup):
    token = State()


def own_bot_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return entry_button(SPEC, _("🤖 Your own Telegram bot"), merchant_id)


def _bot_name(account: MessengerAccount) -> str:
    return ltr(f"@{account.username or '?'}")


def _refused(error: LoyaltyError) -> str:
    if isinstance(error, BadBotToken):
        return _(
            "That is not a bot token. Copy the whole token from @BotFather: digits, a colon "
            "and 35 letters and signs."
        )
    if isinstance(error, BotTokenRefused):
        return _(
            "Telegram does not know this token. It may have been revoked: get the current one "
            "from @BotFather with /token."
        )
    if isinstance(error, AccountTaken):
        return _("This bot is already connected to another shop. Make a new bot for this shop.")
    return _("Telegram did not answer just now. Please send the token again in a minute.")


SPEC = OwnAccountSpec(
    op=AdminOp.OWN_BOT,
    platform=Platform.TELEGRAM,
    shop_key=TOKEN_KEY,
    first_question=OwnBotForm.token,
    title=lambda: _("<b>🤖 Own Telegram bot · {shop}</b>"),
    pitch=lambda: _(
        "Customers chat with the shared bot now. With a bot of your own (made with "
        "@BotFather) they chat with your shop's name and picture instead."
    ),
    connect_label=lambda: _("Connect your own Telegram bot"),
    connected=lambda account: [
        _("Your shop's own bot: {bot}").format(bot=_bot_name(account)),
        _("Customers who start it are answered there, and get their news there."),
    ],
    disconnect_label=lambda: _("Disconnect the bot"),
    ask=lambda: _(
        "Send me the token @BotFather gave you for your bot (it looks like "
        "123456789:AAH…). I delete your message as soon as I have read it. /cancel "
        "keeps the shared bot."
    ),
    disconnect_warning=lambda: _(
        "Disconnect your bot? Its customers keep their cards and stamps and hear from "
        "you through the shared bot again."
    ),
    disconnected=lambda: _("Disconnected. Customers are answered by the shared bot again."),
    refused=_refused,
)


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_BOT))
async def own_bot_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext, shop_bots: ShopBotService
) -> None:
    await pressed(query, callback_data, state, SPEC, shop_bots.disconnect)


@router.message(OwnBotForm.token, ANSWER)
async def token_sent(message: Message, state: FSMContext, shop_bots: ShopBotService) -> None:
    account = await connect_with(
        message,
        state,
        SPEC,
        lambda shop: shop_bots.connect(shop, checked_telegram_token(message.text or "")),
    )
    if account is None:
        return
    await message.answer(
        "\n".join(
            [
                _("Connected: {bot}.").format(bot=_bot_name(account)),
                _("Customers who start your bot are answered there, with your shop's name."),
            ]
        )
    )


@router.message(OwnBotForm.token, ~F.text)
async def token_needs_text(message: Message) -> None:
    await message.answer(_("Please send the token as text, or /cancel."))
