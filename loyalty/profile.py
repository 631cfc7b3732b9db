"""What customers change about themselves: language, email, birthday, notification opt-outs."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from typing import Protocol

from email_validator import EmailNotValidError, validate_email
from tortoise import connections

from channels.base import DeliveryResult, Outcome
from channels.ratelimit import Rate, RateLimiter
from loyalty.clock import ensure_utc
from loyalty.errors import ConfirmationThrottled, InvalidBirthday, InvalidEmail, InvalidLanguage
from loyalty.links import LinkSigner, confirm_email_url, confirmed_customer
from models import ChannelOptOut, Customer, Delivery, Identity, Membership, Merchant
from models.enums import Channel, MembershipStatus, Platform

# The channels a customer can switch off in settings. Wallet cards are missing on purpose: a
# pass on the phone is the customer's own opt-in, and removing it from the wallet is how one
# stops its updates.
# The switches of Telegram's settings screen, one per channel a person there can turn off.
OPTIONAL_CHANNELS = (Channel.TELEGRAM, Channel.EMAIL)
# Every channel a shop's offers come by: "Stop offers from …" and a whole shop's switch turn
# off all of them, whichever messenger the person pressed it in.
OFFER_CHANNELS = (*OPTIONAL_CHANNELS, Channel.VIBER, Channel.WHATSAPP)

_DATE = re.compile(r"\s*(\d{1,2})[./\-\s](\d{1,2})(?:[./\-\s](\d{4}))?\s*")
_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*")
# A leap year, so that 29 February is a valid birthday when the year is not given.
_ANY_LEAP_YEAR = 2000
_OLDEST_YEAR = 1900

Birthday = tuple[int, int, int | None]


async def set_language(customer: Customer, language: str, supported: tuple[str, ...]) -> None:
    if language not in supported:
        raise InvalidLanguage(language)
    customer.language = language
    await customer.save(update_fields=["language"])


def normalized_email(text: str) -> str:
    """The address as stored (raises InvalidEmail): checked before anything is sent or kept."""
    if len(text) > 254:
        raise InvalidEmail("it is longer than 254 characters")
    try:
        # Deliverability needs DNS; it is checked by actually sending the confirmation.
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc


async def set_email(customer: Customer, text: str) -> str:
    """Store a syntactically valid address, unverified until the customer confirms it."""
    address = normalized_email(text)
    if address != customer.email:
        customer.email = address
        customer.email_verified = False
        await customer.save(update_fields=["email", "email_verified"])
    return address


async def clear_email(customer: Customer) -> None:
    customer.email = None
    customer.email_verified = False
    await customer.save(update_fields=["email", "email_verified"])


class ConfirmationMailer(Protocol):
    """The email adapter as the double opt-in uses it."""

    async def send_verification(
        self, address: str, language: str, link: str
    ) -> DeliveryResult: ...


async def send_email_confirmation(
    mailer: ConfirmationMailer,
    signer: LinkSigner,
    customer_id: int,
    address: str,
    *,
    language: str,
    expires_at: datetime,
) -> bool:
    """Double opt-in: mail ``address`` the link that proves its owner reads it; campaigns use
    the address only after it is opened. False when the mail could not be sent at all."""
    link = confirm_email_url(signer, customer_id, address, expires_at=expires_at)
    sent = await mailer.send_verification(address, language, link)
    return sent.outcome != Outcome.FAILED


def parse_birthday(text: str, *, today: date) -> Birthday:
    """(day, month, year or None) from DD.MM, DD.MM.YYYY, DD/MM/YYYY or YYYY-MM-DD."""
    if len(text) > 32:
        raise InvalidBirthday()
    if match := _DATE.fullmatch(text):
        day, month, year = int(match[1]), int(match[2]), int(match[3]) if match[3] else None
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        raise InvalidBirthday()
    try:
        born = date(year or _ANY_LEAP_YEAR, month, day)
    except ValueError as exc:
        raise InvalidBirthday() from exc
    if year is not None and not (year >= _OLDEST_YEAR and born <= today):
        raise InvalidBirthday()
    return day, month, year


async def set_birthday(
    customer: Customer, text: str, *, today: date
) -> tuple[int, int, int | None]:
    day, month, year = parse_birthday(text, today=today)
    customer.birth_day, customer.birth_month, customer.birth_year = day, month, year
    await customer.save(update_fields=["birth_day", "birth_month", "birth_year"])
    return day, month, year


async def clear_birthday(customer: Customer) -> None:
    customer.birth_day = customer.birth_month = customer.birth_year = None
    await customer.save(update_fields=["birth_day", "birth_month", "birth_year"])


async def customer_shops(customer: Customer) -> dict[int, str]:
    """The shops (merchant id → name) where the customer holds an active card, by name."""
    memberships = await Membership.filter(
        customer_id=customer.id, status=MembershipStatus.ACTIVE
    ).select_related("card__merchant")
    shops = {m.card.merchant.id: m.card.merchant.name for m in memberships}
    return dict(sorted(shops.items(), key=lambda shop: (shop[1].casefold(), shop[0])))


async def opted_out(customer: Customer) -> dict[int, set[Channel]]:
    """The channels the customer turned off, per shop (merchant id)."""
    rows = await ChannelOptOut.filter(customer_id=customer.id).values_list(
        "merchant_id", "channel"
    )
    off: dict[int, set[Channel]] = {}
    for merchant_id, channel in rows:
        off.setdefault(int(merchant_id), set()).add(Channel(str(channel)))
    return off


async def set_opt_out(
    customer: Customer, merchant_id: int, channel: Channel, *, off: bool
) -> None:
    """One shop's ``channel`` off or on. A switch carries the state it asks for, not "flip", so
    a double tap or an old copy of the screen asks for the same thing twice and changes nothing
    the second time."""
    if off:
        await ChannelOptOut.get_or_create(
            customer_id=customer.id, merchant_id=merchant_id, channel=channel
        )
    else:
        await ChannelOptOut.filter(
            customer_id=customer.id, merchant_id=merchant_id, channel=channel
        ).delete()


async def set_shop_offers(customer: Customer, merchant_id: int, *, on: bool) -> None:
    """A whole shop's offers on or off: every optional channel of that shop at once, so "off"
    reaches every campaign the shop sends and leaves the other shops alone (the opt-outs are
    the same per-shop rows a single channel switch writes)."""
    rows = ChannelOptOut.filter(
        customer_id=customer.id, merchant_id=merchant_id, channel__in=list(OFFER_CHANNELS)
    )
    if on:
        await rows.delete()
        return
    for channel in OFFER_CHANNELS:
        await ChannelOptOut.get_or_create(
            customer_id=customer.id, merchant_id=merchant_id, channel=channel
        )


async def shop_phones(customer: Customer) -> dict[int, tuple[str, str]]:
    """The shops where the customer holds an active card and that gave a phone number:
    merchant id → (name, phone), by name."""
    shops = await customer_shops(customer)
    phones = dict(
        await Merchant.filter(id__in=list(shops), phone__isnull=False).values_list("id", "phone")
    )
    return {
        merchant_id: (name, str(phones[merchant_id]))
        for merchant_id, name in shops.items()
        if phones.get(merchant_id)
    }


async def campaign_shop(customer: Customer, telegram_message_id: int) -> int | None:
    """The shop whose campaign sent this customer that Telegram message, if it was one.

    A Telegram delivery keeps the ids of the messages it sent, comma-separated.
    """
    wanted = str(telegram_message_id)
    rows = await Delivery.filter(
        customer_id=customer.id,
        channel=Channel.TELEGRAM,
        external_id__contains=wanted,
    ).values_list("external_id", "campaign__merchant_id")
    for external_id, merchant_id in rows:
        if wanted in str(external_id).split(","):
            return int(merchant_id)
    return None


async def stop_offers(customer: Customer, merchant_id: int, channels: tuple[Channel, ...]) -> bool:
    """Turn off every channel in ``channels`` for one shop, as the settings switches store it
    (one ``ChannelOptOut`` row per channel); idempotent. True when something was still on."""
    changed = False
    for channel in channels:
        _, created = await ChannelOptOut.get_or_create(
            customer_id=customer.id, merchant_id=merchant_id, channel=channel
        )
        changed = changed or created
    return changed


async def claim_email_offer(customer_id: int, *, now: datetime) -> bool:
    """Whether the chat may offer this customer to add an email now: only once in their life
    (``email_prompted_at`` is set by the one caller that wins), and never to someone who
    already has a confirmed address."""
    claimed = await Customer.filter(
        id=customer_id, email_prompted_at__isnull=True, erased_at__isnull=True
    ).update(email_prompted_at=now)
    if not claimed:
        return False
    customer = await Customer.get(id=customer_id)
    return not (customer.email and customer.email_verified)


async def remember_language_code(identity: Identity, language_code: str | None) -> None:
    """Keep the messenger's language so messages sent outside a conversation match it."""
    code = (language_code or "")[:16] or None
    if code != identity.language_code:
        identity.language_code = code
        # One statement written once: it runs on a person's first update (and whenever their
        # app's language changes), where the ORM's query builder cost more than the query.
        conn = connections.get("default")
        marks = ("$1", "$2") if conn.capabilities.dialect == "postgres" else ("?", "?")
        await conn.execute_query(
            f'UPDATE "identity" SET "language_code" = {marks[0]} WHERE "id" = {marks[1]}',  # noqa: S608
            [code, identity.id],
        )


