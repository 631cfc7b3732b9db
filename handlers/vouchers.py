"""Vouchers: the list, one voucher with its QR and code, and using it oneself at the counter.

Customers "use" a voucher; staff "redeem" it. The confirm is edited into the voucher message
itself, so using a voucher is: its button on the card, "Use it now", "I'm at the counter".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from conversation.screen import Screen
from conversation.screens import vouchers
from handlers import keyboards
from handlers.callbacks import VoucherAction, VoucherOp
from handlers.cards import Shortcut, shortcuts
from handlers.media import FileIdCache, send_photo_cached
from handlers.notify import CustomerNotifier
from handlers.texts import (
    bold,
    button_expired,
    code,
    local_date,
    local_datetime,
    user_text,
)
from loyalty.clock import utcnow
from loyalty.errors import (
    LoyaltyError,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotFound,
    VoucherVoid,
)
from loyalty.views import VoucherView, customer_voucher
from loyalty.vouchers import redeem_voucher
from models.enums import RedeemVia, VoucherStatus
from wallets.service import Wallets
from web.card_image import voucher_image

if TYPE_CHECKING:
    from models import Customer

router = Router(name="vouchers")


async def _send_list(
    message: Message, bot: Bot, customer: Customer | None, file_cache: FileIdCache
) -> None:
    shown = await vouchers(customer.id if customer else None)
    if isinstance(shown, Screen):
        markup = keyboards.inline(shown.actions) if shown.actions else None
        await message.answer(shown.text, reply_markup=markup)
    else:
        await _send_voucher(bot, file_cache, message.chat.id, shown)


def voucher_status_line(voucher: VoucherView) -> str:
    now = utcnow()
    if voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_at is not None:
        return _("Used on {when}.").format(
            when=local_datetime(voucher.redeemed_at, voucher.brand.timezone)
        )
    if voucher.status == VoucherStatus.VOID:
        return _("This voucher was cancelled by the shop.")
    if not voucher.usable(now):
        assert voucher.expires_at is not None
        return _("This voucher expired on {when}.").format(
            when=local_date(voucher.expires_at, voucher.brand.timezone)
        )
    if voucher.expires_at is None:
        return _("Valid with no end date.")
    return _("Valid until {date}.").format(
        date=local_date(voucher.expires_at, voucher.brand.timezone)
    )


def voucher_caption(voucher: VoucherView) -> str:
    return "\n".join(
        [
            bold(voucher.title),
            f"{user_text(voucher.brand.merchant_name)} · {user_text(voucher.card_name)}",
            _("Code: {code}").format(code=code(voucher.code)),
            voucher_status_line(voucher),
            "",
            _("Staff scan the QR code or type the code at the counter."),
        ]
    )


def not_usable_text(error: LoyaltyError, voucher: VoucherView) -> str:
    """Why a voucher can't be used, said to its holder ("used", never "redeemed")."""
    zone = voucher.brand.timezone
    if isinstance(error, VoucherAlreadyRedeemed):
        return _("This voucher was already used on {when}.").format(
            when=local_datetime(error.redeemed_at, zone)
        )
    if isinstance(error, VoucherExpired):
        return _("This voucher expired on {when}.").format(when=local_date(error.expired_at, zone))
    if isinstance(error, VoucherVoid):
        return _("This voucher was cancelled by the shop.")
    return _("This voucher can't be used any more.")


async def _send_voucher(
    bot: Bot, file_cache: FileIdCache, chat_id: int, voucher: VoucherView
) -> None:
    from render.card import render_voucher  # here: Pillow and zxing-cpp only when one is drawn

    me = await bot.me()
    image = voucher_image(voucher, me.username or "")
    await send_photo_cached(
        bot,
        file_cache,
        chat_id=chat_id,
        key=image.cache_key(),
        render=lambda: render_voucher(image),
        caption=voucher_caption(voucher),
        reply_markup=keyboards.voucher_detail(voucher, usable=voucher.usable(utcnow())),
    )


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """The voucher's own message changes (its caption; a text for older confirms). A double
    tap asks for the same content again, which Telegram refuses as "not modified": harmless."""
    try:
        if message.photo:
            await message.edit_caption(caption=text, reply_markup=markup)
        else:
            await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise


