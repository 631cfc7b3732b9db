"""``stampbot demo``: a scripted day at a café, run on the embedded default and printed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import DatabaseSettings, Settings
from bot.factory import database, invite_ttl
from loyalty.branding import PALETTE, ColoursRefused, parse_colours, set_colours
from loyalty.cards import CardField, CardValueRefused, edit_card, parse_value
from loyalty.customers import customer_for_identity
from loyalty.errors import LoyaltyError
from loyalty.ledger import ledger_sum
from loyalty.memberships import card_by_join_token, join, leave
from loyalty.merchants import (
    CardSpec,
    MerchantSpec,
    NewMerchant,
    accept_staff_invite,
    create_merchant,
)
from loyalty.merchants import create_staff_invite as new_invite
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, start_link
from loyalty.vouchers import find_voucher, redeem_voucher
from models import Card, Customer, Membership, Staff, Voucher
from models.enums import Platform, RedeemVia, StaffRole

# The demo runs on its own clock so cooldowns and expiry dates read like a real week.
DEMO_START = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


async def run_demo(settings: Settings, *, database_url: str | None = None) -> int:
    url = database_url or _fresh_sqlite(settings.var_dir / "demo.sqlite3")
    demo_settings = settings.model_copy(update={"database": DatabaseSettings(url=url)})
    say = _Printer()
    say(f"stampbot demo — database {url}")
    async with database(demo_settings):
        shop = await _shop_day(demo_settings, say)
        say()
        say("8. A new customer, Dana, in her Telegram chat (the Bot API is a loopback fake):")
        from demo.chat import chat_demo

        await chat_demo(
            demo_settings, join_token=shop.card.join_token, merchant_id=shop.merchant.id, say=say
        )
        say()
        from demo.wallet import wallet_demo

        await wallet_demo(demo_settings, shop, say=say)
    return 0


async def _owner_edits_the_card(owner: Staff, card: Card, say: _Printer) -> None:
    """What 🎴 Cards in /admin does once the owner pressed Save on each preview."""
    try:
        parse_value(CardField.STAMPS_NEEDED, "0")
    except CardValueRefused as refused:
        say(
            f"   Owner {owner.display_name} types 0 as stamps needed: refused, it is "
            f"{refused.minimum} to {refused.maximum}; nothing changes."
        )
    edit = await edit_card(owner, card.id, CardField.VALIDITY_DAYS, 60)
    colours = PALETTE[4]
    await set_colours(owner, colours)
    say(
        f"   {owner.display_name} saves voucher validity {edit.old} → {edit.new} days and the "
        f"colours {' '.join(colours.as_list())} (in the chat: previewed as the card, then Save)."
    )
    low = "#777777 #888888"
    try:
        parse_colours(low, accent=colours.accent)
    except ColoursRefused as refused:
        say(f"   {low!r} as colours: refused, contrast {refused.ratio:.1f}:1 (4.5:1 needed).")


def _fresh_sqlite(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite://{path}"


async def _shop_day(settings: Settings, say: _Printer) -> NewMerchant:
    bot = settings.telegram.username
    now = DEMO_START
    shop = await create_merchant(
        MerchantSpec(name="Café Demo", timezone="Europe/Kyiv", default_language="uk"),
        CardSpec(
            name="Coffee card",
            stamps_needed=10,
            reward_text="Free cappuccino",
            voucher_validity_days=30,
            max_stamps_per_call=3,
            stamp_cooldown_seconds=settings.shops.stamp_cooldown_seconds,
        ),
        invite_ttl=invite_ttl(settings),
        now=now,
    )
    card = shop.card
    say()
    say(f"1. Merchant {shop.merchant.name!r} with card {card.name!r}: {card.stamps_needed} stamps")
    say(f"   for {card.reward_text!r}, double-scan guard {card.stamp_cooldown_seconds} s.")
    say(f"   Owner invite:  {start_link(bot, LinkKind.STAFF_INVITE, shop.owner_invite.token)}")
    say(f"   Join link/QR:  {start_link(bot, LinkKind.JOIN, card.join_token)}")

    owner = await accept_staff_invite(
        shop.owner_invite.token, telegram_user_id=900_001, display_name="Marta", now=now
    )
    cashier_invite = await new_invite(
        shop.merchant, StaffRole.CASHIER, ttl=invite_ttl(settings), created_by=owner, now=now
    )
    cashier = await accept_staff_invite(
        cashier_invite.token, telegram_user_id=900_002, display_name="Taras", now=now
    )
    say(f"2. Staff: {owner.display_name} ({owner.role}), {cashier.display_name} ({cashier.role}).")
    try:
        await accept_staff_invite(
            cashier_invite.token, telegram_user_id=900_003, display_name="Eve", now=now
        )
    except LoyaltyError as refused:
        say(f"   The cashier link used a second time: {refused.message}")

    joined: dict[str, Membership] = {}
    for telegram_id, name, language in (
        (1001, "Olena", "uk"),
        (1002, "Ivan", "en"),
        (1003, "Noa", "he"),
    ):
        person = await customer_for_identity(
            Platform.TELEGRAM, str(telegram_id), first_name=name, language=language
        )
        joined[name] = (
            await join(person, await card_by_join_token(card.join_token), now=now)
        ).membership
    again = await join(await Customer.get(id=joined["Olena"].customer_id), card, now=now)
    say(
        f"3. Joined by QR: {', '.join(joined)}. Olena scans the QR again: same card "
        f"(membership #{again.membership.id}, new={again.created})."
    )

    olena = joined["Olena"]
    say("4. Olena's visits:")
    for day, stamps in enumerate((3, 2, 3, 1)):
        now = DEMO_START + timedelta(days=day, hours=1)
        result = await add_stamps(
            olena.id,
            stamps,
            merchant_id=shop.merchant.id,
            staff_id=cashier.id,
            now=now,
            idempotency_key=f"demo-{day}",
        )
        say(
            f"   {now:%a %d.%m} +{stamps} → {result.membership.balance}/{card.stamps_needed}, "
            f"{result.stamps_to_reward} more for {card.reward_text}"
        )
    retry = await add_stamps(
        olena.id,
        1,
        merchant_id=shop.merchant.id,
        staff_id=cashier.id,
        now=now,
        idempotency_key="demo-3",
    )
    say(
        f"   The till retries the last request: replayed={retry.replayed}, "
        f"balance still {retry.membership.balance}."
    )
    try:
        await add_stamps(olena.id, 1, merchant_id=shop.merchant.id, now=now + timedelta(minutes=1))
    except LoyaltyError as refused:
        say(f"   A double scan a minute later: {refused.message}")

    now += timedelta(days=1)
    reward = await add_stamps(
        olena.id, 3, merchant_id=shop.merchant.id, staff_id=cashier.id, now=now
    )
    voucher = reward.vouchers[0]
    say(
        f"5. {now:%a %d.%m} +3 → goal reached: voucher {voucher.code} ({voucher.title}), valid "
        f"until {voucher.expires_at:%d.%m.%Y}; surplus carried over: "
        f"{reward.membership.balance}/{card.stamps_needed}."
    )

    now += timedelta(hours=2)
    typed = voucher.code.replace("-", " ").lower()
    found = await find_voucher(shop.merchant.id, code=typed)
    redeemed = await redeem_voucher(
        found.id, merchant_id=shop.merchant.id, staff_id=cashier.id, via=RedeemVia.CODE, now=now
    )
    say(
        f"6. {cashier.display_name} types {typed!r} at the till: redeemed at "
        f"{redeemed.redeemed_at:%H:%M} UTC."
    )
    try:
        await redeem_voucher(
            found.id,
            merchant_id=shop.merchant.id,
            via=RedeemVia.SCAN,
            now=now + timedelta(seconds=1),
        )
    except LoyaltyError as refused:
        say(f"   A second till scans the same voucher: {refused.message}")

    await add_stamps(joined["Ivan"].id, 2, merchant_id=shop.merchant.id, now=now)
    await add_stamps(joined["Noa"].id, 1, merchant_id=shop.merchant.id, now=now)
    await leave(joined["Noa"], now=now + timedelta(hours=1))
    say("7. Ivan gets 2 stamps; Noa gets 1 and leaves the card (stamps forfeited).")
    await _owner_edits_the_card(owner, card, say)

    say()
    say(
        f"{'customer':<10}{'status':<8}{'stamps':>8}{'visits':>8}{'vouchers':>10}{'ledger ok':>11}"
    )
    for name, membership in joined.items():
        stored = await Membership.get(id=membership.id)
        vouchers = await Voucher.filter(membership_id=stored.id).count()
        ok = await ledger_sum(stored.id) == stored.balance
        say(
            f"{name:<10}{stored.status:<8}{f'{stored.balance}/{card.stamps_needed}':>8}"
            f"{stored.visits:>8}{vouchers:>10}{'yes' if ok else 'NO':>11}"
        )
    return shop
