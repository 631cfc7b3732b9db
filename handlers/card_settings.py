"""🎴 Cards in admin mode: an owner creates cards, changes their settings, pauses, resumes and
retires them, and sets the shop's colours and logo.

Every change is drawn first: the new card image comes with Save and Cancel, and only Save
writes. The draft lives in the FSM storage under a fresh nonce that the Save button carries,
so a stale, repeated or forged button finds no draft and changes nothing. Role and shop are
checked again on every press and every typed answer (``seat_at`` with ``Permission.CARDS``).
After a save, the wallet passes that show the change are updated before the owner is told.
"""

from __future__ import annotations

import base64
import logging
import secrets
from io import BytesIO
from typing import TYPE_CHECKING, Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.admin_mode import answering_seat, enter_admin_mode
from handlers.callbacks import AdminAction, AdminOp, CardSetAction, CardSetOp
from handlers.shop_bot import own_bot_button
from handlers.shop_viber import own_viber_button
from handlers.shop_whatsapp import own_whatsapp_button
from handlers.texts import back_label, bold, button_expired, code, ltr, number, user_text
from loyalty.branding import (
    PALETTE,
    Colours,
    ColoursRefused,
    LogoRefused,
    check_colours,
    check_upload_size,
    parse_colours,
    set_colours,
    set_logo,
    shop_colours,
)
from loyalty.cards import (
    DEFAULTS,
    CardField,
    CardMove,
    CardMoveRefused,
    CardRetired,
    CardValueRefused,
    Value,
    create_shop_card,
    current_values,
    edit_card,
    move_card,
    next_undo_window,
    other_active_cards,
    parse_value,
    set_undo_window,
    shop_card,
    shop_cards,
)
from loyalty.errors import LoyaltyError
from loyalty.messenger_accounts import own_bot_username
from loyalty.receipts import set_asks_receipt_amount
from loyalty.shop_settings import InvalidPhone, set_scan_adds_stamp, set_shop_phone
from loyalty.staff import Permission, allows, seat_at, shop_of
from loyalty.tokens import LinkKind, start_link
from models.enums import CardState

if TYPE_CHECKING:
    from models import Card, Merchant, Staff
    from wallets.service import Wallets

logger = logging.getLogger(__name__)
router = Router(name="card_settings")

DRAFT_KEY = "card_draft"
# Settings a wallet pass shows: changing them moves every pass of the card.
_ON_THE_PASS = frozenset({CardField.NAME, CardField.STAMPS_NEEDED, CardField.REWARD})


# A typed answer; commands (/cancel, /exit, /admin) keep their meaning mid-question.
ANSWER = F.text & ~F.text.startswith("/")


class CardForm(StatesGroup):
    value = State()  # a typed value for one setting of one card
    create = State()  # the questions of a new card, one after the other
    colours = State()  # typed #RRGGBB colours
    logo = State()  # a photo or file
    phone = State()  # the shop's phone number, typed


def _field_name(field: CardField) -> str:
    return {
        CardField.NAME: _("Name"),
        CardField.STAMPS_NEEDED: _("Stamps needed"),
        CardField.REWARD: _("Reward"),
        CardField.VALIDITY_DAYS: _("Voucher validity"),
        CardField.COOLDOWN_MINUTES: _("Cooldown between stamps"),
        CardField.STAMPS_PER_VISIT: _("Most stamps per visit"),
    }[field]


def _shown(field: CardField, value: Value) -> str:
    if isinstance(value, str):
        return user_text(value)
    if field is CardField.VALIDITY_DAYS:
        return ngettext("{days} day", "{days} days", value).format(days=number(value))
    if field is CardField.COOLDOWN_MINUTES:
        if value == 0:
            return _("none")
        return ngettext("{n} minute", "{n} minutes", value).format(n=number(value))
    return number(value)


def _question(field: CardField) -> str:
    return {
        CardField.NAME: _("Send the card's name (up to 120 characters)."),
        CardField.STAMPS_NEEDED: _(
            "How many stamps earn the reward? Send a number from 1 to 100."
        ),
        CardField.REWARD: _("Send the reward, e.g. “A free coffee” (up to 200 characters)."),
        CardField.VALIDITY_DAYS: _("For how many days is a reward voucher valid? 1 to 3650."),
        CardField.COOLDOWN_MINUTES: _(
            "How many minutes must pass between two stamps of one customer (a guard against "
            "double scans)? 0 to 1440; 0 switches it off."
        ),
        CardField.STAMPS_PER_VISIT: _("At most how many stamps per visit? 1 to 10."),
    }[field]


