"""What customers change about themselves: language, email, birthday, notification opt-outs."""

from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email

from loyalty.errors import InvalidBirthday, InvalidEmail, InvalidLanguage
from loyalty.links import LinkSigner, Purpose
from models import ChannelOptOut, Customer, Identity, Membership
from models.enums import Channel, MembershipStatus, Platform

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


async def set_email(customer: Customer, text: str) -> str:
    """Store a syntactically valid address, unverified until the customer confirms it."""
    if len(text) > 254:
        raise InvalidEmail("it is longer than 254 characters")
    try:
        # Deliverability needs DNS; it is checked by actually sending the confirmation.
        address = validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    if address != customer.email:
        customer.email = address
        customer.email_verified = False
        await customer.save(update_fields=["email", "email_verified"])
    return address


async def clear_email(customer: Customer) -> None:
    customer.email = None
    customer.email_verified = False
    await customer.save(update_fields=["email", "email_verified"])


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


async def toggle_opt_out(customer: Customer, merchant_id: int, channel: Channel) -> bool:
    """Flip the opt-out for one shop's ``channel``; returns True when it is now off."""
    removed = await ChannelOptOut.filter(
        customer_id=customer.id, merchant_id=merchant_id, channel=channel
    ).delete()
    if removed:
        return False
    await ChannelOptOut.get_or_create(
        customer_id=customer.id, merchant_id=merchant_id, channel=channel
    )
    return True


async def remember_language_code(identity: Identity, language_code: str | None) -> None:
    """Keep the messenger's language so messages sent outside a conversation match it."""
    code = (language_code or "")[:16] or None
    if code != identity.language_code:
        identity.language_code = code
        await identity.save(update_fields=["language_code"])


async def mark_unreachable(platform: Platform, external_id: str) -> None:
    """The person blocked the bot or deleted the account: stop trying this identity."""
    await Identity.filter(platform=platform, external_id=external_id).update(reachable=False)


async def mark_reachable(identity: Identity) -> None:
    if not identity.reachable:
        identity.reachable = True
        await identity.save(update_fields=["reachable"])


async def confirm_email(token: str, signer: LinkSigner) -> int | None:
    """Mark the address confirmed if the token was made for the customer's current address.

    Returns the customer id, or None when the token is forged, or the address changed since.
    """
    unverified = signer.peek(token)
    if unverified is None:
        return None
    customer = await Customer.get_or_none(id=unverified)
    if customer is None or customer.email is None or customer.erased_at is not None:
        return None
    if signer.verify(Purpose.VERIFY_EMAIL, token, customer.email.lower()) != customer.id:
        return None
    if not customer.email_verified:
        customer.email_verified = True
        await customer.save(update_fields=["email_verified"])
    return customer.id


async def set_confirmed_email(telegram_user_id: int, address: str) -> None:
    """For the demo and imports: an address whose owner confirmed it elsewhere."""
    identity = await Identity.get(platform=Platform.TELEGRAM, external_id=str(telegram_user_id))
    await Customer.filter(id=identity.customer_id).update(email=address, email_verified=True)
