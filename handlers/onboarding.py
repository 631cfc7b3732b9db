"""The owner's first ``/admin``: a short walk through the essentials, every step skippable.

1. the shop's name (keep or send a new one), 2. its time zone (send the shop's location — the
zone is read from it, and passes then show on the lock screen near the shop — or pick one, or
type an IANA name), 3. the shop's language, 4. the first card (keep it, or send its name,
stamps needed and reward). Then the shop is marked set up (``Merchant.onboarded_at``) and a
checklist of the first three things to do follows, each one a button: print the counter QR,
invite a cashier, join the own card as a customer; and ⚙️ Shop menu for the rest (with a word
that ``/admin`` brings it back any time). "Skip set-up" ends it at once, with the checklist.
Managers and cashiers, and an owner whose shop is set up, go straight to the menu.

What the FSM keeps: the shop (``onb_merchant``), the step whose buttons are live
(``onb_step``) and the card values typed so far (``onb_card``). Every button and every answer
re-reads the seat (owner of that shop) and that the shop is still not set up, so a button
from an earlier step or a finished walkthrough only says it has expired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AdminAction, AdminOp, OnboardingAction, OnboardingOp
from handlers.texts import button_expired, number, picked_label, user_text
from locales import NATIVE_NAMES
from loyalty.errors import LoyaltyError
from loyalty.merchants import MAX_STAMPS_NEEDED
from loyalty.shop_settings import (
    COMMON_ZONES,
    SHOP_LANGUAGES,
    InvalidLocation,
    InvalidShopName,
    UnknownTimezone,
    edit_first_card,
    finish_walkthrough,
    first_card,
    fresh_shop,
    needs_walkthrough,
    rename_shop,
    set_shop_language,
    set_shop_location,
    set_shop_timezone,
)
from loyalty.staff import Permission, seat_at, shop_of
from models.enums import StaffRole

if TYPE_CHECKING:
    from models import Staff
    from wallets.service import Wallets

router = Router(name="onboarding")
SHOP_KEY = "onb_merchant"
STEP_KEY = "onb_step"
CARD_KEY = "onb_card"
MAX_INPUT = 256


class Onboarding(StatesGroup):
    name = State()
    zone = State()
    language = State()
    card = State()
    card_name = State()
    card_stamps = State()
    card_reward = State()


STEPS = ("name", "zone", "language", "card")
_STATES = {
    "name": Onboarding.name,
    "zone": Onboarding.zone,
    "language": Onboarding.language,
    "card": Onboarding.card,
    "card_name": Onboarding.card_name,
    "card_stamps": Onboarding.card_stamps,
    "card_reward": Onboarding.card_reward,
}
# The step whose buttons each kind of button belongs to (KEEP names its step in ``value``).
_STEP_OF = {
    OnboardingOp.ZONE: "zone",
    OnboardingOp.OTHER_ZONE: "zone",
    OnboardingOp.LANGUAGE: "language",
    OnboardingOp.EDIT_CARD: "card",
}


async def start_walkthrough(message: Message, state: FSMContext, seat: Staff) -> bool:
    """Begin the set-up when this is the owner of a shop never set up; False otherwise."""
    if not await needs_walkthrough(seat):
        return False
    shop = await shop_of(seat)
    await state.update_data({SHOP_KEY: seat.merchant_id, CARD_KEY: {}})
    await message.answer(
        _(
            "Welcome to {shop}! Four quick steps set the shop up; each one can be kept as it "
            "is, and “Skip set-up” ends it now."
        ).format(shop=user_text(shop.name))
    )
    await _ask(message, state, seat, "name")
    return True


# -- the questions ------------------------------------------------------------------------------


def _button(builder: InlineKeyboardBuilder, text: str, op: OnboardingOp, seat: Staff,
            value: str = "") -> None:  # fmt: skip
    builder.button(
        text=text, callback_data=OnboardingAction(op=op, merchant_id=seat.merchant_id, value=value)
    )


def _step_line(step: str) -> str:
    index = STEPS.index(step.split("_")[0]) + 1
    return _("Step {n} of {total}").format(n=index, total=len(STEPS))


async def _ask(message: Message, state: FSMContext, seat: Staff, step: str) -> None:
    shop = await fresh_shop(seat)
    builder = InlineKeyboardBuilder()
    widths: list[int] = []
    if step == "name":
        text = _("<b>{step} · Name</b>\nThe shop is called {shop}. Send a new name, or keep it.")
        text = text.format(step=_step_line(step), shop=user_text(shop.name))
        _button(builder, _("Keep {shop}").format(shop=user_text(shop.name, html=False,
                                                                 limit=40)),
                OnboardingOp.KEEP, seat, step)  # fmt: skip
        widths = [1]
    elif step == "zone":
        text = "\n".join(
            [
                _("<b>{step} · Time zone</b>").format(step=_step_line(step)),
                _("Now: {zone}.").format(zone=user_text(shop.timezone)),
                _(
                    "Send the shop's location (the 📍 button, or 📎 → Location) and I'll take "
                    "the zone from it; "
                    "your customers' wallet cards then show up on their lock screens near the "
                    "shop. Or pick a zone:"
                ),
            ]
        )
        for zone in COMMON_ZONES:
            _button(builder, zone, OnboardingOp.ZONE, seat, zone)
        _button(builder, _("Other…"), OnboardingOp.OTHER_ZONE, seat)
        _button(builder, _("Keep {zone}").format(zone=shop.timezone), OnboardingOp.KEEP, seat,
                step)  # fmt: skip
        widths = [2, 2, 2, 1, 1]
    elif step == "language":
        text = _(
            "<b>{step} · Language</b>\nThe shop's language is {language}: new customers whose "
            "language I don't speak read this one."
        ).format(step=_step_line(step), language=NATIVE_NAMES.get(shop.default_language, "?"))
        for code in SHOP_LANGUAGES:
            picked = picked_label(NATIVE_NAMES[code], code == shop.default_language)
            _button(builder, picked, OnboardingOp.LANGUAGE, seat, code)
        _button(builder, _("Keep it"), OnboardingOp.KEEP, seat, step)
        widths = [3, 2, 1]
    elif step == "card":
        card = await first_card(seat)
        if card is None:
            await _finish(message, state, seat)
            return
        text = "\n".join(
            [
                _("<b>{step} · Your first card</b>").format(step=_step_line(step)),
                _card_line(card.name, card.stamps_needed, card.reward_text),
            ]
        )
        _button(builder, _("Keep this card"), OnboardingOp.KEEP, seat, step)
        _button(builder, _("✏️ Change name, stamps and reward"), OnboardingOp.EDIT_CARD, seat)
        widths = [1, 1]
    else:
        text = _card_question(step)
        _button(builder, _("Keep as it is"), OnboardingOp.KEEP, seat, step)
        widths = [1]
    _button(builder, _("Skip set-up"), OnboardingOp.SKIP, seat)
    builder.adjust(*widths, 1)
    await state.set_state(_STATES[step])
    await state.update_data({STEP_KEY: step})
    if step == "zone":
        # Telegram's own button for it: one tap on a phone, no attachment menu to find.
        place = KeyboardButton(text=_("📍 Send the shop's location"), request_location=True)
        await message.answer(
            _("Tap the button below to send where the shop is."),
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[place]], resize_keyboard=True, one_time_keyboard=True
            ),
        )
    await message.answer(text, reply_markup=builder.as_markup())


def _card_line(name: str, stamps: int, reward: str) -> str:
    return ngettext(
        "Card: {card}, {stamps} stamp for {reward}",
        "Card: {card}, {stamps} stamps for {reward}",
        stamps,
    ).format(card=user_text(name), stamps=number(stamps), reward=user_text(reward))


def _card_question(step: str) -> str:
    if step == "card_name":
        return _("What is the card called? Send its name.")
    if step == "card_stamps":
        return _("How many stamps does a reward take? Send a number from 1 to {most}.").format(
            most=MAX_STAMPS_NEEDED
        )
    return _("What is the reward? Send it as customers should read it, e.g. “A free coffee”.")


_NEXT = {
    "name": "zone",
    "zone": "language",
    "language": "card",
    "card_name": "card_stamps",
    "card_stamps": "card_reward",
}


async def _next(message: Message, state: FSMContext, seat: Staff, step: str,
                wallets: Wallets | None) -> None:  # fmt: skip
    if step == "card_reward" or step == "card":
        await _save_card(message, state, seat, wallets)
        return
    await _ask(message, state, seat, _NEXT[step])


async def _save_card(message: Message, state: FSMContext, seat: Staff,
                     wallets: Wallets | None) -> None:  # fmt: skip
    typed: dict[str, Any] = (await state.get_data()).get(CARD_KEY) or {}
    card = await first_card(seat)
    if card is not None and typed:
        try:
            card = await edit_first_card(
                seat,
                card.id,
                name=typed.get("name"),
                stamps_needed=typed.get("stamps_needed"),
                reward_text=typed.get("reward_text"),
            )
        except LoyaltyError:
            await message.answer(_("The card could not be changed; it stays as it was."))
        else:
            await _wallets_follow(wallets, seat)
    await _finish(message, state, seat)


async def _finish(
    message: Message, state: FSMContext, seat: Staff, *, skipped: bool = False
) -> None:
    await finish_walkthrough(seat)
    await state.set_state(None)
    await state.update_data({STEP_KEY: None, CARD_KEY: None})
    shop = await fresh_shop(seat)
    if skipped:
        await message.answer(_("Set-up skipped. The shop keeps its settings as they are."))
    else:
        card = await first_card(seat)
        lines = [
            _("<b>All set.</b>"),
            _("Shop: {shop}").format(shop=user_text(shop.name)),
            _("Time zone: {zone}").format(zone=user_text(shop.timezone)),
            _("Language: {language}").format(
                language=NATIVE_NAMES.get(shop.default_language, "?")
            ),
        ]
        if shop.latitude is not None:
            lines.append(_("Location: saved, wallet cards show near the shop."))
        if card is not None:
            lines.append(_card_line(card.name, card.stamps_needed, card.reward_text))
        await message.answer("\n".join(lines))
    await message.answer(**checklist(shop.name, seat.merchant_id))


def checklist(shop_name: str, merchant_id: int) -> dict[str, Any]:
    """The owner's first three things to do, each a button (the text and its keyboard)."""
    ids = {"merchant_id": merchant_id}
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🖨 Get counter QR"), callback_data=AdminAction(op=AdminOp.COUNTER_QR, **ids)
    )
    builder.button(
        text=_("➕ Invite a cashier"),
        callback_data=AdminAction(op=AdminOp.INVITE, value=StaffRole.CASHIER.value, **ids),
    )
    builder.button(
        text=_("Join my own card"), callback_data=AdminAction(op=AdminOp.JOIN_OWN, **ids)
    )
    builder.button(text=_("⚙️ Shop menu"), callback_data=AdminAction(op=AdminOp.HOME, **ids))
    builder.adjust(1)
    text = "\n".join(
        [
            _("You're the owner of {shop}. 3 steps to start:").format(shop=user_text(shop_name)),
            _("1. Print your counter QR: customers scan it to join."),
            _("2. Add your cashier: they scan an invite QR from your phone."),
            _("3. Try it: scan your own card, as your customers will."),
            "",
            _("/admin opens the shop menu any time."),
        ]
    )
    return {"text": text, "reply_markup": builder.as_markup()}


