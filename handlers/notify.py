"""Messages a customer gets outside a conversation: stamps, new vouchers, expiry, redemption."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVarTuple
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_time

from conversation.screen import Action, Screen
from handlers.callbacks import (
    CardAction,
    CardOp,
    OffersAction,
    OffersOp,
    SettingsAction,
    SettingsOp,
    VoucherAction,
    VoucherOp,
)
from handlers.cards import progress_line, stamps_line
from handlers.keyboards import my_card_label
from handlers.texts import (
    bold,
    code,
    current_locale,
    local_date,
    local_datetime,
    ltr,
    number,
    plus,
    user_text,
)
from locales import supported_language
from loyalty.clock import utcnow
from loyalty.messenger_accounts import active_account
from loyalty.profile import claim_email_offer, mark_unreachable
from loyalty.shop_contacts import shop_leads
from loyalty.stamps import StampResult
from loyalty.undo import UndoResult
from loyalty.views import (
    Contact,
    VoucherView,
    claim_reminder,
    contact_of,
    contacts_of,
    customer_card,
    customer_voucher,
    release_reminder,
    vouchers_to_remind,
)
from models.enums import Platform
from wallets.service import Wallets

if TYPE_CHECKING:
    from handlers.notice_queue import NoticeQueue
    from handlers.shop_bot import ShopBotService

logger = logging.getLogger(__name__)

Args = TypeVarTuple("Args")


class ServiceSlot(Protocol):
    """Waits until a message may go to this chat within its bot's Telegram limit (the shared
    bot's, or with ``account_id`` a shop's own bot's: ``TelegramBudget.service_slot``)."""

    def __call__(
        self, chat_id: int | str, account_id: int | None = None, /
    ) -> Awaitable[object]: ...


# The order a customer's messengers are asked in: the chat they most likely started in.
NOTICE_PLATFORMS = (Platform.TELEGRAM, Platform.VIBER, Platform.WHATSAPP)


class ChatReplies(Protocol):
    """How another messenger's chat is answered (``channels.viber.replies.ViberReplies``,
    ``channels.whatsapp.replies.WhatsAppReplies``): the screens in order, True when all went."""

    async def send(self, user_id: str, screens: Sequence[Screen]) -> bool: ...


class ShopChats(Protocol):
    """Shops' own Viber bots and WhatsApp numbers (``bot.shop_vibers``,
    ``bot.shop_whatsapps``): how a notice of shop ``merchant_id`` reaches a person who came
    through account ``account_id``; None when it cannot (disconnected, another shop's)."""

    async def replies_of(self, account_id: int, merchant_id: int) -> ChatReplies | None: ...


def screen_of(text: str, markup: InlineKeyboardMarkup | None) -> Screen:
    """A notice as a platform-neutral screen: the same text, the same buttons (their callback
    data is the action id every platform sends back)."""
    rows = tuple(
        tuple(
            Action(button.text, id=button.callback_data or "", url=button.url or "")
            for button in row
            if bool(button.callback_data) != bool(button.url)
        )
        for row in (markup.inline_keyboard if markup is not None else ())
    )
    return Screen(text, tuple(row for row in rows if row))


