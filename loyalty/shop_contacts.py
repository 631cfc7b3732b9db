"""Who at a shop hears about what happens at its counter without being there: its owners and
managers, in the language each of them reads the bot in."""

from __future__ import annotations

from dataclasses import dataclass

from models import Customer, Identity, Merchant, Staff
from models.enums import Platform, StaffRole

_LEADS = (StaffRole.OWNER, StaffRole.MANAGER)


@dataclass(frozen=True, slots=True)
class StaffContact:
    chat_id: int
    # The person's own choice in the bot, else their messenger's, else the shop's language.
    language: str | None


async def shop_leads(merchant_id: int) -> list[StaffContact]:
    """The active owners and managers of ``merchant_id`` (a cashier's phone is at the counter,
    but the bot does not know who is on duty, so the people responsible for the shop hear it)."""
    seats = await Staff.filter(merchant_id=merchant_id, active=True, role__in=_LEADS).order_by(
        "id"
    )
    if not seats:
        return []
    merchant = await Merchant.get(id=merchant_id)
    ids = [str(seat.telegram_user_id) for seat in seats]
    identities = {
        i.external_id: i
        for i in await Identity.filter(platform=Platform.TELEGRAM, external_id__in=ids)
    }
    customer_ids = [i.customer_id for i in identities.values()]
    chosen = {
        c.id: c.language
        for c in await Customer.filter(id__in=customer_ids, erased_at__isnull=True)
    }
    contacts = []
    for seat in seats:
        identity = identities.get(str(seat.telegram_user_id))
        language = None
        if identity is not None:
            if not identity.reachable:
                continue
            language = chosen.get(identity.customer_id) or identity.language_code
        contacts.append(StaffContact(seat.telegram_user_id, language or merchant.default_language))
    return contacts
