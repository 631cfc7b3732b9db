"""Customers and their messenger identities; leaving, erasing."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from loyalty.clock import ensure_utc
from loyalty.errors import CustomerErased
from loyalty.ledger import forfeit_balance
from loyalty.tokens import new_token
from models import ChannelOptOut, Customer, Identity, Membership, Voucher
from models.enums import MembershipStatus, Platform, VoucherStatus


async def customer_for_identity(
    platform: Platform,
    external_id: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
    language: str | None = None,
    language_code: str | None = None,
    absent: bool = False,
) -> Customer:
    """The customer behind a messenger account, created on first contact.

    ``language`` is an explicit choice; ``language_code`` is what the messenger reports.
    ``absent``: the caller looked the account up for this very message and found no one
    (``find_customer``, as the bot's middleware does for every update), so the customer is
    made without a second look; a first message that raced this one still ends in one
    customer, through the unique identity.
    """
    identity = (
        None if absent else await Identity.get_or_none(platform=platform, external_id=external_id)
    )
    if identity is not None:
        return await _living(identity.customer_id)
    try:
        async with in_transaction():
            customer = await Customer.create(
                first_name=(first_name or "")[:128] or None,
                last_name=(last_name or "")[:128] or None,
                language=language,
            )
            await Identity.create(
                customer=customer,
                platform=platform,
                external_id=external_id,
                username=(username or "")[:64] or None,
                language_code=(language_code or "")[:16] or None,
            )
            return customer
    except IntegrityError:
        # Two first messages raced: the other one created the identity, use it.
        identity = await Identity.get(platform=platform, external_id=external_id)
        return await _living(identity.customer_id)


async def _living(customer_id: int) -> Customer:
    """The customer, unless erased (CustomerErased)."""
    customer = await Customer.get(id=customer_id)
    if customer.erased_at is not None:
        raise CustomerErased()
    return customer


async def chosen_language(customer_id: int) -> str | None:
    """The language the customer picked in the bot's settings, if any (and if they exist)."""
    found = await Customer.filter(id=customer_id).first().values("language")
    return str(found["language"]) if found and found["language"] else None


async def erase_customer(customer: Customer, *, now: datetime | None = None) -> None:
    """Forget the person: personal data and identities go, the ledger stays anonymous.

    Memberships stay as anonymous rows (the ledger points at them) with their tokens rotated,
    so every old QR code and link stops working; unused vouchers are voided.
    """
    moment = ensure_utc(now)
    async with in_transaction():
        await Identity.filter(customer_id=customer.id).delete()
        await ChannelOptOut.filter(customer_id=customer.id).delete()
        memberships = await Membership.filter(customer_id=customer.id).select_for_update()
        for membership in memberships:
            await forfeit_balance(membership, moment, reason="customer erased")
            membership.status = MembershipStatus.LEFT
            membership.left_at = membership.left_at or moment
            membership.public_token = new_token()
            membership.counter_code = None
            await membership.save(
                update_fields=["status", "left_at", "public_token", "counter_code", "balance"]
            )
        await Voucher.filter(
            membership_id__in=[m.id for m in memberships], status=VoucherStatus.ISSUED
        ).update(status=VoucherStatus.VOID, voided_at=moment, void_reason="customer erased")
        customer.first_name = None
        customer.last_name = None
        customer.email = None
        customer.email_verified = False
        customer.birth_day = customer.birth_month = customer.birth_year = None
        customer.language = None
        customer.erased_at = moment
        await customer.save()


async def find_customer(platform: Platform, external_id: str) -> tuple[Customer, Identity] | None:
    """The customer behind a messenger account, without creating one.

    It runs for every update a person sends, so it is one statement written once: building it
    with the ORM's query builder each time cost more CPU than the rest of a ``/start``.
    """
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _find_customer_sql(conn.capabilities.dialect), [platform.value, external_id]
    )
    if not rows:
        return None
    row = rows[0]
    # The rows become models exactly as the ORM's own executor makes them from a SELECT.
    identity = Identity._init_from_db(**_unprefixed(row, "i_", Identity))
    customer = Customer._init_from_db(**_unprefixed(row, "c_", Customer))
    if customer.erased_at is not None:
        return None
    return customer, identity


def _select_list(model: type[Model], alias: str) -> str:
    return ", ".join(
        f'{alias}."{column}" AS "{alias}_{column}"' for column in sorted(model._meta.db_fields)
    )


def _unprefixed(row: dict[str, Any], prefix: str, model: type[Model]) -> dict[str, Any]:
    return {column: row[prefix + column] for column in model._meta.db_fields}


def _numbered(dialect: str, text: str) -> str:
    """``text`` with each ``{}`` the next parameter's mark: ``$n`` for PostgreSQL, ``?`` else
    (the statements written once in this room, their values in the order of their marks)."""
    marks = [f"${n}" if dialect == "postgres" else "?" for n in range(1, text.count("{}") + 1)]
    return text.format(*marks)


@functools.cache
def _find_customer_sql(dialect: str) -> str:
    """Built on first use: the models know their foreign-key columns once Tortoise is set up."""
    text = (
        f"SELECT {_select_list(Identity, 'i')}, {_select_list(Customer, 'c')} "  # noqa: S608
        'FROM "identity" i JOIN "customer" c ON c."id" = i."customer_id" '
        'WHERE i."platform" = {} AND i."external_id" = {} LIMIT 1'
    )
    return _numbered(dialect, text)


async def mark_inbound(
    platform: Platform, external_id: str, *, at: datetime, language_code: str | None = None
) -> None:
    """The person wrote or pressed a button here just now: they can be reached again, the
    messenger's language is theirs, and WhatsApp's 24-hour window runs from this moment."""
    values: dict[str, Any] = {"last_inbound_at": ensure_utc(at), "reachable": True}
    if language_code:
        values["language_code"] = language_code[:16]
    await Identity.filter(platform=platform, external_id=external_id).update(**values)
