"""At the till after the scan: undo, the customer look-up, voucher fixes, receipt amounts."""

from __future__ import annotations

from handlers.callbacks import TillAction, TillOp, UndoAction
from loyalty.receipts import parse_amount, set_asks_receipt_amount
from models import AuditEntry, Membership, StampEvent, Voucher
from models.enums import LedgerKind, StaffRole, VoucherSource, VoucherStatus
from tests import factories
from tests.chat import Chat, buttons, text_of
from tests.handlers.test_counter import _member, _staff


async def _forge(person: Chat, data: str) -> None:
    message = person.replies[-1]
    await person._post(
        person.telegram.callback_update(person.user, message, data, check_button=False)
    )


async def test_a_cashier_undoes_a_stamp_once_and_the_customer_is_told(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=4)
    other = await factories.merchant("Elsewhere")
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    foreign: Chat = new_chat(first_name="Mallory")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)
    await _staff(foreign, other, StaffRole.OWNER)
    customer.new_messages()

    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+3")
    done = cashier.current(screen)
    assert text_of(done) == "✅ +3 for Olena · 3 of 4 stamps"
    assert [label for label, _ in buttons(done)] == ["↩️ Undo"]
    event = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.STAMP)

    for forged in (
        UndoAction(event_id=event.id, reason="wrong_count"),
        UndoAction(event_id=event.id),
        TillAction(op=TillOp.LOOKUP, target=membership.id),
        TillAction(op=TillOp.GOODWILL, target=membership.id),
    ):
        await _forge(foreign, forged.pack())
        assert foreign.last_answer()["text"] == "This button has expired."
    # A cashier may stamp and undo, but gives no goodwill vouchers.
    await _forge(cashier, TillAction(op=TillOp.GOODWILL, target=membership.id).pack())
    assert cashier.last_answer()["text"] == "This button has expired."
    cashier.actions = 0
    await cashier.press_label(done, "Undo")
    assert cashier.actions == 1  # the task "Fix a wrong stamp": one tap

    assert text_of(cashier.current(done)) == (
        "↩️ Took back +3 from Olena · 0 of 4 stamps. They have been told."
    )
    assert (await Membership.get(id=membership.id)).balance == 0
    told = [text_of(m) for m in customer.new_messages()]
    assert told[-1].startswith("Correction: −3 stamps at Kafe Lviv")
    undo = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.UNDO)
    assert (undo.delta, undo.reverses_id) == (-3, event.id)
    # A double tap (or a second till) on the same Undo changes nothing.
    await cashier._post(
        cashier.telegram.callback_update(
            cashier.user, done, UndoAction(event_id=event.id).pack(), check_button=False
        )
    )
    assert text_of(cashier.current(done)) == "This stamp was already taken back."
    assert await StampEvent.filter(membership_id=membership.id).count() == 2
    assert await AuditEntry.filter(action="stamp.undo").count() == 1


async def test_undo_is_refused_when_the_reward_was_redeemed_or_too_late(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=2)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)

    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+2")
    voucher = await Voucher.get(membership_id=membership.id)
    redeem = (await cashier.send(f"/redeem {voucher.code}"))[0]
    await cashier.press_label(redeem, "Redeem now")
    await cashier.press_label(cashier.current(screen), "Undo")
    assert text_of(cashier.current(screen)).startswith(
        "This stamp can't be taken back: the reward Free cappuccino it completed was already "
        "redeemed on"
    )

    second: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    late = await _member(second, shop)
    screen = (await cashier.send(f"/start m-{late.public_token}"))[0]
    await cashier.press_label(screen, "+1")
    await StampEvent.filter(membership_id=late.id).update(created_at=factories.T0)
    await cashier.press_label(cashier.current(screen), "Undo")
    assert text_of(cashier.current(screen)).startswith(
        "Too late to take this stamp back: that was possible until"
    )
    assert (await Membership.get(id=late.id)).balance == 1
    assert (await Membership.get(id=membership.id)).balance == 0
    assert await StampEvent.filter(kind=LedgerKind.UNDO).count() == 0
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.REDEEMED


