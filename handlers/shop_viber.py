"""The shop's own Viber bot, from the admin chat: connect it with its token, disconnect it.

As ``handlers.shop_bot`` does for Telegram, with the same steps (``handlers.own_account``:
owners only, the message holding the token deleted as soon as it is read). Connecting and its
refusals are ``bot.shop_vibers``'s; this module asks and answers. What differs is what a
disconnect means: Viber user ids are the bot's own, so the shared bot cannot write to the
people who came through the shop's bot. The confirmation says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiogram import F, Router
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
    checked_viber_token,
)
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount

router = Router(name="shop_viber")


class ShopViberService(Protocol):
    """What the conversation needs of shops' own Viber bots (``bot.shop_vibers``)."""

    async def connect(self, merchant_id: int, token: SecretStr) -> MessengerAccount: ...

    async def disconnect(self, merchant_id: int) -> MessengerAccount | None: ...


# The shop the typed token is for, in the FSM data.
TOKEN_KEY = "own_viber_merchant"


class OwnViberForm(StatesGroup):
    token = State()


def own_viber_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return entry_button(SPEC, _("💬 Your own Viber bot"), merchant_id)


def _bot_name(account: MessengerAccount) -> str:
    return ltr(account.username or "?")


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


SPEC = OwnAccountSpec(
    op=AdminOp.OWN_VIBER,
    platform=Platform.VIBER,
    shop_key=TOKEN_KEY,
    first_question=OwnViberForm.token,
    title=lambda: _("<b>💬 Own Viber bot · {shop}</b>"),
    pitch=lambda: _(
        "Customers on Viber chat with the shared bot now. With a Viber bot of your own "
        "(made at partners.viber.com) they chat with your shop's name and picture "
        "instead."
    ),
    connect_label=lambda: _("Connect your own Viber bot"),
    connected=lambda account: [
        _("Your shop's own Viber bot: {bot}").format(bot=_bot_name(account)),
        _("Customers who open it are answered there, and get their news there."),
    ],
    disconnect_label=lambda: _("Disconnect the Viber bot"),
    ask=lambda: _(
        "Send me your Viber bot's token: on partners.viber.com open the bot, then "
        "Info → Token. I delete your message as soon as I have read it. /cancel "
        "keeps the shared bot."
    ),
    disconnect_warning=lambda: _(
        "Disconnect your Viber bot? Its customers keep their cards, stamps and "
        "vouchers. Viber lets only your bot write to them, so until you connect it "
        "again they hear from you on their other messengers, by email or on their "
        "wallet card."
    ),
    disconnected=lambda: _("Disconnected. Its customers keep their cards."),
    refused=_refused,
)


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_VIBER))
async def own_viber_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    shop_vibers: ShopViberService,
) -> None:
    await pressed(query, callback_data, state, SPEC, shop_vibers.disconnect)


@router.message(OwnViberForm.token, ANSWER)
async def viber_token_sent(
    message: Message, state: FSMContext, shop_vibers: ShopViberService
) -> None:
    account = await connect_with(
        message,
        state,
        SPEC,
        lambda shop: shop_vibers.connect(shop, checked_viber_token(message.text or "")),
    )
    if account is None:
        return
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