def _state_name(state: str) -> str:
    return {
        CardState.ACTIVE: _("active"),
        CardState.PAUSED: _("paused"),
        CardState.RETIRED: _("retired"),
    }[CardState(state)]


def value_refusal(error: CardValueRefused) -> str:
    if error.kind == "length":
        return ngettext(
            "{field}: please send 1 to {maximum} character. Nothing was changed.",
            "{field}: please send 1 to {maximum} characters. Nothing was changed.",
            error.maximum,
        ).format(field=_field_name(error.field), maximum=number(error.maximum))
    return _("{field}: please send a whole number from {minimum} to {maximum}. "
             "Nothing was changed.").format(
        field=_field_name(error.field),
        minimum=number(error.minimum),
        maximum=number(error.maximum),
    )  # fmt: skip


def colours_refusal(error: ColoursRefused) -> str:
    if error.kind == "contrast":
        return _(
            "The text colour is too close to the background (contrast {ratio}:1; at least "
            "4.5:1 is needed to read it). Please pick colours further apart. Nothing was changed."
        ).format(ratio=f"{error.ratio:.1f}")
    return _(
        "Please send two or three colours as #RRGGBB: background, text and (optionally) "
        "accent, e.g. #1F2937 #FFFFFF #F59E0B. Nothing was changed."
    )


def _defaults() -> dict[CardField, Value]:
    return {CardField.NAME: _("Stamp card"), CardField.REWARD: _("A free treat"), **DEFAULTS}


# --- seats and drafts ----------------------------------------------------------------------


async def _seat(query: CallbackQuery, merchant_id: int) -> Staff | None:
    seat = await seat_at(query.from_user.id, merchant_id, Permission.CARDS)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return None
    return seat


async def _card(query: CallbackQuery, seat: Staff, card_id: int) -> Card | None:
    try:
        return await shop_card(seat.merchant_id, card_id)
    except LoyaltyError:
        await query.answer(button_expired())
        return None


async def _draft(state: FSMContext) -> dict[str, Any] | None:
    draft = (await state.get_data()).get(DRAFT_KEY)
    return draft if isinstance(draft, dict) else None


async def _put_draft(state: FSMContext, merchant_id: int, draft: dict[str, Any]) -> str:
    nonce = secrets.token_urlsafe(6)
    await state.update_data({DRAFT_KEY: {**draft, "nonce": nonce, "merchant_id": merchant_id}})
    return nonce


