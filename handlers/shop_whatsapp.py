"""The shop's own WhatsApp number, from the admin chat: connect it in three answers, disconnect.

Owners only (``Permission.OWN_BOT``), checked on every press and every typed answer. The owner
sends the phone number id, the permanent access token and the app secret of their Meta app,
one message each, every one deleted as soon as it is read. The token is checked at once (a
wrong one is said before the app secret is asked) and kept in the chat state only sealed
(``bot.shop_whatsapps``). WhatsApp's webhook is set in the Meta App Dashboard, not by a call,
so the last answer shows the webhook URL and the verify token to paste there. The screen, the
seat checks and the deleting are every own account's (``handlers.own_account``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import AdminAction, AdminOp
from handlers.own_account import (
    ANSWER,
    OwnAccountSpec,
    end_question,
    entry_button,
    pressed,
    read_answer,
    try_again,
)
from handlers.texts import code, ltr
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import (
    AccountTaken,
    BadBotToken,
    BotTokenRefused,
    Connected,
    checked_access_token,
    checked_app_secret,
    checked_phone_number_id,
)
from models.enums import Platform

if TYPE_CHECKING:
    from pydantic import SecretStr

    from models import MessengerAccount

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


class OwnWhatsAppForm(StatesGroup):
    number_id = State()
    token = State()
    secret = State()


def own_whatsapp_button(merchant_id: int) -> tuple[str, AdminAction]:
    """The entry on the shop settings screen (``handlers.card_settings``)."""
    return entry_button(SPEC, _("📞 Your own WhatsApp number"), merchant_id)


def _number(account: MessengerAccount) -> str:
    return ltr(f"+{account.username}" if account.username else "?")


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


SPEC = OwnAccountSpec(
    op=AdminOp.OWN_WHATSAPP,
    platform=Platform.WHATSAPP,
    shop_key=SHOP_KEY,
    first_question=OwnWhatsAppForm.number_id,
    title=lambda: _("<b>📞 Own WhatsApp number · {shop}</b>"),
    pitch=lambda: _(
        "Customers on WhatsApp write to the shared number now. With a number of your "
        "own (in your Meta app, WhatsApp Cloud API) they write to your shop's number "
        "instead."
    ),
    connect_label=lambda: _("Connect your own WhatsApp number"),
    connected=lambda account: [
        _("Your shop's own WhatsApp number: {number}").format(number=_number(account)),
        _("Customers who write to it are answered there, and get their news there."),
    ],
    disconnect_label=lambda: _("Disconnect the WhatsApp number"),
    ask=lambda: _(
        "Step 1 of 3: send me the Phone number ID (in your Meta app: WhatsApp → API "
        "Setup; digits only). I delete each of your messages as soon as I have read "
        "it. /cancel keeps the shared number."
    ),
    # WhatsApp's webhook is the Meta app's: it cannot be removed from here.
    disconnect_warning=lambda: _(
        "Disconnect your WhatsApp number? Its customers keep their cards, stamps and "
        "vouchers. They agreed to hear from your number only, so until you connect it "
        "again they hear from you on their other messengers, by email or on their "
        "wallet card. Remove the webhook in your Meta app too."
    ),
    disconnected=lambda: _("Disconnected. Its customers keep their cards."),
    refused=_refused,
    # Three questions: the first two answers wait in the chat state (the token sealed).
    answer_keys=(SHOP_KEY, NUMBER_KEY, TOKEN_KEY),
)


@router.callback_query(AdminAction.filter(F.op == AdminOp.OWN_WHATSAPP))
async def own_whatsapp_pressed(
    query: CallbackQuery,
    callback_data: AdminAction,
    state: FSMContext,
    shop_whatsapps: ShopWhatsAppService,
) -> None:
    await pressed(query, callback_data, state, SPEC, shop_whatsapps.disconnect)


@router.message(OwnWhatsAppForm.number_id, ANSWER)
async def number_id_sent(message: Message, state: FSMContext) -> None:
    if await read_answer(message, state, SPEC) is None:
        return
    try:
        number_id = checked_phone_number_id(message.text or "")
    except BadBotToken:
        await message.answer(
            try_again(
                _("A Phone number ID is digits only, like 106540352242922. Please send it again.")
            )
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
    if await read_answer(message, state, SPEC) is None:
        return
    number_id = str((await state.get_data()).get(NUMBER_KEY, ""))
    try:
        sealed = shop_whatsapps.seal(checked_access_token(message.text or ""))
        await shop_whatsapps.check_sealed(number_id, sealed)
    except BadBotToken as refused:
        # A malformed token, or one that cannot see the number: the number id may be wrong.
        await state.set_state(OwnWhatsAppForm.number_id)
        await message.answer(try_again(_refused(refused)))
        return
    except LoyaltyError as refused:
        await message.answer(try_again(_refused(refused)))
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
    seat = await read_answer(message, state, SPEC)
    if seat is None:
        return
    data = await state.get_data()
    try:
        secret = checked_app_secret(message.text or "")
    except BadBotToken:
        await message.answer(
            try_again(_("An App secret is 32 letters and digits. Please send it again."))
        )
        return
    try:
        connected = await shop_whatsapps.connect(
            seat.merchant_id, str(data.get(NUMBER_KEY, "")), str(data.get(TOKEN_KEY, "")), secret
        )
    except LoyaltyError as refused:
        await message.answer(try_again(_refused(refused)))
        return
    await end_question(state, SPEC)
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
