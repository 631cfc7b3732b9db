"""The owners' staff management through the chat: roles, co-owners, handing the shop over,
pending invites, the activity log and /help in admin mode; with the refusals of the last owner
and two owners demoting each other at the same moment. Managers and another shop's ids are
refused in tests/security/test_staff_and_shops.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty import audit
from loyalty.errors import LastOwner, OwnersOnly
from loyalty.merchants import create_staff_invite
from loyalty.staff_admin import change_role
from models import AuditEntry, Staff, StaffInvite
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, buttons, invite_payload, keyboard, shop_menu, text_of

EXPIRED = "This button has expired."
OWNERS_ONLY = "Only the shop's owners manage its staff."


async def _join(chat: Chat, shop: factories.NewMerchant, role: StaffRole) -> Staff:
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")
    return await Staff.get(telegram_user_id=chat.user.id, merchant_id=shop.merchant.id)


async def _staff_screen(chat: Chat) -> Any:
    menu = await shop_menu(chat)
    await chat.press_label(menu, "Staff")  # the shop menu becomes the list, in place
    return chat.current(menu)


async def _invite(chat: Chat, role: str) -> tuple[Any, str]:
    """👥 Staff → ➕ Invite staff → the role: the invite photo and the payload its QR holds."""
    listing = await _staff_screen(chat)
    await chat.press_label(listing, "Invite staff")
    photo = (await chat.press_label(chat.current(listing), role))[-1]
    return photo, invite_payload(photo)


async def _forge(chat: Chat, data: str) -> str:
    menu = chat.replies[-1]
    await chat._post(chat.telegram.callback_update(chat.user, menu, data, check_button=False))
    return str(chat.last_answer().get("text", ""))


async def test_the_owner_makes_a_cashier_manager_and_the_log_says_so(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    cashier: Chat = new_chat(first_name="Taras")
    await _join(owner, shop, StaffRole.OWNER)
    taras = await _join(cashier, shop, StaffRole.CASHIER)

    listing = await _staff_screen(owner)
    await owner.press_label(listing, "Taras · cashier")
    person = owner.current(listing)
    assert text_of(person) == "Taras is cashier. What should they be?"
    assert [label for label, _ in buttons(person)] == [
        "👑 Make co-owner",
        "Make manager",
        "Remove Taras",
        "◀ Back",
    ]
    await owner.press_label(person, "Make manager")

    assert text_of(owner.current(listing)) == "Taras is now manager (was cashier)."
    assert (await Staff.get(id=taras.id)).role == StaffRole.MANAGER
    entry = await AuditEntry.get(merchant_id=shop.merchant.id, action="staff.role")
    assert entry.detail == {
        "staff_id": taras.id,
        "name": "Taras",
        "old": "cashier",
        "new": "manager",
    }
    assert text_of(cashier.new_messages()[-1]) == (
        "You are now manager at Kafe Lviv. /admin shows what you can do."
    )
    # The manager's menu now offers campaigns.
    home = (await cashier.send("/admin"))[-1]
    assert "You are manager." in text_of(home)
    assert ["📣 New campaign", "📋 Campaigns"] in keyboard(home)


async def test_a_co_owner_comes_by_invite_or_by_promotion(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    partner: Chat = new_chat(first_name="Ivan")
    manager: Chat = new_chat(first_name="Oksana")
    await _join(owner, shop, StaffRole.OWNER)
    oksana = await _join(manager, shop, StaffRole.MANAGER)

    photo, link = await _invite(owner, "Co-owner")
    assert text_of(photo).startswith("Invite for a new owner at Kafe Lviv.")
    joined = await partner.send(f"/start {link}")
    assert "You are now owner at Kafe Lviv." in text_of(joined[0])

    listing = await _staff_screen(owner)
    await owner.press_label(listing, "Oksana · manager")
    await owner.press_label(owner.current(listing), "Make co-owner")
    assert (await Staff.get(id=oksana.id)).role == StaffRole.OWNER
    owners = await Staff.filter(merchant_id=shop.merchant.id, role=StaffRole.OWNER).count()
    assert owners == 3
    invite_entry = await AuditEntry.get(merchant_id=shop.merchant.id, action="staff.invite")
    assert invite_entry.detail["role"] == "owner"


async def test_the_last_owner_cannot_step_down_or_be_removed(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")
    manager: Chat = new_chat(first_name="Oksana")
    marta = await _join(owner, shop, StaffRole.OWNER)
    await _join(manager, shop, StaffRole.MANAGER)
    await _staff_screen(owner)
    mid = shop.merchant.id

    answer = await _forge(owner, f"stf:role:{mid}:{marta.id}:cashier:0")

    assert answer.startswith("A shop needs at least one owner.")
    assert owner.last_answer()["show_alert"] in (True, "true")
    assert (await Staff.get(id=marta.id)).role == StaffRole.OWNER
    assert await _forge(owner, f"adm:remove_ok:{mid}:{marta.id}") == EXPIRED
    assert (await Staff.get(id=marta.id)).active is True
    assert not await AuditEntry.filter(merchant_id=mid, action="staff.role").exists()


async def test_with_two_owners_one_may_step_down(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")
    partner: Chat = new_chat(first_name="Ivan")
    marta = await _join(owner, shop, StaffRole.OWNER)
    ivan = await _join(partner, shop, StaffRole.OWNER)
    listing = await _staff_screen(owner)

    await owner.press_label(listing, "Step down to manager")
    assert text_of(owner.current(listing)) == "Marta is now manager (was owner)."
    assert (await Staff.get(id=marta.id)).role == StaffRole.MANAGER
    # Now Ivan is the last owner: Marta (a manager) can no longer manage him either.
    assert await _forge(owner, f"stf:role:{shop.merchant.id}:{ivan.id}:cashier:0") == OWNERS_ONLY
    assert (await Staff.get(id=ivan.id)).role == StaffRole.OWNER


async def test_the_owner_hands_the_shop_over_after_confirming(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    cashier: Chat = new_chat(first_name="Taras")
    marta = await _join(owner, shop, StaffRole.OWNER)
    taras = await _join(cashier, shop, StaffRole.CASHIER)

    listing = await _staff_screen(owner)
    await owner.press_label(listing, "Transfer ownership")
    assert text_of(owner.current(listing)) == (
        "Who should be the new owner? You will become a manager."
    )
    await owner.press_label(owner.current(listing), "Taras · cashier")
    confirm = owner.current(listing)
    assert text_of(confirm).startswith("Make Taras the owner of the shop? You become a manager")
    assert (await Staff.get(id=taras.id)).role == StaffRole.CASHIER  # nothing yet
    confirmed = button_data(confirm, "Yes, make Taras the owner")
    await owner.press(confirm, confirmed)

    assert text_of(owner.current(listing)).startswith("Taras is now the owner; you are a manager.")
    assert (await Staff.get(id=taras.id)).role == StaffRole.OWNER
    assert (await Staff.get(id=marta.id)).role == StaffRole.MANAGER
    entry = await AuditEntry.get(merchant_id=shop.merchant.id, action="staff.transfer")
    assert entry.staff_id == marta.id
    assert entry.detail == {
        "staff_id": taras.id,
        "name": "Taras",
        "old": "cashier",
        "from_name": "Marta",
    }
    assert text_of(cashier.new_messages()[-1]).startswith("You are now owner at Kafe Lviv.")
    assert "Staff" not in [label for label, _ in buttons(await shop_menu(owner))]
    assert "Staff" in [label for label, _ in buttons(await shop_menu(cashier))]
    # Pressing the old confirmation again: Marta is no owner any more.
    assert await _forge(owner, confirmed) == OWNERS_ONLY


def button_data(message: Any, label: str) -> str:
    return next(data for text, data in buttons(message) if label in text)


async def test_pending_invites_are_listed_and_a_revoked_link_says_so(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    stranger: Chat = new_chat(first_name="Petro")
    used_by: Chat = new_chat(first_name="Taras")
    await _join(owner, shop, StaffRole.OWNER)
    await _join(used_by, shop, StaffRole.CASHIER)  # used: not pending
    await StaffInvite.filter(merchant_id=shop.merchant.id, used_at__isnull=True).update(
        expires_at=datetime(2000, 1, 1, tzinfo=UTC)  # the operator's first link: expired
    )
    await _invite(owner, "Manager")
    _, link = await _invite(owner, "Cashier")

    listing = await _staff_screen(owner)
    await owner.press_label(listing, "Pending invites")
    screen = owner.current(listing)
    lines = text_of(screen).splitlines()
    assert lines[0] == "Pending invites"
    assert [line.split(",")[0] for line in lines[1:]] == ["• manager", "• cashier"]
    revoke = button_data(screen, "Revoke: cashier")
    await owner.press(screen, revoke)

    after = text_of(owner.current(listing)).splitlines()
    assert after[0] == "The cashier invite link no longer works."
    assert [line.split(",")[0] for line in after[3:]] == ["• manager"]
    opened = await stranger.send(f"/start {link}")
    assert text_of(opened[0]) == (
        "This invite link was withdrawn by the shop. Ask them for a new one."
    )
    assert not await Staff.filter(telegram_user_id=stranger.user.id).exists()
    entry = await AuditEntry.get(merchant_id=shop.merchant.id, action="staff.invite_revoke")
    assert entry.detail["role"] == "cashier"
    # The same revoke button again: the link is already withdrawn.
    assert await _forge(owner, revoke) == EXPIRED


def _spaced(text: str) -> str:
    """Babel writes "5:30\u202fPM"; the tests compare plain spaces."""
    return text.replace("\u202f", " ")


async def test_the_activity_log_pages_in_the_shops_time_zone(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv", timezone="Asia/Bangkok")
    owner: Chat = new_chat(first_name="Marta")
    marta = await _join(owner, shop, StaffRole.OWNER)
    mid = shop.merchant.id
    await AuditEntry.filter(merchant_id=mid).delete()
    base = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    await audit.record(mid, "future.thing", by=marta, now=base, colour="red")
    await audit.record(mid, "voucher.void", by=marta, now=base + timedelta(minutes=1))
    for minute in range(2, 12):
        await audit.record(
            mid, "staff.role", by=marta, now=base + timedelta(minutes=minute),
            staff_id=1, name=f"P{minute}", old="cashier", new="manager",
        )  # fmt: skip
    await audit.record(mid, "shop.rename", now=base + timedelta(minutes=30), old="A", new="<B>")

    menu = await shop_menu(owner)
    first = (await owner.press_label(menu, "Activity"))[0]
    lines = _spaced(text_of(first)).splitlines()
    assert lines[0] == "📜 Activity"
    assert len(lines) == 11
    # 10:30 UTC is 17:30 in Bangkok.
    assert lines[1] == "Mar 1, 2026 5:30 PM · The operator: renamed the shop: A → <B>"
    assert lines[2] == ("Mar 1, 2026 5:11 PM · Marta: changed the role of P11: cashier → manager")
    assert [label for label, _ in buttons(first)] == ["Older ▶"]
    await owner.press_label(first, "Older")
    second = owner.current(first)
    assert _spaced(text_of(second)).splitlines()[1:] == [
        "Mar 1, 2026 5:02 PM · Marta: changed the role of P2: cashier → manager",
        "Mar 1, 2026 5:01 PM · Marta: cancelled a voucher",
        "Mar 1, 2026 5:00 PM · Marta: future.thing (colour=red)",
    ]
    assert [label for label, _ in buttons(second)] == ["◀ Newer"]


async def test_help_in_admin_mode_says_what_the_role_can_do(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")
    manager: Chat = new_chat(first_name="Oksana")
    cashier: Chat = new_chat(first_name="Taras")
    await _join(owner, shop, StaffRole.OWNER)
    await _join(manager, shop, StaffRole.MANAGER)
    await _join(cashier, shop, StaffRole.CASHIER)

    # Not in admin mode yet: the customer's help.
    assert text_of((await cashier.send("/help"))[0]).startswith("I keep your stamp cards")
    helps = {}
    for chat in (owner, manager, cashier):
        await chat.send("/admin")
        helps[chat.user.first_name] = text_of((await chat.send("/help"))[0]).splitlines()

    assert helps["Taras"][:3] == [
        "You are cashier here. You can:",
        "• stamp a card: scan the customer's QR code with your camera, or type the "
        "8-character code under it",
        "• redeem a voucher: scan its QR code, type its code, or send /redeem CODE",
    ]
    assert len([line for line in helps["Taras"] if line.startswith("•")]) == 2
    assert helps["Oksana"][0] == "You are manager here. You can:"
    assert any("send campaigns" in line for line in helps["Oksana"])
    assert not any("manage staff" in line for line in helps["Oksana"])
    assert any(line.startswith("• manage staff (👥 Staff)") for line in helps["Marta"])
    assert helps["Marta"][-1].startswith("/admin — the admin menu")
    await cashier.send("/exit")
    assert text_of((await cashier.send("/help"))[0]).startswith("I keep your stamp cards")


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(db: Any) -> None:
    """Each demotion alone is allowed (there is another owner); both at once would leave none.
    The lock on the shop row serializes them: one wins, the other is refused, every round.
    Even rounds: each demotes the other; odd rounds: both step down at the same moment."""
    shop = await factories.merchant()
    for round_ in range(10):
        ann = await Staff.create(
            merchant=shop.merchant, telegram_user_id=5000 + 2 * round_, role=StaffRole.OWNER
        )
        bob = await Staff.create(
            merchant=shop.merchant, telegram_user_id=5001 + 2 * round_, role=StaffRole.OWNER
        )
        targets = (bob, ann) if round_ % 2 == 0 else (ann, bob)
        results = await asyncio.gather(
            change_role(ann, targets[0].id, StaffRole.MANAGER),
            change_role(bob, targets[1].id, StaffRole.MANAGER),
            return_exceptions=True,
        )

        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 1, results
        expected = OwnersOnly if round_ % 2 == 0 else LastOwner
        assert isinstance(refused[0], expected), refused
        owners = await Staff.filter(
            merchant_id=shop.merchant.id, role=StaffRole.OWNER, active=True
        ).count()
        assert owners == 1
        changes = AuditEntry.filter(merchant_id=shop.merchant.id, action="staff.role")
        assert await changes.count() == round_ + 1
        await Staff.filter(merchant_id=shop.merchant.id).update(active=False)


async def test_two_owners_pressing_demote_on_each_other_at_once_in_the_chat(
    new_chat: Any,
) -> None:
    """The same race through the webhook: both presses arrive together; one is refused."""
    shop = await factories.merchant()
    ann_chat: Chat = new_chat(first_name="Ann")
    bob_chat: Chat = new_chat(first_name="Bob")
    ann = await _join(ann_chat, shop, StaffRole.OWNER)
    bob = await _join(bob_chat, shop, StaffRole.OWNER)
    ann_list = await _staff_screen(ann_chat)
    bob_list = await _staff_screen(bob_chat)
    await ann_chat.press_label(ann_list, "Bob · owner")
    await bob_chat.press_label(bob_list, "Ann · owner")
    ann_press = button_data(ann_chat.current(ann_list), "Make manager")
    bob_press = button_data(bob_chat.current(bob_list), "Make manager")
    before = len(ann_chat.telegram.calls("answerCallbackQuery"))

    await asyncio.gather(
        ann_chat.press(ann_chat.current(ann_list), ann_press),
        bob_chat.press(bob_chat.current(bob_list), bob_press),
    )

    roles = {(await Staff.get(id=s.id)).role for s in (ann, bob)}
    assert roles == {StaffRole.OWNER, StaffRole.MANAGER}
    calls = ann_chat.telegram.calls("answerCallbackQuery")[before:]
    assert sorted(str(c.params.get("text")) for c in calls) == ["None", OWNERS_ONLY]
    assert await AuditEntry.filter(merchant_id=shop.merchant.id, action="staff.role").count() == 1


async def test_an_owner_opening_a_cashier_link_stays_owner(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")
    marta = await _join(owner, shop, StaffRole.OWNER)
    await _join(owner, shop, StaffRole.CASHIER)

    assert (await Staff.get(id=marta.id)).role == StaffRole.OWNER
    joins = await AuditEntry.filter(merchant_id=shop.merchant.id, action="staff.join").count()
    assert joins == 2


async def test_the_refusals_and_the_log_speak_the_persons_language(new_chat: Any) -> None:
    shop = await factories.merchant("Кафе")
    owner: Chat = new_chat(language="uk", first_name="Марта")
    marta = await _join(owner, shop, StaffRole.OWNER)
    menu = await shop_menu(owner)

    answer = await _forge(owner, f"stf:role:{shop.merchant.id}:{marta.id}:cashier:0")
    log = (await owner.press_label(menu, "Журнал дій"))[0]

    assert answer.startswith("У закладу має бути хоча б один власник.")
    assert text_of(log).splitlines()[0] == "📜 Журнал дій"
    assert text_of(log).splitlines()[1].endswith("Марта: приєднується до персоналу, роль: власник")
    help_lines = text_of((await owner.send("/help"))[0]).splitlines()
    assert help_lines[0] == "Твоя роль тут — власник. Ти можеш:"