async def _end_draft(state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data({DRAFT_KEY: None})


async def _typing_seat(message: Message, state: FSMContext) -> tuple[Staff, dict[str, Any]] | None:
    """The seat behind a typed answer, from the draft's shop; None (draft dropped) otherwise."""
    draft = await _draft(state)
    if draft is None or message.from_user is None:
        await _end_draft(state)
        return None
    seat = await seat_at(message.from_user.id, int(draft["merchant_id"]), Permission.CARDS)
    if seat is None:
        await _end_draft(state)
        await message.answer(_("You can no longer change this shop's cards."))
        return None
    return seat, draft


def _cancel_row(builder: InlineKeyboardBuilder, merchant_id: int, nonce: str) -> None:
    builder.button(
        text=_("✖ Cancel"),
        callback_data=CardSetAction(op=CardSetOp.DISCARD, merchant_id=merchant_id, value=nonce),
    )


# --- screens -------------------------------------------------------------------------------


async def _list_screen(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    cards = await shop_cards(seat.merchant_id)
    lines = [_("<b>🎴 Cards · {shop}</b>").format(shop=user_text(shop.name))]
    lines.append(_phone_line(shop.phone))
    lines.append(
        _("Scanning adds 1 stamp at once: on")
        if shop.scan_adds_stamp
        else _("Scanning adds 1 stamp at once: off")
    )
    builder = InlineKeyboardBuilder()
    for card in cards:
        label = f"{user_text(card.name, html=False, limit=40)} · {_state_name(card.state)}"
        lines.append(f"• {label}")
        builder.button(
            text=label,
            callback_data=CardSetAction(
                op=CardSetOp.SHOW, merchant_id=seat.merchant_id, card_id=card.id
            ),
        )
    for text, op in (
        (_("➕ New card"), CardSetOp.NEW),
        (_("🎨 Colours"), CardSetOp.COLOURS),
        (_("🖼 Logo"), CardSetOp.LOGO),
    ):
        builder.button(text=text, callback_data=CardSetAction(op=op, merchant_id=seat.merchant_id))
    builder.button(
        text=_("Shop phone"),
        callback_data=AdminAction(op=AdminOp.PHONE, merchant_id=seat.merchant_id),
    )
    builder.button(
        text=_("Turn off: scan adds 1 stamp")
        if shop.scan_adds_stamp
        else _("Turn on: scan adds 1 stamp"),
        callback_data=CardSetAction(op=CardSetOp.SCAN_ADDS, merchant_id=seat.merchant_id),
    )
    if allows(seat, Permission.OWN_BOT):
        label, data = own_bot_button(seat.merchant_id)
        builder.button(text=label, callback_data=data)
        label, data = own_viber_button(seat.merchant_id)
        builder.button(text=label, callback_data=data)
        label, data = own_whatsapp_button(seat.merchant_id)
        builder.button(text=label, callback_data=data)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _phone_line(phone: str | None) -> str:
    if phone is None:
        return _("Shop phone: not set (customers get no call button)")
    return _("Shop phone: {phone}").format(phone=ltr(phone))


def _card_screen(card: Card) -> tuple[str, InlineKeyboardMarkup]:
    values = current_values(card)
    lines = [f"<b>🎴 {user_text(card.name)}</b> · {_state_name(card.state)}"]
    lines += [f"{_field_name(f)}: {_shown(f, v)}" for f, v in values.items()]
    lines.append(
        _("Receipt amount at stamping: asked")
        if card.asks_receipt_amount
        else _("Receipt amount at stamping: not asked")
    )
    undo_minutes = card.undo_window_seconds // 60
    lines.append(_("A stamp can be taken back for {minutes} min.").format(minutes=undo_minutes))
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": card.merchant_id, "card_id": card.id}
    state = CardState(card.state)
    if state is not CardState.RETIRED:
        for field in CardField:
            builder.button(
                text=f"✏️ {_field_name(field)}",
                callback_data=CardSetAction(op=CardSetOp.FIELD, value=field.value, **ids),
            )
    if state is not CardState.RETIRED:
        builder.button(
            text=_("🧾 Stop asking for receipt amounts")
            if card.asks_receipt_amount
            else _("🧾 Ask for receipt amounts"),
            callback_data=CardSetAction(op=CardSetOp.RECEIPT, **ids),
        )
        builder.button(
            text=_("↩️ Undo window: {minutes} min").format(minutes=undo_minutes),
            callback_data=CardSetAction(op=CardSetOp.UNDO_WINDOW, **ids),
        )
    if state is CardState.ACTIVE:
        builder.button(text=_("⏸ Pause"), callback_data=CardSetAction(op=CardSetOp.PAUSE, **ids))
    if state is CardState.PAUSED:
        builder.button(text=_("▶ Resume"), callback_data=CardSetAction(op=CardSetOp.RESUME, **ids))
    if state is not CardState.RETIRED:
        builder.button(
            text=_("🏁 Retire"), callback_data=CardSetAction(op=CardSetOp.RETIRE, **ids)
        )
    else:
        lines += ["", _("This card has ended. Its members keep their vouchers.")]
    builder.button(
        text=back_label(_("All cards")),
        callback_data=CardSetAction(op=CardSetOp.LIST, merchant_id=card.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def _show_list(message: Message, seat: Staff) -> None:
    text, markup = await _list_screen(seat)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AdminAction.filter(F.op == AdminOp.CARDS))
async def cards_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    await enter_admin_mode(state, seat.merchant_id)
    await _show_list(query.message, seat)


@router.callback_query(CardSetAction.filter(F.op.in_({CardSetOp.LIST, CardSetOp.SHOW})))
async def card_pressed(query: CallbackQuery, callback_data: CardSetAction) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    if callback_data.op is CardSetOp.LIST:
        await query.answer()
        await _show_list(query.message, seat)
        return
    card = await _card(query, seat, callback_data.card_id)
    if card is None:
        return
    await query.answer()
    text, markup = _card_screen(card)
    await query.message.answer(text, reply_markup=markup)


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.RECEIPT))
async def receipt_pressed(query: CallbackQuery, callback_data: CardSetAction) -> None:
    """The cashier is asked for the receipt amount after stamping, or no longer: value for the
    dashboard's "visits and value" figures. Saved at once (nothing to preview) and audited."""
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    card = await _card(query, seat, callback_data.card_id)
    if card is None:
        return
    if CardState(card.state) is CardState.RETIRED:
        await query.answer(button_expired())
        return
    try:
        card = await set_asks_receipt_amount(seat, card.id, not card.asks_receipt_amount)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    await query.answer()
    text, markup = _card_screen(card)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.UNDO_WINDOW))
