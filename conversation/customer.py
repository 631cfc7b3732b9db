"""A customer's conversation on Viber and WhatsApp: the same card, vouchers and settings as on
Telegram, as platform-neutral screens.

Telegram's routers answer a person through aiogram; the other messengers hand their webhooks'
events here (``Inbound``) and render what comes back (``Screen``) within their own limits. The
texts, the buttons and their ids are Telegram's own (``conversation.actions``,
``handlers.callbacks``): a card button pressed in Viber carries the very data a Telegram tap
does and goes through the same parser, so a forged, stale or out-of-range id is refused the
same way — here with "This button has expired." and the person's cards as they are now.

What differs is what those platforms cannot do. Nothing is edited in place (each answer is a
new message), and there is no free-text form, so email and birthday stay Telegram's; the
offers switch here is this messenger's own channel, which is what "stop" on this platform
means. A person is stored only once they join a card: opening the chat or writing without a
join link creates nobody. Every event from a known person marks their identity reachable and
starts WhatsApp's 24-hour window (``Identity.last_inbound_at``); leaving the chat
(Viber's ``unsubscribed``) marks it unreachable, and nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from pydantic import ValidationError

from conversation.actions import (
    Rows,
    card_actions,
    card_list_actions,
    redeem_confirm_actions,
    settings_action,
    voucher_detail_actions,
)
from conversation.joining import find_payload, join_by_link
from conversation.links import MessengerLinks, account_links
from conversation.screen import Action, Inbound, InboundKind, Screen, StatusUpdate
from conversation.screens import (
    erase_question,
    erased_text,
    leave_pick,
    leave_question,
    left_text,
    privacy,
    settings_id,
    vouchers,
)
from handlers.callbacks import (
    CardAction,
    CardOp,
    OffersAction,
    OffersOp,
    SettingsAction,
    SettingsOp,
    VoucherAction,
    VoucherOp,
    parse_switch,
    switch_value,
)
from handlers.cards import card_caption, no_cards_text
from handlers.invites import invite_text
from handlers.linking import MESSENGERS as MESSENGER_NAMES
from handlers.linking import code_screen, link_answer
from handlers.offers import stopped_text
from handlers.texts import (
    back_label,
    button_expired,
    picked_label,
    state_label,
    user_text,
)
from handlers.vouchers import not_usable_text, used_text, voucher_caption
from locales import NATIVE_NAMES, supported_language
from loyalty.clock import utcnow
from loyalty.customers import (
    customer_for_identity,
    erase_customer,
    find_customer,
    mark_inbound,
)
from loyalty.errors import LoyaltyError, MembershipNotFound, VoucherNotFound
from loyalty.linking import LinkCodes, looks_like_link_code
from loyalty.links import LinkSigner
from loyalty.memberships import leave_card
from loyalty.messenger_accounts import came_through
from loyalty.profile import (
    OFFER_CHANNELS,
    customer_shops,
    mark_unreachable,
    opted_out,
    set_language,
    set_opt_out,
    stop_offers,
)
from loyalty.referrals import member_invite
from loyalty.tokens import LinkKind
from loyalty.views import (
    CardView,
    VoucherView,
    customer_card,
    customer_cards,
    customer_voucher,
)
from loyalty.vouchers import redeem_voucher
from models.enums import MESSENGERS, Platform, RedeemVia
from wallets.card_link import card_page_url
from web.card_image import card_image_url, voucher_image_url

if TYPE_CHECKING:
    from models import Customer

__all__ = ["CustomerConversation", "ReceiptSink", "RedemptionWatch", "WalletUpdates"]

logger = logging.getLogger(__name__)

_PLATFORMS = {Platform.VIBER.value: Platform.VIBER, Platform.WHATSAPP.value: Platform.WHATSAPP}
_CHANNELS = {platform: channel for channel, platform in MESSENGERS.items()}


class ReceiptSink(Protocol):
    """Where status updates go (``conversation.receipts.DeliveryReceipts``)."""

    async def record(self, update: StatusUpdate) -> None: ...


class RedemptionWatch(Protocol):
    """Who is told of a voucher used in the chat (``handlers.notify.CustomerNotifier``): the
    shop's phones confirm it, since a screenshot could fake the chat."""

    async def self_redeemed(self, voucher: VoucherView, customer_name: str) -> int: ...


