"""The customer screens' buttons, once for every messenger.

An action's id is the packed callback data Telegram's routers already answer, so a button
pressed in Viber or WhatsApp comes back with the very id a Telegram tap carries, and one
parser (the ``CallbackData`` classes) checks it everywhere: a forged or stale id fails there.
Telegram draws these rows as inline keyboards (``handlers.keyboards``), the others through
their own renderers.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from conversation.screen import Action
from handlers.callbacks import (
    CardAction,
    CardOp,
    SettingsAction,
    SettingsOp,
    VoucherAction,
    VoucherOp,
)
from handlers.texts import back_label, user_text
from loyalty.views import CardView, VoucherView

Rows = tuple[tuple[Action, ...], ...]

# Ready vouchers shown as their own buttons on the card; more than this get one list button.
VOUCHER_BUTTONS = 3


def voucher_button_label(voucher: VoucherView) -> str:
    return f"🎟 {user_text(voucher.title, html=False, limit=40)}"


def settings_action() -> Action:
    return Action(_("Settings"), id=SettingsAction(op=SettingsOp.MENU).pack())


def card_actions(card: CardView, *, several_cards: bool, wallet_url: str | None = None) -> Rows:
    """Ready vouchers first (one tap opens the voucher), the phone wallet, then the rest."""
    rows: list[tuple[Action, ...]] = []
    if len(card.vouchers) <= VOUCHER_BUTTONS:
        for voucher in card.vouchers:
            show = VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher.id).pack()
            rows.append((Action(voucher_button_label(voucher), id=show),))
    else:
        label = _("🎟 My vouchers ({count})").format(count=len(card.vouchers))
        rows.append((Action(label, id=VoucherAction(op=VoucherOp.LIST).pack()),))
    if wallet_url:
        rows.append((Action(_("📲 Add to phone wallet"), url=wallet_url),))
    if card.invites_open:
        invite = CardAction(op=CardOp.INVITE, membership_id=card.membership_id).pack()
        rows.append((Action(_("🤝 Invite a friend"), id=invite),))
    last = [settings_action()]
    if several_cards:
        last.append(Action(_("All my cards"), id=CardAction(op=CardOp.LIST).pack()))
    rows.append(tuple(last))
    return tuple(rows)


def card_list_actions(cards: list[CardView]) -> Rows:
    return tuple(
        (
            Action(
                f"{user_text(card.card_name, html=False, limit=40)} · "
                f"{user_text(card.brand.merchant_name, html=False, limit=20)}",
                id=CardAction(op=CardOp.SHOW, membership_id=card.membership_id).pack(),
            ),
        )
        for card in cards
    )


def voucher_list_actions(vouchers: list[VoucherView]) -> Rows:
    return tuple(
        (
            Action(
                f"{voucher_button_label(voucher)} · "
                f"{user_text(voucher.brand.merchant_name, html=False, limit=20)}",
                id=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher.id).pack(),
            ),
        )
        for voucher in vouchers
    )


def voucher_detail_actions(voucher: VoucherView, *, usable: bool) -> Rows:
    rows: list[tuple[Action, ...]] = []
    if usable:
        use = VoucherAction(op=VoucherOp.REDEEM, voucher_id=voucher.id).pack()
        rows.append((Action(_("Use it now"), id=use),))
    back = VoucherAction(op=VoucherOp.LIST).pack()
    rows.append((Action(back_label(_("My vouchers")), id=back),))
    return tuple(rows)


def redeem_confirm_actions(voucher: VoucherView) -> Rows:
    """Edited into the voucher message itself: the confirm is the same screen, not a new one."""
    confirm = VoucherAction(op=VoucherOp.CONFIRM, voucher_id=voucher.id).pack()
    cancel = VoucherAction(op=VoucherOp.CANCEL, voucher_id=voucher.id).pack()
    return (
        (Action(_("✅ I'm at the counter — use it"), id=confirm),),
        (Action(_("Not now"), id=cancel),),
    )
