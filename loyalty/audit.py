"""Recording changes to a shop and reading them back for its owners.

Every staff action that changes a shop (a card setting, a role, an undone stamp, a voided or
goodwill voucher …) calls :func:`record` in the same transaction as the change, so the log
never claims a change that was rolled back, nor misses one that was kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loyalty.clock import ensure_utc
from models import AuditEntry, Staff

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One entry as the owner's screen shows it."""

    at: datetime
    action: str
    actor_name: str
    actor_telegram_id: int | None
    detail: dict[str, JsonValue]


async def record(
    merchant_id: int,
    action: str,
    *,
    by: Staff | None = None,
    actor_telegram_id: int | None = None,
    now: datetime | None = None,
    **detail: JsonValue,
) -> AuditEntry:
    """Write one audit row. ``by`` is the staff seat that acted (None for the operator)."""
    return await AuditEntry.create(
        merchant_id=merchant_id,
        staff_id=by.id if by is not None else None,
        actor_telegram_id=by.telegram_user_id if by is not None else actor_telegram_id,
        action=action,
        detail=detail,
        created_at=ensure_utc(now),
    )


async def recent(merchant_id: int, *, limit: int = 20, offset: int = 0) -> list[AuditLine]:
    """The newest entries of a shop first, with the actor's name as the shop knows them."""
    rows = (
        await AuditEntry.filter(merchant_id=merchant_id)
        .order_by("-created_at", "-id")
        .offset(offset)
        .limit(limit)
        .prefetch_related("staff")
    )
    return [
        AuditLine(
            at=row.created_at,
            action=row.action,
            actor_name=row.staff.display_name if row.staff is not None else "",
            actor_telegram_id=row.actor_telegram_id,
            detail=row.detail,  # type: ignore[arg-type]
        )
        for row in rows
    ]
