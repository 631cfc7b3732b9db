from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from campaigns.report import (
    ChartLabels,
    CsvLabels,
    DayRow,
    chart_png,
    csv_export,
    daily_series,
)
from campaigns.service import create_campaign
from campaigns.spec import CampaignSpec
from campaigns.stats import campaign_stats
from loyalty.merchants import NewMerchant
from loyalty.stamps import add_stamps
from loyalty.vouchers import redeem_voucher
from models import Campaign, Delivery, Membership
from models.enums import Channel, DeliveryStatus, RedeemVia
from render.chart import BAR_COLOUR, HEIGHT, LINE_COLOUR, WIDTH
from tests import factories
from tests.render.charts import column_pixels

pytestmark = pytest.mark.usefixtures("db")

KYIV = "Europe/Kyiv"  # UTC+3 in May
LABELS = ChartLabels(deliveries="Messages sent", visits="Visits", no_data="No data yet")
LATER = datetime(2026, 6, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)


async def _visit(shop: NewMerchant, member: Membership, moment: datetime) -> int:
    """A stamp at ``moment``; with one stamp per reward it also issues a voucher (its id)."""
    result = await add_stamps(member.id, 1, merchant_id=shop.merchant.id, now=moment)
    return result.vouchers[0].id


async def _delivery(
    campaign: Campaign,
    member: Membership,
    channel: Channel,
    status: DeliveryStatus,
    *,
    reason: str | None = None,
    sent_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
    opened_at: datetime | None = None,
    clicked_at: datetime | None = None,
) -> None:
    await Delivery.create(
        campaign_id=campaign.id,
        customer_id=member.customer_id,
        channel=channel,
        status=status,
        reason=reason,
        sent_at=sent_at,
        next_attempt_at=next_attempt_at,
        opened_at=opened_at,
        clicked_at=clicked_at,
    )


async def _three_day_campaign() -> tuple[NewMerchant, Campaign]:
    """Messages on 4, 6 and 7 May (Kyiv), none on the 5th; visits in and out of the window.

    a, b: telegram on the 4th (a also email, opened that day, clicked on the 5th);
    c: telegram at 01:30 on the 6th Kyiv time (still the 5th in UTC), email on the 6th;
    d: telegram on the 7th, email failed that day; e: telegram failed (bot blocked) on the 4th;
    h: the holdout group.
    """
    shop = await factories.merchant(stamps_needed=1, timezone=KYIV)
    a, b, c, d, e, h = [await factories.member(shop, 1001 + n) for n in range(6)]
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(
            card_id=shop.card.id,
            channels=(Channel.TELEGRAM, Channel.EMAIL),
            message_text="Autumn menu",
            holdout_percent=20,
        ),
    )
    await Campaign.filter(id=campaign.id).update(started_at=at(4, 7))
    campaign = await Campaign.get(id=campaign.id)
    sent, failed, skipped = DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED
    tg, email = Channel.TELEGRAM, Channel.EMAIL
    await _delivery(campaign, a, tg, sent, sent_at=at(4, 7))
    await _delivery(
        campaign, a, email, sent, sent_at=at(4, 7, 5), opened_at=at(4, 8), clicked_at=at(5, 6)
    )
    await _delivery(campaign, b, tg, sent, sent_at=at(4, 7))
    await _delivery(campaign, b, email, skipped, reason="not_verified")
    await _delivery(campaign, c, tg, sent, sent_at=at(5, 22, 30))
    await _delivery(campaign, c, email, sent, sent_at=at(6, 9))
    await _delivery(campaign, d, tg, sent, sent_at=at(7, 9))
    await _delivery(
        campaign, d, email, failed, reason="mailbox_unavailable", next_attempt_at=at(7, 9)
    )
    await _delivery(campaign, e, tg, failed, reason="bot_blocked", next_attempt_at=at(4, 7))
    await _delivery(campaign, e, email, skipped, reason="no_address")
    await _delivery(campaign, h, tg, DeliveryStatus.HOLDOUT)

    voucher = await _visit(shop, a, at(5, 10))  # counts, and so does redeeming it
    await redeem_voucher(voucher, merchant_id=shop.merchant.id, via=RedeemVia.CODE, now=at(5, 10))
    await _visit(shop, a, at(11, 8))  # 7 days and an hour after a's message: too late
    await _visit(shop, c, at(5, 21))  # before c's first message: not the campaign's doing
    await _visit(shop, c, at(6, 12))  # counts
    await _visit(shop, d, at(13, 8))  # day 6 of d's window: counts
    for other in (e, h):  # never reached / held out: not in the series
        voucher = await _visit(shop, other, at(5, 10))
        await redeem_voucher(
            voucher, merchant_id=shop.merchant.id, via=RedeemVia.CODE, now=at(5, 10)
        )
    return shop, campaign


