"""``/automations``: the ready-made recipes and the shop's automations, switched on and off,
tuned, previewed, tested, exported as YAML, with statistics; and a chain sent as YAML (a
message or a ``.yaml`` file) in admin mode, stored or refused with the line of each problem.

Owners and managers only (``Permission.CAMPAIGNS``). Every button carries the shop's id and is
checked against the presser's seat there, and the automation is looked up within that shop:
a stale or forged button changes nothing and says it expired.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import StrEnum
from io import BytesIO
from typing import TYPE_CHECKING, Annotated, Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import get_day_names
from babel.numbers import format_percent
from pydantic import Field

from automations import service
from automations.chain import (
    Birthday,
    Chain,
    Inactive,
    Recurring,
    RewardReady,
    Trigger,
    VoucherExpiring,
    Weekday,
)
from automations.chain_yaml import MAX_YAML_BYTES, ChainRefused
from automations.recipes import (
    DAY_CHOICES,
    DEFAULTS,
    SETTINGS,
    TIME_CHOICES,
    VOUCHER_DAY_CHOICES,
    Gettext,
    Recipe,
    Setting,
    Tuning,
    as_json,
    build,
    from_json,
)
from handlers.admin_mode import IsStaff, admin_merchant, admin_seat
from handlers.callbacks import DbId
from handlers.texts import back_label, bold, button_expired, current_locale, number, user_text
from loyalty.staff import Permission, seat_at
from models.enums import ResumeMode
from render.chart_data import ChartLabels

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

    from automations.service import AutomationStats, AutomationView
    from handlers.wizard.screens import WizardServices
    from models import Staff

logger = logging.getLogger(__name__)
router = Router(name="automations")

AUTOMATIONS_BUTTON = __("🤖 Automations")
DRAFT_KEY = "automation_draft"
MAX_TITLE = 60
MAX_TEXT = 4000
# The list opened from the admin menu comes as a new message, so the menu stays.
NEW_MESSAGE = "new"


class AutoOp(StrEnum):
    LIST = "l"
    RECIPE = "r"
    SET = "s"
    TYPE = "ty"
    TEST = "t"
    CREATE = "c"
    SHOW = "v"
    ON = "on"
    OFF = "off"
    EXPORT = "x"
    STATS = "st"
    DELETE = "d"
    DELETE_OK = "dk"
    TUNE = "tu"
    SAVE = "sv"


class AutoAction(CallbackData, prefix="aut"):
    op: AutoOp
    merchant_id: DbId
    automation_id: DbId = 0
    recipe: Annotated[str, Field(max_length=16)] = ""
    setting: Annotated[str, Field(max_length=16)] = ""
    mode: Annotated[str, Field(max_length=8)] = ""


class AutomationForm(StatesGroup):
    text = State()
    voucher_title = State()


def automations_button(merchant_id: int) -> InlineKeyboardButton:
    """The admin menu's "🤖 Automations" button."""
    data = AutoAction(op=AutoOp.LIST, merchant_id=merchant_id, mode=NEW_MESSAGE)
    return InlineKeyboardButton(text=str(AUTOMATIONS_BUTTON), callback_data=data.pack())


# Words --------------------------------------------------------------------------------------


def recipe_name(recipe: Recipe) -> str:
    names = {
        Recipe.WELCOME: _("Welcome series"),
        Recipe.REWARD_READY: _("Reward ready reminder"),
        Recipe.VOUCHER_EXPIRING: _("Voucher expiring"),
        Recipe.WIN_BACK_30: _("Win-back after 30 days"),
        Recipe.WIN_BACK_45: _("Win-back after 45 days"),
        Recipe.BIRTHDAY: _("Birthday offer"),
        Recipe.SLOW_DAY: _("Slow-day promotion"),
        Recipe.REFER_A_FRIEND: _("Refer a friend"),
    }
    return names[recipe]


def weekday_name(day: Weekday) -> str:
    return str(get_day_names("wide", locale=current_locale())[day.number])


def _days(days: int) -> str:
    return ngettext("{n} day", "{n} days", days).format(n=number(days))


