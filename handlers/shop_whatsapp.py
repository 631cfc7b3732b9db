"""The shop's own WhatsApp number, from the admin chat: connect it in three answers, disconnect.

Owners only (``Permission.OWN_BOT``), checked on every press and every typed answer. The owner
sends the phone number id, the permanent access token and the app secret of their Meta app,
one message each, every one deleted as soon as it is read. The token is checked at once (a
wrong one is said before the app secret is asked) and kept in the chat state only sealed
(``bot.shop_whatsapps``). WhatsApp's webhook is set in the Meta App Dashboard, not by a call,
so the last answer shows the webhook URL and the verify token to paste there.
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
from handlers.texts import back_label, button_expired, code, ltr, user_text
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import (
    AccountTaken,
    BadBotToken,
    BotTokenRefused,
    Connected,
    active_account_of,
    checked_access_token,
    checked_app_secret,
    checked_phone_number_id,
)
from loyalty.staff import Permission, seat_at, shop_of
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount, Staff

router = Router(name="shop_whatsapp")


class ShopWhatsAppService(Protocol):
    """What the conversation needs of shops' own numbers (``bot.shop_whatsapps``)."""

    def seal(self, secret: SecretStr) -> str: ...

    async def check_sealed(self, phone_number_id: str, sealed_token: str) -> object: ...

    async def connect(
        self, merchant_id: int, phone_number_id: str, sealed_token: str, app_secret: SecretStr
    ) -> Connected: ...

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None: ...

    def webhook_url(self, account: MessengerAccount) -> str: ...


SHOP_KEY, NUMBER_KEY, TOKEN_KEY = "own_wa_merchant", "own_wa_number", "own_wa_token"
CONNECT, DISCONNECT, DISCONNECT_OK = "connect", "off", "off_ok"
ANSWER = F.text & ~F.text.startswith("/")


class OwnWhatsAppForm(StatesGroup):
    number_id = State()
    token = State()
    secret = State()


def own_whatsapp_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return _("📞 Your own WhatsApp number"), AdminAction(
        op=AdminOp.OWN_WHATSAPP, merchant_id=merchant_id
    )


def _action(merchant_id: int, value: str = "") -> AdminAction:
    return AdminAction(op=AdminOp.OWN_WHATSAPP, merchant_id=merchant_id, value=value)


def _number(account: MessengerAccount) -> str:
    return ltr(f"+{account.username}" if account.username else "?")


async def _screen(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    account = await active_account_of(seat.merchant_id, Platform.WHATSAPP)
    builder = InlineKeyboardBuilder()
    lines = [_("<b>📞 Own WhatsApp number · {shop}</b>").format(shop=user_text(shop.name))]
    if account is None:
        lines.append(
            _(
                "Customers on WhatsApp write to the shared number now. With a number of your "
                "own (in your Meta app, WhatsApp Cloud API) they write to your shop's number "
                "instead."
            )
        )
        builder.button(
            text=_("Connect your own WhatsApp number"),
            callback_data=_action(seat.merchant_id, CONNECT),
        )
    else:
        lines += [
            _("Your shop's own WhatsApp number: {number}").format(number=_number(account)),
            _("Customers who write to it are answered there, and get their news there."),
        ]
        builder.button(
            text=_("Disconnect the WhatsApp number"),
            callback_data=_action(seat.merchant_id, DISCONNECT),
        )
    builder.button(
        text=back_label(),
        callback_data=AdminAction(op=AdminOp.CARDS, merchant_id=seat.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_WHATSAPP))
async def own_whatsapp_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    shop_whatsapps: ShopWhatsAppService,
) -> None:
    seat = await seat_at(query.from_user.id, callback_data.merchant_id, Permission.OWN_BOT)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return
    message = query.message
    if callback_data.value == CONNECT:
        await query.answer()
        await state.set_state(OwnWhatsAppForm.number_id)
        await state.update_data({SHOP_KEY: seat.merchant_id})
        await message.answer(
            _(
                "Step 1 of 3: send me the Phone number ID (in your Meta app: WhatsApp → API "
                "Setup; digits only). I delete each of your messages as soon as I have read "
                "it. /cancel keeps the shared number."
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
                "Disconnect your WhatsApp number? Its customers keep their cards, stamps and "
                "vouchers. They agreed to hear from your number only, so until you connect it "
                "again they hear from you on their other messengers, by email or on their "
                "wallet card. Remove the webhook in your Meta app too."
            ),
            builder.as_markup(),
        )
        return
    if callback_data.value == DISCONNECT_OK:
        gone = await shop_whatsapps.disconnect(seat.merchant_id)
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
    if isinstance(error, BotTokenRefused):
        return _(
            "Meta does not accept this access token (it may have expired). Make a permanent "
            "one for a System User in Business Settings and send it again."
        )
    if isinstance(error, AccountTaken):
        return _("This number is already connected to another shop, or it is the shared number.")
    if isinstance(error, BadBotToken):
        return _(
            "This token cannot see that phone number ID. Check both in your Meta app "
            "(WhatsApp → API Setup) and start again."
        )
    return _("WhatsApp did not answer just now. Please send it again in a minute.")


