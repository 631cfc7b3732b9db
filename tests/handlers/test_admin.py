"""Admin mode: the owner invites and removes staff; roles see what they may do."""

from __future__ import annotations

import re
from datetime import timedelta

from loyalty.merchants import create_staff_invite
from models import Membership, Staff
from models.enums import StaffRole
from tests import factories
from tests.chat import Chat, buttons, text_of


async def _owner(chat: Chat, shop: factories.NewMerchant) -> None:
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")


async def test_the_owner_invites_a_cashier_who_then_appears_in_the_staff_list(
    new_chat: object,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    newcomer: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    await _owner(owner, shop)

    menu = (await owner.send("/admin"))[-1]
    assert text_of(menu).startswith("Admin · Kafe Lviv\nYou are owner.")
    assert [label for label, _ in buttons(menu)] == [
        "📣 New campaign",
        "📋 Campaigns",
        "🤖 Automations",
        "🎴 Cards",
        "📊 Dashboard",
        "🖨 Counter poster",
        "👥 Staff",
        "📜 Activity",
    ]
    staff = (await owner.press_label(menu, "Staff"))[0]
    invite = (await owner.press_label(staff, "Invite a cashier"))[0]
    link = re.search(r"https://t\.me/stampbot_test_bot\?start=(i-[\w-]+)", text_of(invite))
    assert link is not None
    joined = await newcomer.send(f"/start {link.group(1)}")
    assert "You are now cashier at Kafe Lviv." in text_of(joined[0])

    listing = (await owner.press_label(menu, "Staff"))[0]
    assert text_of(listing).splitlines()[1:] == ["• Marta — owner (you)", "• Taras — cashier"]
    assert [label for label, _ in buttons(listing)] == [
        "Taras · cashier",
        "➕ Invite a co-owner",
        "➕ Invite a manager",
        "➕ Invite a cashier",
        "✉️ Pending invites",
        "👑 Transfer ownership",
    ]


async def test_removing_a_cashier_takes_access_away_at_once(new_chat: object) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    await _owner(owner, shop)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)

    listing = (await owner.press_label((await owner.send("/admin"))[-1], "Staff"))[0]
    await owner.press_label(listing, "Taras · cashier")
    confirm = (await owner.press_label(owner.current(listing), "Remove Taras"))[0]
    await owner.press_label(confirm, "Yes, remove")

    assert text_of(owner.current(confirm)) == "Taras is no longer on your staff."
    assert (await Staff.get(telegram_user_id=cashier.user.id)).active is False
    scan = await cashier.send(f"/start m-{membership.public_token}")
    assert text_of(scan[-1]) == "This link is meant for the shop's staff."
    assert text_of((await cashier.send("/admin"))[-1]).startswith("Sorry, I didn't understand")


async def test_a_cashier_sees_no_staff_tools_and_cannot_forge_them(new_chat: object) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    await _owner(owner, shop)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")
    owner_seat = await Staff.get(telegram_user_id=owner.user.id)

    menu = (await cashier.send("/admin"))[-1]
    assert buttons(menu) == []
    assert "You are cashier." in text_of(menu)
    for forged in (
        f"adm:remove_ok:{shop.merchant.id}:{owner_seat.id}",
        f"adm:invite:{shop.merchant.id}:manager",
        f"adm:staff:{shop.merchant.id}:",
    ):
        await cashier._post(
            cashier.telegram.callback_update(cashier.user, menu, forged, check_button=False)
        )
        assert cashier.last_answer()["text"] == "Only the shop's owners manage its staff."
    assert (await Staff.get(id=owner_seat.id)).active is True
    assert await Staff.filter(merchant_id=shop.merchant.id).count() == 2


async def test_staff_of_one_shop_cannot_manage_another(new_chat: object) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B")
    owner_a: Chat = new_chat(first_name="Ann")  # type: ignore[operator]
    owner_b: Chat = new_chat(first_name="Bob")  # type: ignore[operator]
    await _owner(owner_a, shop)
    await _owner(owner_b, other)
    seat_b = await Staff.get(telegram_user_id=owner_b.user.id)
    menu = (await owner_a.send("/admin"))[-1]

    forged = f"adm:remove_ok:{other.merchant.id}:{seat_b.id}"
    await owner_a._post(
        owner_a.telegram.callback_update(owner_a.user, menu, forged, check_button=False)
    )

    assert owner_a.last_answer()["text"] == "This button has expired."
    assert (await Staff.get(id=seat_b.id)).active is True


async def test_admin_commands_are_unknown_commands_for_customers(chat: Chat) -> None:
    commands = ("/admin", "/exit", "/newcampaign", "/campaigns", "📣 New campaign", "/redeem")
    for command in (*commands, "/redeem K7QM-3XPD-9TRA"):
        replies = await chat.send(command)

        assert text_of(replies[0]).startswith("Sorry, I didn't understand that."), command


async def test_settings_and_cancel_keep_admin_mode_on(new_chat: object) -> None:
    """The admin keyboard stays on screen, so admin mode must stay on behind it too."""
    from loyalty.stamps import add_stamps
    from models import Voucher

    shop = await factories.merchant("Kafe Lviv", stamps_needed=1)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    await customer.send(f"/start j-{shop.card.join_token}")
    await owner.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id, customer__first_name="Olena")
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)
    voucher = await Voucher.get(membership_id=membership.id)
    await _owner(owner, shop)
    await owner.send("/admin")

    settings = (await owner.send("/settings"))[0]
    assert text_of(settings).startswith("Settings")
    await owner.press_label(settings, "Birthday")
    assert text_of((await owner.send("14.02"))[0]) == "Saved: 14.02 🎂"
    nothing = await owner.send("/cancel")

    assert text_of(nothing[0]) == (
        "There is nothing to cancel.\nYou are still in admin mode. /exit returns to customer mode."
    )
    screen = (await owner.send(voucher.code))[-1]
    assert text_of(screen).startswith("🎟 Free cappuccino for Olena")
    removed = [m for m in owner.replies if (m.reply_markup or {}).get("remove_keyboard")]
    assert removed == []
