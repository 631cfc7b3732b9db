"""Telegram's side of linking messengers: a code to type elsewhere, and a code from elsewhere.

"🔗 Link another messenger" in the settings (or ``/link``) shows a code to send to our bot in
Viber or WhatsApp; a code shown there and typed here (``/link K7Q-D3M-XPA``, or the code alone
as a message) makes this Telegram account part of that customer. The rules are
``loyalty.linking``'s; this module only words them.

Two routers: ``router`` (the button and ``/link``) sits with the settings; ``typed`` (a code
sent as plain text) sits after every other conversation, and only outside a form, so a text a
form asked for is never taken for a code.

Where we are on Telegram only (no Viber, no WhatsApp configured: ``messenger_links``), there
is nothing to link: the settings offer no button, ``/link`` says so in a line, and a text
that looks like a code is just a text.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import BaseFilter, Command, CommandObject, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from conversation.links import MessengerLinks
from conversation.screen import Action, Screen
from handlers.callbacks import SettingsAction, SettingsOp
from handlers.keyboards import inline
from handlers.screens import expired, show
from handlers.texts import back_label, bold, code, stamps_of, user_text
from loyalty.clock import utcnow
from loyalty.linking import LinkCodes, LinkOutcome, LinkStatus, looks_like_link_code
from loyalty.views import customer_cards
from models.enums import Platform
from wallets.service import Wallets

if TYPE_CHECKING:
    from models import Customer

logger = logging.getLogger(__name__)
router = Router(name="linking")
typed = Router(name="linking_typed")

# Brand names: the same in every language.
MESSENGERS = {
    Platform.TELEGRAM: "Telegram",
    Platform.VIBER: "Viber",
    Platform.WHATSAPP: "WhatsApp",
}


def code_screen(shown: str, here: Platform) -> Screen:
    """A code shown ``here`` to type in another of our messengers, with [New code] [Back]."""
    if here == Platform.TELEGRAM:
        how = _("Open our bot in Viber or WhatsApp and send this code; it works for 15 minutes.")
    else:
        how = _("Send this code to our bot in {messengers}; it works for 15 minutes.").format(
            messengers=other_messengers(here)
        )
    text = "\n".join(
        [
            _("<b>🔗 Link another messenger</b>"),
            _("Your code: {code}").format(code=code(shown)),
            "",
            how,
            _("Your cards, stamps and vouchers are then the same in both."),
        ]
    )
    rows = (
        (Action(_("🔄 New code"), id=SettingsAction(op=SettingsOp.LINK).pack()),),
        (Action(back_label(), id=SettingsAction(op=SettingsOp.MENU).pack()),),
    )
    return Screen(text, actions=rows)


def nothing_to_link_text() -> str:
    return _("We are on Telegram only here, so there is no other messenger to link.")


@router.callback_query(SettingsAction.filter(F.op == SettingsOp.LINK))
async def link_pressed(
    query: CallbackQuery,
    customer: Customer | None,
    link_codes: LinkCodes,
    messenger_links: MessengerLinks,
) -> None:
    """A new code each time (the one before stops working), edited into the settings message.
    A button from before the other messengers went away is an expired one."""
    if (
        customer is None
        or not isinstance(query.message, Message)
        or not messenger_links.others(Platform.TELEGRAM)
    ):
        await expired(query)
        return
    issued = await link_codes.issue(customer.id, Platform.TELEGRAM)
    screen = code_screen(issued.code, Platform.TELEGRAM)
    await query.answer()
    await show(query.message, screen.text, inline(screen.actions))


@router.message(Command("link"))
async def link_command(
    message: Message,
    command: CommandObject,
    customer: Customer | None,
    link_codes: LinkCodes,
    wallets: Wallets,
    messenger_links: MessengerLinks,
) -> None:
    """``/link CODE`` links this chat to the code's customer; ``/link`` alone shows a code."""
    if not messenger_links.others(Platform.TELEGRAM):
        await message.answer(nothing_to_link_text())
        return
    if command.args:
        await _redeem(message, command.args, link_codes, wallets)
        return
    if customer is None:
        await message.answer(
            _(
                "Got a code from our bot in Viber or WhatsApp? Send it here as "
                "/link followed by the code."
            )
        )
        return
    issued = await link_codes.issue(customer.id, Platform.TELEGRAM)
    await message.answer(code_screen(issued.code, Platform.TELEGRAM).text)