class CustomerNotifier:
    """Tells the customer in the chat, and their wallet passes, what just changed.

    The passes are told after the chat message (they are slower: APNs, Google's API) and
    best-effort: ``Wallets`` logs a failure and never raises into a stamp or a redemption.

    ``slot``: every chat message first waits for it, so notices count against the bot's one
    Telegram limit with the campaigns, ahead of them (the priority lane); without it (tests
    of the texts) they go at once.

    ``shop_bots``: a customer who came through a shop's own bot hears of that shop there, while
    it is connected; of other shops, and after a disconnect, through the shared bot.

    ``queue``: where handlers put the notices they give with :meth:`later`, so a staff member's
    answer never waits for the customer's notice (``handlers.notice_queue``). The methods
    themselves always send before they return (the reminders' loop counts what they sent).
    """

    def __init__(
        self,
        bot: Bot,
        i18n: I18n,
        *,
        wallets: Wallets | None = None,
        slot: ServiceSlot | None = None,
        chats: Mapping[Platform, ChatReplies] | None = None,
        shop_bots: ShopBotService | None = None,
        shop_chats: Mapping[Platform, ShopChats] | None = None,
        queue: NoticeQueue | None = None,
    ) -> None:
        self._bot = bot
        self._queue = queue
        self._shop_bots = shop_bots
        # Shops' own Viber bots and WhatsApp numbers: a person who came through one is reached
        # there only (Viber ids are the bot's own; on WhatsApp they agreed to that number).
        self._shop_chats = dict(shop_chats or {})
        self._i18n = i18n
        self._wallets = wallets
        self._slot = slot
        # Viber and WhatsApp, where this deployment has an account: a customer who joined
        # there hears of their stamps there (WhatsApp: within its 24-hour window only).
        self._chats = dict(chats or {})

    async def later(
        self,
        key: Hashable,
        notice: Callable[[*Args], Awaitable[object]],
        /,
        *args: *Args,
    ) -> None:
        """``notice(*args)`` after the update is answered, in order with the other
        notices for ``key`` (the customer): put on the queue, waiting while it is full; without
        a queue, now."""
        if self._queue is None:
            await notice(*args)
        else:
            await self._queue.put(key, notice, *args)

    async def _contact(self, customer_id: int, merchant_id: int | None = None) -> Contact | None:
        """The customer's first reachable messenger this notifier can write in; with
        ``merchant_id``, the first that can carry that shop's news: not an identity of another
        shop's own Viber bot or WhatsApp number, nor of a disconnected one (``_send`` asks
        when the first one cannot)."""
        for platform in NOTICE_PLATFORMS:
            known = platform in self._chats or platform in self._shop_chats
            if platform != Platform.TELEGRAM and not known:
                continue
            if merchant_id is None or platform == Platform.TELEGRAM:
                if (contact := await contact_of(customer_id, platform)) is not None:
                    return contact
                continue
            for contact in await contacts_of(customer_id, platform):
                if await self._chat_replies(contact, merchant_id) is not None:
                    return contact
        return None

    async def _send_message(
        self,
        chat_id: int | str,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        bot: Bot | None = None,
        account_id: int | None = None,
    ) -> None:
        if self._slot is not None:
            await self._slot(chat_id, account_id)
        await (bot or self._bot).send_message(chat_id, text, reply_markup=markup)

    async def _shop_bot(self, contact: Contact, merchant_id: int | None) -> tuple[Bot, int] | None:
        """The shop's own bot this person came through, while connected, and its account id;
        None: the shared bot."""
        if self._shop_bots is None or contact.account_id is None or merchant_id is None:
            return None
        account = await active_account(contact.account_id, Platform.TELEGRAM)
        if account is None or account.merchant_id != merchant_id:
            return None
        return self._shop_bots.bot_for(account), account.id

    async def _chat_replies(self, contact: Contact, merchant_id: int | None) -> ChatReplies | None:
        """Viber or WhatsApp: the shop's own account the person came through, else the
        shared one; None when neither can write to them."""
        if contact.account_id is None:
            return self._chats.get(contact.platform)
        shop_chats = self._shop_chats.get(contact.platform)
        if shop_chats is None or merchant_id is None:
            return None
        return await shop_chats.replies_of(contact.account_id, merchant_id)

    async def _passes_changed(self, membership_id: int) -> None:
        if self._wallets is not None:
            await self._wallets.membership_changed(membership_id)

    async def _voucher_pass_changed(self, voucher_id: int) -> None:
        if self._wallets is not None:
            await self._wallets.voucher_changed(voucher_id)

    def _locale(self, contact: Contact) -> str:
        return self._language(contact.language)

    def _language(self, code: str | None) -> str:
        available = self._i18n.available_locales
        return supported_language(code, available) or self._i18n.default_locale

    async def _send(
        self,
        contact: Contact,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        merchant_id: int | None = None,
    ) -> bool:
        """Tell the person; ``merchant_id``: the shop the news is from (its own bot's)."""
        if contact.platform != Platform.TELEGRAM:
            replies = await self._chat_replies(contact, merchant_id)
            if replies is None:
                # Another shop's own account, or a disconnected one: the next messenger.
                if merchant_id is None:
                    return False
                following = await self._contact(contact.customer_id, merchant_id)
                if following is None or following == contact:
                    return False
                return await self._send(following, text, markup, merchant_id=merchant_id)
            sent = await replies.send(contact.chat_id, [screen_of(text, markup)])
            if not sent:
                logger.info("customer %s not told in %s", contact.customer_id, contact.platform)
            return sent
        shop_bot = await self._shop_bot(contact, merchant_id)
        bot, account_id = shop_bot if shop_bot is not None else (self._bot, None)
        try:
            await self._send_message(contact.chat_id, text, markup, bot=bot, account_id=account_id)
        except TelegramForbiddenError as exc:
            logger.info("customer %s blocked the bot: %s", contact.customer_id, exc.message)
            if account_id is None:
                # A shop's bot blocked says nothing of the shared bot and the other shops.
                await mark_unreachable(contact.platform, contact.chat_id)
            return False
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                await mark_unreachable(contact.platform, contact.chat_id)
            logger.warning("notifying customer %s failed: %s", contact.customer_id, exc.message)
            return False
        return True

    async def stamps_added(self, customer_id: int, result: StampResult) -> bool:
        try:
            return await self._stamps_message(customer_id, result)
        finally:
            await self._passes_changed(result.membership.id)

    async def _stamps_message(self, customer_id: int, result: StampResult) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            added = ngettext(
                "{count} stamp at {shop}", "{count} stamps at {shop}", result.added
            ).format(count=plus(result.added), shop=user_text(result.shop_name))
            if not result.vouchers:
                # Most stamps: told from what the stamp read, with no card view to build.
                membership, stamp_card = result.membership, result.card
                progress = progress_line(
                    membership.balance, stamp_card.stamps_needed, stamp_card.reward_text
                )
                return await self._send(
                    contact,
                    "\n".join([added + "!", progress]),
                    _open_card(membership.id),
                    merchant_id=stamp_card.merchant_id,
                )
            card = await customer_card(result.membership.id, customer_id)
            # The good news first: the reward, then that a new card began (not "stamps lost").
            lines = []
            for voucher in result.vouchers:
                view = await customer_voucher(voucher.id, customer_id)
                lines.append(
                    _("🎉 {title} is yours! ({stamps})").format(
                        title=bold(view.title), stamps=added
                    )
                )
                lines.append(self._show_it_line(view))
            lines.append(
                ngettext(
                    "New card started: {balance} of {needed} stamp.",
                    "New card started: {balance} of {needed} stamps.",
                    card.stamps_needed,
                ).format(balance=ltr(str(card.balance)), needed=ltr(str(card.stamps_needed)))
            )
            markup = _reward_buttons(result.vouchers[0].id, card.membership_id)
            merchant_id = card.merchant_id
            sent = await self._send(contact, "\n".join(lines), markup, merchant_id=merchant_id)
            if sent and await claim_email_offer(customer_id, now=utcnow()):
                offer = _("Want offers and vouchers by email too?")
                await self._send(contact, offer, _email_offer(), merchant_id=merchant_id)
            return sent

    def _show_it_line(self, voucher: VoucherView) -> str:
        if voucher.expires_at is None:
            return _("Show it at the counter.")
        return _("Show it at the counter — valid until {date}.").format(
            date=local_date(voucher.expires_at, voucher.brand.timezone)
        )

    def _voucher_issued_line(self, voucher: VoucherView) -> str:
        text = _("🎉 Your reward is ready: <b>{title}</b>. Code {code}.").format(
            title=user_text(voucher.title), code=code(voucher.code)
        )
        if voucher.expires_at is not None:
            text += " " + _("Valid until {date}.").format(
                date=local_date(voucher.expires_at, voucher.brand.timezone)
            )
        return text

    async def self_redeemed(self, voucher: VoucherView, customer_name: str) -> int:
        """C8: a voucher used in the customer's own chat reaches the shop's owners and
        managers, each in their language, so a phone at the shop confirms what a screenshot
        could fake. Returns how many were told."""
        if voucher.redeemed_at is None:
            return 0
        told = 0
        for person in await shop_leads(voucher.merchant_id):
            with self._i18n.context(), self._i18n.use_locale(self._language(person.language)):
                when = voucher.redeemed_at.astimezone(ZoneInfo(voucher.brand.timezone))
                text = _("{name} just used {title} themselves ({time}).").format(
                    name=user_text(customer_name or _("A customer")),
                    title=bold(voucher.title),
                    time=ltr(format_time(when, "short", locale=current_locale())),
                )
                try:
                    await self._send_message(person.chat_id, text)
                except (TelegramForbiddenError, TelegramBadRequest) as exc:
                    logger.info("could not tell staff of a self-redeem: %s", exc.message)
                    continue
                told += 1
        return told

    async def voucher_issued(self, customer_id: int, voucher_id: int) -> bool:
        try:
            return await self._voucher_issued_message(customer_id, voucher_id)
        finally:
            await self._voucher_pass_changed(voucher_id)

    async def _voucher_issued_message(self, customer_id: int, voucher_id: int) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            voucher = await customer_voucher(voucher_id, customer_id)
            return await self._send(
                contact,
                self._voucher_issued_line(voucher),
                _open_voucher(voucher.id),
                merchant_id=voucher.merchant_id,
            )

    async def voucher_redeemed(self, customer_id: int, voucher_id: int) -> bool:
        try:
            return await self._voucher_redeemed_message(customer_id, voucher_id)
        finally:
            await self._voucher_pass_changed(voucher_id)

    async def _voucher_redeemed_message(self, customer_id: int, voucher_id: int) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            voucher = await customer_voucher(voucher_id, customer_id)
            if voucher.redeemed_at is None:
                return False
            text = _("✅ <b>{title}</b> was used at {shop} on {when}. Enjoy!").format(
                title=user_text(voucher.title),
                shop=user_text(voucher.brand.merchant_name),
                when=local_datetime(voucher.redeemed_at, voucher.brand.timezone),
            )
            return await self._send(contact, text, merchant_id=voucher.merchant_id)

    async def voucher_voided(self, customer_id: int, voucher_id: int) -> bool:
        """Tell the customer their voucher was cancelled, and take it off the wallet card."""
        try:
            return await self._voucher_voided_message(customer_id, voucher_id)
        finally:
            await self._voucher_pass_changed(voucher_id)

    async def _voucher_voided_message(self, customer_id: int, voucher_id: int) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            voucher = await customer_voucher(voucher_id, customer_id)
            text = _(
                "🗑 Your voucher <b>{title}</b> was cancelled by {shop}. Ask the staff if this "
                "was a mistake."
            ).format(title=user_text(voucher.title), shop=user_text(voucher.brand.merchant_name))
            return await self._send(contact, text, merchant_id=voucher.merchant_id)

    async def stamps_undone(self, customer_id: int, result: UndoResult) -> bool:
        """Tell the customer a stamp was taken back (and the reward it made, if any)."""
        try:
            return await self._stamps_undone_message(customer_id, result)
        finally:
            await self._passes_changed(result.membership_id)
            for voucher_id in result.voided_voucher_ids:
                await self._voucher_pass_changed(voucher_id)

    async def _stamps_undone_message(self, customer_id: int, result: UndoResult) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            card = await customer_card(result.membership_id, customer_id)
            lines = [
                ngettext(
                    "Correction: {count} stamp at {shop}",
                    "Correction: {count} stamps at {shop}",
                    result.removed,
                ).format(
                    count=ltr(f"−{number(result.removed)}"),
                    shop=user_text(card.brand.merchant_name),
                ),
                stamps_line(card),
            ]
            lines += [
                _("The reward {title} it completed was cancelled with it.").format(
                    title=bold(title)
                )
                for title in result.voided_titles
            ]
            return await self._send(
                contact,
                "\n".join(lines),
                _open_card(card.membership_id),
                merchant_id=card.merchant_id,
            )

    async def voucher_given(self, customer_id: int, voucher_id: int) -> bool:
        """A goodwill voucher from the shop: said as a gift, not as a reward earned."""
        try:
            return await self._voucher_given_message(customer_id, voucher_id)
        finally:
            await self._voucher_pass_changed(voucher_id)

    async def _voucher_given_message(self, customer_id: int, voucher_id: int) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            voucher = await customer_voucher(voucher_id, customer_id)
            text = _("🎁 {shop} gave you a voucher: <b>{title}</b>. Code {code}.").format(
                shop=user_text(voucher.brand.merchant_name),
                title=user_text(voucher.title),
                code=code(voucher.code),
            )
            if voucher.expires_at is not None:
                text += " " + _("Valid until {date}.").format(
                    date=local_date(voucher.expires_at, voucher.brand.timezone)
                )
            return await self._send(
                contact, text, _open_voucher(voucher.id), merchant_id=voucher.merchant_id
            )

    async def voucher_extended(self, customer_id: int, voucher_id: int) -> bool:
        try:
            return await self._voucher_extended_message(customer_id, voucher_id)
        finally:
            await self._voucher_pass_changed(voucher_id)

    async def _voucher_extended_message(self, customer_id: int, voucher_id: int) -> bool:
        contact = await self._contact(customer_id)
        if contact is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            voucher = await customer_voucher(voucher_id, customer_id)
            if voucher.expires_at is None:
                return False
            text = _("⏳ Your voucher <b>{title}</b> at {shop} is now valid until {date}.").format(
                title=user_text(voucher.title),
                shop=user_text(voucher.brand.merchant_name),
                date=local_date(voucher.expires_at, voucher.brand.timezone),
            )
            return await self._send(
                contact, text, _open_voucher(voucher.id), merchant_id=voucher.merchant_id
            )

    async def voucher_expiring(self, customer_id: int, voucher: VoucherView) -> bool:
        contact = await self._contact(customer_id)
        if contact is None or voucher.expires_at is None:
            return False
        with self._i18n.context(), self._i18n.use_locale(self._locale(contact)):
            text = _(
                "⏳ Your voucher <b>{title}</b> at {shop} expires on {date}. "
                "Show it at the counter before then!"
            ).format(
                title=user_text(voucher.title),
                shop=user_text(voucher.brand.merchant_name),
                date=local_date(voucher.expires_at, voucher.brand.timezone),
            )
            return await self._send(
                contact, text, _open_voucher(voucher.id), merchant_id=voucher.merchant_id
            )