async def test_the_look_up_shows_balance_vouchers_and_history_by_role(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=2)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    manager: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    membership = await _member(customer, shop)
    await _staff(cashier, shop, StaffRole.CASHIER)
    await _staff(manager, shop, StaffRole.MANAGER)
    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+3")
    voucher = await Voucher.get(membership_id=membership.id)

    rescan = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    lookup = (await cashier.press_label(rescan, "Customer"))[0]
    lines = text_of(lookup).splitlines()
    assert lines[:2] == ["👤 Olena · Coffee card", "1 of 2 stamps · 1 visit"]
    assert any("+3 · Taras" in line for line in lines)
    assert [label for label, _ in buttons(lookup)] == [
        "✅ Redeem Free cappuccino",
        "↩️ Undo last stamp",
    ]
    await _forge(cashier, TillAction(op=TillOp.VOID, target=voucher.id).pack())
    assert cashier.last_answer()["text"] == "This button has expired."
    assert (await Voucher.get(id=voucher.id)).status == VoucherStatus.ISSUED

    await manager.send("/admin")
    found = (await manager.send(f"/customer {membership.counter_code}"))[-1]
    assert [label for label, _ in buttons(found)] == [
        "✅ Redeem Free cappuccino",
        "🗑 Cancel",
        "⏳ Extend",
        "🎁 Goodwill voucher",
        "↩️ Undo last stamp",
    ]
    extend = (await manager.press_label(found, "Extend"))[0]
    await manager.press_label(extend, "+7 days")
    assert "is now valid until" in text_of(manager.current(extend))
    assert await AuditEntry.filter(action="voucher.extend").count() == 1

    ask = (await manager.press_label(found, "Cancel"))[0]
    await manager.press_label(ask, "The customer asked")
    stored = await Voucher.get(id=voucher.id)
    assert (stored.status, stored.void_reason) == (VoucherStatus.VOID, "customer_request")
    assert await AuditEntry.filter(action="voucher.void").count() == 1

    await manager.press_label(found, "Goodwill voucher")
    offer = (await manager.send("a long wait"))[-1]
    customer.new_messages()
    await manager.press_label(offer, "Give")
    gift = await Voucher.get(membership_id=membership.id, source=VoucherSource.GOODWILL)
    assert (gift.title, gift.issue_reason) == ("Free cappuccino", "a long wait")
    assert gift.issued_by_id is not None
    assert text_of(customer.new_messages()[-1]).startswith(
        "🎁 Kafe Lviv gave you a voucher: Free cappuccino."
    )
    assert await AuditEntry.filter(action="voucher.goodwill").count() == 1


async def test_the_receipt_amount_is_asked_validated_and_stored(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=10)
    customer: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    owner: Chat = new_chat(first_name="Marta")  # type: ignore[operator]
    membership = await _member(customer, shop)
    seat = await _staff(owner, shop, StaffRole.OWNER)
    await set_asks_receipt_amount(seat, shop.card.id, True)

    screen = (await owner.send(f"/start m-{membership.public_token}"))[0]
    asked = await owner.press_label(screen, "+1")
    assert text_of(asked[-1]).startswith("🧾 What did the receipt come to, in USD?")
    bad = await owner.send("4.505")
    assert text_of(bad[-1]).startswith("That is not an amount I can use.")
    good = await owner.send("4,50")
    assert text_of(good[-1]) == "🧾 Receipt of $4.50 noted."
    event = await StampEvent.get(membership_id=membership.id, kind=LedgerKind.STAMP)
    assert event.amount_minor == 450
    assert await AuditEntry.filter(action="stamp.amount").count() == 1
    assert parse_amount("12", "JPY") == 12


async def test_a_customer_without_their_phone_is_found_by_first_name(new_chat: object) -> None:
    shop = await factories.merchant(stamps_needed=10)
    other = await factories.merchant("Tea House")
    olena: Chat = new_chat(first_name="Olena")  # type: ignore[operator]
    oleh: Chat = new_chat(first_name="Oleh")  # type: ignore[operator]
    taras: Chat = new_chat(first_name="Taras")  # type: ignore[operator]
    olga: Chat = new_chat(first_name="Olga")  # type: ignore[operator]
    cashier: Chat = new_chat(first_name="Ivan")  # type: ignore[operator]
    membership = await _member(olena, shop)
    await _member(oleh, shop)
    await _member(taras, shop)
    await _member(olga, other)  # a member of another shop is never listed
    await Membership.filter(id=membership.id).update(balance=3)
    await _staff(cashier, shop, StaffRole.CASHIER)
    cashier.actions = 0

    listing = (await cashier.send("/customer ole"))[-1]
    assert text_of(listing) == "Customers whose first name starts with ole — tap one:"
    assert [label for label, _ in buttons(listing)] == [
        "Oleh · 0 of 10 stamps",
        "Olena · 3 of 10 stamps",
    ]
    found = (await cashier.press_label(listing, "Olena"))[-1]
    assert text_of(found).splitlines()[:2] == [
        "👤 Olena · Coffee card",
        "3 of 10 stamps · 0 visits",
    ]
    assert cashier.actions == 2  # the name, the tap

    # One person of that name opens at once; nobody of that name says so and changes nothing.
    single = (await cashier.send("/customer TARAS"))[-1]
    assert text_of(single).startswith("👤 Taras · Coffee card")
    nobody = (await cashier.send("/customer Olga"))[-1]
    assert text_of(nobody).endswith(
        "Nobody on your cards has a first name starting with Olga either."
    )
    assert buttons(nobody) == []
    # A stranger's /customer is no command of theirs, and a forged look-up button is expired.
    stranger: Chat = new_chat(first_name="Eve")  # type: ignore[operator]
    await stranger.send("/start")
    assert "Olena" not in text_of((await stranger.send("/customer ole"))[-1])
    await _forge(stranger, TillAction(op=TillOp.LOOKUP, target=membership.id).pack())
    assert stranger.last_answer()["text"] == "This button has expired."
    assert not [m for m in stranger.new_messages() if "Olena" in text_of(m)]
