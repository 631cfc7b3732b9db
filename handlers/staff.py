"""The owners' staff screens: who works here and as what, invites, handing the shop over, the
activity log; and ``/help`` in admin mode, which says what the person's role can do.

Only owners manage staff. Every press re-reads the presser's seat at the shop named in the
button: someone with no seat there (a forged button, another shop's ids) sees "button expired";
a manager or cashier of that shop is told that only owners manage staff. The rules and the
audit records are in :mod:`loyalty.staff_admin`.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from conversation.links import MessengerLinks
from handlers.admin_mode import IsStaff, admin_seat
from handlers.callbacks import AdminAction, AdminOp, StaffAction, StaffOp, db_id, parse_db_id
from handlers.command_menu import sync_staff_commands
from handlers.counter import role_name
from handlers.fallback import help_text
from handlers.texts import (
    arrows,
    back_label,
    bold,
    button_expired,
    local_datetime,
    number,
    user_text,
)
from loyalty.audit import AuditLine, JsonValue, recent
from loyalty.errors import LastOwner, LoyaltyError, OwnersOnly
from loyalty.messenger_accounts import own_bot_username
from loyalty.staff import Permission, allows, list_staff, seat_at, shop_of
from loyalty.staff_admin import (
    change_role,
    invite_staff,
    pending_invites,
    remove_staff,
    revoke_invite,
    transfer_ownership,
)
from loyalty.tokens import LinkKind, start_link
from models.enums import Platform, StaffRole

if TYPE_CHECKING:
    from models import Staff

router = Router(name="staff")
ROLES = (StaffRole.OWNER, StaffRole.MANAGER, StaffRole.CASHIER)
ACTIVITY_PAGE = 10
# Translated in the shop's language when sent (see _tell); marked here for the catalogs.
INVITE_BUTTON = __("➕ Invite staff")
YOUR_ROLE = __("You are now {role} at {shop}. /admin shows what you can do.")


def activity_button(merchant_id: int) -> tuple[str, str]:
    """The admin menu's "📜 Activity" button (label, data)."""
    return _("📜 Activity"), StaffAction(op=StaffOp.ACTIVITY, merchant_id=merchant_id).pack()


def owners_only() -> str:
    return _("Only the shop's owners manage its staff.")


def last_owner() -> str:
    return _(
        "A shop needs at least one owner. Make someone else owner first, "
        "or hand the shop over (👑 Transfer ownership)."
    )


async def _owner_seat(query: CallbackQuery, merchant_id: int) -> Staff | None:
    """The presser's owner seat at ``merchant_id``, or None after telling them why not."""
    seat = await seat_at(query.from_user.id, merchant_id, Permission.STAMP)
    if seat is None or not isinstance(query.message, Message):
        await query.answer(button_expired())
        return None
    if not allows(seat, Permission.STAFF):
        await query.answer(owners_only(), show_alert=True)
        return None
    return seat


async def _refused(query: CallbackQuery, error: LoyaltyError) -> None:
    if isinstance(error, LastOwner):
        await query.answer(last_owner(), show_alert=True)
    elif isinstance(error, OwnersOnly):
        await query.answer(owners_only(), show_alert=True)
    else:
        await query.answer(button_expired())


async def _tell(bot: Bot | None, i18n: I18n, seat: Staff, person: Staff, text: object) -> None:
    """Tell the person whose seat changed, in the shop's language (we do not know theirs);
    ``text`` is a lazy template with ``{role}`` and ``{shop}``, translated on sending."""
    if bot is None:
        return
    shop = await shop_of(seat)
    language = shop.default_language
    if language not in i18n.available_locales:
        language = i18n.default_locale
    with i18n.use_locale(language):
        message = str(text).format(role=role_name(person.role), shop=bold(shop.name))
    # Someone who blocked the bot misses the notice; the change stands.
    with contextlib.suppress(TelegramAPIError):
        await bot.send_message(person.telegram_user_id, message)


def _name(staff: Staff) -> str:
    return user_text(staff.display_name, html=False, limit=48)


def _back(builder: InlineKeyboardBuilder, merchant_id: int) -> None:
    builder.button(
        text=back_label(), callback_data=StaffAction(op=StaffOp.LIST, merchant_id=merchant_id)
    )


# -- the staff list ---------------------------------------------------------------------------


