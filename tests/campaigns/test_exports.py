"""The exports read in keyset chunks and stop at their size limit, saying so."""

from __future__ import annotations

import csv
import io

import pytest

from campaigns import exports
from loyalty.errors import StaffNotFound
from models import AuditEntry, Staff
from models.enums import StaffRole
from tests import factories

pytestmark = pytest.mark.usefixtures("db")


async def _shop(members: int) -> tuple[factories.NewMerchant, Staff, Staff]:
    shop = await factories.merchant()
    for n in range(members):
        await factories.member(shop, 9_000 + n)
    owner = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=1, role=StaffRole.OWNER
    )
    manager = await Staff.create(
        merchant_id=shop.merchant.id, telegram_user_id=2, role=StaffRole.MANAGER
    )
    return shop, owner, manager


async def test_chunks_add_up_to_every_member(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    _, owner, _ = await _shop(5)

    done = await exports.member_export(owner)

    rows = list(csv.reader(io.StringIO(done.data.decode("utf-8-sig"))))
    assert done.rows == 5
    assert len({row[0] for row in rows[1:]}) == 5
    assert done.truncated is False


async def test_a_full_file_stops_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    monkeypatch.setattr(exports, "MAX_BYTES", 150)
    _, owner, _ = await _shop(5)

    done = await exports.member_export(owner)

    assert done.truncated is True
    assert 0 < done.rows < 5
    entry = await AuditEntry.get(action="export.members")
    assert entry.detail == {"rows": done.rows, "truncated": True}


async def test_a_manager_seat_cannot_export_members_even_when_asked_directly() -> None:
    _, _, manager = await _shop(1)

    with pytest.raises(StaffNotFound):
        await exports.member_export(manager)
    assert await AuditEntry.filter(action="export.members").count() == 0
