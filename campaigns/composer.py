"""One campaign message → the per-person, per-channel ``OutboundMessage``.

Composing prepares the medium a channel carries, so an adapter only transmits: an email gets
its card and photo here, and an Apple Wallet delivery gets its campaign line put on the pass
here (the pass is the medium there; the channel then only pushes, and its ``send()`` writes
nothing). A line the pass cannot hold fails the delivery now, before anything is pushed.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from html import unescape
from typing import Protocol

from campaigns.chat_parts import ChatParts, Gift, chat_buttons, chat_html
from campaigns.outbox import Claimed
from campaigns.spec import CampaignSpec
from channels.base import Action, CardStatus, DeliveryResult, OutboundMessage, Reason, VoucherLine
from channels.photos import PhotoStore
from locales import supported_language
from loyalty.clock import ensure_utc, utcnow
from loyalty.links import LinkSigner, Purpose
from loyalty.tokens import LinkKind, start_link
from loyalty.views import CardView, cards_on
from models import (
    Campaign,
    ChannelOptOut,
    Customer,
    GoogleWalletObject,
    Identity,
    Membership,
    Merchant,
    MessengerAccount,
    Voucher,
    WalletPass,
)
from models.enums import MESSENGERS, AccountStatus, Channel, MembershipStatus, Platform
from wallets.apple_registry import campaign_line, put_campaign_line
from wallets.card_link import card_page_url

_TAG = re.compile(r"<[^>]+>")
SUBJECT_MAX = 78
# WhatsApp's customer-service window, a little less, so that a message composed in it
# arrives in it.
WHATSAPP_WINDOW = timedelta(hours=23, minutes=55)
CACHED_CAMPAIGNS = 256
# Addressed by the membership's pass, not by the customer.
_WALLETS = frozenset({Channel.APPLE_WALLET.value, Channel.GOOGLE_WALLET.value})


# The channels whose messages carry the tracked links (open pixel, click, unsubscribe); the
# others never show them, so they are not signed for every message there.
_LINKED = frozenset({Channel.EMAIL.value})


@dataclass(frozen=True, slots=True)
class _CampaignContext:
    campaign: Campaign
    merchant: Merchant
    # The same for every message of the campaign: worked out once.
    subject: str


@dataclass(frozen=True, slots=True)
class _Person:
    """What composing needs of a customer and their messenger identities (no ORM objects: a
    batch of 500 rows would build 1,000 of them only to read five fields)."""

    email: str | None
    email_verified: bool
    erased: bool
    language: str | None
    # Platform → the person's id there (Telegram chat id, Viber user id, WhatsApp number),
    # for each platform where an identity is reachable.
    chats: dict[str, str]
    # The language a messenger reported, for a customer who never chose one (Telegram's first).
    messenger_language: str | None
    # Platform → when they last wrote there (WhatsApp's 24-hour window).
    wrote_at: dict[str, datetime]
    # Platform → the shop's own bot they came through there (``bot.shop_bots``).
    accounts: dict[str, int] = field(default_factory=dict)
    # Viber and WhatsApp → their reachable ids there by account (None: the shared one): a
    # Viber id is one bot's, so a campaign picks the one of its shop's bot, else the shared.
    own_chats: dict[str, dict[int | None, str]] = field(default_factory=dict)


class Content(Protocol):
    """What a message says: a stored campaign, or a spec not stored yet (the wizard's)."""

    @property
    def push_text(self) -> str: ...
    @property
    def message_text(self) -> str: ...
    @property
    def photo_file_id(self) -> str | None: ...


def subject_of(content: Content, merchant_name: str) -> str:
    """The push text, else the message's first line, else the shop's name."""
    if content.push_text.strip():
        return content.push_text.strip()
    for line in unescape(_TAG.sub("", content.message_text)).splitlines():
        if line.strip():
            text = line.strip()
            return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1] + "…"
    return merchant_name


def _outbound(
    content: Content,
    *,
    delivery_id: int,
    channel: str,
    address: str,
    language: str,
    right_to_left: bool,
    merchant_name: str,
    links: dict[str, str] | None = None,
    chat: ChatParts | None = None,
    subject: str | None = None,
) -> OutboundMessage:
    """The one place a campaign's content becomes a message for one channel and person.

    In the chat (``chat``) the message also names the shop, mentions the gift and carries its
    buttons: one bot chat serves every shop the person joined, and the way out must be there.
    """
    html = content.message_text
    buttons: tuple[tuple[Action, ...], ...] = ()
    if chat is not None:
        html = chat_html(html, merchant_name=merchant_name, parts=chat, language=language)
        buttons = chat_buttons(merchant_name=merchant_name, parts=chat, language=language)
    return OutboundMessage(
        delivery_id=delivery_id,
        channel=channel,
        address=address,
        language=language,
        right_to_left=right_to_left,
        merchant_name=merchant_name,
        subject=subject_of(content, merchant_name) if subject is None else subject,
        push_text=content.push_text,
        html=html,
        photo_file_id=content.photo_file_id if channel == Channel.TELEGRAM else None,
        links=links or {},
        buttons=buttons,
    )