async def _wallets_follow(wallets: Wallets | None, seat: Staff) -> None:
    """After the answer: the passes of the shop's members show the change (APNs, Google)."""
    if wallets is not None:
        await wallets.shop_changed(seat.merchant_id)


# -- buttons --------------------------------------------------------------------------------


async def _live_seat(user_id: int, merchant_id: int | None) -> Staff | None:
    if merchant_id is None:
        return None
    seat = await seat_at(user_id, merchant_id, Permission.STAFF)
    if seat is None or not await needs_walkthrough(seat):
        return None
    return seat


@router.callback_query(OnboardingAction.filter())
async def pressed(
    query: CallbackQuery,
    callback_data: OnboardingAction,
    state: FSMContext,
    wallets: Wallets | None = None,
) -> None:
    data = await state.get_data()
    seat = await _live_seat(query.from_user.id, callback_data.merchant_id)
    step = data.get(STEP_KEY)
    op = callback_data.op
    belongs = callback_data.value if op is OnboardingOp.KEEP else _STEP_OF.get(op)
    if (
        seat is None
        or not isinstance(query.message, Message)
        or data.get(SHOP_KEY) != callback_data.merchant_id
        or (op is not OnboardingOp.SKIP and belongs != step)
    ):
        await query.answer(button_expired())
        return
    message = query.message
    if op is OnboardingOp.SKIP:
        await query.answer()
        await message.delete_reply_markup()
        await _finish(message, state, seat, skipped=True)
        return
    if op is OnboardingOp.OTHER_ZONE:
        await query.answer()
        await message.answer(
            _("Type the zone's name as in the IANA list, e.g. Europe/Lisbon or America/Toronto.")
        )
        return
    if op is OnboardingOp.EDIT_CARD:
        await query.answer()
        await message.delete_reply_markup()
        await _ask(message, state, seat, "card_name")
        return
    try:
        if op is OnboardingOp.ZONE:
            await set_shop_timezone(seat, callback_data.value)
        elif op is OnboardingOp.LANGUAGE:
            await set_shop_language(seat, callback_data.value)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    await query.answer(_("Saved.") if op is not OnboardingOp.KEEP else None)
    await message.delete_reply_markup()
    await _next(message, state, seat, str(step), wallets)