def _numbers(row: DayRow) -> tuple[int, ...]:
    return (
        row.sent["telegram"],
        row.sent["email"],
        row.failed,
        row.opened,
        row.clicked,
        row.visits,
        row.redeemed,
    )


async def test_the_series_counts_each_event_on_its_local_day_within_the_window() -> None:
    _, campaign = await _three_day_campaign()

    rows = await daily_series(campaign, timezone=KYIV, now=LATER)

    # The window closes 7 days after the last message (7 May 09:00 UTC), on the 14th.
    assert [row.day for row in rows] == [date(2026, 5, n) for n in range(4, 15)]
    by_day = {row.day.day: _numbers(row) for row in rows}
    #                   tg email failed opened clicked visits redeemed
    assert by_day[4] == (2, 1, 1, 1, 0, 0, 0)
    assert by_day[5] == (0, 0, 0, 0, 1, 1, 1)
    assert by_day[6] == (1, 1, 0, 0, 0, 1, 0)
    assert by_day[7] == (1, 0, 1, 0, 0, 0, 0)
    assert by_day[13] == (0, 0, 0, 0, 0, 1, 0)
    assert all(not any(by_day[n]) for n in (8, 9, 10, 11, 12, 14))
    assert rows[0].sent_total == 3


async def test_the_days_add_up_to_the_campaign_statistics() -> None:
    _, campaign = await _three_day_campaign()

    rows = await daily_series(campaign, timezone=KYIV, now=LATER)
    stats = await campaign_stats(campaign)

    assert sum(row.visits for row in rows) == stats.reached.visits == 3
    assert sum(row.redeemed for row in rows) == stats.reached.redeemed == 1
    assert sum(row.sent_total for row in rows) == sum(c.sent for c in stats.channels.values())
    assert stats.holdout is not None
    assert stats.holdout.visits == 1


async def test_the_series_stops_at_today_while_the_window_is_open() -> None:
    _, campaign = await _three_day_campaign()

    rows = await daily_series(campaign, timezone=KYIV, now=at(6, 12))

    assert [row.day for row in rows] == [date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]


async def test_the_merchant_time_zone_decides_the_day() -> None:
    _, campaign = await _three_day_campaign()

    rows = await daily_series(campaign, timezone="UTC", now=LATER)

    # c's telegram message went at 22:30 UTC on the 5th: the 5th in UTC, the 6th in Kyiv.
    assert {row.day.day: row.sent["telegram"] for row in rows if row.day.day in (5, 6)} == {
        5: 1,
        6: 0,
    }


async def test_a_campaign_with_nothing_sent_has_an_empty_series() -> None:
    shop = await factories.merchant()
    campaign = await create_campaign(
        shop.merchant.id,
        CampaignSpec(card_id=shop.card.id, channels=(Channel.TELEGRAM,), message_text="Soon"),
    )

    assert await daily_series(campaign, timezone=KYIV) == []


async def test_an_unknown_time_zone_is_refused() -> None:
    _, campaign = await _three_day_campaign()

    with pytest.raises(ValueError, match="Mars/Olympus"):
        await daily_series(campaign, timezone="Mars/Olympus")