def trigger_line(trigger: Trigger) -> str:
    """When the automation starts for someone, in words."""
    if isinstance(trigger, Inactive):
        return _("no visit for {days}").format(days=_days(trigger.days))
    if isinstance(trigger, RewardReady):
        return _("a reward is still unused after {days}").format(days=_days(trigger.days))
    if isinstance(trigger, VoucherExpiring):
        return _("a voucher expires within {days}").format(days=_days(trigger.days))
    if isinstance(trigger, Birthday):
        if trigger.days_before == 0:
            return _("on the customer's birthday")
        return _("{days} before the customer's birthday").format(days=_days(trigger.days_before))
    if isinstance(trigger, Recurring):
        return _("every {weekday} at {time}").format(
            weekday=weekday_name(trigger.weekday), time=trigger.at
        )
    words = {
        "joined": _("someone joins the card"),
        "stamp_added": _("a stamp is added"),
        "campaign_delivered": _("a campaign message is delivered"),
        "campaign_opened": _("a campaign message is opened"),
        "friend_joined": _("a friend joins through a member's link"),
        "friend_visited": _("a friend visits for the first time"),
    }
    return words.get(trigger.kind, trigger.kind)


def summary(chain: Chain) -> str:
    """One line: when it starts, how many steps and messages."""
    sends = sum(step.send is not None for step in chain.steps)
    steps = ngettext("{n} step", "{n} steps", len(chain.steps)).format(n=number(len(chain.steps)))
    messages = ngettext("{n} message", "{n} messages", sends).format(n=number(sends))
    return _("When {trigger} · {steps}, {messages}").format(
        trigger=trigger_line(chain.trigger), steps=steps, messages=messages
    )


def state_word(enabled: bool) -> str:
    return _("on") if enabled else _("off")


# Who may press ----------------------------------------------------------------------------


async def _seat(query: CallbackQuery, data: AutoAction) -> tuple[Staff, Message] | None:
    seat = await seat_at(query.from_user.id, data.merchant_id, Permission.CAMPAIGNS)
    if seat is None or not isinstance(query.message, Message):
        logger.info("automation button refused for user %s", query.from_user.id)
        await query.answer(button_expired())
        return None
    return seat, query.message


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise


# The list ---------------------------------------------------------------------------------


async def _list_screen(merchant_id: int) -> tuple[str, InlineKeyboardMarkup]:
    found = await service.list_automations(merchant_id)
    lines = [_("<b>Automations</b> — messages that go out by themselves.")]
    builder = InlineKeyboardBuilder()
    if found:
        lines.append("")
        for view in found:
            lines.append(
                _("{name}: {state}").format(name=bold(view.name), state=state_word(view.enabled))
            )
            builder.button(
                text=f"{user_text(view.name, html=False, limit=40)} · {state_word(view.enabled)}",
                callback_data=AutoAction(
                    op=AutoOp.SHOW, merchant_id=merchant_id, automation_id=view.id
                ),
            )
    lines += [
        "",
        _("Ready-made — pick one to tune, preview and switch on:"),
    ]
    for recipe in Recipe:
        builder.button(
            text=recipe_name(recipe),
            callback_data=AutoAction(op=AutoOp.RECIPE, merchant_id=merchant_id, recipe=recipe),
        )
    lines.append(
        _("Advanced: send a chain as YAML, as a message or a .yaml file, while in admin mode.")
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.message(Command("automations"), IsStaff())
async def automations_command(message: Message, state: FSMContext) -> None:
    user = message.from_user
    if user is None:
        return
    if await admin_merchant(state) is None:
        await message.answer(_("Open admin mode with /admin first."))
        return
    seat = await admin_seat(state, user.id, Permission.CAMPAIGNS)
    if seat is None:
        await message.answer(_("Only the owner or a manager can set up automations."))
        return
    text, markup = await _list_screen(seat.merchant_id)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AutoAction.filter(F.op == AutoOp.LIST))
async def list_pressed(query: CallbackQuery, callback_data: AutoAction, state: FSMContext) -> None:
    found = await _seat(query, callback_data)
    if found is None:
        return
    seat, message = found
    await state.set_state(None)
    text, markup = await _list_screen(seat.merchant_id)
    await query.answer()
    if callback_data.mode == NEW_MESSAGE:
        await message.answer(text, reply_markup=markup)
    else:
        await _edit(message, text, markup)


# A recipe, tuned before it is switched on ------------------------------------------------------


def _recipe_of(value: str) -> Recipe | None:
    try:
        return Recipe(value)
    except ValueError:
        return None


