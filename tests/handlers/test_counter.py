"""Staff at the counter, through the same bot: invite, stamp by QR, redeem by QR or code."""

from __future__ import annotations

from datetime import timedelta

from handlers.callbacks import VoidAction
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant, create_staff_invite
from loyalty.stamps import add_stamps
from models import Membership, Staff, StampEvent, Voucher
from models.enums import RedeemVia, StaffRole, VoucherStatus
from tests import factories
from tests.chat import Chat, button, buttons, text_of


async def _staff(chat: Chat, shop: factories.NewMerchant, role: StaffRole) -> Staff:
    invite = await create_staff_invite(
        shop.merchant, role, ttl=timedelta(hours=1), created_by=None
    )
    await chat.send(f"/start i-{invite.token}")
    return await Staff.get(telegram_user_id=chat.user.id, merchant_id=shop.merchant.id)


async def _member(chat: Chat, shop: factories.NewMerchant) -> Membership:
    await chat.send(f"/start j-{shop.card.join_token}")
    identity_id = str(chat.user.id)
    return await Membership.get(
        card_id=shop.card.id, customer__identities__external_id=identity_id
    )


async def test_the_owner_arrives_through_the_printed_invite_link(new_chat: object) -> None:
    created = await create_merchant(
        MerchantSpec(name="Kafe Lviv"),
        CardSpec(name="Coffee card", stamps_needed=10, reward_text="Free cappuccino"),
        invite_ttl=timedelta(hours=72),
    )
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]

    replies = await owner.send(f"/start i-{created.owner_invite.token}")

    assert text_of(replies[0]).startswith("Welcome, Marta! You are now owner at Kafe Lviv.")
    staff = await Staff.get(telegram_user_id=owner.user.id)
    assert (staff.merchant_id, staff.role) == (created.merchant.id, StaffRole.OWNER)
    again = await owner.send(f"/start i-{created.owner_invite.token}")
    assert text_of(again[0]) == (
        "This invite link is unknown, expired or already used. Ask the owner for a new one."
    )


async def test_a_cashier_stamps_by_scanning_and_the_customer_is_told(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=4)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)
    customer.new_messages()

    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    assert text_of(screen).splitlines() == ["Olena — 0 of 4 stamps"]
    # The whole first line is bold: the name and balance are what the cashier reads first.
    assert [(e["type"], e["offset"]) for e in screen.entities][:1] == [("bold", 0)]
    assert screen.entities[0]["length"] == len(screen.shown_text.splitlines()[0])
    assert [label for label, _ in buttons(screen)] == [
        "+1 stamp",
        "+2",
        "+3",
        "Other…",
        "🔎 Customer",
    ]
    # +1 is a row of its own (the big button), +2 +3 Other… share the next one.
    rows = screen.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [len(row) for row in rows] == [1, 3, 1]
    plus_two = button(screen, "+2")
    await cashier.press(screen, plus_two)
    # A double tap sends the same button again before the edit arrives.
    await cashier._post(
        cashier.telegram.callback_update(cashier.user, screen, plus_two, check_button=False)
    )

    assert text_of(cashier.current(screen)) == "✅ +2 for Olena · 2 of 4 stamps"
    assert await StampEvent.filter(membership_id=membership.id).count() == 1
    told = customer.new_messages()
    assert len(told) == 1
    assert text_of(told[0]).startswith("+2 stamps at Kafe Lviv!")


async def test_the_cooldown_refuses_a_second_scan_and_only_the_owner_may_override(
    new_chat: object,
) -> None:
    shop = await factories.merchant(cooldown=300)
    customer: Chat = new_chat()  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)
    await _staff(owner, shop, StaffRole.OWNER)
    await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)

    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+1")
    refused = text_of(cashier.current(screen)).splitlines()
    assert refused[0].startswith("Olena was stamped just now (")
    assert refused[1].startswith("Next stamp from ")
    assert refused[1].endswith(" — ask a manager if this is a new order.")
    assert buttons(cashier.current(screen)) == []
    owner_screen = (await owner.send(f"/start m-{membership.public_token}"))[0]
    await owner.press_label(owner_screen, "+2")
    assert [label for label, _ in buttons(owner.current(owner_screen))] == ["Stamp anyway (+2)"]
    await owner.press_label(owner.current(owner_screen), "Stamp anyway")

    assert text_of(owner.current(owner_screen)).startswith("✅ +2 for Olena · 3 of 10 stamps")
    assert (await Membership.get(id=membership.id)).balance == 3


async def test_redeeming_by_voucher_qr_and_by_typed_code_is_exactly_once(
    new_chat: object,
) -> None:
    shop = await factories.merchant(stamps_needed=1)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    till_a: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    till_b: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(till_a, shop, StaffRole.CASHIER)
    await _staff(till_b, shop, StaffRole.MANAGER)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    customer.new_messages()

    by_qr = (await till_a.send(f"/start v-{voucher.token}"))[0]
    by_code = (await till_b.send(f"/redeem {voucher.code.lower().replace('-', ' ')}"))[0]
    assert text_of(by_qr).startswith("🎟 Free cappuccino for Olena")
    assert text_of(by_code).startswith("🎟 Free cappuccino for Olena")
    await till_a.press_label(by_qr, "Redeem now")
    await till_b.press_label(by_code, "Redeem now")

    assert text_of(till_a.current(by_qr)) == "✅ Redeemed: Free cappuccino for Olena."
    assert text_of(till_b.current(by_code)).startswith("This voucher was already redeemed on")
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.SCAN)
    assert any("was used at" in text_of(m) for m in customer.new_messages())