# -- typed answers and the location ---------------------------------------------------------


async def _answering_seat(message: Message, state: FSMContext, step: str) -> Staff | None:
    """The owner still setting this shop up and at this step; else the walkthrough is over."""
    data = await state.get_data()
    user = message.from_user
    seat = await _live_seat(user.id, data.get(SHOP_KEY)) if user is not None else None
    if seat is None or data.get(STEP_KEY) != step:
        await state.set_state(None)
        await message.answer(_("This set-up is over. /admin opens the admin menu."))
        return None
    return seat


@router.message(StateFilter(Onboarding.name), F.text, ~F.text.startswith("/"))
async def name_entered(
    message: Message, state: FSMContext, wallets: Wallets | None = None
) -> None:
    seat = await _answering_seat(message, state, "name")
    if seat is None:
        return
    try:
        shop = await rename_shop(seat, (message.text or "")[:MAX_INPUT])
    except InvalidShopName:
        await message.answer(_("A shop name is 1 to 120 characters. Please send another."))
        return
    await message.answer(_("Saved: the shop is now {shop}.").format(shop=user_text(shop.name)))
    await _wallets_follow(wallets, seat)
    await _ask(message, state, seat, "zone")


@router.message(StateFilter(Onboarding.zone), F.location)
async def location_sent(
    message: Message, state: FSMContext, wallets: Wallets | None = None
) -> None:
    seat = await _answering_seat(message, state, "zone")
    if seat is None or message.location is None:
        return
    try:
        placed = await set_shop_location(
            seat, message.location.latitude, message.location.longitude
        )
    except InvalidLocation:
        await message.answer(
            _("That location is not on the map. Please send the shop's location again.")
        )
        return
    zone = user_text(placed.zone.zone)
    if placed.zone.exact:
        text = _("Location saved. Time zone: {zone}, the zone of that place.").format(zone=zone)
    else:
        text = _(
            "Location saved. I could not read the zone of that exact place, so I took the "
            "nearest I know: {zone}. Pick another below if it is wrong."
        ).format(zone=zone)
    await message.answer(text)
    await _wallets_follow(wallets, seat)
    if placed.zone.exact:
        await _ask(message, state, seat, "language")
    else:
        await _ask(message, state, seat, "zone")


