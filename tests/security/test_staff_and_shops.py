"""Role × shop, through the chat with the fake Bot API: staff act only for their own shop and
only as far as their role goes; customers and strangers not at all. Forged buttons (callback
data any client can send) and typed commands are refused the same way, and change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fakes.telegram import FakeTelegramAPI, StoredMessage
from handlers.automations import AutoAction, AutoOp
from handlers.callbacks import RedeemAction, StampAction, VoidAction
from loyalty.merchants import create_staff_invite
from loyalty.stamps import add_stamps
from models import (
    AuditEntry,
    Automation,
    Campaign,
    Card,
    Delivery,
    Membership,
    Staff,
    StaffInvite,
    StampEvent,
    Voucher,
)
from models.enums import CampaignStatus, CardState, StaffRole, VoucherStatus
from tests import factories
from tests.chat import Chat, button, buttons, shop_menu, text_of
from tests.handlers.test_automations import CHAIN
from tests.handlers.wizard.test_flow import customers, press_forged, staff_chat, write_campaign

EXPIRED = "This button has expired."
OWNERS_ONLY = "Only the shop's owners manage its staff."


async def _seat(chat: Chat, shop: factories.NewMerchant) -> Staff:
    return await Staff.get(telegram_user_id=chat.user.id, merchant_id=shop.merchant.id)


async def _member(new_chat: Any, shop: factories.NewMerchant) -> tuple[Chat, Membership]:
    [person] = await customers(new_chat, shop, 1)
    membership = await Membership.get(
        card_id=shop.card.id, customer__identities__external_id=str(person.user.id)
    )
    return person, membership


async def _forge(chat: Chat, data: str, message: StoredMessage | None = None) -> str:
    """Press ``data`` on ``message`` (the chat's newest) as a crafted client can: the toast."""
    await press_forged(chat, message or chat.replies[-1], data)
    return str(chat.last_answer().get("text", ""))


# --- another shop ---------------------------------------------------------------------------


async def test_a_customer_or_another_shops_staff_cannot_stamp(new_chat: Any) -> None:
    shop = await factories.merchant()
    other = await factories.merchant("Other")
    customer, membership = await _member(new_chat, shop)
    stranger: Chat = new_chat(first_name="Eve")
    foreign = await staff_chat(new_chat, other, StaffRole.OWNER, "Mallory")

    for person in (customer, stranger, foreign):
        replies = await person.send(f"/start m-{membership.public_token}")
        assert text_of(replies[-1]) == "This link is meant for the shop's staff."
        assert await _forge(person, f"stp:{membership.id}:3:deadbeef:1") == EXPIRED

    assert await StampEvent.filter(membership_id=membership.id).count() == 0


async def test_a_cashier_cannot_stamp_or_redeem_for_another_shop(new_chat: Any) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B", stamps_needed=1)
    _, membership = await _member(new_chat, other)
    voucher = (await add_stamps(membership.id, 1, merchant_id=other.merchant.id)).vouchers[0]
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    await cashier.send("/admin")

    for scanned in (f"/start m-{membership.public_token}", f"/start v-{voucher.token}"):
        replies = await cashier.send(scanned)
        assert text_of(replies[-1]) == "This link is meant for the shop's staff.", scanned
    for forged in (
        StampAction(membership_id=membership.id, count=1, nonce="forged").pack(),
        RedeemAction(voucher_id=voucher.id).pack(),
        RedeemAction(voucher_id=voucher.id, typed=True).pack(),
        VoidAction(voucher_id=voucher.id, confirmed=True).pack(),
    ):
        assert await _forge(cashier, forged) == EXPIRED, forged

    assert (await Membership.get(id=membership.id)).balance == 0
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED


async def test_redeem_without_a_code_or_with_a_foreign_code_explains(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=1)
    other = await factories.merchant("Other", stamps_needed=1)
    _, membership = await _member(new_chat, other)
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    foreign = (await add_stamps(membership.id, 1, merchant_id=other.merchant.id)).vouchers[0]

    empty = await cashier.send("/redeem")
    wrong = await cashier.send(f"/redeem {foreign.code}")

    assert text_of(empty[0]).startswith("Send /redeem followed by the code")
    assert text_of(wrong[0]) == (
        f"No voucher has the code {foreign.code}. A voucher code looks like K7QM-3XPD-9TRA."
    )
    assert (await Voucher.get(id=foreign.id)).status == VoucherStatus.ISSUED


async def test_staff_of_one_shop_cannot_manage_another(new_chat: Any) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B")
    owner_a = await staff_chat(new_chat, shop, StaffRole.OWNER, "Ann")
    owner_b = await staff_chat(new_chat, other, StaffRole.OWNER, "Bob")
    seat_b = await _seat(owner_b, other)
    await owner_a.send("/admin")

    assert await _forge(owner_a, f"adm:remove_ok:{other.merchant.id}:{seat_b.id}") == EXPIRED

    assert (await Staff.get(id=seat_b.id)).active is True


async def test_another_shops_ids_in_a_forged_button_change_nothing(new_chat: Any) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B")
    owner_a = await staff_chat(new_chat, shop, StaffRole.OWNER, "Ann")
    bob = await _seat(await staff_chat(new_chat, other, StaffRole.OWNER, "Bob"), other)
    carl = await _seat(await staff_chat(new_chat, other, StaffRole.CASHIER, "Carl"), other)
    invite_b = await create_staff_invite(
        other.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    await owner_a.press_label(await shop_menu(owner_a), "Staff")
    a, b = shop.merchant.id, other.merchant.id

    for forged in (
        f"stf:role:{a}:{carl.id}:owner:0",
        f"stf:role:{b}:{carl.id}:owner:0",
        f"stf:person:{a}:{bob.id}::0",
        f"stf:xfer:{a}:{bob.id}::0",
        f"stf:xfer_ok:{a}:{carl.id}::0",
        f"stf:xfer_ok:{b}:{carl.id}::0",
        f"stf:revoke:{a}:{invite_b.id}::0",
        f"stf:revoke:{b}:{invite_b.id}::0",
        f"stf:log:{b}:0::0",
        f"adm:remove_ok:{a}:{bob.id}",
        f"stf:role:{a}:99999999999:owner:0",
    ):
        assert await _forge(owner_a, forged) == EXPIRED, forged

    assert (await Staff.get(id=carl.id)).role == StaffRole.CASHIER
    assert (await Staff.get(id=bob.id)).role == StaffRole.OWNER
    assert (await StaffInvite.get(id=invite_b.id)).revoked_at is None
    assert not await AuditEntry.filter(action__startswith="staff.r").exists()
    assert not await AuditEntry.filter(action="staff.transfer").exists()


async def test_an_owner_cannot_touch_another_shops_card(new_chat: Any) -> None:
    shop = await factories.merchant("A")
    other = await factories.merchant("B")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Ann")
    cards = (await owner.press_label(await shop_menu(owner), "Cards"))[-1]
    screen = (await owner.press_label(cards, "Coffee card"))[-1]
    mine, theirs = shop.merchant.id, other.merchant.id
    for forged in (
        f"cset:retire_ok:{mine}:{other.card.id}:",
        f"cset:retire_ok:{theirs}:{other.card.id}:",
        f"cset:field:{mine}:{other.card.id}:reward",
        f"cset:show:{theirs}:{other.card.id}:",
        f"cset:palette:{theirs}:0:2",
        f"cset:palette:{mine}:0:99",
    ):
        assert await _forge(owner, forged, screen) == EXPIRED, forged
    # A real draft of my own cannot be saved onto shop B.
    await owner.press_label(screen, "Reward")
    preview = (await owner.send("Free croissant"))[-1]
    save = next(d for t, d in buttons(preview) if "Save" in t)
    nonce = save.rsplit(":", 1)[1]
    for forged in (
        f"cset:save:{theirs}:{other.card.id}:{nonce}",
        f"cset:save:{mine}:{other.card.id}:{nonce}",
        f"cset:save:{mine}:{shop.card.id}:forged",
    ):
        assert await _forge(owner, forged, preview) == EXPIRED, forged

    theirs_card = await Card.get(id=other.card.id)
    assert (theirs_card.state, theirs_card.reward_text) == (CardState.ACTIVE, "Free cappuccino")
    assert (await Card.get(id=shop.card.id)).reward_text == "Free cappuccino"
    assert not await AuditEntry.exclude(action="staff.join").all().exists()


# --- a role short of the action -------------------------------------------------------------


async def test_admin_commands_are_unknown_commands_for_customers(chat: Chat) -> None:
    commands = ("/admin", "/exit", "/newcampaign", "/campaigns", "/redeem")
    for command in (*commands, "/redeem K7QM-3XPD-9TRA"):
        replies = await chat.send(command)

        assert text_of(replies[0]).startswith("Sorry, I didn't understand that."), command
    # The admin keyboard's text typed by a customer is free text like any other.
    replies = await chat.send("📣 New campaign")
    assert text_of(replies[0]) == "I'm the card bot, so I can't pass messages to the shop."


async def test_a_cashier_sees_no_staff_tools_and_cannot_forge_them(new_chat: Any) -> None:
    shop = await factories.merchant()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    owner_seat = await _seat(owner, shop)

    menu = (await cashier.send("/admin"))[-1]
    assert buttons(menu) == []
    assert "You are cashier." in text_of(menu)
    for forged in (
        f"adm:remove_ok:{shop.merchant.id}:{owner_seat.id}",
        f"adm:remove:{shop.merchant.id}:{owner_seat.id}",
        f"adm:invite:{shop.merchant.id}:manager",
        f"adm:invpick:{shop.merchant.id}:",
        f"adm:invrev:{shop.merchant.id}:1",
        f"adm:staff:{shop.merchant.id}:",
    ):
        assert await _forge(cashier, forged, menu) == OWNERS_ONLY, forged
    assert (await Staff.get(id=owner_seat.id)).active is True
    assert await Staff.filter(merchant_id=shop.merchant.id).count() == 2


async def test_a_manager_cannot_change_roles_or_take_the_shop(new_chat: Any) -> None:
    shop = await factories.merchant()
    marta = await _seat(await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta"), shop)
    manager = await staff_chat(new_chat, shop, StaffRole.MANAGER, "Oksana")
    oksana = await _seat(manager, shop)
    menu = await shop_menu(manager)
    assert "👥 Staff" not in [label for label, _ in buttons(menu)]
    assert "📜 Activity" not in [label for label, _ in buttons(menu)]
    mid = shop.merchant.id

    for forged in (
        f"stf:role:{mid}:{oksana.id}:owner:0",
        f"stf:role:{mid}:{marta.id}:cashier:0",
        f"stf:xfer_ok:{mid}:{oksana.id}::0",
        f"stf:xfer:{mid}:0::0",
        f"stf:invites:{mid}:0::0",
        f"stf:log:{mid}:0::0",
        f"adm:invite:{mid}:owner",
    ):
        assert await _forge(manager, forged) == OWNERS_ONLY, forged

    assert (await Staff.get(id=oksana.id)).role == StaffRole.MANAGER
    assert (await Staff.get(id=marta.id)).role == StaffRole.OWNER
    assert not await StaffInvite.filter(merchant_id=mid, created_by_id=oksana.id).exists()
    assert not await AuditEntry.filter(merchant_id=mid, action__startswith="staff.r").exists()


async def test_cashiers_and_managers_cannot_change_cards_even_with_forged_buttons(
    new_chat: Any,
) -> None:
    shop = await factories.merchant()
    await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    m, c = shop.merchant.id, shop.card.id
    for role, name in ((StaffRole.CASHIER, "Taras"), (StaffRole.MANAGER, "Ivan")):
        person = await staff_chat(new_chat, shop, role, name)
        menu = await shop_menu(person)
        for forged in (
            f"adm:cards:{m}:",
            f"cset:show:{m}:{c}:",
            f"cset:field:{m}:{c}:reward",
            f"cset:retire_ok:{m}:{c}:",
            f"cset:pause:{m}:{c}:ok",
            f"cset:new:{m}:0:",
            f"cset:palette:{m}:0:1",
            f"cset:logo:{m}:0:",
        ):
            assert await _forge(person, forged, menu) == EXPIRED, forged
        answer = (await person.send("Free croissant"))[-1]
        assert "Free croissant" not in text_of(answer)
    card = await Card.get(id=c)
    assert (card.state, card.reward_text) == (CardState.ACTIVE, "Free cappuccino")
    assert await Card.filter(merchant_id=m).count() == 1
    assert not await AuditEntry.exclude(action="staff.join").filter(merchant_id=m).exists()


async def test_a_cashier_cannot_create_or_press_campaigns(new_chat: Any) -> None:
    shop = await factories.merchant()
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    summary = await write_campaign(owner)
    await owner.press_label(summary, "Send to")
    ask = owner.current(summary)

    await cashier.send("/admin")
    refused = await cashier.send("/newcampaign")
    assert text_of(refused[-1]) == "Only the owner or a manager can create campaigns."
    listing = await cashier.send("/campaigns")
    assert text_of(listing[-1]) == "Only the owner or a manager can see campaigns."
    # The owner's Yes, pressed by the cashier (data copied): their chat has no such draft.
    assert await _forge(cashier, button(ask, "Yes, send"), ask) == EXPIRED
    # A forged Yes in the owner's own chat (a wrong nonce) sends nothing either.
    await press_forged(owner, ask, "wz:yes:000000000000")
    assert text_of(owner.replies[-1]) == EXPIRED
    campaign = await Campaign.get(merchant_id=shop.merchant.id)
    assert campaign.status == CampaignStatus.DRAFT
    assert await Delivery.filter(campaign_id=campaign.id).count() == 0


async def test_a_cashier_and_forged_buttons_change_no_automation(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    other = await factories.merchant("Other shop")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Ivan")
    await cashier.send("/admin")
    assert text_of((await cashier.send("/automations"))[-1]) == (
        "Only the owner or a manager can set up automations."
    )
    assert "Only the owner or a manager" in text_of((await cashier.send(CHAIN))[-1])
    assert await Automation.all().count() == 0

    await owner.send("/admin")
    screen = (await owner.send(CHAIN))[-1]
    made = await Automation.get()
    mid = shop.merchant.id
    # The owner's own automation through another shop's id, and the cashier pressing it.
    for person, forged in (
        (owner, AutoAction(op=AutoOp.ON, merchant_id=other.merchant.id, automation_id=made.id)),
        (cashier, AutoAction(op=AutoOp.ON, merchant_id=mid, automation_id=made.id)),
        (owner, AutoAction(op=AutoOp.DELETE_OK, merchant_id=mid, automation_id=999)),
        (owner, AutoAction(op=AutoOp.CREATE, merchant_id=mid, recipe="birthday")),
    ):
        assert await _forge(person, forged.pack(), screen) == EXPIRED, forged
    assert [(a.id, a.enabled) for a in await Automation.all()] == [(made.id, False)]


async def test_a_cashier_is_refused_the_dashboard(new_chat: Any) -> None:
    shop = await factories.merchant()
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    menu = await shop_menu(cashier)
    assert "Dashboard" not in [label for label, _ in buttons(menu)]

    refused = await cashier.send("/dashboard")
    assert text_of(refused[-1]) == "Only the owner or a manager can see the dashboard."
    for data in (
        f"adm:dash:{shop.merchant.id}:",
        f"dsh:show:{shop.merchant.id}:all",
        f"dsh:members:{shop.merchant.id}:week",
    ):
        assert await _forge(cashier, data) == EXPIRED, data
    assert await AuditEntry.filter(action__startswith="export.").count() == 0


async def test_a_cashier_gets_no_poster_button_and_a_forged_one_has_expired(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    shop = await factories.merchant()
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    menu = await shop_menu(cashier)
    assert buttons(menu) == []
    before = len(telegram.calls("sendDocument"))

    for forged in (
        f"adm:poster:{shop.merchant.id}:",
        f"pst:{shop.merchant.id}:{shop.card.id}:",
        f"pst:{shop.merchant.id}:{shop.card.id}:A5",
    ):
        assert await _forge(cashier, forged, menu) == EXPIRED, forged
        assert cashier.new_messages() == []
    assert len(telegram.calls("sendDocument")) == before
    assert await AuditEntry.filter(action="poster.print").count() == 0


async def test_a_cashier_cannot_cancel_a_voucher_of_their_own_shop(new_chat: Any) -> None:
    shop = await factories.merchant(stamps_needed=1)
    customer, membership = await _member(new_chat, shop)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    cashier = await staff_chat(new_chat, shop, StaffRole.CASHIER, "Taras")
    customer.new_messages()

    screen = (await cashier.send(f"/start v-{voucher.token}"))[-1]
    assert not [label for label, _ in buttons(screen) if "Cancel" in label]
    for forged in (
        VoidAction(voucher_id=voucher.id),
        VoidAction(voucher_id=voucher.id, confirmed=True),
    ):
        assert await _forge(cashier, forged.pack(), screen) == EXPIRED, forged

    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED
    assert customer.new_messages() == []