async def test_a_typed_till_code_opens_the_stamp_screen_in_any_mode(new_chat: object) -> None:
    import re

    shop = await factories.merchant(stamps_needed=4)
    other = await factories.merchant("Elsewhere")
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    stranger: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    await customer.send(f"/start j-{shop.card.join_token}")
    found = re.search(r"say code ([2-9A-Z]{4}-[2-9A-Z]{4})", text_of(customer.replies[0]))
    assert found is not None, text_of(customer.replies[0])
    typed = found.group(1).lower().replace("-", " ")
    await _staff(cashier, shop, StaffRole.CASHIER)
    await _staff(stranger, other, StaffRole.OWNER)

    cashier.actions = 0
    screen = (await cashier.send(typed))[-1]
    assert text_of(screen).splitlines() == ["Olena — 0 of 4 stamps"]
    await cashier.press_label(screen, "+2")
    membership = await Membership.get(card_id=shop.card.id)
    assert membership.balance == 2
    assert cashier.actions == 2  # the task "stamp by typed till code": code, +1

    # Staff of another shop: the code is unknown to them (echoed, with the rule codes follow).
    refused = await stranger.send(typed)
    assert text_of(refused[-1]) == (
        f"No card or voucher has the code {found.group(1)}. Check it — codes never use 0, O, "
        "1, I or L."
    )
    assert (await Membership.get(id=membership.id)).balance == 2


async def test_a_typed_voucher_code_opens_the_voucher(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=2)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await add_stamps(membership.id, 2, merchant_id=shop.merchant.id)
    voucher = await Voucher.get(membership_id=membership.id)
    await _staff(cashier, shop, StaffRole.CASHIER)

    screen = (await cashier.send(voucher.code.replace("-", "").lower()))[-1]

    assert text_of(screen).startswith("🎟 Free cappuccino for Olena")
    await cashier.press_label(screen, "Redeem now")
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.CODE)


async def test_a_redemption_by_redeem_command_is_stored_as_by_code(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=1)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    membership = await _member(customer, shop)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await _staff(cashier, shop, StaffRole.CASHIER)

    screen = (await cashier.send(f"/redeem {voucher.code}"))[0]
    await cashier.press_label(screen, "Redeem now")

    assert text_of(cashier.current(screen)) == "✅ Redeemed: Free cappuccino for Olena."
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.redeemed_via) == (VoucherStatus.REDEEMED, RedeemVia.CODE)


async def test_an_owner_or_manager_cancels_a_voucher_and_the_customer_is_told(
    new_chat: object,
) -> None:
    shop = await factories.merchant(stamps_needed=1)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    manager: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    membership = await _member(customer, shop)
    voucher = (await add_stamps(membership.id, 1, merchant_id=shop.merchant.id)).vouchers[0]
    await _staff(manager, shop, StaffRole.MANAGER)
    await _staff(cashier, shop, StaffRole.CASHIER)
    customer.new_messages()

    at_till = (await cashier.send(f"/start v-{voucher.token}"))[0]
    assert [label for label, _ in buttons(at_till)] == ["✅ Redeem now"]
    forged = VoidAction(voucher_id=voucher.id, confirmed=True).pack()
    await cashier._post(
        cashier.telegram.callback_update(cashier.user, at_till, forged, check_button=False)
    )
    assert cashier.last_answer()["text"] == "This button has expired."
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED

    screen = (await manager.send(f"/start v-{voucher.token}"))[0]
    assert [label for label, _ in buttons(screen)] == ["✅ Redeem now", "🗑 Cancel the voucher"]
    ask = (await manager.press_label(screen, "Cancel the voucher"))[0]
    assert text_of(ask).startswith("Cancel Free cappuccino for Olena?")
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED
    await manager.press_label(ask, "Yes, cancel it")

    assert text_of(manager.current(ask)) == (
        "🗑 Cancelled: Free cappuccino for Olena. They have been told."
    )
    stored = await Voucher.get(id=voucher.id)
    assert stored.status == VoucherStatus.VOID
    assert stored.voided_at is not None
    told = customer.new_messages()
    assert [text_of(m) for m in told] == [
        "🗑 Your voucher Free cappuccino was cancelled by Kafe Lviv. Ask the staff if this was "
        "a mistake."
    ]
    await cashier.press_label(at_till, "Redeem now")
    assert text_of(cashier.current(at_till)) == "This voucher was cancelled by the shop."
    rescan = (await cashier.send(f"/start v-{voucher.token}"))[0]
    assert text_of(rescan).splitlines()[-1].startswith("⛔ Cancelled by the shop on ")
    assert buttons(rescan) == []