@router.message(StateFilter(Onboarding.zone), F.text, ~F.text.startswith("/"))
async def zone_typed(message: Message, state: FSMContext) -> None:
    seat = await _answering_seat(message, state, "zone")
    if seat is None:
        return
    try:
        shop = await set_shop_timezone(seat, (message.text or "")[:MAX_INPUT])
    except UnknownTimezone as refused:
        await message.answer(
            _(
                "I don't know the time zone {zone}. Type it as in the IANA list, e.g. "
                "Europe/Lisbon, or pick one of the buttons."
            ).format(zone=user_text(refused.name))
        )
        return
    await message.answer(_("Saved: time zone {zone}.").format(zone=user_text(shop.timezone)))
    await _ask(message, state, seat, "language")


@router.message(StateFilter(Onboarding.card_name, Onboarding.card_reward), F.text,
                ~F.text.startswith("/"))  # fmt: skip
async def card_text_entered(
    message: Message, state: FSMContext, wallets: Wallets | None = None
) -> None:
    step = "card_name" if await state.get_state() == Onboarding.card_name.state else "card_reward"
    seat = await _answering_seat(message, state, step)
    if seat is None:
        return
    text = " ".join((message.text or "").split())
    limit = 120 if step == "card_name" else 200
    if not text or len(text) > limit:
        await message.answer(
            ngettext(
                "Please send 1 to {limit} character.",
                "Please send 1 to {limit} characters.",
                limit,
            ).format(limit=limit)
        )
        return
    await _remember(state, "name" if step == "card_name" else "reward_text", text)
    await _next(message, state, seat, step, wallets)


@router.message(StateFilter(Onboarding.card_stamps), F.text, ~F.text.startswith("/"))
async def stamps_entered(
    message: Message, state: FSMContext, wallets: Wallets | None = None
) -> None:
    seat = await _answering_seat(message, state, "card_stamps")
    if seat is None:
        return
    text = (message.text or "").strip()
    count = int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else 0
    if not 1 <= count <= MAX_STAMPS_NEEDED:
        await message.answer(
            _("Please send a number from 1 to {most}.").format(most=MAX_STAMPS_NEEDED)
        )
        return
    await _remember(state, "stamps_needed", count)
    await _next(message, state, seat, "card_stamps", wallets)


async def _remember(state: FSMContext, field: str, value: str | int) -> None:
    typed = dict((await state.get_data()).get(CARD_KEY) or {})
    typed[field] = value
    await state.update_data({CARD_KEY: typed})


@router.message(StateFilter(*_STATES.values()), ~F.text.startswith("/"))
async def needs_an_answer(message: Message) -> None:
    """Anything else while a step waits (a photo, a sticker, a location at the wrong step)."""
    await message.answer(_("Please answer with the buttons above or as text, or /cancel."))
