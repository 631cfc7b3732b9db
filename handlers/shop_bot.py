"""The shop's own Telegram bot, from the admin chat: connect it with a token, disconnect it.

Owners only (``Permission.OWN_BOT``), checked on every press and on the typed token: the
token speaks for the shop to every customer. The message holding the token is deleted as
soon as it is read, whatever comes of it; it is a secret, and chats are kept on phones.
Connecting and its refusals are ``bot.shop_bots``'s; this module only asks and answers.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import answering_seat
from handlers.callbacks import AdminAction, AdminOp
from handlers.texts import back_label, button_expired, ltr, user_text
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import (
    AccountTaken,
    BadBotToken,
    BotTokenRefused,
    active_account_of,
    checked_telegram_token,
)
from loyalty.staff import Permission, seat_at, shop_of
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount, Staff

router = Router(name="shop_bot")


class ShopBotService(Protocol):
    """What the conversation and the webhook need of shops' own bots (``bot.shop_bots``)."""

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount: ...

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None: ...

    def bot_for(self, account: MessengerAccount) -> Bot: ...


# The shop the typed token is for, in the FSM data.
TOKEN_KEY = "own_bot_merchant"
CONNECT, DISCONNECT, DISCONNECT_OK = "connect", "off", "off_ok"
# A typed answer; commands (/cancel, /exit, /admin) keep their meaning mid-question.
ANSWER = F.text & ~F.text.startswith("/")


class OwnBotForm(StatesGroup):
    token = State()


def own_bot_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return _("🤖 Your own Telegram bot"), AdminAction(op=AdminOp.OWN_BOT, merchant_id=merchant_id)


def _action(merchant_id: int, value: str = "") -> AdminAction:
    return AdminAction(op=AdminOp.OWN_BOT, merchant_id=merchant_id, value=value)


def _connected_line(account: MessengerAccount) -> str:
    return _("Your shop's own bot: {bot}").format(bot=ltr(f"@{account.username or '?'}"))


async def _screen(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    account = await active_account_of(seat.merchant_id, Platform.TELEGRAM)
    builder = InlineKeyboardBuilder()
    lines = [_("<b>🤖 Own Telegram bot · {shop}</b>").format(shop=user_text(shop.name))]
    if account is None:
        lines.append(
            _(
                "Customers chat with the shared bot now. With a bot of your own (made with "
                "@BotFather) they chat with your shop's name and picture instead."
            )
        )
        builder.button(
            text=_("Connect your own Telegram bot"),
            callback_data=_action(seat.merchant_id, CONNECT),
        )
    else:
        lines += [
            _connected_line(account),
            _("Customers who start it are answered there, and get their news there."),
        ]
        builder.button(
            text=_("Disconnect the bot"), callback_data=_action(seat.merchant_id, DISCONNECT)
        )
    builder.button(
        text=back_label(),
        callback_data=AdminAction(op=AdminOp.CARDS, merchant_id=seat.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_BOT))
async def own_bot_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext, shop_bots: ShopBotService
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.OWN_BOT)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    message = query.message
    if callback_data.value == CONNECT:
        await query.answer()
        await state.set_state(OwnBotForm.token)
        await state.update_data({TOKEN_KEY: seat.merchant_id})
        await message.answer(
            _(
                "Send me the token @BotFather gave you for your bot (it looks like "
                "123456789:AAH…). I delete your message as soon as I have read it. /cancel "
                "keeps the shared bot."
            )
        )
        return
    if callback_data.value == DISCONNECT:
        await query.answer()
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("Yes, disconnect it"), callback_data=_action(seat.merchant_id, DISCONNECT_OK)
        )
        builder.button(text=back_label(), callback_data=_action(seat.merchant_id))
        builder.adjust(1)
        await _edit(
            message,
            _(
                "Disconnect your bot? Its customers keep their cards and stamps and hear from "
                "you through the shared bot again."
            ),
            builder.as_markup(),
        )
        return
    if callback_data.value == DISCONNECT_OK:
        gone = await shop_bots.disconnect(seat.merchant_id)
        await query.answer(
            _("Disconnected. Customers are answered by the shared bot again.")
            if gone is not None
            else None
        )
    else:
        await query.answer()
    await _edit(message, *await _screen(seat))


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest:
        await message.answer(text, reply_markup=markup)


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


@router.message(OwnBotForm.token, ANSWER)
async def token_sent(message: Message, state: FSMContext, shop_bots: ShopBotService) -> None:
    # First of all, the secret leaves the chat: whatever follows, it was read once.
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    seat = await answering_seat(message, state, TOKEN_KEY, Permission.OWN_BOT)
    if seat is None:
        await state.set_state(None)
        await message.answer(_("You can no longer change this shop's settings."))
        return
    try:
        account = await shop_bots.connect(
            seat.merchant_id, checked_telegram_token(message.text or "")
        )
    except LoyaltyError as refused:
        await message.answer(_refused(refused) + "\n" + _("Or send /cancel."))
        return
    await state.set_state(None)
    await message.answer(
        "\n".join(
            [
                _("Connected: {bot}.").format(bot=ltr(f"@{account.username or '?'}")),
                _("Customers who start your bot are answered there, with your shop's name."),
            ]
        )
    )


@router.message(OwnBotForm.token, ~F.text)
async def token_needs_text(message: Message) -> None:
    await message.answer(_("Please send the token as text, or /cancel."))