class TypedLinkCode(BaseFilter):
    """A message that is a link code and nothing else (see ``looks_like_link_code``), where
    there is another messenger it can come from."""

    async def __call__(
        self, message: Message, messenger_links: MessengerLinks
    ) -> bool | dict[str, Any]:
        if not messenger_links.others(Platform.TELEGRAM):
            return False
        if not message.text or looks_like_link_code(message.text) is None:
            return False
        return {"typed_code": message.text}


@typed.message(F.text, StateFilter(None), TypedLinkCode())
async def code_typed(
    message: Message, typed_code: str, link_codes: LinkCodes, wallets: Wallets
) -> None:
    await _redeem(message, typed_code, link_codes, wallets)


async def _redeem(message: Message, text: str, link_codes: LinkCodes, wallets: Wallets) -> None:
    user = message.from_user
    if user is None:
        return
    outcome = await link_codes.redeem(
        text,
        Platform.TELEGRAM,
        str(user.id),
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )
    await message.answer(await link_answer(outcome, Platform.TELEGRAM))
    if outcome.merged_customer_id is not None:
        # After the answer: the wallets (APNs, Google's API) are slower than the chat.
        await wallets.forget_left_memberships(outcome.merged_customer_id)


def other_messengers(here: Platform) -> str:
    """The messengers a code shown ``here`` is typed in, by their brand names."""
    return " / ".join(name for platform, name in MESSENGERS.items() if platform != here)


async def link_answer(outcome: LinkOutcome, here: Platform) -> str:
    """What the person who typed a code in ``here`` is told (the cards follow on Telegram;
    the other messengers show the card screen after it)."""
    other = MESSENGERS.get(outcome.issued_on, "") if outcome.issued_on else ""
    if outcome.status == LinkStatus.SAME_MESSENGER:
        if here != Platform.TELEGRAM:
            return _(
                "This code is for another messenger: send it to our bot in {messengers}."
            ).format(messengers=other_messengers(here))
        return _(
            "This code is for another messenger: open our bot in Viber or WhatsApp and send "
            "it there."
        )
    if outcome.status == LinkStatus.TOO_MANY_ATTEMPTS:
        wait = outcome.retry_at - utcnow() if outcome.retry_at else None
        minutes = max(1, math.ceil(wait.total_seconds() / 60)) if wait else 15
        return ngettext(
            "Too many wrong codes. Please try again in {minutes} minute.",
            "Too many wrong codes. Please try again in {minutes} minutes.",
            minutes,
        ).format(minutes=minutes)
    if outcome.customer_id is None:
        return _(
            "This code doesn't work: it may be mistyped, used already or older than 15 "
            "minutes. Get a new one in the other messenger: Settings → 🔗 Link another "
            "messenger."
        )
    if outcome.status == LinkStatus.ALREADY_LINKED:
        lines = [_("This chat is already linked with your {messenger}.").format(messenger=other)]
    else:
        lines = [
            _("🔗 Done: this chat and your {messenger} now share one membership.").format(
                messenger=other
            )
        ]
    if here != Platform.TELEGRAM:
        return "\n".join(lines)
    if outcome.rewards:
        lines.append(_("🎉 Your stamps together filled a card: see /vouchers."))
    lines += await _cards(outcome.customer_id)
    return "\n".join(lines)


async def _cards(customer_id: int) -> list[str]:
    cards = await customer_cards(customer_id)
    if not cards:
        return [_("No cards yet: scan a shop's QR code to join one.")]
    lines = ["", _("Your cards:")]
    for card in cards:
        lines.append(
            f"• {bold(card.card_name)} · {user_text(card.brand.merchant_name)} · "
            f"{stamps_of(card.balance, card.stamps_needed)}"
        )
    return lines