@router.message(Command("vouchers"))
@shortcuts.message(Shortcut("vouchers"))
async def vouchers_command(
    message: Message, bot: Bot, customer: Customer | None, file_cache: FileIdCache
) -> None:
    await _send_list(message, bot, customer, file_cache)


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.LIST))
async def vouchers_button(
    query: CallbackQuery, bot: Bot, customer: Customer | None, file_cache: FileIdCache
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send_list(query.message, bot, customer, file_cache)


async def _own_voucher(
    query: CallbackQuery, customer: Customer | None, voucher_id: int
) -> VoucherView | None:
    """The customer's own voucher, or None after telling them the button is stale (another
    person's voucher id is "not found" for them: nothing about it is shown or changed)."""
    if customer is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return None
    try:
        return await customer_voucher(voucher_id, customer.id)
    except VoucherNotFound:
        await query.answer(button_expired())
        return None


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.SHOW))
async def show_voucher(
    query: CallbackQuery,
    callback_data: VoucherAction,
    bot: Bot,
    customer: Customer | None,
    file_cache: FileIdCache,
) -> None:
    voucher = await _own_voucher(query, customer, callback_data.voucher_id)
    if voucher is None or query.message is None:
        return
    await query.answer()
    await _send_voucher(bot, file_cache, query.message.chat.id, voucher)


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.REDEEM))
async def ask_to_use(
    query: CallbackQuery, callback_data: VoucherAction, customer: Customer | None
) -> None:
    voucher = await _own_voucher(query, customer, callback_data.voucher_id)
    if voucher is None or not isinstance(query.message, Message):
        return
    if not voucher.usable(utcnow()):
        await query.answer(voucher_status_line(voucher), show_alert=True)
        await _edit(query.message, voucher_caption(voucher), None)
        return
    await query.answer()
    question = _(
        "Use <b>{title}</b> now? Only do this at the counter, in front of the staff: "
        "a voucher can be used once."
    ).format(title=user_text(voucher.title))
    await _edit(
        query.message,
        voucher_caption(voucher) + "\n\n" + question,
        keyboards.redeem_confirm(voucher),
    )


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.CONFIRM))
async def confirm_use(
    query: CallbackQuery,
    callback_data: VoucherAction,
    customer: Customer | None,
    notifier: CustomerNotifier,
    wallets: Wallets | None = None,
) -> None:
    voucher = await _own_voucher(query, customer, callback_data.voucher_id)
    if voucher is None or customer is None or not isinstance(query.message, Message):
        return
    try:
        redeemed = await redeem_voucher(
            voucher.id,
            merchant_id=voucher.merchant_id,
            via=RedeemVia.SELF,
            customer_id=customer.id,
        )
    except LoyaltyError as refused:
        # A double tap, or a stale message after the staff redeemed it or it expired.
        await query.answer(not_usable_text(refused, voucher), show_alert=True)
        fresh = await customer_voucher(voucher.id, customer.id)
        await _edit(query.message, used_text(fresh) or voucher_caption(fresh), None)
        return
    assert redeemed.redeemed_at is not None
    await query.answer(_("Used ✅"))
    used = await customer_voucher(voucher.id, customer.id)
    await _edit(query.message, used_text(used) or voucher_caption(used), None)
    # The staff's own phones confirm it (a screenshot can't), then the wallet pass changes.
    await notifier.later(
        ("shop leads", used.merchant_id), notifier.self_redeemed, used, customer.first_name or ""
    )
    if wallets is not None:
        # The voucher leaves the wallet pass too (best effort: it never fails the redemption).
        await wallets.voucher_changed(voucher.id)


def used_text(voucher: VoucherView) -> str | None:
    if voucher.status != VoucherStatus.REDEEMED or voucher.redeemed_at is None:
        return None
    return _("✅ <b>{title}</b> used at {shop} on {when}. Show this message to the staff.").format(
        title=user_text(voucher.title),
        shop=user_text(voucher.brand.merchant_name),
        when=local_datetime(voucher.redeemed_at, voucher.brand.timezone),
    )


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.CANCEL))
async def not_now(
    query: CallbackQuery, callback_data: VoucherAction, customer: Customer | None
) -> None:
    """Back to the voucher as it was: nothing used, the same message."""
    voucher = await _own_voucher(query, customer, callback_data.voucher_id)
    if voucher is None or not isinstance(query.message, Message):
        return
    await query.answer(_("Not used — the voucher stays on your card."))
    await _edit(
        query.message,
        voucher_caption(voucher),
        keyboards.voucher_detail(voucher, usable=voucher.usable(utcnow())),
    )
