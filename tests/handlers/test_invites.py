"""🤝 Invite a friend, as the owner, a member and the friend see it: the recipe switched on in
the chat, the member's link from the card, the friend's welcome, both rewards after the
friend's first stamp; one's own link, a stale button and a forged one change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.app import BotRuntime
from fakes.telegram import FakeTelegramAPI
from handlers.callbacks import CardAction, CardOp
from loyalty.clock import utcnow
from loyalty.stamps import add_stamps
from models import Automation, Membership, Referral, Voucher
from models.enums import StaffRole, VoucherSource
from tests import factories
from tests.chat import Chat, buttons, invite_payload, text_of
from tests.handlers.test_automations import (
    automations_list,
    run_automations,
    shop_without_quiet_hours,
    tap,
)
from tests.handlers.wizard.test_flow import customers, deliver_all, staff_chat
from tests.shop_bots import connect_own_bot, new_token, shop_bot_chat


def labels(message: Any) -> list[str]:
    return [label for label, _data in buttons(message)]


async def card_of(chat: Chat) -> Any:
    return (await chat.send("/card"))[-1]


async def test_a_member_invites_a_friend_and_both_get_the_gift_after_the_first_stamp(
    new_chat: Any, runtime: BotRuntime
) -> None:
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    (member,) = await customers(new_chat, shop, 1)
    # No automation rewards friends yet: the card offers no invite.
    assert "🤝 Invite a friend" not in labels(await card_of(member))

    listing = await automations_list(owner)
    screen = await tap(owner, listing, "Refer a friend")
    shown = text_of(owner.current(screen))
    assert "thank you for bringing them" in shown
    assert "on a friend's invitation" in shown
    await tap(owner, owner.current(screen), "Switch on")
    assert await Automation.filter(merchant_id=shop.merchant.id, enabled=True).count() == 1

    card = await card_of(member)
    assert "🤝 Invite a friend" in labels(card)
    invite = (await member.press_label(card, "Invite a friend"))[-1]
    assert "you both get the shop's gift" in text_of(invite)
    payload = invite_payload(invite)
    assert payload.startswith("r-")
    # The share sheet carries the link and a line about the card.
    [share] = [b["url"] for b in invite.inline_buttons() if "url" in b]
    assert urlsplit(share).netloc == "t.me"
    assert urlsplit(share).path == "/share/url"
    assert "Coffee card" in parse_qs(urlsplit(share).query)["text"][0]
    # The link is the member's own, not the token that lets staff stamp the card.
    mine = await Membership.get(customer__identities__external_id=str(member.user.id))
    assert payload == f"r-{mine.referral_token}"
    assert mine.public_token not in payload

    friend: Chat = new_chat(first_name="Taras")
    welcome = await friend.scan(payload)
    assert "Guest0 invited you — collect your first stamp and you both get a gift." in text_of(
        welcome[0]
    )
    assert "Welcome to Kafe Lviv!" in text_of(welcome[0])
    referral = await Referral.get(referrer_id=mine.id)
    await add_stamps(referral.friend_id, 1, merchant_id=shop.merchant.id, now=utcnow())

    member.new_messages()
    friend.new_messages()
    await run_automations()
    await deliver_all(runtime)
    to_member = [text_of(m) for m in member.new_messages()]
    to_friend = [text_of(m) for m in friend.new_messages()]
    assert any("Your friend just collected their first stamp" in t for t in to_member), to_member
    assert any("Thanks for coming to Kafe Lviv on a friend's invitation" in t for t in to_friend)
    gifts = await Voucher.filter(source=VoucherSource.AUTOMATION).values_list(
        "membership_id", flat=True
    )
    assert sorted(gifts) == sorted([mine.id, referral.friend_id])
    # The gift is on the card, ready to use.
    assert "A treat for bringing a friend" in text_of(await card_of(friend))

    # Running again changes nothing: once per friend.
    await run_automations()
    await deliver_all(runtime)
    assert member.new_messages() == []
    assert friend.new_messages() == []
    assert await Voucher.filter(source=VoucherSource.AUTOMATION).count() == 2


async def test_ones_own_link_a_stale_and_a_forged_invite_button_change_nothing(
    new_chat: Any,
) -> None:
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    member, other = await customers(new_chat, shop, 2)
    listing = await automations_list(owner)
    screen = await tap(owner, listing, "Refer a friend")
    await tap(owner, owner.current(screen), "Switch on")

    card = await card_of(member)
    invite = (await member.press_label(card, "Invite a friend"))[-1]
    own = await member.send(f"/start {invite_payload(invite)}")
    assert "This is your own invite link" in text_of(own[0])
    # A member of the card already: opening someone's link is no referral.
    await other.send(f"/start {invite_payload(invite)}")
    assert await Referral.all().count() == 0

    # Another member's card id in a forged button: unknown, nothing made.
    theirs = await Membership.get(customer__identities__external_id=str(other.user.id))
    forged = CardAction(op=CardOp.INVITE, membership_id=theirs.id).pack()
    await member._post(
        member.telegram.callback_update(member.user, card, forged, check_button=False)
    )
    assert member.last_answer()["text"] == "This button has expired."
    assert (await Membership.get(id=theirs.id)).referral_token is None

    # Switched off: the card offers no invite, and the old button says why.
    await Automation.filter(merchant_id=shop.merchant.id).update(enabled=False)
    assert "🤝 Invite a friend" not in labels(await card_of(member))
    await member.press_label(card, "Invite a friend")
    assert member.last_answer()["text"] == "The shop is not rewarding invitations right now."


async def test_the_invite_link_opens_the_shops_own_bot_and_joins_there(
    new_chat: Any, telegram: FakeTelegramAPI
) -> None:
    """A member of the shared bot shares the shop's own bot; a friend it brings to another
    shop's bot is sent back to it (conversation.joining)."""
    shop = await shop_without_quiet_hours()
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    (member,) = await customers(new_chat, shop, 1)
    screen = await tap(owner, await automations_list(owner), "Refer a friend")
    await tap(owner, owner.current(screen), "Switch on")
    token = new_token()
    telegram.bot(token, username="kafe_lviv_bot")
    await connect_own_bot(owner, token)

    invite = (await member.press_label(await card_of(member), "Invite a friend"))[-1]

    payload = invite_payload(invite)
    assert f"https://t.me/kafe_lviv_bot?start={payload}" in text_of(invite)
    [share] = [b["url"] for b in invite.inline_buttons() if "url" in b]
    assert parse_qs(urlsplit(share).query)["url"][0].startswith("https://t.me/kafe_lviv_bot?")
    # Through another shop's own bot, the friend is told whose card it is and given its link.
    other = await factories.merchant("Pekarnia")
    other_owner = await staff_chat(new_chat, other, StaffRole.OWNER, "Ivan")
    other_token = new_token()
    await connect_own_bot(other_owner, other_token)
    friend = shop_bot_chat(telegram, other_token, 880_701, "Taras")
    answer = await friend.scan(payload)
    assert text_of(answer[-1]).endswith(f"\nhttps://t.me/kafe_lviv_bot?start={payload}")
    assert await Referral.all().count() == 0