async def _draft(state: FSMContext, merchant_id: int, recipe: Recipe) -> Tuning:
    """The tuning being edited for this shop and recipe (the defaults when none is)."""
    data = await _draft_data(state, merchant_id, recipe)
    return from_json(recipe, data) if data is not None else DEFAULTS[recipe]


async def _editing(state: FSMContext, merchant_id: int, recipe: Recipe) -> int:
    """The automation whose settings the draft changes; 0 for a recipe not made yet."""
    data = await _draft_data(state, merchant_id, recipe)
    return int(data.get("automation_id") or 0) if data is not None else 0


async def _draft_data(
    state: FSMContext, merchant_id: int, recipe: Recipe
) -> dict[str, Any] | None:
    data = (await state.get_data()).get(DRAFT_KEY)
    if (
        isinstance(data, dict)
        and data.get("merchant_id") == merchant_id
        and data.get("recipe") == recipe.value
    ):
        return data
    return None


async def _keep(
    state: FSMContext, merchant_id: int, recipe: Recipe, tuning: Tuning, *, editing: int = 0
) -> None:
    await state.update_data(
        {
            DRAFT_KEY: {
                "merchant_id": merchant_id,
                "recipe": recipe.value,
                "automation_id": editing,
                **as_json(tuning),
            }
        }
    )


async def _chain(merchant_id: int, recipe: Recipe, tuning: Tuning, i18n: I18n) -> Chain:
    """The recipe's chain with its texts in the shop's language."""
    names = await service.shop_names(merchant_id)
    return build(recipe, names, tuning, await _shop_gettext(merchant_id, i18n))


async def _shop_gettext(merchant_id: int, i18n: I18n) -> Gettext:
    """gettext in the shop's language: what customers read is in theirs, not the owner's."""
    language = await service.shop_language(merchant_id)

    def shop_gettext(text: str) -> str:
        return str(i18n.gettext(text, locale=language))

    return shop_gettext


def _setting_label(setting: Setting, recipe: Recipe, tuning: Tuning, chain: Chain) -> str:
    if setting == Setting.DAYS and recipe == Recipe.WELCOME:
        # The welcome's days are the pause before the nudge, not part of its trigger.
        return _("Nudge after: {days}").format(days=_days(tuning.days))
    if setting == Setting.DAYS:
        return _("Starts: {when}").format(when=trigger_line(chain.trigger))
    if setting == Setting.VOUCHER_TITLE:
        title = next(
            (s.send.voucher.title for s in chain.steps if s.send and s.send.voucher),
            next((s.issue.title for s in chain.steps if s.issue), ""),
        )
        return _("Voucher: {title}").format(title=user_text(title, html=False, limit=40))
    if setting == Setting.VOUCHER_DAYS:
        return _("Voucher valid: {days}").format(days=_days(tuning.voucher_days))
    if setting == Setting.WEEKDAY:
        return _("Day: {weekday}").format(weekday=weekday_name(tuning.weekday))
    if setting == Setting.AT:
        return _("Time: {time}").format(time=tuning.at)
    return _("Change the message")