async def undo_window_pressed(query: CallbackQuery, callback_data: CardSetAction) -> None:
    """Each press steps to the next undo window (2, 5, 10, 30, 60 minutes, then 2 again)."""
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    card = await _card(query, seat, callback_data.card_id)
    if card is None:
        return
    try:
        card = await set_undo_window(seat, card.id, next_undo_window(card.undo_window_seconds))
    except LoyaltyError:
        await query.answer(button_expired())
        return
    await query.answer()
    text, markup = _card_screen(card)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.SCAN_ADDS))
async def scan_adds_pressed(query: CallbackQuery, callback_data: CardSetAction) -> None:
    """The shop's opt-in: a cashier's scan stamps once at once (the till offers +1 more and
    Undo). Saved at once and audited, like the receipt switch."""
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        shop = await set_scan_adds_stamp(seat, not (await shop_of(seat)).scan_adds_stamp)
    except LoyaltyError:
        await query.answer(button_expired())
        return
    seat.merchant = shop  # the list screen reads the shop from the seat
    await query.answer()
    text, markup = await _list_screen(seat)
    await query.message.edit_text(text, reply_markup=markup)


# --- previews ------------------------------------------------------------------------------


async def _preview(
    message: Message,
    bot: Bot,
    state: FSMContext,
    seat: Staff,
    *,
    caption: str,
    card: dict[str, Any],
    colours: Colours,
    logo: bytes | None,
    draft: dict[str, Any],
) -> None:
    """The card as it will look, with Save / Cancel; the draft is kept under a new nonce."""
    from render.card import CardImage, render_card  # here: Pillow only when a card is drawn

    shop = await shop_of(seat)
    username = await own_bot_username(seat.merchant_id) or (await bot.me()).username or ""
    image = CardImage(
        merchant_name=shop.name,
        card_name=str(card["name"]),
        stamps_needed=int(card["stamps"]),
        balance=min(3, int(card["stamps"])),
        background=colours.background,
        foreground=colours.foreground,
        accent=colours.accent,
        qr_url=start_link(username, LinkKind.JOIN, str(card.get("token") or "preview")),
        logo_png=logo,
    )
    nonce = await _put_draft(state, seat.merchant_id, draft)
    await state.set_state(None)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Save"),
        callback_data=CardSetAction(
            op=CardSetOp.SAVE,
            merchant_id=seat.merchant_id,
            card_id=int(draft.get("card_id", 0)),
            value=nonce,
        ),
    )
    _cancel_row(builder, seat.merchant_id, nonce)
    await message.answer_photo(
        BufferedInputFile(render_card(image), "preview.png"),
        caption=_("<b>Preview</b> — nothing is saved yet.") + "\n" + caption,
        reply_markup=builder.as_markup(),
    )


def _card_dict(card: Card) -> dict[str, Any]:
    return {"name": card.name, "stamps": card.stamps_needed, "token": card.join_token}


async def _preview_shop(
    message: Message,
    bot: Bot,
    state: FSMContext,
    seat: Staff,
    *,
    caption: str,
    colours: Colours,
    logo: bytes | None,
    draft: dict[str, Any],
) -> None:
    """A shop-wide change drawn on the shop's first active card (or a sample one)."""
    cards = await shop_cards(seat.merchant_id)
    sample = _card_dict(cards[0]) if cards else {"name": _("Stamp card"), "stamps": 10}
    await _preview(
        message, bot, state, seat, caption=caption, card=sample, colours=colours, logo=logo,
        draft=draft,
    )  # fmt: skip


