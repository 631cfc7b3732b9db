"""Admin mode: the owner invites and removes staff; roles see what they may do."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from fakes.telegram import FakeTelegramAPI
from loyalty.merchants import create_staff_invite
from models import AuditEntry, Membership, Merchant, Staff, StaffInvite
from models.enums import StaffRole
from tests import factories
from tests.chat import (
    Chat,
    button,
    buttons,
    keyboard,
    png_size,
    shop_menu,
    text_of,
    uploaded_photo,
)


async def _owner(chat: Chat, shop: factories.NewMerchant) -> None:
    invite = await create_staff_invite(
        shop.merchant, StaffRole.OWNER, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")


async def test_owner_invites_a_cashier_in_two_taps_and_the_cashier_joins_in_two(
    new_chat: object, telegram: FakeTelegramAPI
) -> None:
    """Summary row "Owner: invite a cashier": owner 2 (from the admin menu) + cashier 2."""
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    newcomer: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    await _owner(owner, shop)

    home = await owner.send("/admin")
    assert len(home) == 1  # one message: the shop, the totals, the shop keyboard
    assert text_of(home[0]).splitlines() == [
        "Admin · Kafe Lviv",
        "This week: 0 stamps · 0 new customers · 0 rewards used · 0 waiting",
        "",
        "You are owner.",
        "To stamp a card or redeem a voucher, scan the customer's QR code with your camera.",
        "/exit returns to customer mode.",
    ]
    assert keyboard(home[0]) == [
        ["📣 New campaign", "📋 Campaigns"],
        ["👥 Staff", "➕ Invite staff"],
        ["🖨 Counter QR", "🔎 Find a customer"],
        ["More…"],
    ]
    owner.actions = 0  # counted from the admin menu, as the review counts
    roles = (await owner.send("➕ Invite staff"))[-1]
    assert [label for label, _ in buttons(roles)] == [
        "Cashier — stamps and redeems",
        "Manager — also campaigns",
        "Co-owner — everything, staff too",
        "◀ Back",
    ]
    before = len(telegram.calls("sendPhoto"))
    invite = (await owner.press_label(roles, "Cashier"))[-1]

    assert owner.actions == 2
    assert owner.current(roles).reply_markup is None  # the answered question loses its buttons
    photo = uploaded_photo(telegram.calls("sendPhoto")[before])
    assert photo is not None
    assert png_size(photo) == (720, 720)
    row = await StaffInvite.get(merchant_id=shop.merchant.id, role=StaffRole.CASHIER)
    link = f"https://t.me/stampbot_test_bot?start=i-{row.token}"
    share = next(b["url"] for b in invite.inline_buttons() if "url" in b)
    assert share.startswith("https://t.me/share/url?")
    assert parse_qs(urlsplit(share).query)["url"] == [link]
    assert [label for label, _ in buttons(invite)] == ["📤 Share", "Revoke"]
    assert text_of(invite).startswith("Invite for a new cashier at Kafe Lviv.\nLet them scan")

    joined = await newcomer.scan(f"i-{row.token}")
    assert newcomer.actions == 2  # the camera scan and START
    assert "You are now cashier at Kafe Lviv." in text_of(joined[0])
    seat = await Staff.get(telegram_user_id=newcomer.user.id)
    assert (seat.merchant_id, seat.role, seat.active) == (shop.merchant.id, "cashier", True)
    assert (await StaffInvite.get(id=row.id)).used_by_telegram_id == newcomer.user.id

    listing = (await owner.send("👥 Staff"))[-1]
    assert text_of(listing).splitlines()[1:] == ["• Marta — owner (you)", "• Taras — cashier"]
    assert [label for label, _ in buttons(listing)] == [
        "Taras · cashier",
        "➕ Invite staff",
        "Pending invites: 0",
        "Transfer ownership",
        "◀ Shop menu",
    ]
    # The cashier's menu after their /admin: the counter's commands, no campaigns.
    await newcomer.send("/admin")
    menu = [c["command"] for c in telegram.menu_for(newcomer.user.id, "en")]
    assert menu == ["card", "vouchers", "settings", "help", "admin", "redeem"]


async def test_a_revoked_invite_says_so_and_no_longer_makes_staff(
    new_chat: object, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    other = await factories.merchant("Other")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    stranger: Chat = new_chat(first_name="Petro")  # type: ignore[operator]
    rival: Chat = new_chat(first_name="Rita")  # type: ignore[operator]
    await _owner(owner, shop)
    await _owner(rival, other)
    await owner.send("/admin")
    roles = (await owner.send("➕ Invite staff"))[-1]
    invite = (await owner.press_label(roles, "Manager"))[-1]
    row = await StaffInvite.get(merchant_id=shop.merchant.id, role=StaffRole.MANAGER)

    # Another shop's owner forging the revoke: nothing changes.
    forged = f"adm:invrev:{shop.merchant.id}:{row.id}"
    await rival._post(
        rival.telegram.callback_update(rival.user, invite, forged, check_button=False)
    )
    assert rival.last_answer()["text"] == "This button has expired."
    assert (await StaffInvite.get(id=row.id)).revoked_at is None

    revoke = button(invite, "Revoke")
    await owner.press(invite, revoke)
    assert text_of(owner.current(invite)) == "The manager invite link no longer works."
    assert owner.current(invite).reply_markup is None
    assert (await StaffInvite.get(id=row.id)).revoked_at is not None
    # A double tap (the old button): expired, still one revoke in the log.
    await owner._post(
        owner.telegram.callback_update(owner.user, invite, revoke, check_button=False)
    )
    assert owner.last_answer()["text"] == "This button has expired."
    assert await AuditEntry.filter(action="staff.invite_revoke").count() == 1

    opened = await stranger.scan(f"i-{row.token}")
    assert text_of(opened[0]) == (
        "This invite link was withdrawn by the shop. Ask them for a new one."
    )
    assert not await Staff.filter(telegram_user_id=stranger.user.id).exists()
    assert telegram.commands({"type": "chat", "chat_id": stranger.user.id}) == []


async def test_removing_a_cashier_takes_access_away_at_once(
    new_chat: object, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    await _owner(owner, shop)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await cashier.send(f"/start i-{invite.token}")
    await cashier.send("/admin")
    assert "redeem" in [c["command"] for c in telegram.menu_for(cashier.user.id)]
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)

    await owner.send("/admin")
    listing = (await owner.send("👥 Staff"))[-1]
    await owner.press_label(listing, "Taras · cashier")
    await owner.press_label(owner.current(listing), "Remove Taras")
    confirm = owner.current(listing)  # the confirm replaces the screen, in place
    assert text_of(confirm) == "Remove Taras? They can't stamp or redeem from now on."
    assert [label for label, _ in buttons(confirm)] == ["Yes, remove Taras", "No"]
    await owner.press_label(confirm, "No")
    assert text_of(owner.current(listing)).startswith("Taras is cashier.")
    assert (await Staff.get(telegram_user_id=cashier.user.id)).active is True

    await owner.press_label(owner.current(listing), "Remove Taras")
    await owner.press_label(owner.current(listing), "Yes, remove Taras")

    assert text_of(owner.current(listing)) == "Taras is no longer on your staff."
    assert [label for label, _ in buttons(owner.current(listing))] == ["◀ Back"]
    assert (await Staff.get(telegram_user_id=cashier.user.id)).active is False
    # Their own menu is gone: the customers' one (all private chats) shows again.
    assert telegram.commands({"type": "chat", "chat_id": cashier.user.id}) == []
    scan = await cashier.send(f"/start m-{membership.public_token}")
    assert text_of(scan[-1]) == "This link is meant for the shop's staff."
    assert text_of((await cashier.send("/admin"))[-1]).startswith("Sorry, I didn't understand")


async def test_the_shop_menu_folds_the_rest_and_find_opens_the_till_lookup(
    new_chat: object,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    manager: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    await _owner(owner, shop)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.MANAGER, ttl=timedelta(hours=1), created_by=None
    )
    await manager.send(f"/start i-{invite.token}")

    menu = await shop_menu(owner)
    assert text_of(menu) == "Shop menu · Kafe Lviv"
    assert [label for label, _ in buttons(menu)] == [
        "🤖 Automations",
        "Cards and shop settings",
        "Dashboard",
        "Counter poster, PDF to print",
        "Staff",
        "📜 Activity",
    ]
    find = (await owner.send("🔎 Find a customer"))[-1]
    assert text_of(find).startswith("Send /customer followed by the code under their QR")

    home = (await manager.send("/admin"))[-1]
    assert keyboard(home) == [
        ["📣 New campaign", "📋 Campaigns"],
        ["🖨 Counter QR", "🔎 Find a customer"],
        ["More…"],
    ]
    assert "This week: 0 stamps" in text_of(home)
    folded = (await manager.send("More…"))[-1]
    assert [label for label, _ in buttons(folded)] == [
        "🤖 Automations",
        "Dashboard",
        "Counter poster, PDF to print",
    ]
    # A manager typing the owner's keyboard labels: told, nothing opens.
    refused = (await manager.send("👥 Staff"))[-1]
    assert text_of(refused) == "Only the shop's owners manage its staff."


async def test_the_owner_sets_the_shop_phone_and_a_wrong_number_is_refused(
    new_chat: object,
) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    await _owner(owner, shop)
    cards = (await owner.press_label(await shop_menu(owner), "Cards and shop settings"))[-1]
    assert "Shop phone: not set (customers get no call button)" in text_of(cards)
    ask = (await owner.press_label(cards, "Shop phone"))[-1]
    assert "Send the shop's phone number with the country code" in text_of(ask)

    refused = (await owner.send("044 123 45 67"))[-1]
    assert text_of(refused).startswith("That is not a phone number I can dial.")
    assert (await Merchant.get(id=shop.merchant.id)).phone is None
    saved = (await owner.send("+380 (44) 123-45-67"))[-1]

    assert text_of(saved) == "Saved. Shop phone: +380441234567"
    assert (await Merchant.get(id=shop.merchant.id)).phone == "+380441234567"
    again = (await owner.press_label(cards, "Shop phone"))[-1]
    await owner.press_label(again, "Remove the phone")
    assert (await Merchant.get(id=shop.merchant.id)).phone is None


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
    # The typed birthday brings the settings message back as the menu, edited in place.
    assert await owner.send("14.02") == []
    assert text_of(owner.current(settings)).startswith("Birthday saved: 14.02.")
    nothing = await owner.send("/cancel")

    assert text_of(nothing[0]) == (
        "There is nothing to cancel.\nYou are still in admin mode. /exit returns to customer mode."
    )
    screen = (await owner.send(voucher.code))[-1]
    assert text_of(screen).startswith("🎟 Free cappuccino for Olena")
    removed = [m for m in owner.replies if (m.reply_markup or {}).get("remove_keyboard")]
    assert removed == []


async def test_the_home_totals_count_this_weeks_stamps_newcomers_and_rewards(
    new_chat: object,
) -> None:
    from loyalty.stamps import add_stamps
    from models import Voucher
    from models.enums import VoucherStatus

    shop = await factories.merchant("Kafe Lviv", stamps_needed=2)
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    await _owner(owner, shop)
    for telegram_id in (5001, 5002, 5003):
        member = await factories.member(shop, telegram_id)
        await add_stamps(member.id, 2, merchant_id=shop.merchant.id)  # a reward each
    used = await Voucher.filter(merchant_id=shop.merchant.id).first()
    assert used is not None
    await Voucher.filter(id=used.id).update(
        status=VoucherStatus.REDEEMED, redeemed_at=used.issued_at
    )

    home = (await owner.send("/admin"))[-1]

    assert text_of(home).splitlines()[1] == (
        "This week: 6 stamps · 3 new customers · 1 reward used · 2 waiting"
    )