def _open_card(membership_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=my_card_label(),
        callback_data=CardAction(op=CardOp.SHOW, membership_id=membership_id),
    )
    return builder.as_markup()


def _open_voucher(voucher_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🎟 Show the voucher"),
        callback_data=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher_id),
    )
    return builder.as_markup()


def _reward_buttons(voucher_id: int, membership_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🎟 Show the voucher"),
        callback_data=VoucherAction(op=VoucherOp.SHOW, voucher_id=voucher_id),
    )
    builder.button(
        text=my_card_label(),
        callback_data=CardAction(op=CardOp.SHOW, membership_id=membership_id),
    )
    builder.adjust(2)
    return builder.as_markup()


def _email_offer() -> InlineKeyboardMarkup:
    """ "Add my email" opens the settings' own email question (the same conversation)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✉️ Add my email"), callback_data=SettingsAction(op=SettingsOp.EMAIL))
    builder.button(text=_("No thanks"), callback_data=OffersAction(op=OffersOp.NO_EMAIL))
    builder.adjust(2)
    return builder.as_markup()


async def send_expiry_reminders(
    notifier: CustomerNotifier, *, within: timedelta, now: datetime | None = None
) -> int:
    """Remind every holder of a voucher expiring within ``within``, once, whichever process
    claims it; returns how many this call sent."""
    sent = 0
    for customer_id, voucher in await vouchers_to_remind(within=within, now=now):
        # Claimed even when undeliverable: retrying a blocked chat every hour helps no one.
        if not await claim_reminder(voucher.id, now=now):
            continue  # another replica's, or redeemed since the list was read
        try:
            delivered = await notifier.voucher_expiring(customer_id, voucher)
        except Exception:
            # Telegram unreachable or refusing for now: the next round tries again. (A stop
            # mid-send keeps the claim: that message may have gone out.)
            await release_reminder(voucher.id)
            raise
        sent += delivered
    return sent
