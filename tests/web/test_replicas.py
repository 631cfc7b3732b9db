"""A shop's day on two ``web`` replicas behind a round-robin load balancer and two ``worker``
processes, on PostgreSQL and Redis: customers join, the cashier stamps, the owner writes and
sends a campaign in a wizard whose every step lands on the other replica, a welcome
automation runs — and each person gets each message once, each stamp is counted once.

Every process is the real one (``python -m bot web`` / ``worker``); only Telegram is the
loopback fake, which keeps what each chat received.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from automations import service as automations
from automations.recipes import Recipe
from fakes.loopback import free_port
from fakes.telegram import FakeTelegramAPI, StoredMessage
from models import Automation, Campaign, Delivery, Membership, StampEvent
from models.enums import CampaignStatus, DeliveryStatus, LedgerKind, StaffRole
from tests.chat import WEBHOOK_SECRET, Chat, buttons, text_of
from tests.conftest import Backend
from tests.handlers.test_automations import shop_without_quiet_hours
from tests.handlers.wizard.test_flow import send_it, staff_chat, write_campaign
from tests.processes import process_env, spawn

pytestmark = pytest.mark.usefixtures("fresh_state")

CUSTOMERS = 12
CAMPAIGN = "Pumpkin latte is back!\nThis week only."


class RoundRobin:
    """The load balancer: each webhook POST goes to the next replica, so a conversation's
    consecutive updates never land on the same process twice in a row."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = itertools.cycle(upstreams)
        self.served: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.session: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.Response:
        assert self.session is not None
        upstream = next(self.upstreams)
        self.served[upstream] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self.session.post(
            upstream + request.path, data=await request.read(), headers=headers
        ) as answer:
            self.statuses[answer.status] += 1
            # The whole Content-Type, as a proxy passes it: a method in the webhook's answer
            # is multipart, and its boundary is a parameter of that header.
            kept = {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}
            return web.Response(status=answer.status, body=await answer.read(), headers=kept)


@pytest.fixture
async def balancer() -> AsyncIterator[tuple[RoundRobin, str, list[int]]]:
    ports = [free_port(), free_port()]
    robin = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    robin.session = aiohttp.ClientSession()
    app = web.Application()
    app.router.add_post("/{tail:.*}", robin.forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield robin, f"http://127.0.0.1:{port}", ports
    finally:
        await robin.session.close()
        await runner.cleanup()


def _env(db: Backend, telegram: FakeTelegramAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    return process_env(
        db, telegram, tmp_path,
        STAMPBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        # The in-process tests' flood control: a test taps faster than a person.
        STAMPBOT_FLOOD_PER_SECOND="5", STAMPBOT_FLOOD_BURST="60",
        **extra,
    )  # fmt: skip


async def _ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"replica on {port} not ready after {seconds} s")


async def _stop(processes: list[asyncio.subprocess.Process]) -> list[str]:
    """Stop them; the error lines they logged."""
    errors = []
    for process in processes:
        if process.returncode is None:
            process.terminate()
        _out, err = await process.communicate()
        errors += [
            line
            for line in err.decode(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
    return errors


def _counter_screen(telegram: FakeTelegramAPI, cashier: Chat, name: str) -> StoredMessage:
    """The cashier's stamp screen for this customer (new, or an older message drawn again)."""
    for message in reversed(telegram.sent_messages(cashier.user.id)):
        shown = telegram.message(cashier.user.id, message.message_id)
        if name in text_of(shown) and any("+1 stamp" in label for label, _ in buttons(shown)):
            return shown
    raise AssertionError(f"no stamp screen for {name}")


def _received(telegram: FakeTelegramAPI, chat: Chat, needle: str) -> int:
    return sum(needle in text_of(m) for m in telegram.sent_messages(chat.user.id) if m.from_bot)


async def test_a_day_on_two_replicas_and_two_workers_loses_and_doubles_nothing(
    db: Backend,
    telegram: FakeTelegramAPI,
    tmp_path: Path,
    new_chat: Any,
    balancer: tuple[RoundRobin, str, list[int]],
) -> None:
    if not db.is_postgres:
        pytest.skip("replicas and workers share one database only on the PostgreSQL server")
    robin, entry, ports = balancer
    replicas = [
        await spawn(
            "web",
            _env(
                db, telegram, tmp_path, STAMPBOT_WEB_HOST="127.0.0.1",
                STAMPBOT_WEB_PORT=str(port), STAMPBOT_PUBLIC_URL=entry,
            ),
        )
        for port in ports
    ]  # fmt: skip
    workers: list[asyncio.subprocess.Process] = []
    try:
        for port in ports:
            await _ready(port)
        shop = await shop_without_quiet_hours()

        def through_balancer(chat: Chat) -> Chat:
            chat.url = f"{entry}/telegram/webhook"
            return chat

        owner = through_balancer(await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta"))
        cashier = through_balancer(await staff_chat(new_chat, shop, StaffRole.CASHIER, "Ivan"))
        made = await automations.create_from_recipe(
            shop.merchant.id, Recipe.WELCOME, None, str, created_by=None, on=True
        )

        people = [through_balancer(new_chat(first_name=f"Guest{n}")) for n in range(CUSTOMERS)]
        for person in people:
            welcome = await person.scan(f"j-{shop.card.join_token}")
            assert "Welcome to Kafe Lviv!" in text_of(welcome[0])
        # The cashier stamps half of them: one stamp each, two for the first two.
        stamped = 0
        for person in people[: CUSTOMERS // 2]:
            member = await Membership.get(
                card_id=shop.card.id, customer__identities__external_id=str(person.user.id)
            )
            # The scan on one replica, the tap on the other.
            await cashier.scan(f"m-{member.public_token}")
            screen = _counter_screen(telegram, cashier, person.user.first_name)
            two = person in people[:2]
            await cashier.press_label(screen, "+2" if two else "+1 stamp")
            stamped += 2 if two else 1

        # The wizard: every update goes to the other replica than the one before.
        summary = await write_campaign(owner, CAMPAIGN)
        await send_it(owner, summary)
        campaign = await Campaign.get(merchant_id=shop.merchant.id, automation_id=None)

        workers = [await spawn("worker", _env(db, telegram, tmp_path)) for _ in range(2)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = (await Campaign.get(id=campaign.id)).status == CampaignStatus.DONE
            welcomed = await Delivery.filter(
                campaign__automation_id=made.id, status=DeliveryStatus.SENT
            ).count()
            if done and welcomed >= CUSTOMERS:
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(1)  # a straggler that would double a message has time to show
    finally:
        errors = await _stop(workers + replicas)

    assert robin.statuses[200] == sum(robin.statuses.values())
    assert min(robin.served.values()) >= sum(robin.served.values()) // 2 - 1
    for person in people:
        assert _received(telegram, person, "Pumpkin latte is back!") == 1, person.user.id
        assert _received(telegram, person, "Every visit adds a stamp") == 1, person.user.id
    # One ledger row per tap, the stamps it gave on the balances: nothing counted twice.
    taps = CUSTOMERS // 2
    assert await StampEvent.filter(card_id=shop.card.id, kind=LedgerKind.STAMP).count() == taps
    balances = await Membership.filter(card_id=shop.card.id).values_list("balance", flat=True)
    assert sum(int(str(b)) for b in balances) == stamped
    assert (await Automation.get(id=made.id)).enabled
    assert errors == []
