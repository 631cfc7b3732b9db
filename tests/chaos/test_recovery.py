"""What the chaos run found: a batch cut short by the database (a PostgreSQL connection
terminated mid-batch) held its rows for the whole lease, and an automation tick cut short held
its enrolments for two minutes, although the worker was back at once. Now they are due again
within seconds; nothing is lost and only the rows in flight can be sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import campaigns.worker as worker_module
from automations.engine import RETRY_FAILED, Scheduler, enrol
from campaigns.outbox import BACKOFF_BASE
from loyalty.clock import utcnow
from models import Delivery, Enrollment, Merchant
from models.enums import Channel, DeliveryStatus, EnrollmentStatus
from tests import factories
from tests.automations.test_engine import automation
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker

pytestmark = pytest.mark.usefixtures("db")

T0 = factories.T0
CUT = "connection was closed in the middle of operation"  # asyncpg's words
WELCOME = """\
name: Welcome
trigger: {kind: joined}
reentry: {rule: every_time}
steps:
  - id: hello
    send: {channels: [telegram], text: "Welcome aboard!"}
"""


def fail_once(target: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``target.name`` raises as a cut connection does, once; then it is itself again."""
    real = getattr(target, name)

    async def cut(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(target, name, real)
        raise ConnectionResetError(CUT)

    monkeypatch.setattr(target, name, cut)


async def open_shop() -> factories.NewMerchant:
    """Campaigns here run on the real clock: quiet hours would hold them."""
    shop = await factories.merchant()
    await Merchant.filter(id=shop.merchant.id).update(quiet_from_minute=0, quiet_until_minute=0)
    return shop


async def test_a_batch_cut_before_sending_is_due_again_in_seconds_not_after_the_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await open_shop()
    await audience(shop, 3)
    await started(shop, Channel.TELEGRAM)
    telegram = ScriptedChannel("telegram")
    engine = worker(telegram)  # a lease of 60 s
    fail_once(engine.composer, "compose", monkeypatch)
    now = utcnow()

    with pytest.raises(ConnectionResetError):
        await engine.tick(now)

    rows = await Delivery.all()
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    due = [r.next_attempt_at for r in rows]
    assert all(at is not None and at <= now + timedelta(seconds=BACKOFF_BASE) for at in due)
    again = await engine.tick(now + timedelta(seconds=BACKOFF_BASE))
    assert again.sent == 3
    assert sorted(m.address for m in telegram.sent) == ["5000", "5001", "5002"]


async def test_a_batch_cut_after_sending_goes_again_soon_and_only_its_rows_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await open_shop()
    await audience(shop, 3)
    await started(shop, Channel.TELEGRAM)
    telegram = ScriptedChannel("telegram")
    engine = worker(telegram, batch_size=2)
    fail_once(worker_module, "record", monkeypatch)
    now = utcnow()

    with pytest.raises(ConnectionResetError):
        await engine.tick(now)  # two messages went, their result was never stored
    await engine.tick(now + timedelta(seconds=BACKOFF_BASE))
    await engine.tick(now + timedelta(seconds=BACKOFF_BASE))

    assert {r.status for r in await Delivery.all()} == {DeliveryStatus.SENT}
    addresses = [m.address for m in telegram.sent]
    assert sorted(set(addresses)) == ["5000", "5001", "5002"]
    assert len(addresses) - len(set(addresses)) == 2  # the two in flight, no more


async def test_a_row_recorded_by_another_worker_is_not_handed_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await open_shop()
    await audience(shop, 1)
    await started(shop, Channel.TELEGRAM)
    engine = worker(ScriptedChannel("telegram"))
    real_compose = engine.composer.compose

    async def taken_over_then_cut(rows: Any) -> Any:
        await Delivery.all().update(leased_by="other", status=DeliveryStatus.SENT)
        await real_compose(rows)
        raise ConnectionResetError(CUT)

    monkeypatch.setattr(engine.composer, "compose", taken_over_then_cut)
    with pytest.raises(ConnectionResetError):
        await engine.tick(utcnow())

    row = await Delivery.get()
    assert (row.status, row.leased_by) == (DeliveryStatus.SENT, "other")


async def test_an_automation_tick_cut_mid_step_fires_again_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = await factories.merchant()
    people = await audience(shop, 2)
    made = await automation(shop, WELCOME)
    await enrol(made, [(p.id, "joined") for p in people], now=T0)
    scheduler = Scheduler("w1")  # its lease: two minutes
    fail_once(Scheduler, "_send", monkeypatch)

    with pytest.raises(ConnectionResetError):
        await scheduler.tick(T0)
    assert await Delivery.filter(enrollment_id__not_isnull=True).count() == 0
    assert (await scheduler.tick(T0 + RETRY_FAILED - timedelta(seconds=1))).claimed == 0

    fired = await scheduler.tick(T0 + RETRY_FAILED + timedelta(seconds=1))

    assert fired.sent == 2
    rows = await Delivery.filter(enrollment_id__not_isnull=True)
    assert sorted(r.customer_id for r in rows) == sorted(p.id for p in people)
    assert {e.status for e in await Enrollment.all()} == {EnrollmentStatus.DONE}


async def test_a_workers_automation_leases_last_as_long_as_its_row_leases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A killed worker's enrolments are taken over when its rows are: with a 10 s lease set,
    not after the scheduler's own two minutes."""
    import asyncio

    from bot import app

    seen: list[Scheduler] = []

    async def run_scheduler(scheduler: Scheduler, stop: asyncio.Event) -> None:
        seen.append(scheduler)

    monkeypatch.setattr(app, "run_scheduler", run_scheduler)
    engine = worker(ScriptedChannel("telegram"))
    engine.lease = timedelta(seconds=10)

    await app._automations(engine, asyncio.Event())

    assert [(s.worker_id, s.lease) for s in seen] == [(engine.worker_id, timedelta(seconds=10))]


async def test_a_slow_batch_keeps_its_rows_past_the_lease_and_no_one_doubles_them() -> None:
    """Seen in the chaos run under a storm of 429s: a batch that took longer than its lease
    was claimed and sent again by the other worker while the first was still sending it."""
    import asyncio

    shop = await open_shop()
    await audience(shop, 3)
    await started(shop, Channel.TELEGRAM)
    slow, other = ScriptedChannel("telegram", delay=2.5), ScriptedChannel("telegram")
    first, second = worker(slow), worker(other)
    first.worker_id, second.worker_id = "first", "second"
    first.lease = timedelta(seconds=1.5)

    sending = asyncio.create_task(first.tick())
    await asyncio.sleep(2.0)  # past the lease the batch was claimed with
    meanwhile = await second.tick()
    done = await sending

    assert meanwhile.claimed == 0
    assert done.sent == 3
    assert sorted(m.address for m in slow.sent) == ["5000", "5001", "5002"]
    assert other.sent == []


async def test_a_channel_failing_on_every_message_logs_one_traceback_not_one_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis gone: the Telegram channel's rate limiter raises on every message of a batch."""

    class NoRedis(ScriptedChannel):
        async def send(self, message: Any) -> Any:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6380. Connection refused.")

    shop = await open_shop()
    await audience(shop, 3)
    await started(shop, Channel.TELEGRAM)

    with caplog.at_level("WARNING", logger="campaigns.worker"):
        tick = await worker(NoRedis("telegram")).tick()

    assert tick.retried == 3
    crashes = [r for r in caplog.records if "crashed on delivery" in r.getMessage()]
    assert [r.exc_info is not None for r in crashes] == [True, False, False]
    assert "ConnectionError: Error 111 connecting" in crashes[1].getMessage()
