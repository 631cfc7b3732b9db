"""The shop's own Viber bot, from the admin chat: connect it with its token, disconnect it.

As ``handlers.shop_bot`` does for Telegram: owners only (``Permission.OWN_BOT``), checked on
every press and on the typed token, and the message holding the token deleted as soon as it
is read. Connecting and its refusals are ``bot.shop_vibers``'s; this module asks and answers.
What differs is what a disconnect means: Viber user ids are the bot's own, so the shared bot
cannot write to the people who came through the shop's bot. The confirmation says so.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

from aiogram import F, Router
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
    checked_viber_token,
)
from loyalty.staff import Permission, seat_at, shop_of
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount, Staff

router = Router(name="shop_viber")


class ShopViberService(Protocol):
    """What the conversation needs of shops' own Viber bots (``bot.shop_vibers``)."""

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount: ...

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None: ...


# The shop the typed token is for, in the FSM data.
TOKEN_KEY = "own_viber_merchant"
CONNECT, DISCONNECT, DISCONNECT_OK = "connect", "off", "off_ok"
# A typed answer; commands (/cancel, /exit, /admin) keep their meaning mid-question.
ANSWER = F.text & ~F.text.startswith("/")


class OwnViberForm(StatesGroup):
    token = State()


def own_viber_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return _("💬 Your own Viber bot"), AdminAction(op=AdminOp.OWN_VIBER, merchant_id=merchant_id)


def _action(merchant_id: int, value: str = "") -> AdminAction:
    return AdminAction(op=AdminOp.OWN_VIBER, merchant_id=merchant_id, value=value)


def _bot_name(account: MessengerAccount) -> str:
    return ltr(account.username or "?")


async def _screen(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    account = await active_account_of(seat.merchant_id, Platform.VIBER)
    builder = InlineKeyboardBuilder()
    lines = [_("<b>💬 Own Viber bot · {shop}</b>").format(shop=user_text(shop.name))]
    if account is None:
        lines.append(
            _(
                "Customers on Viber chat with the shared bot now. With a Viber bot of your own "
                "(made at partners.viber.com) they chat with your shop's name and picture "
                "instead."
            )
        )
        builder.button(
            text=_("Connect your own Viber bot"),
            callback_data=_action(seat.merchant_id, CONNECT),
        )
    else:
        lines += [
            _("Your shop's own Viber bot: {bot}").format(bot=_bot_name(account)),
            _("Customers who open it are answered there, and get their news there."),
        ]
        builder.button(
            text=_("Disconnect the Viber bot"),
            callback_data=_action(seat.merchant_id, DISCONNECT),
        )
    builder.button(
        text=back_label(),
        callback_data=AdminAction(op=AdminOp.CARDS, merchant_id=seat.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_VIBER))
async def own_viber_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    shop_vibers: ShopViberService,
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.OWN_BOT)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    message = query.message
    if callback_data.value == CONNECT:
        await query.answer()
        await state.set_state(OwnViberForm.token)
        await state.update_data({TOKEN_KEY: seat.merchant_id})
        await message.answer(
            _(
                "Send me your Viber bot's token: on partners.viber.com open the bot, then "
                "Info → Token. I delete your message as soon as I have read it. /cancel "
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
                "Disconnect your Viber bot? Its customers keep their cards, stamps and "
                "vouchers. Viber lets only your bot write to them, so until you connect it "
                "again they hear from you on their other messengers, by email or on their "
                "wallet card."
            ),
            builder.as_markup(),
        )
        return
    if callback_data.value == DISCONNECT_OK:
        gone = await shop_vibers.disconnect(seat.merchant_id)
        await query.answer(
            _("Disconnected. Its customers keep their cards.") if gone is not None else None
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
            "That is not a Viber token. Copy the whole token from partners.viber.com: letters "
            "and digits in groups joined by dashes."
        )
    if isinstance(error, BotTokenRefused):
        return _(
            "Viber does not know this token. Check it on partners.viber.com (Info → Token) "
            "and send it again."
        )
    if isinstance(error, AccountTaken):
        return _(
            "This Viber bot is already connected to another shop, or it is the shared bot. "
            "Make a new bot for this shop."
        )
    return _("Viber did not answer just now. Please send the token again in a minute.")


@router.message(OwnViberForm.token, ANSWER)
async def viber_token_sent(
    message: Message, state: FSMContext, shop_vibers: ShopViberService
) -> None:
    # First of all, the secret leaves the chat: whatever follows, it was read once.
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    seat = await answering_seat(message, state, TOKEN_KEY, Permission.OWN_BOT)
    if seat is None:
        await state.set_state(None)
        await message.answer(_("You can no longer change this shop's settings."))
        return
    try:
        account = await shop_vibers.connect(
            seat.merchant_id, checked_viber_token(message.text or "")
        )
    except LoyaltyError as refused:
        await message.answer(_refused(refused) + "\n" + _("Or send /cancel."))
        return
    await state.set_state(None)
    await message.answer(
        "\n".join(
            [
                _("Connected: {bot}.").format(bot=_bot_name(account)),
                _("Customers who open your Viber bot are answered there, with your shop's name."),
            ]
        )
    )


@router.message(OwnViberForm.token, ~F.text)
async def viber_token_needs_text(message: Message) -> None:
    await message.answer(_("Please send the token as text, or /cancel."))