class WalletUpdates(Protocol):
    """The phone wallets' side of a change (``wallets.service.Wallets``)."""

    async def voucher_changed(self, voucher_id: int) -> object: ...

    async def forget_left_memberships(self, customer_id: int) -> object: ...


@dataclass(frozen=True, slots=True)
class _Turn:
    """One event, with what is known of who sent it."""

    inbound: Inbound
    platform: Platform
    customer: Customer | None


class CustomerConversation:
    """``handle`` one Viber or WhatsApp event, in the person's language; ``receipt`` passes
    status updates on. ``signer`` gives cards their picture and wallet page (the web app
    serves both); without it, cards go as text."""

    def __init__(
        self,
        i18n: I18n,
        receipts: ReceiptSink,
        *,
        links: MessengerLinks,
        signer: LinkSigner | None = None,
        staff: RedemptionWatch | None = None,
        wallets: WalletUpdates | None = None,
        link_codes: LinkCodes | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._i18n = i18n
        self._receipts = receipts
        self._links = links
        self._signer = signer
        self._staff = staff
        self._wallets = wallets
        self._link_codes = link_codes
        self._clock = clock

    async def receipt(self, update: StatusUpdate) -> None:
        await self._receipts.record(update)

    async def handle(self, inbound: Inbound) -> list[Screen]:
        platform = _PLATFORMS.get(inbound.platform)
        if platform is None:
            return []
        if inbound.kind == InboundKind.UNSUBSCRIBED:
            await mark_unreachable(platform, inbound.user_id)
            return []
        found = await find_customer(platform, inbound.user_id)
        customer = found[0] if found else None
        if customer is not None:
            await mark_inbound(
                platform, inbound.user_id, at=self._clock(), language_code=inbound.language_code
            )
        language = self._language(customer, inbound)
        with self._i18n.context(), self._i18n.use_locale(language):
            screens = await self._answer(_Turn(inbound, platform, customer))
        await self._came_through(inbound, platform, found[1].account_id if found else None)
        return screens

    async def _came_through(self, inbound: Inbound, platform: Platform, known: int | None) -> None:
        """An event through a shop's own account (``Inbound.account``, its id) makes that
        account the person's way to the shop: after the answer, so a join that has just made
        the identity is counted too (as ``handlers.middlewares`` does for Telegram)."""
        if not inbound.account.isdigit():
            return
        account_id = int(inbound.account)
        if known != account_id:
            await came_through(account_id, platform, inbound.user_id)

    def _language(self, customer: Customer | None, inbound: Inbound) -> str:
        """The language picked in settings, else the messenger's, else the default."""
        available = self._i18n.available_locales
        picked = customer.language if customer is not None else None
        return (
            supported_language(picked, available)
            or supported_language(inbound.language_code, available)
            or self._i18n.default_locale
        )

    async def _answer(self, turn: _Turn) -> list[Screen]:
        inbound = turn.inbound
        if inbound.kind == InboundKind.OPENED:
            if inbound.payload:
                return await self._join(turn, inbound.payload)
            return await self._home(turn.customer, greeting=True)
        if inbound.kind == InboundKind.TEXT:
            payload = find_payload(inbound.text)
            if payload is not None:
                return await self._join(turn, payload)
            if self._link_codes is not None and looks_like_link_code(inbound.text):
                return await self._link(turn, self._link_codes)
            command = _command(inbound.text)
            if command is not None:
                return await self._command(turn, command)
            return await self._typed(turn)
        if inbound.kind == InboundKind.ACTION:
            return await self._pressed(turn, inbound.action_id)
        return []

    # Joining and the cards

    async def _join(self, turn: _Turn, payload: str) -> list[Screen]:
        inbound = turn.inbound

        async def person() -> Customer:
            made = await customer_for_identity(
                turn.platform,
                inbound.user_id,
                first_name=inbound.name,
                language_code=inbound.language_code,
            )
            await mark_inbound(turn.platform, inbound.user_id, at=self._clock())
            return made

        joined = await join_by_link(payload, turn.customer, person)
        if joined.card is None:
            return [Screen(joined.refusal)]
        return [self._card_screen(joined.card, joined.caption, several=joined.several_cards)]

    def _card_screen(self, card: CardView, caption: str, *, several: bool) -> Screen:
        wallet = image = ""
        if self._signer is not None:
            wallet = card_page_url(self._signer, card.membership_id, card.token)
            image = card_image_url(self._signer, card)
        return Screen(
            caption,
            actions=card_actions(card, several_cards=several, wallet_url=wallet or None),
            image_url=image,
        )

    async def _home(self, customer: Customer | None, *, greeting: bool = False) -> list[Screen]:
        """The person's cards: the one card, or the list of them; how to join, without."""
        cards = await customer_cards(customer.id) if customer is not None else []
        if not cards:
            text = no_cards_text()
            if greeting:
                text = _("Hi! I keep your stamp cards from your favourite shops.") + "\n\n" + text
            return [Screen(text)]
        if len(cards) == 1:
            return [self._card_screen(cards[0], card_caption(cards[0]), several=False)]
        return [_card_list(cards)]

    async def _link(self, turn: _Turn, link_codes: LinkCodes) -> list[Screen]:
        """A code shown in another messenger: this chat joins that membership (whoever wrote
        here, known or not: a newcomer is who the code is for)."""
        inbound = turn.inbound
        outcome = await link_codes.redeem(
            inbound.text,
            turn.platform,
            inbound.user_id,
            first_name=inbound.name,
            language_code=inbound.language_code,
            now=self._clock(),
        )
        said = Screen(await link_answer(outcome, turn.platform))
        if not outcome.linked or outcome.customer_id is None:
            return [said]
        await mark_inbound(turn.platform, inbound.user_id, at=self._clock())
        if outcome.merged_customer_id is not None and self._wallets is not None:
            await self._wallets.forget_left_memberships(outcome.merged_customer_id)
        # The chat's identity is the linked customer's now: found as any writer is.
        linked = await find_customer(turn.platform, inbound.user_id)
        return [said, *await self._home(linked[0] if linked else None)]

    async def _code(self, turn: _Turn, customer: Customer) -> Screen:
        """A code to type in another messenger (a new one each time; the last stops working)."""
        if self._link_codes is None:
            raise LookupError("linking is off")
        issued = await self._link_codes.issue(customer.id, turn.platform, now=self._clock())
        return code_screen(issued.code, turn.platform)

    async def _typed(self, turn: _Turn) -> list[Screen]:
        """Free text: nobody reads this chat, so say so, and show the cards."""
        if turn.customer is None:
            return await self._home(None, greeting=True)
        note = Screen(_("I'm the card bot, so I can't pass messages to the shop."))
        return [note, *await self._home(turn.customer)]

    async def _command(self, turn: _Turn, command: str) -> list[Screen]:
        """``/card``, ``/vouchers``, ``/settings``, ``/help``: what WhatsApp's command list
        sends when tapped (``channels.whatsapp.commands``), answered with the screen the same
        button shows; another ``/word`` is free text."""
        customer = turn.customer
        if command == "help":
            return await self._home(customer, greeting=True)
        if command == "card":
            return await self._home(customer)
        if customer is None:
            return await self._typed(turn)
        if command == "vouchers":
            return await self._vouchers(customer)
        if command == "settings":
            return [await self._menu(turn, customer)]
        return await self._typed(turn)

    async def _expired(self, customer: Customer | None) -> list[Screen]:
        return [Screen(button_expired()), *await self._home(customer)]

    async def _pressed(self, turn: _Turn, action_id: str) -> list[Screen]:
        customer = turn.customer
        prefix = action_id.partition(":")[0]
        try:
            if customer is None:
                raise LookupError("no customer")
            if prefix == CardAction.__prefix__:
                return await self._card_action(turn, customer, CardAction.unpack(action_id))
            if prefix == VoucherAction.__prefix__:
                return await self._voucher_action(customer, VoucherAction.unpack(action_id))
            if prefix == SettingsAction.__prefix__:
                return await self._settings_action(
                    turn, customer, SettingsAction.unpack(action_id)
                )
            if prefix == OffersAction.__prefix__:
                return await self._offers_action(customer, OffersAction.unpack(action_id))
        except (ValueError, TypeError, ValidationError, LookupError):
            pass
        logger.info("refused a %s action id of %d characters", turn.platform, len(action_id))
        return await self._expired(customer)

    async def _card_action(
        self, turn: _Turn, customer: Customer, action: CardAction
    ) -> list[Screen]:
        if action.op == CardOp.LIST:
            return await self._home(customer)
        if action.op == CardOp.INVITE:
            return await self._invite(turn, customer, action.membership_id)
        try:
            card = await customer_card(action.membership_id, customer.id)
        except MembershipNotFound:
            # A card left since (or not theirs): said, then their cards as they are now.
            return await self._expired(customer)
        several = len(await customer_cards(customer.id)) > 1
        return [self._card_screen(card, card_caption(card), several=several)]

    async def _invite(self, turn: _Turn, customer: Customer, membership_id: int) -> list[Screen]:
        try:
            invite = await member_invite(membership_id, customer.id)
        except MembershipNotFound:
            return await self._expired(customer)
        if invite is None:
            return [Screen(_("The shop is not rewarding invitations right now."))]
        sentence = _("Hello! My friend's invite: {code}")
        links = await account_links(self._links, turn.inbound.account)
        link = links.link(turn.platform, LinkKind.REFERRAL, invite.token, sentence=sentence)
        if link is None:
            return await self._expired(customer)
        return [Screen(invite_text(invite, link))]

    # Vouchers

    async def _voucher_action(self, customer: Customer, action: VoucherAction) -> list[Screen]:
        if action.op == VoucherOp.LIST:
            return await self._vouchers(customer)
        try:
            voucher = await customer_voucher(action.voucher_id, customer.id)
        except VoucherNotFound:
            # Another person's voucher is "not found" for them: nothing about it is shown.
            return await self._expired(customer)
        usable = voucher.usable(utcnow())
        if action.op == VoucherOp.SHOW:
            return [_voucher_screen(voucher, self._signer)]
        if action.op == VoucherOp.CANCEL:
            return [
                Screen(_("Not used — the voucher stays on your card.")),
                _voucher_screen(voucher, self._signer),
            ]
        if not usable:
            # A double tap, or an old confirm after the staff used it: what happened to it.
            return [Screen(used_text(voucher) or voucher_caption(voucher))]
        if action.op == VoucherOp.REDEEM:
            question = _(
                "Use <b>{title}</b> now? Only do this at the counter, in front of the staff: "
                "a voucher can be used once."
            ).format(title=user_text(voucher.title))
            text = voucher_caption(voucher) + "\n\n" + question
            return [Screen(text, actions=redeem_confirm_actions(voucher))]
        return await self._use(customer, voucher)

    async def _use(self, customer: Customer, voucher: VoucherView) -> list[Screen]:
        try:
            await redeem_voucher(
                voucher.id,
                merchant_id=voucher.merchant_id,
                via=RedeemVia.SELF,
                customer_id=customer.id,
            )
        except LoyaltyError as refused:
            # A double tap, or an old message after the staff used it or it expired.
            fresh = await customer_voucher(voucher.id, customer.id)
            return [Screen(not_usable_text(refused, voucher) + "\n\n" + voucher_caption(fresh))]
        used = await customer_voucher(voucher.id, customer.id)
        if self._staff is not None:
            await self._staff.self_redeemed(used, customer.first_name or "")
        if self._wallets is not None:
            await self._wallets.voucher_changed(voucher.id)
        return [Screen(used_text(used) or voucher_caption(used))]

    async def _vouchers(self, customer: Customer) -> list[Screen]:
        shown = await vouchers(customer.id)
        if isinstance(shown, Screen):
            return [shown]
        return [_voucher_screen(shown, self._signer)]

    # Settings: language, this messenger's offers, leaving a card, erasing

    async def _settings_action(
        self, turn: _Turn, customer: Customer, action: SettingsAction
    ) -> list[Screen]:
        op, value = action.op, action.value
        if op == SettingsOp.MENU:
            return [await self._menu(turn, customer)]
        if op == SettingsOp.LANGUAGE:
            return [self._languages()]
        if op == SettingsOp.SET_LANGUAGE:
            try:
                await set_language(customer, value, self._i18n.available_locales)
            except LoyaltyError:
                return await self._expired(customer)
            with self._i18n.use_locale(value):
                return [Screen(_("Language saved.")), await self._menu(turn, customer)]
        if op == SettingsOp.NOTIFICATIONS:
            return [await self._offers(turn, customer)]
        if op == SettingsOp.TOGGLE:
            return await self._toggle(turn, customer, value)
        if op == SettingsOp.PRIVACY:
            return [privacy()]
        if op == SettingsOp.LINK:
            return [await self._code(turn, customer)]
        if op in (SettingsOp.LEAVE, SettingsOp.LEAVE_PICK, SettingsOp.LEAVE_CONFIRM):
            return await self._leave(customer, op, value)
        if op == SettingsOp.ERASE:
            return [erase_question()]
        if op == SettingsOp.ERASE_CONFIRM:
            await erase_customer(customer)
            if self._wallets is not None:
                await self._wallets.forget_left_memberships(customer.id)
            logger.info("customer %s erased their data from %s", customer.id, turn.platform)
            return [Screen(erased_text())]
        # Email, birthday and the like are typed answers: Telegram's settings have them.
        raise LookupError(op)

    async def _menu(self, turn: _Turn, customer: Customer) -> Screen:
        # The locale this answer is in: the one picked in settings, else the messenger's.
        language = self._i18n.current_locale
        shops, off = await customer_shops(customer), await opted_out(customer)
        channel = _CHANNELS[turn.platform]
        lines = [
            _("<b>Settings</b>"),
            _("Language: {language}").format(language=NATIVE_NAMES.get(language, language)),
        ]
        lines += [
            state_label(user_text(name), channel not in off.get(merchant_id, set()))
            for merchant_id, name in shops.items()
        ]
        rows: Rows = (
            (
                Action(_("🌐 Language"), id=settings_id(SettingsOp.LANGUAGE)),
                Action(_("Offers"), id=settings_id(SettingsOp.NOTIFICATIONS)),
            ),
            (Action(_("🔒 Privacy & data"), id=settings_id(SettingsOp.PRIVACY)),),
        )
        if self._link_codes is not None:
            link = Action(_("🔗 Link another messenger"), id=settings_id(SettingsOp.LINK))
            rows = (*rows, (link,))
        rows = (*rows, (Action(_("🪪 My card"), id=CardAction(op=CardOp.LIST).pack()),))
        return Screen("\n".join(lines), actions=rows)

    def _languages(self) -> Screen:
        current = self._i18n.current_locale
        rows = tuple(
            (
                Action(
                    picked_label(NATIVE_NAMES.get(code, code), code == current),
                    id=settings_id(SettingsOp.SET_LANGUAGE, code),
                ),
            )
            for code in self._i18n.available_locales
        )
        back = (Action(back_label(), id=settings_id(SettingsOp.MENU)),)
        return Screen(_("Choose your language:"), actions=(*rows, back))

    async def _offers(self, turn: _Turn, customer: Customer) -> Screen:
        """Each joined shop's offers on this messenger, one switch each."""
        shops, off = await customer_shops(customer), await opted_out(customer)
        channel = _CHANNELS[turn.platform]
        rows: list[tuple[Action, ...]] = []
        for merchant_id, name in shops.items():
            on = channel not in off.get(merchant_id, set())
            label = state_label(user_text(name, html=False, limit=40), on)
            rows.append(
                (
                    Action(
                        label,
                        id=settings_id(SettingsOp.TOGGLE, switch_value(merchant_id, on, channel)),
                    ),
                )
            )
        rows.append((Action(back_label(), id=settings_id(SettingsOp.MENU)),))
        if not shops:
            return Screen(_("You are not on any card."), actions=tuple(rows))
        text = "\n".join(
            [
                _("<b>Offers</b>"),
                _("News and vouchers from the shops you've joined, here in {messenger}.").format(
                    messenger=MESSENGER_NAMES[turn.platform]
                ),
            ]
        )
        return Screen(text, actions=tuple(rows))

    async def _toggle(self, turn: _Turn, customer: Customer, value: str) -> list[Screen]:
        """One shop's offers on this messenger off or on; another messenger's switch, a shop
        the person holds no card at, or data no screen of ours sends is a stale button."""
        merchant_id, name, turn_on = parse_switch(value)
        channel = _CHANNELS[turn.platform]
        if merchant_id not in await customer_shops(customer) or name != channel.value:
            raise LookupError(value)
        if turn_on is None or merchant_id is None:
            raise LookupError(value)
        await set_opt_out(customer, merchant_id, channel, off=not turn_on)
        said = _("Turned on.") if turn_on else _("Turned off.")
        return [Screen(said), await self._offers(turn, customer)]

    async def _leave(self, customer: Customer, op: SettingsOp, value: str) -> list[Screen]:
        cards = await customer_cards(customer.id)
        if op == SettingsOp.LEAVE:
            if not cards:
                return [Screen(_("You are not on any card."))]
            return [leave_pick(cards)]
        card = next((c for c in cards if str(c.membership_id) == value), None)
        if card is None:
            raise LookupError(value)
        if op == SettingsOp.LEAVE_PICK:
            return [leave_question(card)]
        try:
            await leave_card(card.membership_id, customer_id=customer.id)
        except LoyaltyError:
            raise LookupError(value) from None
        if self._wallets is not None:
            # The phone wallets forget the card too (best effort, as on Telegram).
            await self._wallets.forget_left_memberships(customer.id)
        return [Screen(left_text(card))]

    async def _offers_action(self, customer: Customer, action: OffersAction) -> list[Screen]:
        """[Stop offers from …] under a campaign message: every optional channel of that
        shop; a shop the person holds no card at changes nothing."""
        if action.op != OffersOp.STOP:
            raise LookupError(action.op)
        shops = await customer_shops(customer)
        shop = shops.get(action.merchant_id)
        if shop is None:
            return [Screen(_("You are not on a card of this shop."))]
        if not await stop_offers(customer, action.merchant_id, OFFER_CHANNELS):
            return [Screen(_("Offers from this shop are already off."))]
        return [Screen(stopped_text(shop), actions=((settings_action(),),))]


def _command(text: str) -> str | None:
    """The word of a typed ``/command`` (lowercased), None when the text is not one."""
    word = text.strip()
    if not word.startswith("/") or len(word) < 2 or not word[1:].isascii():
        return None
    name = word[1:].lower()
    return name if name.replace("_", "").isalnum() else None


def _card_list(cards: list[CardView]) -> Screen:
    return Screen(_("Your cards:"), actions=card_list_actions(cards))


def _voucher_screen(voucher: VoucherView, signer: LinkSigner | None) -> Screen:
    """The voucher with its QR code while it can be used (the picture is served only then)."""
    usable = voucher.usable(utcnow())
    image = voucher_image_url(signer, voucher) if signer is not None and usable else ""
    return Screen(
        voucher_caption(voucher),
        actions=voucher_detail_actions(voucher, usable=usable),
        image_url=image,
    )
