"""Customer screens drawn the same on every messenger: Telegram edits them into its settings
message (``handlers.settings``), Viber and WhatsApp send them as new messages
(``conversation.customer``). One text and one set of buttons, so a change reaches all three.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from conversation.actions import voucher_list_actions
from conversation.screen import Action, Screen
from handlers.callbacks import SettingsAction, SettingsOp
from handlers.texts import back_label, bold, ltr, user_text
from loyalty.views import CardView, VoucherView, customer_cards

__all__ = [
    "erase_question",
    "erased_text",
    "leave_pick",
    "leave_question",
    "left_text",
    "privacy",
    "settings_id",
    "vouchers",
]


def settings_id(op: SettingsOp, value: str = "") -> str:
    return SettingsAction(op=op, value=value).pack()


def privacy() -> Screen:
    """Leaving and erasing live one step away from everyday settings, so no one hits them by
    mistake next to "Language"."""
    text = "\n".join(
        [
            _("<b>Privacy &amp; data</b>"),
            _("Leaving a card deletes its stamps and vouchers."),
            _("Erasing your data deletes everything about you at every shop."),
        ]
    )
    rows = (
        (Action(_("Leave a card"), id=settings_id(SettingsOp.LEAVE)),),
        (Action(_("Erase my data"), id=settings_id(SettingsOp.ERASE)),),
        (Action(back_label(), id=settings_id(SettingsOp.MENU)),),
    )
    return Screen(text, actions=rows)


def erase_question() -> Screen:
    text = _(
        "Erase all your data? Your name, email, birthday, every card with its stamps and "
        "every unused voucher are deleted for good. This cannot be undone."
    )
    rows = (
        (Action(_("Yes, erase everything"), id=settings_id(SettingsOp.ERASE_CONFIRM)),),
        (Action(back_label(), id=settings_id(SettingsOp.PRIVACY)),),
    )
    return Screen(text, actions=rows)


def erased_text() -> str:
    return _("Done: your data is erased. Scan a shop's QR code if you ever want to start again.")


def leave_pick(cards: list[CardView]) -> Screen:
    """Which card to leave: one button each, and back to the privacy screen."""
    rows = tuple(
        (
            Action(
                f"{user_text(card.card_name, html=False, limit=40)} · "
                f"{user_text(card.brand.merchant_name, html=False, limit=20)}",
                id=settings_id(SettingsOp.LEAVE_PICK, str(card.membership_id)),
            ),
        )
        for card in cards
    )
    back = (Action(back_label(), id=settings_id(SettingsOp.PRIVACY)),)
    text = _("Which card do you want to leave?") if cards else _("You are not on any card.")
    return Screen(text, actions=(*rows, back))


def leave_question(card: CardView) -> Screen:
    text = _(
        "Leave <b>{card}</b> at {shop}? Its stamps ({stamps}) and unused vouchers "
        "({vouchers}) will be lost."
    ).format(
        card=user_text(card.card_name),
        shop=user_text(card.brand.merchant_name),
        stamps=ltr(str(card.balance)),
        vouchers=ltr(str(len(card.vouchers))),
    )
    rows = (
        (
            Action(
                _("Yes, leave the card"),
                id=settings_id(SettingsOp.LEAVE_CONFIRM, str(card.membership_id)),
            ),
        ),
        (Action(back_label(), id=settings_id(SettingsOp.PRIVACY)),),
    )
    return Screen(text, actions=rows)


def left_text(card: CardView) -> str:
    return _("You left <b>{card}</b>. Scan the shop's QR code any time to join again.").format(
        card=user_text(card.card_name)
    )


async def vouchers(customer_id: int | None) -> Screen | VoucherView:
    """ "My vouchers": the list, or the one voucher itself (a list of one is a tap for
    nothing), or how far the next one is."""
    # The cards once: their vouchers are the list, and without any the nearest reward.
    cards = await customer_cards(customer_id) if customer_id is not None else []
    held = [voucher for card in cards for voucher in card.vouchers]
    if len(held) == 1:
        return held[0]
    if held:
        return Screen(
            _("Your vouchers — tap one to see its code:"), actions=voucher_list_actions(held)
        )
    if not cards:
        return Screen(_("No vouchers yet. Join a shop's card by scanning its QR code."))
    card = cards[0]
    text = ngettext(
        "No vouchers yet. {count} more stamp on {card} and one is yours.",
        "No vouchers yet. {count} more stamps on {card} and one is yours.",
        card.stamps_to_reward,
    ).format(count=card.stamps_to_reward, card=bold(card.card_name))
    return Screen(text)
