"""Small builders for test data, going through the real services where one exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.customers import customer_for_identity
from loyalty.memberships import join
from loyalty.merchants import CardSpec, MerchantSpec, NewMerchant, create_merchant
from models import Customer, Membership
from models.enums import Platform

T0 = datetime(2026, 5, 4, 14, 19, tzinfo=UTC)


async def merchant(
    name: str = "Kafe Lviv",
    *,
    stamps_needed: int = 10,
    cooldown: int = 0,
    max_per_call: int = 5,
    validity_days: int = 30,
    timezone: str = "Europe/Kyiv",
    onboarded: bool = True,
) -> NewMerchant:
    """A shop with its first card; set up already (its owner's /admin is the menu) unless
    ``onboarded=False``, which leaves the first-run walkthrough to do."""
    created = await create_merchant(
        MerchantSpec(name=name, timezone=timezone),
        CardSpec(
            name="Coffee card",
            stamps_needed=stamps_needed,
            reward_text="Free cappuccino",
            voucher_validity_days=validity_days,
            max_stamps_per_call=max_per_call,
            stamp_cooldown_seconds=cooldown,
        ),
        invite_ttl=timedelta(hours=72),
        now=T0,
    )
    if onboarded:
        created.merchant.onboarded_at = T0
        await created.merchant.save(update_fields=["onboarded_at"])
    return created


async def customer(telegram_id: int = 1001, first_name: str = "Olena") -> Customer:
    return await customer_for_identity(
        Platform.TELEGRAM, str(telegram_id), first_name=first_name, language="uk"
    )


async def member(shop: NewMerchant, telegram_id: int = 1001) -> Membership:
    person = await customer(telegram_id)
    return (await join(person, shop.card, now=T0)).membership