async def mark_unreachable(platform: Platform, external_id: str) -> None:
    """The person blocked the bot or deleted the account: stop trying this identity."""
    await Identity.filter(platform=platform, external_id=external_id).update(reachable=False)


async def mark_customer_unreachable(customer_id: int, platform: Platform) -> None:
    """A message to the person on ``platform`` came back undeliverable (blocked the bot, left
    the Viber chat, no WhatsApp): none of their accounts there is used until they write
    again. The send path and a platform's later failed receipt both end here."""
    await Identity.filter(customer_id=customer_id, platform=platform).update(reachable=False)


async def mark_reachable(identity: Identity) -> None:
    if not identity.reachable:
        identity.reachable = True
        await identity.save(update_fields=["reachable"])


class ConfirmationLimits:
    """How often confirmation emails may go out, and how long their links work: one per
    address per interval (nobody can flood someone else's inbox) and a few per customer a day.
    Addresses are hashed in the keys.

    Two limiters, since an in-memory one forgets idle buckets by the rate of the call that
    sweeps it; Redis keeps each key for its own rate, so one client may serve both.
    """

    def __init__(
        self,
        address_limiter: RateLimiter,
        customer_limiter: RateLimiter,
        *,
        address_interval: float = 600,
        daily: int = 5,
        link_lifetime: timedelta = timedelta(days=7),
    ) -> None:
        self.link_lifetime = link_lifetime
        self._address_limiter = address_limiter
        self._customer_limiter = customer_limiter
        self._per_address = Rate(per_second=1 / address_interval, burst=1)
        self._per_customer = Rate(per_second=daily / 86_400, burst=daily)

    async def take(self, customer_id: int, address: str) -> None:
        """Count one confirmation email, or raise ConfirmationThrottled and count nothing for
        the customer (the address is asked first, so retrying it costs no daily quota)."""
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:32]
        wait = await self._address_limiter.try_acquire(
            f"email-confirm:address:{digest}", self._per_address
        )
        if wait > 0:
            raise ConfirmationThrottled(wait, daily=False)
        wait = await self._customer_limiter.try_acquire(
            f"email-confirm:customer:{customer_id}", self._per_customer
        )
        if wait > 0:
            raise ConfirmationThrottled(wait, daily=True)


async def confirm_email(
    token: str, signer: LinkSigner, *, until: str | None, now: datetime | None = None
) -> int | None:
    """Mark the address confirmed if the link was made for the customer's current address and
    has not expired.

    Returns the customer id, or None when the link is forged, expired, or the address changed.
    """
    unverified = signer.peek(token)
    if unverified is None:
        return None
    customer = await Customer.get_or_none(id=unverified)
    if customer is None or customer.email is None or customer.erased_at is not None:
        return None
    moment = ensure_utc(now)
    if confirmed_customer(signer, token, until, customer.email, now=moment) != customer.id:
        return None
    if not customer.email_verified:
        customer.email_verified = True
        await customer.save(update_fields=["email_verified"])
    return customer.id


async def set_confirmed_email(telegram_user_id: int, address: str) -> None:
    """For the demo and imports: an address whose owner confirmed it elsewhere."""
    identity = await Identity.get(platform=Platform.TELEGRAM, external_id=str(telegram_user_id))
    await Customer.filter(id=identity.customer_id).update(email=address, email_verified=True)