async def _kept_screen(
    state: FSMContext,
    merchant_id: int,
    recipe: Recipe,
    tuning: Tuning,
    i18n: I18n,
    *,
    editing: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    """Keep the draft, and draw the recipe screen that shows it."""
    await _keep(state, merchant_id, recipe, tuning, editing=editing)
    return await _recipe_screen(merchant_id, recipe, tuning, i18n, editing=editing)


async def _recipe_screen(
    merchant_id: int, recipe: Recipe, tuning: Tuning, i18n: I18n, *, editing: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    """The recipe with its settings as buttons; ``editing`` names the automation being
    re-tuned (saved in place), else the recipe is switched on as a new automation."""
    chain = await _chain(merchant_id, recipe, tuning, i18n)
    sends = service.send_steps(chain)
    lines = [
        f"🤖 <b>{recipe_name(recipe)}</b>",
        summary(chain),
        "",
        _("Customers get:"),
    ]
    lines += [f"<blockquote>{send.text}</blockquote>" for _id, send in sends]
    lines.append(_("Tap a setting to change it."))
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": merchant_id, "recipe": recipe.value}
    settings = [
        s for s in SETTINGS[recipe] if not (s == Setting.DAYS and recipe == Recipe.SLOW_DAY)
    ]
    for setting in settings:
        op = AutoOp.TYPE if setting in (Setting.TEXT, Setting.VOUCHER_TITLE) else AutoOp.SET
        builder.button(
            text=_setting_label(setting, recipe, tuning, chain),
            callback_data=AutoAction(op=op, setting=setting.value, **ids),
        )
    builder.button(text=_("🧪 Send a test to me"), callback_data=AutoAction(op=AutoOp.TEST, **ids))
    if editing:
        builder.button(
            text=_("💾 Save changes"),
            callback_data=AutoAction(op=AutoOp.SAVE, automation_id=editing, **ids),
        )
        builder.button(
            text=back_label(recipe_name(recipe)),
            callback_data=AutoAction(
                op=AutoOp.SHOW, merchant_id=merchant_id, automation_id=editing
            ),
        )
    else:
        builder.button(text=_("🚀 Switch on"), callback_data=AutoAction(op=AutoOp.CREATE, **ids))
        builder.button(
            text=back_label(_("Automations")),
            callback_data=AutoAction(op=AutoOp.LIST, merchant_id=merchant_id),
        )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.callback_query(AutoAction.filter(F.op == AutoOp.RECIPE))
async def recipe_pressed(
    query: CallbackQuery, callback_data: AutoAction, state: FSMContext, i18n: I18n
) -> None:
    found = await _seat(query, callback_data)
    recipe = _recipe_of(callback_data.recipe)
    if found is None:
        return
    if recipe is None:
        await query.answer(button_expired())
        return
    seat, message = found
    tuning = DEFAULTS[recipe]
    await query.answer()
    await _edit(message, *await _kept_screen(state, seat.merchant_id, recipe, tuning, i18n))


def _step(values: tuple[object, ...], current: object) -> object:
    """The value after ``current`` (round to the first)."""
    try:
        return values[(values.index(current) + 1) % len(values)]
    except ValueError:
        return values[0]


@router.callback_query(AutoAction.filter(F.op == AutoOp.SET))
async def setting_pressed(
    query: CallbackQuery, callback_data: AutoAction, state: FSMContext, i18n: I18n
) -> None:
    found = await _seat(query, callback_data)
    if found is None:
        return
    recipe = _recipe_of(callback_data.recipe)
    if recipe is None or callback_data.setting not in {s.value for s in SETTINGS[recipe]}:
        await query.answer(button_expired())
        return
    seat, message = found
    tuning = await _draft(state, seat.merchant_id, recipe)
    setting = Setting(callback_data.setting)
    if setting == Setting.DAYS:
        tuning = replace(tuning, days=int(str(_step(DAY_CHOICES[recipe], tuning.days))))
    elif setting == Setting.VOUCHER_DAYS:
        tuning = replace(
            tuning, voucher_days=int(str(_step(VOUCHER_DAY_CHOICES, tuning.voucher_days)))
        )
    elif setting == Setting.WEEKDAY:
        tuning = replace(tuning, weekday=Weekday(str(_step(tuple(Weekday), tuning.weekday))))
    elif setting == Setting.AT:
        tuning = replace(tuning, at=str(_step(TIME_CHOICES, tuning.at)))
    else:
        await query.answer(button_expired())
        return
    editing = await _editing(state, seat.merchant_id, recipe)
    screen = await _kept_screen(state, seat.merchant_id, recipe, tuning, i18n, editing=editing)
    await query.answer()
    await _edit(message, *screen)


@router.callback_query(AutoAction.filter(F.op == AutoOp.TYPE))
async def type_pressed(query: CallbackQuery, callback_data: AutoAction, state: FSMContext) -> None:
    found = await _seat(query, callback_data)
    if found is None:
        return
    recipe = _recipe_of(callback_data.recipe)
    if recipe is None or callback_data.setting not in (Setting.TEXT, Setting.VOUCHER_TITLE):
        await query.answer(button_expired())
        return
    seat, message = found
    editing = await _editing(state, seat.merchant_id, recipe)
    tuning = await _draft(state, seat.merchant_id, recipe)
    await _keep(state, seat.merchant_id, recipe, tuning, editing=editing)
    await query.answer()
    if callback_data.setting == Setting.TEXT:
        await state.set_state(AutomationForm.text)
        await message.answer(
            _("Send the message customers should get (bold and italic are kept).")
        )
    else:
        await state.set_state(AutomationForm.voucher_title)
        await message.answer(
            ngettext(
                "Send the voucher's name, up to {limit} character.",
                "Send the voucher's name, up to {limit} characters.",
                MAX_TITLE,
            ).format(limit=number(MAX_TITLE))
        )


@router.message(
    StateFilter(AutomationForm.text, AutomationForm.voucher_title),
    F.text,
    ~F.text.startswith("/"),
)
async def typed(message: Message, state: FSMContext, i18n: I18n) -> None:
    user = message.from_user
    data = (await state.get_data()).get(DRAFT_KEY)
    if user is None or not isinstance(data, dict) or message.text is None:
        return
    recipe = _recipe_of(str(data.get("recipe")))
    seat = await seat_at(user.id, int(data.get("merchant_id") or 0), Permission.CAMPAIGNS)
    if recipe is None or seat is None:
        await state.set_state(None)
        await message.answer(button_expired())
        return
    tuning = await _draft(state, seat.merchant_id, recipe)
    if await state.get_state() == AutomationForm.text.state:
        text = (message.html_text or message.text).strip()
        if not text or len(text) > MAX_TEXT:
            await message.answer(
                ngettext(
                    "Please send a message of up to {limit} character.",
                    "Please send a message of up to {limit} characters.",
                    MAX_TEXT,
                ).format(limit=number(MAX_TEXT))
            )
            return
        tuning = replace(tuning, text=text)
    else:
        title = message.text.strip()
        if not title or len(title) > MAX_TITLE:
            await message.answer(
                ngettext(
                    "Send the voucher's name, up to {limit} character.",
                    "Send the voucher's name, up to {limit} characters.",
                    MAX_TITLE,
                ).format(limit=number(MAX_TITLE))
            )
            return
        tuning = replace(tuning, voucher_title=title)
    await state.set_state(None)
    editing = await _editing(state, seat.merchant_id, recipe)
    text, markup = await _kept_screen(
        state, seat.merchant_id, recipe, tuning, i18n, editing=editing
    )
    await message.answer(text, reply_markup=markup)


async def _test(message: Message, merchant_id: int, chain: Chain, wizard: WizardServices) -> None:
    sends = service.send_steps(chain)
    if not sends:
        await message.answer(_("This automation sends no message to test."))
        return
    delivered = True
    for _step_id, send in sends:
        tried = await service.send_test_to_me(
            merchant_id, send, wizard.telegram_channel,
            chat_id=message.chat.id, language=current_locale(),
        )  # fmt: skip
        delivered = delivered and tried.delivered
    await message.answer(
        _("Test: above is what customers get in the chat.")
        if delivered
        else _("Telegram refused the test message. Please change the text.")
    )


@router.callback_query(AutoAction.filter(F.op == AutoOp.TEST))
async def test_pressed(
    query: CallbackQuery,
    callback_data: AutoAction,
    state: FSMContext,
    i18n: I18n,
    wizard: WizardServices,
) -> None:
    found = await _seat(query, callback_data)
    if found is None:
        return
    seat, message = found
    if callback_data.automation_id:
        try:
            chain = (
                await service.get_automation(seat.merchant_id, callback_data.automation_id)
            ).chain
        except service.AutomationNotFound:
            await query.answer(button_expired())
            return
    else:
        recipe = _recipe_of(callback_data.recipe)
        if recipe is None:
            await query.answer(button_expired())
            return
        tuning = await _draft(state, seat.merchant_id, recipe)
        chain = await _chain(seat.merchant_id, recipe, tuning, i18n)
    await query.answer()
    await _test(message, seat.merchant_id, chain, wizard)


@router.callback_query(AutoAction.filter(F.op == AutoOp.CREATE))
async def create_pressed(
    query: CallbackQuery, callback_data: AutoAction, state: FSMContext, i18n: I18n
) -> None:
    found = await _seat(query, callback_data)
    if found is None:
        return
    recipe = _recipe_of(callback_data.recipe)
    data = (await state.get_data()).get(DRAFT_KEY)
    # Only the recipe on screen: a button of an older screen would switch on something unseen.
    if recipe is None or not isinstance(data, dict) or data.get("recipe") != recipe.value:
        await query.answer(button_expired())
        return
    seat, message = found
    tuning = await _draft(state, seat.merchant_id, recipe)
    shop_gettext = await _shop_gettext(seat.merchant_id, i18n)
    made = await service.create_from_recipe(
        seat.merchant_id, recipe, tuning, shop_gettext, created_by=seat.id, on=True
    )
    await state.update_data({DRAFT_KEY: None})
    await query.answer(_("Switched on."))
    text, markup = _automation_screen(made)
    await _edit(message, text, markup)


@router.callback_query(AutoAction.filter(F.op == AutoOp.TUNE))
async def tune_pressed(
    query: CallbackQuery, callback_data: AutoAction, state: FSMContext, i18n: I18n
) -> None:
    """A recipe automation's settings, on the recipe screen, to save in place."""
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    recipe = _recipe_of(view.recipe or "")
    if recipe is None or view.tuning is None:
        await query.answer(button_expired())
        return
    screen = await _kept_screen(
        state, seat.merchant_id, recipe, view.tuning, i18n, editing=view.id
    )
    await query.answer()
    await _edit(message, *screen)


@router.callback_query(AutoAction.filter(F.op == AutoOp.SAVE))
async def save_pressed(
    query: CallbackQuery, callback_data: AutoAction, state: FSMContext, i18n: I18n
) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    recipe = _recipe_of(callback_data.recipe)
    # Only the draft on screen, for the automation it was opened for.
    if (
        recipe is None
        or recipe.value != view.recipe
        or await _editing(state, seat.merchant_id, recipe) != view.id
    ):
        await query.answer(button_expired())
        return
    tuning = await _draft(state, seat.merchant_id, recipe)
    shop_gettext = await _shop_gettext(seat.merchant_id, i18n)
    saved = await service.retune(seat.merchant_id, view.id, tuning, shop_gettext)
    await state.update_data({DRAFT_KEY: None})
    await query.answer(_("Saved."))
    text, markup = _automation_screen(saved)
    await _edit(message, text, markup)


# An automation ------------------------------------------------------------------------------


def _automation_screen(view: AutomationView) -> tuple[str, InlineKeyboardMarkup]:
    chain = view.chain
    lines = [
        f"🤖 {bold(view.name)}",
        _("Status: {state}").format(state=state_word(view.enabled)),
        summary(chain),
    ]
    if view.card_name:
        lines.append(_("Card: {card}").format(card=user_text(view.card_name)))
    if chain.holdout:
        lines.append(
            _("Holdout: {share} of people get nothing, to measure the effect.").format(
                share=format_percent(chain.holdout / 100, locale=current_locale())
            )
        )
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": view.merchant_id, "automation_id": view.id}
    if view.enabled:
        builder.button(text=_("Switch off"), callback_data=AutoAction(op=AutoOp.OFF, **ids))
    elif view.was_on:
        builder.button(
            text=_("Switch on, continue where it was"),
            callback_data=AutoAction(op=AutoOp.ON, mode=ResumeMode.RESUME.value, **ids),
        )
        builder.button(
            text=_("Switch on, skip missed messages"),
            callback_data=AutoAction(op=AutoOp.ON, mode=ResumeMode.SKIP.value, **ids),
        )
    else:
        builder.button(text=_("🚀 Switch on"), callback_data=AutoAction(op=AutoOp.ON, **ids))
    builder.button(text=_("📊 Statistics"), callback_data=AutoAction(op=AutoOp.STATS, **ids))
    if view.tuning is not None:
        builder.button(
            text=_("⚙️ Change settings"), callback_data=AutoAction(op=AutoOp.TUNE, **ids)
        )
    if service.send_steps(chain):
        builder.button(
            text=_("🧪 Send a test to me"), callback_data=AutoAction(op=AutoOp.TEST, **ids)
        )
    builder.button(text=_("Export as YAML"), callback_data=AutoAction(op=AutoOp.EXPORT, **ids))
    builder.button(text=_("🗑 Delete"), callback_data=AutoAction(op=AutoOp.DELETE, **ids))
    builder.button(
        text=back_label(_("Automations")),
        callback_data=AutoAction(op=AutoOp.LIST, merchant_id=view.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def _automation(
    query: CallbackQuery, callback_data: AutoAction
) -> tuple[Staff, Message, AutomationView] | None:
    found = await _seat(query, callback_data)
    if found is None:
        return None
    try:
        view = await service.get_automation(found[0].merchant_id, callback_data.automation_id)
    except service.AutomationNotFound:
        await query.answer(button_expired())
        return None
    return found[0], found[1], view


@router.callback_query(AutoAction.filter(F.op == AutoOp.SHOW))
async def show_pressed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    text, markup = _automation_screen(found[2])
    await query.answer()
    await _edit(found[1], text, markup)


@router.callback_query(AutoAction.filter(F.op.in_({AutoOp.ON, AutoOp.OFF})))
async def switch_pressed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    on = callback_data.op == AutoOp.ON
    mode = None
    if callback_data.mode:
        try:
            mode = ResumeMode(callback_data.mode)
        except ValueError:
            await query.answer(button_expired())
            return
    view = await service.set_enabled(seat.merchant_id, view.id, on, resume_mode=mode)
    await query.answer(_("Switched on.") if on else _("Switched off."))
    text, markup = _automation_screen(view)
    await _edit(message, text, markup)


@router.callback_query(AutoAction.filter(F.op == AutoOp.EXPORT))
async def export_pressed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    name, text = await service.export_yaml(seat.merchant_id, view.id)
    await query.answer()
    await message.answer_document(
        BufferedInputFile(text.encode(), filename=name),
        caption=_("{name} as YAML. Change it and send it back to make a new automation.").format(
            name=bold(view.name)
        ),
    )


def stats_text(stats: AutomationStats) -> str:
    lines = [
        _("<b>Statistics · {name}</b>").format(name=user_text(stats.name)),
        _("Enrolled: {enrolled} · waiting: {waiting} · finished: {finished}").format(
            enrolled=number(stats.enrolled),
            waiting=number(stats.waiting),
            finished=number(stats.finished),
        ),
    ]
    if stats.held_out:
        lines.append(_("Held out (sent nothing): {n}").format(n=number(stats.held_out)))
    for step in stats.steps:
        done = number(sum(step.outcomes.values()))
        kinds = {
            "wait": _("waited: {n}"),
            "issue": _("vouchers given: {n}"),
            "stop": _("ended here: {n}"),
        }
        parts = [kinds.get(step.kind, "{n}").format(n=done)]
        if step.kind == "send":
            parts = [
                _("sent {sent}, delivered {delivered}, opened {opened}, clicked {clicked}").format(
                    sent=number(step.outcomes.get("sent", 0)),
                    delivered=number(step.delivered),
                    opened=number(step.opened),
                    clicked=number(step.clicked),
                )
            ]
        elif step.kind == "if":
            parts = [
                _("yes {yes}, no {no}").format(
                    yes=number(step.outcomes.get("yes", 0)), no=number(step.outcomes.get("no", 0))
                )
            ]
        for reason, count in sorted(step.skipped.items()):
            parts.append(
                _("skipped ({reason}): {n}").format(reason=reason_word(reason), n=number(count))
            )
        lines.append(f"• {step.id} — " + "; ".join(parts))
    reached = stats.reached
    lines.append(
        _(
            "Came back after enrolling: {visitors} of {people}; vouchers redeemed: {redeemed}"
        ).format(
            visitors=number(reached.visitors),
            people=number(reached.people),
            redeemed=number(reached.redeemed),
        )
    )
    if stats.uplift is not None:
        lines.append(
            _("Uplift over the holdout group: {points} percentage points").format(
                points=f"{stats.uplift:+.1f}"
            )
        )
    return "\n".join(lines)


def reason_word(reason: str) -> str:
    words = {
        "frequency_cap": _("message limit per person reached"),
        "switched_off": _("was switched off"),
    }
    return words.get(reason, reason)


def _csv_headings(reasons: set[str]) -> service.CsvHeadings:
    return service.CsvHeadings(
        step=_("Step"),
        kind=_("Kind"),
        done=_("Fired"),
        delivered=_("Delivered"),
        failed=_("Failed"),
        opened=_("Opened"),
        clicked=_("Clicked"),
        skipped=_("Skipped"),
        reasons={r: reason_word(r) for r in reasons},
    )


@router.callback_query(AutoAction.filter(F.op == AutoOp.STATS))
async def stats_pressed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    stats = await service.automation_stats(seat.merchant_id, view.id)
    await query.answer()
    await message.answer(stats_text(stats))
    chart = await service.automation_chart(
        seat.merchant_id,
        view.id,
        title=view.name,
        labels=ChartLabels(
            deliveries=_("Messages delivered"),
            visits=_("Came back after it"),
            no_data=_("No deliveries yet"),
        ),
    )
    await message.answer_photo(BufferedInputFile(chart, filename=f"automation-{view.id}.png"))
    reasons = {r for s in stats.steps for r in s.skipped}
    await message.answer_document(
        BufferedInputFile(
            service.stats_csv(stats, _csv_headings(reasons)), filename=f"automation-{view.id}.csv"
        ),
        caption=_("Per step, as a table."),
    )


@router.callback_query(AutoAction.filter(F.op == AutoOp.DELETE))
async def delete_pressed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    builder = InlineKeyboardBuilder()
    ids = {"merchant_id": seat.merchant_id, "automation_id": view.id}
    builder.button(text=_("Yes, delete it"), callback_data=AutoAction(op=AutoOp.DELETE_OK, **ids))
    builder.button(text=back_label(), callback_data=AutoAction(op=AutoOp.SHOW, **ids))
    builder.adjust(1)
    await query.answer()
    await _edit(
        message,
        _("Delete {name}? People waiting in it get nothing more.").format(name=bold(view.name)),
        builder.as_markup(),
    )


@router.callback_query(AutoAction.filter(F.op == AutoOp.DELETE_OK))
async def delete_confirmed(query: CallbackQuery, callback_data: AutoAction) -> None:
    found = await _automation(query, callback_data)
    if found is None:
        return
    seat, message, view = found
    name = await service.delete_automation(seat.merchant_id, view.id)
    await query.answer()
    text, markup = await _list_screen(seat.merchant_id)
    await _edit(message, _("{name} was deleted.").format(name=bold(name)) + "\n\n" + text, markup)


# A chain as YAML --------------------------------------------------------------------------------


def _is_yaml_file(message: Message) -> bool:
    document = message.document
    return document is not None and (document.file_name or "").lower().endswith((".yaml", ".yml"))


async def _yaml_seat(message: Message, state: FSMContext) -> Staff | None:
    user = message.from_user
    if user is None or await admin_merchant(state) is None:
        return None
    return await admin_seat(state, user.id, Permission.CAMPAIGNS)


async def _take_chain(message: Message, seat: Staff, text: str) -> None:
    try:
        made = await service.import_yaml(seat.merchant_id, text, created_by=seat.id)
    except ChainRefused as refused:
        lines = [_("Not saved. Please fix:")]
        for problem in refused.problems:
            said = user_text(problem.text(_))
            lines.append(
                "• " + _("Line {line}: {problem}").format(line=problem.line, problem=said)
                if problem.line
                else f"• {said}"
            )
        await message.answer("\n".join(lines))
        return
    text_, markup = _automation_screen(made)
    await message.answer(
        _("Saved: {summary}").format(summary=f"{bold(made.name)} — {summary(made.chain)}")
        + "\n"
        + _("It is off until you switch it on."),
    )
    await message.answer(text_, reply_markup=markup)


def _chain_text(text: str | None) -> bool:
    return text is not None and service.looks_like_chain(text)


@router.message(StateFilter(None), F.text.func(_chain_text), IsStaff())
async def chain_typed(message: Message, state: FSMContext) -> None:
    seat = await _yaml_seat(message, state)
    if seat is None or message.text is None:
        if await admin_merchant(state) is not None:
            await message.answer(_("Only the owner or a manager can set up automations."))
        return
    await _take_chain(message, seat, message.text)


@router.message(StateFilter(None), F.func(_is_yaml_file), IsStaff())
async def chain_sent_as_file(message: Message, state: FSMContext, bot: Bot) -> None:
    seat = await _yaml_seat(message, state)
    document = message.document
    if seat is None or document is None:
        if await admin_merchant(state) is not None:
            await message.answer(_("Only the owner or a manager can set up automations."))
        return
    if (document.file_size or 0) > MAX_YAML_BYTES:
        await message.answer(
            _("A chain is at most {size} KB.").format(size=number(MAX_YAML_BYTES // 1024))
        )
        return
    data = BytesIO()
    await bot.download(document.file_id, destination=data)
    try:
        text = data.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        await message.answer(_("The file is not UTF-8 text."))
        return
    await _take_chain(message, seat, text)