async def _forget(state: FSMContext) -> None:
    """The question is over: its answers leave the chat state (admin mode and the rest of
    the state stay)."""
    data = await state.get_data()
    for key in (SHOP_KEY, NUMBER_KEY, TOKEN_KEY):
        data.pop(key, None)
    await state.set_data(data)
    await state.set_state(None)


async def _read(message: Message, state: FSMContext) -> Staff | None:
    """The typed answer leaves the chat first; the seat it is for, checked again now."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    seat = await answering_seat(message, state, SHOP_KEY, Permission.OWN_BOT)
    if seat is None:
        await _forget(state)
        await message.answer(_("You can no longer change this shop's settings."))
    return seat


@router.message(OwnWhatsAppForm.number_id, ANSWER)
async def number_id_sent(message: Message, state: FSMContext) -> None:
    if await _read(message, state) is None:
        return
    try:
        number_id = checked_phone_number_id(message.text or "")
    except BadBotToken:
        await message.answer(
            _("A Phone number ID is digits only, like 106540352242922. Please send it again.")
            + "\n"
            + _("Or send /cancel.")
        )
        return
    await state.update_data({NUMBER_KEY: number_id})
    await state.set_state(OwnWhatsAppForm.token)
    await message.answer(
        _(
            "Step 2 of 3: send me the permanent access token of a System User of your "
            "business (Business Settings → System users), with the whatsapp_business_messaging "
            "permission."
        )
    )


@router.message(OwnWhatsAppForm.token, ANSWER)
async def access_token_sent(
    message: Message, state: FSMContext, shop_whatsapps: ShopWhatsAppService
) -> None:
    if await _read(message, state) is None:
        return
    number_id = str((await state.get_data()).get(NUMBER_KEY, ""))
    try:
        sealed = shop_whatsapps.seal(checked_access_token(message.text or ""))
        await shop_whatsapps.check_sealed(number_id, sealed)
    except BadBotToken as refused:
        # A malformed token, or one that cannot see the number: the number id may be wrong.
        await state.set_state(OwnWhatsAppForm.number_id)
        await message.answer(_refused(refused) + "\n" + _("Or send /cancel."))
        return
    except LoyaltyError as refused:
        await message.answer(_refused(refused) + "\n" + _("Or send /cancel."))
        return
    await state.update_data({TOKEN_KEY: sealed})
    await state.set_state(OwnWhatsAppForm.secret)
    await message.answer(
        _(
            "Step 3 of 3: send me the App secret of your Meta app (App settings → Basic, "
            "32 letters and digits). It proves that WhatsApp's messages come from Meta."
        )
    )


@router.message(OwnWhatsAppForm.secret, ANSWER)
async def app_secret_sent(
    message: Message, state: FSMContext, shop_whatsapps: ShopWhatsAppService
) -> None:
    seat = await _read(message, state)
    if seat is None:
        return
    data = await state.get_data()
    try:
        secret = checked_app_secret(message.text or "")
    except BadBotToken:
        await message.answer(
            _("An App secret is 32 letters and digits. Please send it again.")
            + "\n"
            + _("Or send /cancel.")
        )
        return
    try:
        connected = await shop_whatsapps.connect(
            seat.merchant_id, str(data.get(NUMBER_KEY, "")), str(data.get(TOKEN_KEY, "")), secret
        )
    except LoyaltyError as refused:
        await message.answer(_refused(refused) + "\n" + _("Or send /cancel."))
        return
    await _forget(state)
    account = connected.account
    await message.answer(
        "\n".join(
            [
                _("Connected: {bot}.").format(bot=_number(account)),
                _(
                    "Last step, in your Meta app: WhatsApp → Configuration → Webhook → Edit. "
                    "Paste this Callback URL and Verify token, then subscribe to the "
                    "“messages” field:"
                ),
                code(shop_whatsapps.webhook_url(account)),
                code(connected.webhook_secret.get_secret_value()),
                _("I show the verify token only now: delete this message once it is pasted."),
            ]
        )
    )


@router.message(OwnWhatsAppForm.number_id, ~F.text)
@router.message(OwnWhatsAppForm.token, ~F.text)
@router.message(OwnWhatsAppForm.secret, ~F.text)
async def whatsapp_answer_needs_text(message: Message) -> None:
    await message.answer(_("Please send it as text, or /cancel."))