async def _staff_screen(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    people = await list_staff(seat.merchant_id)
    waiting = len(await pending_invites(seat))
    builder = InlineKeyboardBuilder()
    lines = [_("<b>Staff</b>")]
    for person in people:
        line = f"• {user_text(person.display_name)} — {role_name(person.role)}"
        lines.append(line + (" " + _("(you)") if person.id == seat.id else ""))
        if person.id != seat.id:
            builder.button(
                text=f"{_name(person)} · {role_name(person.role)}",
                callback_data=StaffAction(
                    op=StaffOp.PERSON, merchant_id=seat.merchant_id, target=person.id
                ),
            )
    builder.button(
        text=str(INVITE_BUTTON),
        callback_data=AdminAction(op=AdminOp.INVITE_PICK, merchant_id=seat.merchant_id),
    )
    builder.button(
        text=ngettext("Pending invites: {count}", "Pending invites: {count}", waiting).format(
            count=number(waiting)
        ),
        callback_data=StaffAction(op=StaffOp.INVITES, merchant_id=seat.merchant_id),
    )
    if any(p.role == StaffRole.OWNER and p.id != seat.id for p in people):
        # A co-owner may step down; the last owner hands the shop over instead.
        builder.button(
            text=_("Step down to manager"),
            callback_data=StaffAction(
                op=StaffOp.ROLE,
                merchant_id=seat.merchant_id,
                target=seat.id,
                value=StaffRole.MANAGER,
            ),
        )
    if len(people) > 1:
        builder.button(
            text=_("Transfer ownership"),
            callback_data=StaffAction(op=StaffOp.TRANSFER, merchant_id=seat.merchant_id),
        )
    builder.button(
        text=back_label(_("Shop menu")),
        callback_data=AdminAction(op=AdminOp.MORE, merchant_id=seat.merchant_id),
    )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


async def show_staff(message: Message, seat: Staff) -> None:
    """The staff list as a new message (from the shop keyboard's 👥 Staff)."""
    if not allows(seat, Permission.STAFF):
        await message.answer(owners_only())
        return
    text, markup = await _staff_screen(seat)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AdminAction.filter(F.op == AdminOp.STAFF))
@router.callback_query(StaffAction.filter(F.op == StaffOp.LIST))
async def staff_list(query: CallbackQuery, callback_data: AdminAction | StaffAction) -> None:
    """From the shop menu or back from a person: the list in place of that screen."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    text, markup = await _staff_screen(seat)
    await query.answer()
    await _edit(query.message, text, markup)


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit in place; a message that cannot become text (a photo) gets a new one instead."""
    if message.text is None:
        await message.answer(text, reply_markup=markup)
        return
    with contextlib.suppress(TelegramBadRequest):  # "message is not modified": a double tap
        await message.edit_text(text, reply_markup=markup)


# -- one person: role and removal -------------------------------------------------------------


