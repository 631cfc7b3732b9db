"""Vouchers: the list, one voucher with its QR and code, and self-redeem at the till."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers import keyboards
from handlers.callbacks import VoucherAction, VoucherOp
from handlers.media import FileIdCache, send_photo_cached
from handlers.texts import (
    bold,
    button_expired,
    code,
    local_date,
    local_datetime,
    refusal,
    user_text,
)
from loyalty.clock import utcnow
from loyalty.errors import LoyaltyError, VoucherNotFound
from loyalty.tokens import LinkKind, start_link
from loyalty.views import VoucherView, customer_cards, customer_voucher, customer_vouchers
from loyalty.vouchers import redeem_voucher
from models.enums import RedeemVia, VoucherStatus
from render.card import VoucherImage, render_voucher
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer

router = Router(name="vouchers")


async def _send_list(message: Message, customer: Customer | None) -> None:
    vouchers = await customer_vouchers(customer.id) if customer else []
    if vouchers:
        await message.answer(
            _("Your vouchers — tap one to see its code:"),
            reply_markup=keyboards.voucher_list(vouchers),
        )
        return
    cards = await customer_cards(customer.id) if customer else []
    if cards:
        card = cards[0]
        await message.answer(
            ngettext(
                "No vouchers yet. {count} more stamp on {card} and one is yours.",
                "No vouchers yet. {count} more stamps on {card} and one is yours.",
                card.stamps_to_reward,
            ).format(count=card.stamps_to_reward, card=bold(card.card_name))
        )
    else:
        await message.answer(_("No vouchers yet. Join a shop's card by scanning its QR code."))


def _status_line(voucher: VoucherView) -> str:
    now = utcnow()
    if voucher.status == VoucherStatus.REDEEMED and voucher.redeemed_at is not None:
        return _("✅ Redeemed on {when}.").format(
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


def _voucher_caption(voucher: VoucherView) -> str:
    return "\n".join(
        [
            bold(voucher.title),
            f"{user_text(voucher.brand.merchant_name)} · {user_text(voucher.card_name)}",
            _("Code: {code}").format(code=code(voucher.code)),
            _status_line(voucher),
            "",
            _("Staff scan the QR code or type the code at the till."),
        ]
    )


@router.message(Command("vouchers"))
async def vouchers_command(message: Message, customer: Customer | None) -> None:
    await _send_list(message, customer)


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.LIST))
async def vouchers_button(query: CallbackQuery, customer: Customer | None) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send_list(query.message, customer)


async def _own_voucher(
    query: CallbackQuery, customer: Customer | None, voucher_id: int
) -> VoucherView | None:
    """The customer's own voucher, or None after telling them the button is stale."""
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
    me = await bot.me()
    image = VoucherImage(
        merchant_name=voucher.brand.merchant_name,
        title=voucher.title,
        code=voucher.code,
        background=voucher.brand.background,
        foreground=voucher.brand.foreground,
        accent=voucher.brand.accent,
        qr_url=start_link(me.username or "", LinkKind.VOUCHER, voucher.token),
    )
    await send_photo_cached(
        bot,
        file_cache,
        chat_id=query.message.chat.id,
        key=image.cache_key(),
        render=lambda: render_voucher(image),
        caption=_voucher_caption(voucher),
        reply_markup=keyboards.voucher_detail(voucher, usable=voucher.usable(utcnow())),
    )


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.REDEEM))
async def ask_to_redeem(
    query: CallbackQuery, callback_data: VoucherAction, customer: Customer | None
) -> None:
    voucher = await _own_voucher(query, customer, callback_data.voucher_id)
    if voucher is None or not isinstance(query.message, Message):
        return
    await query.answer()
    if not voucher.usable(utcnow()):
        await query.message.answer(_status_line(voucher))
        return
    await query.message.answer(
        _(
            "Use <b>{title}</b> now? Only do this at the till, in front of the staff: "
            "a voucher can be used once."
        ).format(title=user_text(voucher.title)),
        reply_markup=keyboards.redeem_confirm(voucher),
    )


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.CONFIRM))
async def confirm_redeem(
    query: CallbackQuery,
    callback_data: VoucherAction,
    customer: Customer | None,
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
        text = refusal(refused, voucher.brand.timezone)
        await query.answer()
        await query.message.edit_text(text)
        return
    assert redeemed.redeemed_at is not None
    if wallets is not None:
        # The voucher leaves the wallet pass too (best effort: it never fails the redemption).
        await wallets.voucher_changed(voucher.id)
    await query.answer(_("Redeemed ✅"))
    await query.message.edit_text(
        _(
            "✅ <b>{title}</b> redeemed at {shop} on {when}. Show this message to the staff."
        ).format(
            title=user_text(voucher.title),
            shop=user_text(voucher.brand.merchant_name),
            when=local_datetime(redeemed.redeemed_at, voucher.brand.timezone),
        )
    )


@router.callback_query(VoucherAction.filter(F.op == VoucherOp.CANCEL))
async def cancel_redeem(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Not redeemed — the voucher stays on your card."))