# --- editing one setting -------------------------------------------------------------------


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.FIELD))
async def field_pressed(
    query: CallbackQuery, callback_data: CardSetAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    card = await _card(query, seat, callback_data.card_id)
    try:
        field = CardField(callback_data.value)
    except ValueError:
        field = None
    if card is None:
        return
    if field is None or card.state == CardState.RETIRED:
        await query.answer(button_expired())
        return
    await query.answer()
    await _put_draft(state, seat.merchant_id, {"card_id": card.id, "field": field.value})
    await state.set_state(CardForm.value)
    builder = InlineKeyboardBuilder()
    _cancel_row(builder, seat.merchant_id, "")
    await query.message.answer(
        _("{field} of {card} is now {value}.").format(
            field=_field_name(field),
            card=bold(card.name),
            value=_shown(field, current_values(card)[field]),
        )
        + "\n"
        + _question(field),
        reply_markup=builder.as_markup(),
    )


@router.message(CardForm.value, ANSWER)
async def value_typed(message: Message, bot: Bot, state: FSMContext) -> None:
    found = await _typing_seat(message, state)
    if found is None or message.text is None:
        return
    seat, draft = found
    field = CardField(draft["field"])
    try:
        card = await shop_card(seat.merchant_id, int(draft["card_id"]))
        value = parse_value(field, message.text)
    except CardValueRefused as refused:
        await message.answer(value_refusal(refused))
        return
    except LoyaltyError:
        await _end_draft(state)
        await message.answer(button_expired())
        return
    old = current_values(card)[field]
    shown = _card_dict(card)
    if field is CardField.NAME:
        shown["name"] = value
    if field is CardField.STAMPS_NEEDED:
        shown["stamps"] = value
    shop = await shop_of(seat)
    await _preview(
        message,
        bot,
        state,
        seat,
        caption=_("{field}: {old} → {new}").format(
            field=_field_name(field), old=_shown(field, old), new=_shown(field, value)
        ),
        card=shown,
        colours=shop_colours(shop),
        logo=shop.logo_png,
        draft={"kind": "edit", "card_id": card.id, "field": field.value, "value": value},
    )


# --- a new card ----------------------------------------------------------------------------

_STEPS = list(CardField)


async def _ask_step(message: Message, state: FSMContext, seat: Staff, step: int) -> None:
    field = _STEPS[step]
    draft = await _draft(state) or {}
    await state.set_state(CardForm.create)
    await state.update_data({DRAFT_KEY: {**draft, "step": step}})
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Skip: {value}").format(value=_shown_plain(field, _defaults()[field])),
        callback_data=CardSetAction(
            op=CardSetOp.SKIP, merchant_id=seat.merchant_id, value=str(step)
        ),
    )
    _cancel_row(builder, seat.merchant_id, "")
    builder.adjust(1)
    await message.answer(
        _("New card, step {step} of {steps}: {field}").format(
            step=step + 1, steps=len(_STEPS), field=_field_name(field)
        )
        + "\n"
        + _question(field),
        reply_markup=builder.as_markup(),
    )