async def test_the_chart_shows_bars_on_days_with_messages_and_the_visits_line() -> None:
    _, campaign = await _three_day_campaign()
    rows = await daily_series(campaign, timezone=KYIV, now=LATER)

    png = chart_png(rows, title="Autumn menu — 4–14 May", labels=LABELS)

    decoded = Image.open(io.BytesIO(png))
    assert (decoded.format, decoded.size) == ("PNG", (WIDTH, HEIGHT))
    image = decoded.convert("RGB")
    bars = [column_pixels(image, n, len(rows), BAR_COLOUR) for n in range(len(rows))]
    with_messages = [n for n, count in enumerate(bars) if count]
    assert [rows[n].day.day for n in with_messages] == [4, 6, 7]
    # Three messages on the 4th, two on the 6th, one on the 7th: the bars say so.
    assert bars[0] > bars[2] > bars[3] > 0
    assert column_pixels(image, 1, len(rows), LINE_COLOUR)  # the visit on the 5th


async def test_the_csv_has_the_days_then_the_channel_totals() -> None:
    _, campaign = await _three_day_campaign()
    rows = await daily_series(campaign, timezone=KYIV, now=LATER)
    stats = await campaign_stats(campaign)

    data = csv_export(rows, stats)

    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == [
        "Date",
        "Sent: telegram",
        "Sent: email",
        "Sent",
        "Failed",
        "Opened",
        "Clicked",
        "Visits (attributed)",
        "Vouchers redeemed (attributed)",
    ]
    days = {line[0]: line[1:] for line in table[1 : 1 + len(rows)]}
    assert days["2026-05-04"] == ["2", "1", "3", "1", "1", "0", "0", "0"]
    assert days["2026-05-05"] == ["0", "0", "0", "0", "0", "1", "1", "1"]
    assert days["2026-05-13"] == ["0", "0", "0", "0", "0", "0", "1", "0"]
    total = table[1 + len(rows)]
    assert total == ["Total", "4", "2", "6", "2", "1", "1", "3", "1"]
    assert table[2 + len(rows)] == []
    channels = table[3 + len(rows) :]
    assert channels[0] == [
        "Channel",
        "Targeted",
        "Sent",
        "Pending",
        "Failed",
        "Failed: bot_blocked",
        "Failed: mailbox_unavailable",
        "Skipped",
        "Skipped: no_address",
        "Skipped: not_verified",
        "Opened",
        "Clicked",
    ]
    assert channels[1:] == [
        ["telegram", "5", "4", "0", "1", "1", "0", "0", "0", "0", "0", "0"],
        ["email", "5", "2", "0", "1", "0", "1", "2", "1", "1", "1", "1"],
        ["Total", "10", "6", "0", "2", "1", "1", "2", "1", "1", "1", "1"],
    ]


async def test_the_csv_speaks_the_callers_language_and_separator() -> None:
    _, campaign = await _three_day_campaign()
    rows = await daily_series(campaign, timezone=KYIV, now=LATER)
    labels = CsvLabels(
        day="Дата",
        sent="Надіслано",
        total="=Разом",
        names={"telegram": "Телеграм", "bot_blocked": "бота заблоковано"},
    )

    data = csv_export(rows, await campaign_stats(campaign), labels=labels, delimiter=";")

    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:2] == ["Дата", "Надіслано: Телеграм"]
    assert "Failed: бота заблоковано" in table[2 + len(rows) + 1]
    # A label that starts like a formula stays text in a spreadsheet.
    assert table[1 + len(rows)][0] == "'=Разом"


def test_the_csv_of_an_empty_series_still_has_both_tables() -> None:
    from campaigns.stats import CampaignStats, ChannelStats, GroupOutcome

    stats = CampaignStats(
        1, {"telegram": ChannelStats("telegram")}, GroupOutcome(0, 0, 0, 0), None, timedelta(7)
    )

    table = list(csv.reader(io.StringIO(csv_export([], stats).decode("utf-8-sig"))))

    assert table[1] == ["Total", "0", "0", "0", "0", "0", "0", "0"]
    assert table[3][0] == "Channel"
    assert table[4][:3] == ["telegram", "0", "0"]
