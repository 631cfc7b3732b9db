"""The steps every "your own account" screen of the admin chat takes, whatever the messenger.

A shop connects its own Telegram bot (``handlers.shop_bot``), Viber bot (``handlers.shop_viber``)
and WhatsApp number (``handlers.shop_whatsapp``) through the same conversation, and the rules
that make it safe must not drift apart between them: owners only (``Permission.OWN_BOT``),
checked again on every press and on every typed answer (a seat can be taken away mid-question);
every typed answer deleted before anything else is done with it, since it is a secret and chats
are kept on phones; a refusal keeps the question open and says how to leave it.

What differs stays in each platform's module, as an :class:`OwnAccountSpec`: the words, the
first question and the FSM keys its answers live under, the refusals, and the service that
connects and disconnects. The questions themselves (one for a token, three for WhatsApp) are
the platform modules' handlers; they are built from :func:`read_answer`, :func:`connect_with`
and :func:`end_question`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import answering_seat
from handlers.callbacks import AdminAction, AdminOp
from handlers.texts import back_label, button_expired, user_text
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import active_account_of
from loyalty.staff import Permission, seat_at, shop_of

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.state import State

    from models import MessengerAccount, Staff
    from models.enums import Platform

T = TypeVar("T")

CONNECT, DISCONNECT, DISCONNECT_OK = "connect", "off", "off_ok"
# A typed answer; commands (/cancel, /exit, /admin) keep their meaning mid-question.
ANSWER = F.text & ~F.text.startswith("/")

Text = Callable[[], str]


@dataclass(frozen=True, slots=True)
class OwnAccountSpec:
    """One platform's own-account screen: what it says and where its answers are kept.

    The texts are functions so that they are translated when shown, in the reader's language.
    """

    op: AdminOp
    platform: Platform
    # The shop the answers are for, in the FSM data (checked again with every answer).
    shop_key: str
    first_question: State
    # What is said on the screen: its title (``{shop}``), the offer while nothing is
    # connected and its button, the lines about the connected account and its button.
    title: Text
    pitch: Text
    connect_label: Text
    connected: Callable[[MessengerAccount], list[str]]
    disconnect_label: Text
    # The first question, the disconnect warning, the toast once disconnected.
    ask: Text
    disconnect_warning: Text
    disconnected: Text
    # Why the connecting service refused (a ``LoyaltyError``), in the platform's words.
    refused: Callable[[LoyaltyError], str]
    # Answers kept in the FSM data between questions, dropped when the question ends.
    answer_keys: tuple[str, ...] = ()


def entry_button(spec: OwnAccountSpec, label: str, merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return label, AdminAction(op=spec.op, merchant_id=merchant_id)


def _action(spec: OwnAccountSpec, merchant_id: int, value: str = "") -> AdminAction:
    return AdminAction(op=spec.op, merchant_id=merchant_id, value=value)


async def _screen(spec: OwnAccountSpec, seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    account = await active_account_of(seat.merchant_id, spec.platform)
    builder = InlineKeyboardBuilder()
    lines = [spec.title().format(shop=user_text(shop.name))]
    if account is None:
        lines.append(spec.pitch())
        builder.button(
            text=spec.connect_label(), callback_data=_action(spec, seat.merchant_id, CONNECT)
        )
    else:
        lines += spec.connected(account)
        builder.button(
            text=spec.disconnect_label(),
            callback_data=_action(spec, seat.merchant_id, DISCONNECT),
        )
    builder.button(
        text=back_label(),
        callback_data=AdminAction(op=AdminOp.CARDS, merchant_id=seat.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest:
        await message.answer(text, reply_markup=markup)


async def pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    spec: OwnAccountSpec,
    disconnect: Callable[[int], Awaitable[MessengerAccount | None]],
) -> None:
    """A press on the screen: show it, ask the first question, or confirm and disconnect.

    The seat is checked on every press, the confirming one included: the button may have
    been sent before the owner handed the shop over."""
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.OWN_BOT)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    message = query.message
    if callback_data.value == CONNECT:
        await query.answer()
        await state.set_state(spec.first_question)
        await state.update_data({spec.shop_key: seat.merchant_id})
        await message.answer(spec.ask())
        return
    if callback_data.value == DISCONNECT:
        await query.answer()
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("Yes, disconnect it"),
            callback_data=_action(spec, seat.merchant_id, DISCONNECT_OK),
        )
        builder.button(text=back_label(), callback_data=_action(spec, seat.merchant_id))
        builder.adjust(1)
        await _edit(message, spec.disconnect_warning(), builder.as_markup())
        return
    if callback_data.value == DISCONNECT_OK:
        gone = await disconnect(seat.merchant_id)
        await query.answer(spec.disconnected() if gone is not None else None)
    else:
        await query.answer()
    await _edit(message, *await _screen(spec, seat))


async def end_question(state: FSMContext, spec: OwnAccountSpec) -> None:
    """The question is over: its answers leave the chat state (admin mode and the rest of
    the state stay)."""
    if spec.answer_keys:
        data = await state.get_data()
        for key in spec.answer_keys:
            data.pop(key, None)
        await state.set_data(data)
    await state.set_state(None)


async def read_answer(message: Message, state: FSMContext, spec: OwnAccountSpec) -> Staff | None:
    """The typed answer leaves the chat first (whatever follows, it was read once); then the
    seat it is for, checked again now. None, the question ended and said so, without one."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    seat = await answering_seat(message, state, spec.shop_key, Permission.OWN_BOT)
    if seat is None:
        await end_question(state, spec)
        await message.answer(_("You can no longer change this shop's settings."))
    return seat


def try_again(refusal: str) -> str:
    """A refusal: the question stays open, and the way out is said with it."""
    return refusal + "\n" + _("Or send /cancel.")


async def connect_with(
    message: Message,
    state: FSMContext,
    spec: OwnAccountSpec,
    connect: Callable[[int], Awaitable[T]],
) -> T | None:
    """The last answer: read it, connect the seat's shop with it (``connect`` gets the shop's
    id) and end the question. None when there is no seat or the service refused (said, the
    question open)."""
    seat = await read_answer(message, state, spec)
    if seat is None:
        return None
    try:
        connected = await connect(seat.merchant_id)
    except LoyaltyError as refused:
        await message.answer(try_again(spec.refused(refused)))
        return None
    await end_question(state, spec)
    return connected