@router.callback_query(StaffAction.filter(F.op == StaffOp.PERSON))
async def person(query: CallbackQuery, callback_data: StaffAction) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    people = {p.id: p for p in await list_staff(seat.merchant_id)}
    staff = people.get(callback_data.target)
    if staff is None or staff.id == seat.id:
        await query.answer(button_expired())
        return
    make = {
        StaffRole.OWNER: _("👑 Make co-owner"),
        StaffRole.MANAGER: _("Make manager"),
        StaffRole.CASHIER: _("Make cashier"),
    }
    builder = InlineKeyboardBuilder()
    for role in ROLES:
        if role != staff.role:
            builder.button(
                text=make[role],
                callback_data=StaffAction(
                    op=StaffOp.ROLE, merchant_id=seat.merchant_id, target=staff.id, value=role
                ),
            )
    builder.button(
        text=_("Remove {name}").format(name=_name(staff)),
        callback_data=AdminAction(
            op=AdminOp.REMOVE, merchant_id=seat.merchant_id, value=str(staff.id)
        ),
    )
    _back(builder, seat.merchant_id)
    builder.adjust(1)
    await query.answer()
    await query.message.edit_text(
        _("{name} is {role}. What should they be?").format(
            name=bold(staff.display_name), role=role_name(staff.role)
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(StaffAction.filter(F.op == StaffOp.ROLE))
async def role_pressed(
    query: CallbackQuery, callback_data: StaffAction, i18n: I18n, messenger_links: MessengerLinks
) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        role = StaffRole(callback_data.value)
        changed = await change_role(seat, callback_data.target, role)
    except ValueError:
        await query.answer(button_expired())
        return
    except LoyaltyError as refused:
        await _refused(query, refused)
        return
    if changed.old_role != changed.new_role and changed.staff.id != seat.id:
        await _tell(query.bot, i18n, seat, changed.staff, YOUR_ROLE)
    await _menu_follows(query.bot, i18n, messenger_links, seat, changed.staff)
    builder = InlineKeyboardBuilder()
    _back(builder, seat.merchant_id)
    await query.answer()
    await query.message.edit_text(
        _("{name} is now {role} (was {old}).").format(
            name=bold(changed.staff.display_name),
            role=role_name(changed.new_role),
            old=role_name(changed.old_role),
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(AdminAction.filter(F.op == AdminOp.REMOVE))
async def ask_remove(query: CallbackQuery, callback_data: AdminAction) -> None:
    """The confirm names the person and says what they lose; No goes back to them."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    target = parse_db_id(callback_data.value)
    people = {p.id: p for p in await list_staff(seat.merchant_id)}
    staff = people.get(target) if target is not None else None
    if staff is None or staff.id == seat.id:
        await query.answer(button_expired())
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, remove {name}").format(name=_name(staff)),
        callback_data=AdminAction(
            op=AdminOp.REMOVE_CONFIRM, merchant_id=seat.merchant_id, value=str(staff.id)
        ),
    )
    builder.button(
        text=_("No"),
        callback_data=StaffAction(
            op=StaffOp.PERSON, merchant_id=seat.merchant_id, target=staff.id
        ),
    )
    builder.adjust(2)
    await query.answer()
    await _edit(
        query.message,
        _("Remove {name}? They can't stamp or redeem from now on.").format(
            name=bold(staff.display_name)
        ),
        builder.as_markup(),
    )


@router.callback_query(AdminAction.filter(F.op == AdminOp.REMOVE_CONFIRM))
async def remove(
    query: CallbackQuery, callback_data: AdminAction, i18n: I18n, messenger_links: MessengerLinks
) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        removed = await remove_staff(seat, db_id(callback_data.value))
    except ValueError:
        await query.answer(button_expired())
        return
    except LoyaltyError as refused:
        await _refused(query, refused)
        return
    await _menu_follows(query.bot, i18n, messenger_links, seat, removed)
    builder = InlineKeyboardBuilder()
    _back(builder, seat.merchant_id)
    await query.answer()
    await _edit(
        query.message,
        _("{name} is no longer on your staff.").format(name=user_text(removed.display_name)),
        builder.as_markup(),
    )


async def _menu_follows(
    bot: Bot | None, i18n: I18n, links: MessengerLinks, seat: Staff, person: Staff
) -> None:
    """The person's command menu follows their seats (in the shop's language, as _tell)."""
    shop = await shop_of(seat)
    await sync_staff_commands(
        bot,
        i18n,
        person.telegram_user_id,
        shop.default_language,
        linking=bool(links.others(Platform.TELEGRAM)),
    )


# -- handing the shop over --------------------------------------------------------------------


@router.callback_query(StaffAction.filter(F.op == StaffOp.TRANSFER))
async def transfer(query: CallbackQuery, callback_data: StaffAction) -> None:
    """Without a target: whom to hand over to; with one: the confirmation."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    others = [p for p in await list_staff(seat.merchant_id) if p.id != seat.id]
    builder = InlineKeyboardBuilder()
    if not callback_data.target:
        for staff in others:
            builder.button(
                text=f"{_name(staff)} · {role_name(staff.role)}",
                callback_data=StaffAction(
                    op=StaffOp.TRANSFER, merchant_id=seat.merchant_id, target=staff.id
                ),
            )
        text = _("Who should be the new owner? You will become a manager.")
    else:
        chosen = next((p for p in others if p.id == callback_data.target), None)
        if chosen is None:
            await query.answer(button_expired())
            return
        builder.button(
            text=_("Yes, make {name} the owner").format(name=_name(chosen)),
            callback_data=StaffAction(
                op=StaffOp.TRANSFER_CONFIRM, merchant_id=seat.merchant_id, target=chosen.id
            ),
        )
        text = _(
            "Make {name} the owner of the shop? You become a manager: you keep stamps, "
            "vouchers and campaigns, but no longer manage staff."
        ).format(name=bold(chosen.display_name))
    _back(builder, seat.merchant_id)
    builder.adjust(1)
    await query.answer()
    await query.message.edit_text(text, reply_markup=builder.as_markup())


@router.callback_query(StaffAction.filter(F.op == StaffOp.TRANSFER_CONFIRM))
async def transfer_confirmed(
    query: CallbackQuery, callback_data: StaffAction, i18n: I18n, messenger_links: MessengerLinks
) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        done = await transfer_ownership(seat, callback_data.target)
    except LoyaltyError as refused:
        await _refused(query, refused)
        return
    await _tell(query.bot, i18n, seat, done.new_owner, YOUR_ROLE)
    await _menu_follows(query.bot, i18n, messenger_links, seat, done.new_owner)
    await _menu_follows(query.bot, i18n, messenger_links, seat, done.old_owner)
    await query.answer()
    await query.message.edit_text(
        _("{name} is now the owner; you are a manager. /admin shows your new menu.").format(
            name=bold(done.new_owner.display_name)
        )
    )


# -- invites ----------------------------------------------------------------------------------


def _role_explained(role: StaffRole) -> str:
    texts = {
        StaffRole.CASHIER: _("Cashier — stamps and redeems"),
        StaffRole.MANAGER: _("Manager — also campaigns"),
        StaffRole.OWNER: _("Co-owner — everything, staff too"),
    }
    return texts[role]


def invite_roles(seat: Staff) -> tuple[str, InlineKeyboardMarkup]:
    """➕ Invite staff: whom, each role saying what it may do."""
    builder = InlineKeyboardBuilder()
    for role in (StaffRole.CASHIER, StaffRole.MANAGER, StaffRole.OWNER):
        builder.button(
            text=_role_explained(role),
            callback_data=AdminAction(
                op=AdminOp.INVITE, merchant_id=seat.merchant_id, value=role.value
            ),
        )
    _back(builder, seat.merchant_id)
    builder.adjust(1)
    return _("Whom are you inviting?"), builder.as_markup()


async def show_invite_roles(message: Message, seat: Staff) -> None:
    """The role question as a new message (from the shop keyboard's ➕ Invite staff)."""
    if not allows(seat, Permission.STAFF):
        await message.answer(owners_only())
        return
    text, markup = invite_roles(seat)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AdminAction.filter(F.op == AdminOp.INVITE_PICK))
async def invite_pick(query: CallbackQuery, callback_data: AdminAction) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    text, markup = invite_roles(seat)
    await query.answer()
    await _edit(query.message, text, markup)


@router.callback_query(AdminAction.filter(F.op == AdminOp.INVITE))
async def invite(
    query: CallbackQuery, callback_data: AdminAction, staff_invite_ttl: timedelta
) -> None:
    """The invite as a QR to scan on the spot, with 📤 Share for someone elsewhere and Revoke.

    The role question (a button-only step) is done: its message loses its buttons."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message) or query.bot is None:
        return
    try:
        role = StaffRole(callback_data.value)
    except ValueError:
        await query.answer(button_expired())
        return
    await query.answer()
    if query.message.text == invite_roles(seat)[0]:
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)
    await send_invite(query.message, query.bot, seat, role, staff_invite_ttl)


async def send_invite(
    message: Message, bot: Bot, seat: Staff, role: StaffRole, ttl: timedelta
) -> None:
    link = await invite_staff(seat, role, ttl=ttl)
    shop = await shop_of(seat)
    # The shop's own bot while connected: its staff work there, as its customers do.
    username = await own_bot_username(seat.merchant_id) or (await bot.me()).username or ""
    url = start_link(username, LinkKind.STAFF_INVITE, link.token)
    when = local_datetime(link.expires_at, shop.timezone)
    caption = "\n".join(
        [
            _("Invite for a new {role} at {shop}.").format(
                role=role_name(role), shop=bold(shop.name)
            ),
            _(
                "Let them scan this QR with their phone camera, or share the link. It works "
                "once, until {when}."
            ).format(when=when),
        ]
    )
    share = _("Join {shop} on stampbot as {role}").format(
        shop=user_text(shop.name, html=False, limit=60), role=role_name(role)
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📤 Share"),
        url="https://t.me/share/url?" + urlencode({"url": url, "text": share}),
    )
    builder.button(
        text=_("Revoke"),
        callback_data=AdminAction(
            op=AdminOp.REVOKE_INVITE, merchant_id=seat.merchant_id, value=str(link.id)
        ),
    )
    builder.adjust(2)
    from render.poster import render_link_qr  # here: Pillow and zxing-cpp only when one is drawn

    await bot.send_chat_action(message.chat.id, "upload_photo")
    await bot.send_photo(
        message.chat.id,
        BufferedInputFile(render_link_qr(url), filename="invite.png"),
        caption=caption,
        reply_markup=builder.as_markup(),
    )


@router.callback_query(AdminAction.filter(F.op == AdminOp.REVOKE_INVITE))
async def revoke_from_invite(query: CallbackQuery, callback_data: AdminAction) -> None:
    """Revoke on the invite itself: its caption says so and its buttons go."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        revoked = await revoke_invite(seat, db_id(callback_data.value))
    except ValueError:
        await query.answer(button_expired())
        return
    except LoyaltyError as refused:
        await _refused(query, refused)
        return
    await query.answer()
    notice = _("The {role} invite link no longer works.").format(role=role_name(revoked.role))
    with contextlib.suppress(TelegramBadRequest):
        await query.message.edit_caption(caption=notice, reply_markup=None)


async def _invites_screen(seat: Staff, notice: str = "") -> tuple[str, InlineKeyboardMarkup]:
    shop = await shop_of(seat)
    invites = await pending_invites(seat)
    lines = [notice, ""] if notice else []
    lines.append(_("<b>Pending invites</b>"))
    builder = InlineKeyboardBuilder()
    if not invites:
        lines.append(_("No unused invite links."))
    for item in invites:
        when = local_datetime(item.expires_at, shop.timezone)
        lines.append(
            "• " + _("{role}, valid until {when}").format(role=role_name(item.role), when=when)
        )
        builder.button(
            text=_("Revoke: {role}, until {when}").format(role=role_name(item.role), when=when),
            callback_data=StaffAction(
                op=StaffOp.REVOKE, merchant_id=seat.merchant_id, target=item.id
            ),
        )
    _back(builder, seat.merchant_id)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


@router.callback_query(StaffAction.filter(F.op == StaffOp.INVITES))
async def invites(query: CallbackQuery, callback_data: StaffAction) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    text, markup = await _invites_screen(seat)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(StaffAction.filter(F.op == StaffOp.REVOKE))
async def revoke(query: CallbackQuery, callback_data: StaffAction) -> None:
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    try:
        revoked = await revoke_invite(seat, callback_data.target)
    except LoyaltyError as refused:
        await _refused(query, refused)
        return
    notice = _("The {role} invite link no longer works.").format(role=role_name(revoked.role))
    text, markup = await _invites_screen(seat, notice)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


# -- the activity log -------------------------------------------------------------------------


def _value(detail: dict[str, JsonValue], key: str) -> str:
    value = detail.get(key)
    return user_text("" if value is None else str(value), limit=80)


def _role(detail: dict[str, JsonValue], key: str) -> str:
    value = detail.get(key)
    if value in set(StaffRole):
        return role_name(str(value))
    return _value(detail, key)


def describe(line: AuditLine) -> str:
    """One entry as a sentence; actions this version does not know show name and detail."""
    d = line.detail
    name = _value(d, "name")
    action = line.action
    if action == "staff.role":
        return _("changed the role of {name}: {old} → {new}").format(
            name=name, old=_role(d, "old"), new=_role(d, "new")
        )
    if action == "staff.remove":
        return _("removed {name} ({role}) from the staff").format(name=name, role=_role(d, "old"))
    if action == "staff.invite":
        return _("made an invite link for a new {role}").format(role=_role(d, "role"))
    if action == "staff.invite_revoke":
        return _("revoked an invite link for a {role}").format(role=_role(d, "role"))
    if action == "staff.transfer":
        return _("handed the shop over to {name} and became a manager").format(name=name)
    if action == "staff.join":
        return _("joined the staff as {role}").format(role=_role(d, "role"))
    if action == "card.create":
        return _("created a card")
    if action == "card.edit":
        return _("changed the card's {field}: {old} → {new}").format(
            field=_value(d, "field"), old=_value(d, "old"), new=_value(d, "new")
        )
    if action == "stamp.undo":
        return _("undid a stamp")
    if action == "voucher.void":
        return _("cancelled a voucher")
    if action == "voucher.goodwill":
        return _("gave a goodwill voucher")
    if action == "shop.create":
        return _("created the shop")
    if action == "shop.logo":
        return _("changed the shop's logo")
    if action == "shop.colours":
        return _("changed the shop's colours")
    if action == "shop.rename":
        return _("renamed the shop: {old} → {new}").format(
            old=_value(d, "old"), new=_value(d, "new")
        )
    if action == "shop.timezone":
        return _("changed the time zone: {old} → {new}").format(
            old=_value(d, "old"), new=_value(d, "new")
        )
    if action == "shop.language":
        return _("changed the shop's language: {old} → {new}").format(
            old=_value(d, "old"), new=_value(d, "new")
        )
    if action == "shop.location":
        return _("set the shop's location")
    shown = ", ".join(f"{key}={_value(d, key)}" for key in list(d)[:6])
    return user_text(action, limit=32) + (f" ({shown})" if shown else "")


def _actor(line: AuditLine) -> str:
    if line.actor_name:
        return bold(line.actor_name)
    if line.actor_telegram_id is None:
        return _("The operator")
    return _("A former staff member")


@router.callback_query(StaffAction.filter(F.op == StaffOp.ACTIVITY))
async def activity(query: CallbackQuery, callback_data: StaffAction) -> None:
    """Recent changes, newest first, in pages; the times in the shop's zone."""
    seat = await _owner_seat(query, callback_data.merchant_id)
    if seat is None or not isinstance(query.message, Message):
        return
    shop = await shop_of(seat)
    page = callback_data.page
    lines = await recent(seat.merchant_id, limit=ACTIVITY_PAGE + 1, offset=page * ACTIVITY_PAGE)
    more = len(lines) > ACTIVITY_PAGE
    text = [_("<b>📜 Activity</b>")]
    if not lines:
        text.append(_("Nothing recorded yet."))
    for line in lines[:ACTIVITY_PAGE]:
        text.append(f"{local_datetime(line.at, shop.timezone)} · {_actor(line)}: {describe(line)}")
    builder = InlineKeyboardBuilder()
    back, forward = arrows()
    if page > 0:
        builder.button(
            text=_("{arrow} Newer").format(arrow=back),
            callback_data=StaffAction(
                op=StaffOp.ACTIVITY, merchant_id=seat.merchant_id, page=page - 1, value="p"
            ),
        )
    if more:
        builder.button(
            text=_("Older {arrow}").format(arrow=forward),
            callback_data=StaffAction(
                op=StaffOp.ACTIVITY, merchant_id=seat.merchant_id, page=page + 1, value="p"
            ),
        )
    await query.answer()
    # From the menu a new message; paging ("p") turns the page in place.
    if callback_data.value == "p":
        await query.message.edit_text("\n".join(text), reply_markup=builder.as_markup())
    else:
        await query.message.answer("\n".join(text), reply_markup=builder.as_markup())


# -- /help in admin mode ----------------------------------------------------------------------


def _can(permission: Permission) -> str | None:
    texts = {
        Permission.STAMP: _(
            "stamp a card: scan the customer's QR code with your camera, or type the "
            "8-character code under it"
        ),
        Permission.OVERRIDE_COOLDOWN: _("stamp again within the double-scan pause"),
        Permission.REDEEM: _(
            "redeem a voucher: scan its QR code, type its code, or send /redeem CODE"
        ),
        Permission.VOID_VOUCHER: _("cancel a customer's voucher (the customer is told)"),
        Permission.CAMPAIGNS: _(
            "send campaigns: 📣 New campaign (/newcampaign), 📋 Campaigns (/campaigns)"
        ),
        Permission.STATISTICS: _("see each campaign's statistics, chart and CSV export"),
        Permission.STAFF: _(
            "manage staff (👥 Staff): invite co-owners, managers and cashiers, change roles, "
            "remove people, revoke invite links, hand the shop over; and read 📜 Activity"
        ),
    }
    return texts.get(permission)


def staff_help(seat: Staff) -> str:
    lines = [
        _("You are {role} here. You can:").format(role=role_name(seat.role)),
        *(f"• {text}" for p in Permission if allows(seat, p) and (text := _can(p))),
        "",
        _("/admin — the admin menu · /exit — back to customer mode · /help — this text"),
    ]
    return "\n".join(lines)


@router.message(Command("help"), IsStaff())
async def help_in_admin_mode(message: Message, state: FSMContext) -> None:
    """Staff in admin mode get what their role can do; in customer mode, the customer help."""
    user = message.from_user
    seat = await admin_seat(state, user.id, Permission.STAMP) if user is not None else None
    await message.answer(staff_help(seat) if seat is not None else help_text())
