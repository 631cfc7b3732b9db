"""Which shop a staff member is working for while in admin mode (kept in the FSM storage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User

from loyalty.staff import Permission, seat_at, staff_roles

if TYPE_CHECKING:
    from models import Staff

# The customer keyboard was put under the message field (handlers.cards.offer_shortcuts).
SHORTCUTS_KEY = "shortcuts_shown"
ADMIN_KEY = "admin_merchant_id"


class IsStaff(Filter):
    """Staff anywhere; to everyone else admin commands stay unknown commands."""

    async def __call__(
        self, message: Message, event_from_user: User | None = None
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        seats = await staff_roles(event_from_user.id)
        return {"seats": seats} if seats else False


class SeatFor(Filter):
    """A button's presser seated at the shop the button names, with ``permission``: the
    handler gets ``seat: Staff`` and ``screen: Message`` (the message the button is on).

    Put it after the CallbackData filter (it reads ``callback_data.merchant_id``). Without such
    a seat (another shop's id, a role without the permission, a seat removed since) the button
    matches no handler, and the fallback answers that it has expired: nothing changes.
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(
        self, query: CallbackQuery, callback_data: CallbackData | None = None
    ) -> bool | dict[str, Any]:
        merchant_id = getattr(callback_data, "merchant_id", None)
        if not isinstance(merchant_id, int) or not isinstance(query.message, Message):
            return False
        seat = await seat_at(query.from_user.id, merchant_id, self.permission)
        return {"seat": seat, "screen": query.message} if seat is not None else False


async def admin_merchant(state: FSMContext) -> int | None:
    value = (await state.get_data()).get(ADMIN_KEY)
    return value if isinstance(value, int) else None


async def enter_admin_mode(state: FSMContext, merchant_id: int) -> None:
    # The staff keyboard replaces the customer's: offer that one again after admin mode.
    await state.update_data({ADMIN_KEY: merchant_id, SHORTCUTS_KEY: False})


async def admin_seat(state: FSMContext, user_id: int, permission: Permission) -> Staff | None:
    """The seat of the shop this person is in admin mode for, if it grants ``permission``.

    Checked on every action, so a staff member removed mid-conversation loses access at once.
    """
    merchant_id = await admin_merchant(state)
    if merchant_id is None:
        return None
    return await seat_at(user_id, merchant_id, permission)


async def answering_seat(
    message: Message, state: FSMContext, key: str, permission: Permission
) -> Staff | None:
    """The seat a typed answer is for: the shop the question stored under ``key``, checked
    again now (the person may have lost ``permission`` since it was asked)."""
    merchant_id = (await state.get_data()).get(key)
    user = message.from_user
    if user is None or not isinstance(merchant_id, int):
        return None
    return await seat_at(user.id, merchant_id, permission)