def _shown_plain(field: CardField, value: Value) -> str:
    if isinstance(value, str):
        return user_text(value, html=False, limit=40)
    return _shown(field, value)


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.NEW))
async def new_pressed(
    query: CallbackQuery, callback_data: CardSetAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    await _put_draft(state, seat.merchant_id, {"kind": "create", "values": {}})
    await _ask_step(query.message, state, seat, 0)


async def _next_step(
    message: Message, bot: Bot, state: FSMContext, seat: Staff, draft: dict[str, Any], value: Value
) -> None:
    step = int(draft.get("step", 0))
    values = {**draft.get("values", {}), _STEPS[step].value: value}
    await state.update_data({DRAFT_KEY: {**draft, "values": values}})
    if step + 1 < len(_STEPS):
        await _ask_step(message, state, seat, step + 1)
        return
    shop = await shop_of(seat)
    caption = "\n".join(
        [_("A new card:")] + [f"{_field_name(f)}: {_shown(f, values[f.value])}" for f in _STEPS]
    )
    await _preview(
        message,
        bot,
        state,
        seat,
        caption=caption,
        card={
            "name": values[CardField.NAME.value],
            "stamps": values[CardField.STAMPS_NEEDED.value],
        },
        colours=shop_colours(shop),
        logo=shop.logo_png,
        draft={"kind": "create", "values": values},
    )


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.SKIP))
async def skip_pressed(
    query: CallbackQuery, callback_data: CardSetAction, bot: Bot, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    draft = await _draft(state)
    if seat is None or not isinstance(query.message, Message):
        return
    if (
        draft is None
        or draft.get("kind") != "create"
        or draft.get("merchant_id") != seat.merchant_id
        or str(draft.get("step")) != callback_data.value
        or await state.get_state() != CardForm.create.state
    ):
        await query.answer(button_expired())
        return
    await query.answer()
    field = _STEPS[int(draft["step"])]
    await _next_step(query.message, bot, state, seat, draft, _defaults()[field])


@router.message(CardForm.create, ANSWER)
async def step_typed(message: Message, bot: Bot, state: FSMContext) -> None:
    found = await _typing_seat(message, state)
    if found is None or message.text is None:
        return
    seat, draft = found
    field = _STEPS[int(draft.get("step", 0))]
    try:
        value = parse_value(field, message.text)
    except CardValueRefused as refused:
        await message.answer(value_refusal(refused))
        return
    await _next_step(message, bot, state, seat, draft, value)


# --- pause, resume, retire -----------------------------------------------------------------


@router.callback_query(
    CardSetAction.filter(
        F.op.in_({CardSetOp.PAUSE, CardSetOp.RESUME, CardSetOp.RETIRE, CardSetOp.RETIRE_CONFIRM})
    )
)
async def move_pressed(query: CallbackQuery, callback_data: CardSetAction) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    card = await _card(query, seat, callback_data.card_id)
    if card is None:
        return
    ids = {"merchant_id": seat.merchant_id, "card_id": card.id}
    op = callback_data.op
    if op is CardSetOp.RETIRE or (
        op is CardSetOp.PAUSE
        and callback_data.value != "ok"
        and card.state == CardState.ACTIVE
        and not await other_active_cards(seat.merchant_id, card.id)
    ):
        builder = InlineKeyboardBuilder()
        if op is CardSetOp.RETIRE:
            text = _(
                "Retire {card} for good? Nobody can join or collect stamps on it any more, and "
                "it cannot be brought back. Members keep the vouchers they have."
            ).format(card=bold(card.name))
            builder.button(
                text=_("🏁 Yes, retire for good"),
                callback_data=CardSetAction(op=CardSetOp.RETIRE_CONFIRM, **ids),
            )
        else:
            text = _(
                "{card} is your only active card: while it is paused nobody can join or collect "
                "stamps at your shop. Pause it anyway?"
            ).format(card=bold(card.name))
            builder.button(
                text=_("⏸ Pause anyway"),
                callback_data=CardSetAction(op=CardSetOp.PAUSE, value="ok", **ids),
            )
        builder.button(text=_("✖ Cancel"), callback_data=CardSetAction(op=CardSetOp.SHOW, **ids))
        builder.adjust(1)
        await query.answer()
        await query.message.answer(text, reply_markup=builder.as_markup())
        return
    move = {
        CardSetOp.PAUSE: CardMove.PAUSE,
        CardSetOp.RESUME: CardMove.RESUME,
        CardSetOp.RETIRE_CONFIRM: CardMove.RETIRE,
    }[op]
    try:
        moved = await move_card(seat, card.id, move)
    except (CardMoveRefused, LoyaltyError):
        await query.answer(button_expired())
        return
    await query.answer()
    done = {
        CardMove.PAUSE: _(
            "{card} is paused. Members keep their cards and vouchers; the join link says the "
            "card is paused until you resume it."
        ),
        CardMove.RESUME: _("{card} is active again: people can join and collect stamps."),
        CardMove.RETIRE: _(
            "{card} is retired. Its members keep their vouchers; the join link says the card "
            "has ended."
        ),
    }[move].format(card=bold(moved.name))
    text, markup = _card_screen(moved)
    await query.message.answer(done + "\n\n" + text, reply_markup=markup)


# --- colours -------------------------------------------------------------------------------


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.COLOURS))
async def colours_pressed(
    query: CallbackQuery, callback_data: CardSetAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    current = shop_colours(await shop_of(seat))
    await _put_draft(state, seat.merchant_id, {"kind": "colours"})
    await state.set_state(CardForm.colours)
    builder = InlineKeyboardBuilder()
    for index, colours in enumerate(PALETTE):
        builder.button(
            text=" · ".join(colours.as_list()),
            callback_data=CardSetAction(
                op=CardSetOp.PALETTE, merchant_id=seat.merchant_id, value=str(index)
            ),
        )
    _cancel_row(builder, seat.merchant_id, "")
    builder.adjust(1)
    await query.message.answer(
        _("Your colours now: background {background}, text {foreground}, accent {accent}.").format(
            background=code(current.background),
            foreground=code(current.foreground),
            accent=code(current.accent),
        )
        + "\n"
        + _(
            "Pick a ready combination (background · text · accent), or send your own as "
            "#RRGGBB: background, text and optionally accent, e.g. #1F2937 #FFFFFF #F59E0B."
        ),
        reply_markup=builder.as_markup(),
    )


async def _preview_colours(
    message: Message, bot: Bot, state: FSMContext, seat: Staff, colours: Colours
) -> None:
    shop = await shop_of(seat)
    old = shop_colours(shop)
    await _preview_shop(
        message,
        bot,
        state,
        seat,
        caption=_("Colours: {old} → {new}").format(
            old=code(" ".join(old.as_list())), new=code(" ".join(colours.as_list()))
        ),
        colours=colours,
        logo=shop.logo_png,
        draft={"kind": "colours", "colours": colours.as_list()},
    )


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.PALETTE))
async def palette_pressed(
    query: CallbackQuery, callback_data: CardSetAction, bot: Bot, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    value = callback_data.value
    index = int(value) if value.isascii() and value.isdecimal() and len(value) <= 2 else None
    if index is None or index >= len(PALETTE):
        await query.answer(button_expired())
        return
    await query.answer()
    await _preview_colours(query.message, bot, state, seat, PALETTE[index])


@router.message(CardForm.colours, ANSWER)
async def colours_typed(message: Message, bot: Bot, state: FSMContext) -> None:
    found = await _typing_seat(message, state)
    if found is None or message.text is None:
        return
    seat, _draft_data = found
    current = shop_colours(await shop_of(seat))
    try:
        colours = parse_colours(message.text, accent=current.accent)
    except ColoursRefused as refused:
        await message.answer(colours_refusal(refused))
        return
    await _preview_colours(message, bot, state, seat, colours)


# --- logo ----------------------------------------------------------------------------------


def logo_refusal(error: LogoRefused) -> str:
    if error.kind == "too_big":
        return _("This file is over 20 MB, more than I can download. Please send a smaller "
                 "logo (a few hundred pixels is plenty). Nothing was changed.")  # fmt: skip
    return _("This is not an image I can read. Please send the logo as a photo, or as a PNG or "
             "JPEG file. Nothing was changed.")  # fmt: skip


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.LOGO))
async def logo_pressed(
    query: CallbackQuery, callback_data: CardSetAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    await _put_draft(state, seat.merchant_id, {"kind": "logo"})
    await state.set_state(CardForm.logo)
    builder = InlineKeyboardBuilder()
    _cancel_row(builder, seat.merchant_id, "")
    await query.message.answer(
        _(
            "Send your logo as a photo, or as a file to keep a transparent background (PNG). "
            "A square picture works best."
        ),
        reply_markup=builder.as_markup(),
    )


@router.message(CardForm.logo, F.photo | F.document)
async def logo_sent(message: Message, bot: Bot, state: FSMContext) -> None:
    from render.logo import NotAnImage, logo_png  # here: Pillow only when a logo is sent

    found = await _typing_seat(message, state)
    if found is None:
        return
    seat, _draft_data = found
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size
    elif message.document is not None:
        file_id, size = message.document.file_id, message.document.file_size
    else:
        return
    try:
        check_upload_size(size)
        data = BytesIO()
        try:
            await bot.download(file_id, destination=data)
        except TelegramBadRequest as refused:
            # An upload without a size that turns out too big: Telegram refuses it here.
            too_big = "too big" in refused.message
            raise LogoRefused("too_big" if too_big else "not_image") from refused
        png = logo_png(data.getvalue())
    except LogoRefused as refused:
        await message.answer(logo_refusal(refused))
        return
    except NotAnImage:
        await message.answer(logo_refusal(LogoRefused("not_image")))
        return
    shop = await shop_of(seat)
    await _preview_shop(
        message,
        bot,
        state,
        seat,
        caption=_("A new logo for {shop}.").format(shop=user_text(shop.name)),
        colours=shop_colours(shop),
        logo=png,
        draft={"kind": "logo", "logo": base64.b64encode(png).decode("ascii")},
    )


@router.message(StateFilter(CardForm.logo), ~F.text.startswith("/"))
async def logo_expected(message: Message) -> None:
    await message.answer(logo_refusal(LogoRefused("not_image")))


# --- save and cancel -----------------------------------------------------------------------


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.DISCARD))
async def discard_pressed(
    query: CallbackQuery, callback_data: CardSetAction, state: FSMContext
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    if draft is not None and draft.get("merchant_id") == seat.merchant_id:
        await _end_draft(state)
    await query.answer()
    await query.message.answer(_("Cancelled. Nothing was changed."))


@router.callback_query(CardSetAction.filter(F.op == CardSetOp.SAVE))
async def save_pressed(
    query: CallbackQuery,
    callback_data: CardSetAction,
    bot: Bot,
    state: FSMContext,
    wallets: Wallets | None = None,
) -> None:
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    if (
        draft is None
        or not callback_data.value
        or draft.get("nonce") != callback_data.value
        or draft.get("merchant_id") != seat.merchant_id
        or int(draft.get("card_id", 0)) != callback_data.card_id
    ):
        await query.answer(button_expired())
        return
    await _end_draft(state)
    try:
        text, changed_cards = await _save(seat, draft, bot)
    except (CardValueRefused, ColoursRefused, LogoRefused, CardRetired, LoyaltyError):
        await query.answer(button_expired())
        return
    await query.answer(_("Saved."))
    if changed_cards and wallets is not None:
        update = await wallets.cards_changed(changed_cards)
        if update.passes:
            text += "\n" + ngettext(
                "{count} wallet pass updated.", "{count} wallet passes updated.", update.passes
            ).format(count=number(update.passes))
    await query.message.answer(text)


async def _save(seat: Staff, draft: dict[str, Any], bot: Bot) -> tuple[str, list[int]]:
    """Write the draft; the confirmation and the cards whose passes show the change."""
    kind = draft.get("kind")
    if kind == "edit":
        field = CardField(draft["field"])
        edit = await edit_card(seat, int(draft["card_id"]), field, draft["value"])
        text = _("Saved: {field} of {card} is now {value}.").format(
            field=_field_name(field), card=bold(edit.card.name), value=_shown(field, edit.new)
        )
        return text, [edit.card.id] if edit.changed and field in _ON_THE_PASS else []
    if kind == "create":
        values = {field: draft["values"][field.value] for field in CardField}
        card = await create_shop_card(seat, values)
        username = await own_bot_username(seat.merchant_id) or (await bot.me()).username or ""
        link = start_link(username, LinkKind.JOIN, card.join_token)
        return _("Saved: {card} is ready. Its join link:\n{link}").format(
            card=bold(card.name), link=link
        ), []
    if kind == "colours":
        colours = check_colours(Colours(*[str(c) for c in draft["colours"]]))
        merchant = await set_colours(seat, colours)
        return _("Saved: the new colours are on every card of your shop."), await _all(merchant)
    if kind == "logo":
        merchant = await set_logo(seat, base64.b64decode(str(draft["logo"])))
        return _("Saved: the new logo is on every card of your shop."), await _all(merchant)
    raise LogoRefused("not_image")


async def _all(merchant: Merchant) -> list[int]:
    return [card.id for card in await shop_cards(merchant.id)]


# --- the shop's phone -------------------------------------------------------------------------

PHONE_KEY = "phone_merchant"


@router.callback_query(AdminAction.filter(F.op == AdminOp.PHONE))
async def phone_pressed(
    query: CallbackQuery, callback_data: AdminAction, state: FSMContext
) -> None:
    """Ask for the number (``value`` "clear": remove it). The customers' card shows a call
    button while one is set."""
    seat = await _seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    if callback_data.value == "clear":
        await state.set_state(None)
        shop = await set_shop_phone(seat, None)
        await query.message.edit_text(_phone_line(shop.phone))
        return
    shop = await shop_of(seat)
    await state.set_state(CardForm.phone)
    await state.update_data({PHONE_KEY: seat.merchant_id})
    builder = InlineKeyboardBuilder()
    if shop.phone is not None:
        builder.button(
            text=_("Remove the phone"),
            callback_data=AdminAction(
                op=AdminOp.PHONE, merchant_id=seat.merchant_id, value="clear"
            ),
        )
    await query.message.answer(
        "\n".join(
            [
                _phone_line(shop.phone),
                _(
                    "Send the shop's phone number with the country code, e.g. +380 44 123 4567. "
                    "Customers then get a button on their card to call you. /cancel keeps it "
                    "as it is."
                ),
            ]
        ),
        reply_markup=builder.as_markup(),
    )


@router.message(CardForm.phone, ANSWER)
async def phone_typed(message: Message, state: FSMContext) -> None:
    seat = await answering_seat(message, state, PHONE_KEY, Permission.CARDS)
    if seat is None:
        await state.set_state(None)
        await message.answer(_("You can no longer change this shop's settings."))
        return
    try:
        shop = await set_shop_phone(seat, (message.text or "")[:64])
    except InvalidPhone:
        await message.answer(
            _(
                "That is not a phone number I can dial. Send it with + and the country code, "
                "e.g. +380 44 123 4567."
            )
        )
        return
    await state.set_state(None)
    await message.answer(_("Saved. {line}").format(line=_phone_line(shop.phone)))
