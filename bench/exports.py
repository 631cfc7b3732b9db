"""How long the member export and the dashboard take for a shop of N members (SQLite).

Run: ``.venv/bin/python bench/exports.py --members 10000`` (``--quick``: 2,000). Members are
inserted in bulk (each with a Telegram identity, a stamp and a voucher), then the owner's
export and the all-time dashboard are timed; the export against a bare read of the same
members' rows in the same run. Prints figures and records them (``var/bench/exports.json``);
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from datetime import timedelta

from figures import Figures
from tortoise import Tortoise

from campaigns.dashboard import Period, dashboard
from campaigns.exports import member_export
from loyalty.clock import utcnow
from loyalty.merchants import CardSpec, MerchantSpec, create_merchant
from models import Customer, Identity, Membership, Staff, StampEvent, Voucher
from models.db import apply_migrations, close_db, init_db
from models.enums import LedgerKind, Platform, StaffRole, VoucherSource


async def _run(members: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{folder}/bench.sqlite3"
        await apply_migrations(url)
        await init_db(url)
        try:
            shop = await create_merchant(
                MerchantSpec(name="Bench café"),
                CardSpec(name="Card", stamps_needed=10, reward_text="Coffee"),
                invite_ttl=timedelta(hours=1),
            )
            owner = await Staff.create(
                merchant_id=shop.merchant.id, telegram_user_id=1, role=StaffRole.OWNER
            )
            now = utcnow()
            started = time.perf_counter()
            people = [
                Customer(first_name=f"Member {n}", email=f"m{n}@example.com", email_verified=n % 2)
                for n in range(members)
            ]
            await Customer.bulk_create(people, batch_size=1000)
            people = await Customer.all().order_by("id")
            await Identity.bulk_create(
                [
                    Identity(customer_id=p.id, platform=Platform.TELEGRAM, external_id=str(p.id))
                    for p in people
                ],
                batch_size=1000,
            )
            await Membership.bulk_create(
                [
                    Membership(
                        customer_id=p.id,
                        card_id=shop.card.id,
                        public_token=secrets.token_urlsafe(16),
                        balance=1,
                        visits=1,
                        last_visit_at=now,
                    )
                    for p in people
                ],
                batch_size=1000,
            )
            rows = await Membership.filter(card_id=shop.card.id).order_by("id")
            await StampEvent.bulk_create(
                [
                    StampEvent(
                        membership_id=m.id,
                        card_id=shop.card.id,
                        kind=LedgerKind.STAMP,
                        delta=1,
                        balance_after=1,
                        amount_minor=500,
                        created_at=now - timedelta(days=m.id % 60),
                    )
                    for m in rows
                ],
                batch_size=1000,
            )
            await Voucher.bulk_create(
                [
                    Voucher(
                        merchant_id=shop.merchant.id,
                        card_id=shop.card.id,
                        membership_id=m.id,
                        source=VoucherSource.MANUAL,
                        title="Coffee",
                        code=f"C{m.id:011d}",
                        token=secrets.token_urlsafe(16),
                        issued_at=now,
                    )
                    for m in rows
                ],
                batch_size=1000,
            )
            print(f"set-up of {members} members: {time.perf_counter() - started:.1f} s")

            started = time.perf_counter()
            export = await member_export(owner)
            took = time.perf_counter() - started
            started = time.perf_counter()
            _, bare = await Tortoise.get_connection("default").execute_query(
                "SELECT c.first_name, c.email, m.balance, m.visits, m.joined_at "
                "FROM membership m JOIN customer c ON c.id = m.customer_id"
            )
            bare_took = time.perf_counter() - started
            print(
                f"member export: {export.rows} rows, {len(export.data) / 1e6:.2f} MB "
                f"in {took:.2f} s ({export.rows / took:,.0f} rows/s); a bare read of the same "
                f"rows {len(bare) / bare_took:,.0f} rows/s"
            )
            started = time.perf_counter()
            board = await dashboard(shop.merchant.id, Period.ALL)
            board_took = time.perf_counter() - started
            print(
                f"dashboard, all time: {board.visits} visits over {len(board.days)} days "
                f"in {board_took:.2f} s"
            )
            figures = Figures("exports")
            figures.add(
                f"member export, {members:,} members", export.rows / took, "rows/s",
                baseline=len(bare) / bare_took, baseline_name="bare SELECT of the same rows",
            )  # fmt: skip
            figures.add(f"dashboard, all time, {members:,} members", board_took, "s")
            print(f"saved {figures.save()}")
        finally:
            await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 members")
    args = parser.parse_args()
    asyncio.run(_run(2_000 if args.quick else args.members))


if __name__ == "__main__":
    main()
