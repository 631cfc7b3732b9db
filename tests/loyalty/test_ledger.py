"""The ledger row is the audit trail: who, why and how much, and it always adds up."""

from __future__ import annotations

import pytest

from loyalty.ledger import ledger_sum, record
from loyalty.memberships import leave
from models import Membership, StampEvent
from models.enums import LedgerKind
from tests import factories
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("db")


async def test_a_long_reason_is_stored_cut_to_two_hundred_characters() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)

    event = await record(membership, LedgerKind.STAMP, 2, T0, reason="r" * 250)

    stored = await StampEvent.get(id=event.id)
    assert (stored.reason, stored.delta, stored.balance_after) == ("r" * 200, 2, 2)
    assert membership.balance == 2


async def test_leaving_forfeits_the_balance_through_the_ledger_with_its_reason() -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    await record(membership, LedgerKind.STAMP, 3, T0)
    await membership.save(update_fields=["balance"])

    await leave(membership, now=T0)

    forfeit = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.FORFEIT)
    assert (forfeit.delta, forfeit.balance_after, forfeit.reason) == (-3, 0, "left the card")
    assert (await Membership.get(id=membership.id)).balance == 0
    stamp = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.STAMP)
    assert stamp.reason == ""
    assert await ledger_sum(membership.id) == 0
    assert await ledger_sum(membership.id, LedgerKind.STAMP) == 3