def _in_window(
    message: OutboundMessage, campaign: Campaign, person: _Person, language: str
) -> OutboundMessage:
    """A WhatsApp message knows whether the person wrote in the last 24 hours (then it goes as
    it is) and the campaign's template for when they did not. Who never wrote since we began
    counting is not known (None): the channel tries, and WhatsApp says."""
    wrote = person.wrote_at.get(Channel.WHATSAPP.value)
    return replace(
        message,
        window_open=None if wrote is None else utcnow() - wrote < WHATSAPP_WINDOW,
        template=campaign.whatsapp_template,
        template_language=campaign.whatsapp_template_language or language,
    )


async def _onto_pass(message: OutboundMessage) -> DeliveryResult | None:
    """Put the message's line on the Apple pass it is addressed to, before the channel pushes
    (a device told before the pass changed would fetch the old one). A retried row is composed
    again and puts the same line again: harmless, the device fetches the same pass. The failed
    result when the line is longer than the pass holds; the pass is left unchanged then."""
    try:
        await put_campaign_line(
            message.address, campaign_line(message.push_text, message.merchant_name)
        )
    except ValueError as error:
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=str(error))
    return None


class Composer:
    def __init__(
        self,
        signer: LinkSigner,
        *,
        supported: tuple[str, ...],
        right_to_left: frozenset[str],
        photos: PhotoStore | None = None,
        bot_username: str | None = None,
    ) -> None:
        self._signer = signer
        self._photos = photos
        self._bot_username = bot_username
        self._supported = supported
        self._rtl = right_to_left
        self._campaigns: OrderedDict[int, _CampaignContext] = OrderedDict()

    async def _context(self, campaign_id: int) -> _CampaignContext:
        # Content cannot change while a campaign sends (edits are for drafts), so caching is
        # safe; a long-lived worker keeps only the campaigns it sent most recently.
        if campaign_id in self._campaigns:
            self._campaigns.move_to_end(campaign_id)
            return self._campaigns[campaign_id]
        campaign = await Campaign.get(id=campaign_id)
        merchant = await Merchant.get(id=campaign.merchant_id)
        subject = subject_of(campaign, merchant.name)
        self._campaigns[campaign_id] = context = _CampaignContext(campaign, merchant, subject)
        while len(self._campaigns) > CACHED_CAMPAIGNS:
            self._campaigns.popitem(last=False)
        return context

    async def campaign(self, campaign_id: int) -> Campaign:
        return (await self._context(campaign_id)).campaign

    def _language(self, person: _Person, fallback: str) -> str:
        for candidate in (person.language, person.messenger_language):
            if code := supported_language(candidate, self._supported):
                return code
        return fallback if fallback in self._supported else self._supported[0]

    @staticmethod
    async def _people(customer_ids: set[int]) -> dict[int, _Person]:
        """The customers of a batch with their messenger identities, in two queries of
        columns."""
        chats: dict[int, dict[str, str]] = {}
        wrote: dict[int, dict[str, datetime]] = {}
        accounts: dict[int, dict[str, int]] = {}
        own_chats: dict[int, dict[str, dict[int | None, str]]] = {}
        languages: dict[int, tuple[int, str]] = {}
        rank = {platform.value: n for n, platform in enumerate(MESSENGERS.values())}
        for customer_id, platform, external_id, reachable, language_code, inbound, account in (
            await Identity.filter(
                customer_id__in=customer_ids, platform__in=list(MESSENGERS.values())
            ).values_list(
                "customer_id", "platform", "external_id", "reachable", "language_code",
                "last_inbound_at", "account_id",
            )
        ):  # fmt: skip
            person, where = int(customer_id), str(platform)
            # Of several accounts on a platform a reachable one is the address (as the
            # snapshot counts it).
            if reachable:
                chats.setdefault(person, {})[where] = str(external_id)
                if inbound is not None:
                    wrote.setdefault(person, {})[where] = ensure_utc(inbound)
                if account is not None:
                    accounts.setdefault(person, {})[where] = int(account)
                if where in _OWN_CHAT_PLATFORMS:
                    by_account = own_chats.setdefault(person, {}).setdefault(where, {})
                    by_account[None if account is None else int(account)] = str(external_id)
            if language_code and rank[where] < languages.get(person, (len(rank), ""))[0]:
                languages[person] = (rank[where], str(language_code))
        people: dict[int, _Person] = {}
        for customer_id, language, email, verified, erased_at in await Customer.filter(
            id__in=customer_ids
        ).values_list("id", "language", "email", "email_verified", "erased_at"):
            person = int(customer_id)
            people[person] = _Person(
                email=str(email) if email else None,
                email_verified=bool(verified),
                erased=erased_at is not None,
                language=str(language) if language else None,
                chats=chats.get(person, {}),
                messenger_language=languages.get(person, (0, None))[1],
                wrote_at=wrote.get(person, {}),
                accounts=accounts.get(person, {}),
                own_chats=own_chats.get(person, {}),
            )
        return people

    async def compose(
        self, rows: list[Claimed]
    ) -> list[tuple[Claimed, OutboundMessage | DeliveryResult]]:
        """A message for each row, or the result for a row that can no longer be sent.

        Not free of writes: an Apple Wallet row's line goes onto its pass here (``_onto_pass``).
        """
        customer_ids = {row.customer_id for row in rows}
        people = await self._people(customer_ids)
        opted_out = {
            (int(o[0]), int(o[1]), str(o[2]))
            for o in await ChannelOptOut.filter(customer_id__in=customer_ids).values_list(
                "customer_id", "merchant_id", "channel"
            )
        }
        wallets = await self._wallet_addresses(rows)
        shop_bots = await self._shop_bots(rows)
        cards = await self._email_cards(rows)
        chats = await self._chat_parts(rows)
        out: list[tuple[Claimed, OutboundMessage | DeliveryResult]] = []
        for row in rows:
            context = await self._context(row.campaign_id)
            person = people.get(row.customer_id)
            if person is None or person.erased:
                out.append((row, DeliveryResult.failed(Reason.NO_ADDRESS)))
                continue
            if (row.customer_id, context.merchant.id, row.channel) in opted_out:
                # Opted out after the audience was taken: respect it now.
                out.append((row, DeliveryResult.failed(Reason.UNSUBSCRIBED)))
                continue
            account: int | None = None
            if row.channel in _OWN_CHATS:
                picked = _shop_chat(row.channel, context, person, shop_bots)
                if isinstance(picked, DeliveryResult):
                    out.append((row, picked))
                    continue
                address, account = picked
            else:
                address = self._address(row.channel, person) or wallets.get(row.id)
            if address is None:
                out.append((row, DeliveryResult.failed(Reason.NO_ADDRESS)))
                continue
            language = self._language(person, context.merchant.default_language)
            message = self._message(row, context, address, language, chats.get(row.id))
            if row.channel == Channel.WHATSAPP:
                message = _in_window(message, context.campaign, person, language)
            if row.channel == Channel.TELEGRAM:
                message = await self._through_shop_bot(message, context, person, shop_bots)
            elif row.channel in _OWN_CHATS:
                message = replace(message, account_id=account)
            if row.channel == Channel.EMAIL:
                message = await self._for_email(
                    message, context, cards.get((row.customer_id, context.campaign.card_id))
                )
            elif row.channel == Channel.APPLE_WALLET and (failed := await _onto_pass(message)):
                out.append((row, failed))
                continue
            out.append((row, message))
        return out

    async def _shop_bots(self, rows: list[Claimed]) -> dict[int, int]:
        """Connected Telegram, Viber and WhatsApp accounts of the batch's shops: account id →
        its shop."""
        shops = {
            (await self._context(row.campaign_id)).merchant.id
            for row in rows
            if row.channel in (Channel.TELEGRAM, *_OWN_CHATS)
        }
        if not shops:
            return {}
        return {
            int(account_id): int(merchant_id)
            for account_id, merchant_id in await MessengerAccount.filter(
                platform__in=[Platform.TELEGRAM, *_OWN_CHATS.values()],
                status=AccountStatus.ACTIVE,
                merchant_id__in=shops,
            ).values_list("id", "merchant_id")
        }

    async def _through_shop_bot(
        self,
        message: OutboundMessage,
        context: _CampaignContext,
        person: _Person,
        shop_bots: dict[int, int],
    ) -> OutboundMessage:
        """A person who came through the campaign's shop's own bot gets it there. The photo
        goes as bytes: its file id is the shared bot's (the owner sent it there), and a file
        id is good with the bot that received it only."""
        account = person.accounts.get(Platform.TELEGRAM.value)
        if account is None or shop_bots.get(account) != context.merchant.id:
            return message
        photo = message.photo
        if message.photo_file_id and self._photos is not None:
            photo = await self._photos.get(message.photo_file_id)
        if message.photo_file_id and photo is None:
            return message  # no bytes to upload: the shared bot sends it with its file id
        return replace(message, account_id=account, photo=photo, photo_file_id=None)

    async def _chat_parts(self, rows: list[Claimed]) -> dict[int, ChatParts]:
        """Row id → the chat extras of a messenger row: the member's card on the campaign's
        card (for [My card]) and the voucher the campaign gave them (the gift line)."""
        wanted = [row for row in rows if row.channel in MESSENGERS]
        if not wanted:
            return {}
        contexts = {row.id: await self._context(row.campaign_id) for row in wanted}
        people = list({row.customer_id for row in wanted})
        cards = list({c.campaign.card_id for c in contexts.values()})
        memberships = {
            (int(customer_id), int(card_id)): int(membership_id)
            for membership_id, customer_id, card_id in await Membership.filter(
                customer_id__in=people, card_id__in=cards, status=MembershipStatus.ACTIVE
            ).values_list("id", "customer_id", "card_id")
        }
        gifts: dict[tuple[int, int], Gift] = {}
        with_voucher = list({c.campaign.id for c in contexts.values() if c.campaign.voucher_title})
        if with_voucher:
            for voucher in await Voucher.filter(
                campaign_id__in=with_voucher, membership__customer_id__in=people
            ).select_related("membership"):
                key = (int(voucher.campaign_id or 0), voucher.membership.customer_id)
                gifts[key] = Gift(voucher.id, voucher.title, voucher.expires_at)
        return {
            row.id: ChatParts(
                merchant_id=contexts[row.id].merchant.id,
                membership_id=memberships.get(
                    (row.customer_id, contexts[row.id].campaign.card_id)
                ),
                gift=gifts.get((row.campaign_id, row.customer_id)),
                timezone=contexts[row.id].merchant.timezone,
            )
            for row in wanted
        }

    async def _email_cards(self, rows: list[Claimed]) -> dict[tuple[int, int], CardView]:
        """(customer id, card id) → the member's card of the campaign, shown in the email."""
        card_of = {
            row.id: (await self._context(row.campaign_id)).campaign.card_id
            for row in rows
            if row.channel == Channel.EMAIL
        }
        if not card_of:
            return {}
        customers = {row.customer_id for row in rows if row.id in card_of}
        return await cards_on(set(card_of.values()), customers)

    async def _for_email(
        self, message: OutboundMessage, context: _CampaignContext, card: CardView | None
    ) -> OutboundMessage:
        """The loyalty part of an email: the card, its page, and the campaign's photo."""
        photo = None
        if self._photos is not None and context.campaign.photo_file_id:
            photo = await self._photos.get(context.campaign.photo_file_id)
        if card is None:
            return replace(message, photo=photo)
        username = self._bot_username
        status = CardStatus(
            card_name=card.card_name,
            stamps_needed=card.stamps_needed,
            balance=card.balance,
            reward_text=card.reward_text,
            timezone=card.brand.timezone,
            background=card.brand.background,
            foreground=card.brand.foreground,
            accent=card.brand.accent,
            logo_png=card.brand.logo_png,
            vouchers=tuple(
                VoucherLine(
                    title=voucher.title,
                    code=voucher.code,
                    expires_at=voucher.expires_at,
                    qr_link=start_link(username, LinkKind.VOUCHER, voucher.token)
                    if username
                    else None,
                )
                for voucher in card.vouchers
            ),
        )
        links = {
            **message.links,
            "web": card_page_url(self._signer, card.membership_id, card.token),
        }
        return replace(message, photo=photo, card=status, links=links)

    async def _wallet_addresses(self, rows: list[Claimed]) -> dict[int, str]:
        """Row id → the pass of the person's membership of the campaign's card: the Apple pass
        serial, or the Google Wallet object id."""
        wanted = [row for row in rows if row.channel in _WALLETS]
        if not wanted:
            return {}
        card_of = {
            row.id: (await self._context(row.campaign_id)).campaign.card_id for row in wanted
        }
        where = {
            "membership__customer_id__in": list({row.customer_id for row in wanted}),
            "membership__card_id__in": list(set(card_of.values())),
        }
        found: dict[tuple[str, int, int], str] = {}
        channels = {row.channel for row in wanted}
        if Channel.APPLE_WALLET in channels:
            for customer_id, card_id, serial in await WalletPass.filter(**where).values_list(
                "membership__customer_id", "membership__card_id", "serial_number"
            ):
                found[(Channel.APPLE_WALLET, int(customer_id), int(card_id))] = str(serial)
        if Channel.GOOGLE_WALLET in channels:
            for customer_id, card_id, object_id in await GoogleWalletObject.filter(
                **where
            ).values_list("membership__customer_id", "membership__card_id", "object_id"):
                found[(Channel.GOOGLE_WALLET, int(customer_id), int(card_id))] = str(object_id)
        return {
            row.id: address
            for row in wanted
            if (address := found.get((row.channel, row.customer_id, card_of[row.id])))
        }

    @staticmethod
    def _address(channel: str, person: _Person) -> str | None:
        if (platform := MESSENGERS.get(Channel(channel))) is not None:
            return person.chats.get(platform.value)
        if channel == Channel.EMAIL:
            return person.email if person.email and person.email_verified else None
        return None

    def _message(
        self,
        row: Claimed,
        context: _CampaignContext,
        address: str,
        language: str,
        chat: ChatParts | None = None,
    ) -> OutboundMessage:
        links = (
            {
                "open": self._signer.url(Purpose.OPEN, row.id),
                "click": self._signer.url(Purpose.CLICK, row.id),
                "unsubscribe": self._signer.url(Purpose.UNSUBSCRIBE, row.id),
            }
            if row.channel in _LINKED
            else None
        )
        return _outbound(
            context.campaign,
            delivery_id=row.id,
            channel=row.channel,
            address=address,
            language=language,
            right_to_left=language in self._rtl,
            merchant_name=context.merchant.name,
            links=links,
            chat=chat,
            subject=context.subject,
        )

    @staticmethod
    def preview(
        spec: CampaignSpec,
        *,
        channel: str,
        address: str,
        language: str,
        right_to_left: bool,
        merchant_name: str,
        timezone: str = "UTC",
        now: datetime | None = None,
    ) -> OutboundMessage:
        """The message a campaign not sent yet would make, for its author to look at or to
        send to themselves: composed like a delivery's, but with no row behind it, so nothing
        to count and no tracked links. Static, because it needs nothing a worker keeps.

        In the chat it has the customers' header, gift line and buttons; the buttons only say
        that they work in the customers' chats (there is no card or voucher behind them)."""
        chat = None
        if channel in MESSENGERS:
            gift = None
            if spec.voucher_title:
                days = spec.voucher_validity_days
                until = (ensure_utc(now) + timedelta(days=days)) if days else None
                gift = Gift(0, spec.voucher_title, until)
            chat = ChatParts(
                merchant_id=0, membership_id=None, gift=gift, timezone=timezone, preview=True
            )
        return _outbound(
            spec,
            # Negative and unique: the Telegram adapter remembers a long message's parts by
            # this id, so two admins previewing at once must not share one (rows are positive).
            delivery_id=-1 - secrets.randbelow(2**62),
            channel=channel,
            address=address,
            language=language,
            right_to_left=right_to_left,
            merchant_name=merchant_name,
            chat=chat,
        )


# The messengers whose shops' own accounts reach only the people who came through them.
_OWN_CHATS: dict[str, Platform] = {
    Channel.VIBER.value: Platform.VIBER,
    Channel.WHATSAPP.value: Platform.WHATSAPP,
}


_OWN_CHAT_PLATFORMS = frozenset(p.value for p in _OWN_CHATS.values())


def _shop_chat(
    channel: str,
    context: _CampaignContext,
    person: _Person,
    shop_bots: dict[int, int],
) -> tuple[str | None, int | None] | DeliveryResult:
    """Where a Viber or WhatsApp row goes: the person's id on the campaign's shop's own bot or
    number while it is connected (they came through it), else their id on the shared one
    (address, account; None, None: no reachable id at all). Ids on another shop's own account
    only (its bot's ids; that shop's customers) refuse: only that shop writes there."""
    ids = person.own_chats.get(_OWN_CHATS[channel].value, {})
    for account, external_id in ids.items():
        if account is not None and shop_bots.get(account) == context.merchant.id:
            return external_id, account
    if None in ids:
        return ids[None], None
    if ids:
        return DeliveryResult.failed(Reason.UNREACHABLE, detail="on another shop's own account")
    return None, None
