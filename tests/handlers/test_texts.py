"""Numbers, lists, arrows and field names as each language writes them (Babel, the catalogs)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from campaigns.spec import AudienceFilter
from campaigns.stats import CampaignStats, ChannelStats, GroupOutcome
from channels.base import Reason
from handlers.campaign_texts import audience_lines, field_name, reason_name, stats_lines
from handlers.texts import (
    FSI,
    LRI,
    PDI,
    and_list,
    arrows,
    back_label,
    close_label,
    local_datetime,
    stamps_of,
    state_label,
    user_text,
)
from locales import compile_catalogs
from tests.handlers.test_bidi import as_read_right_to_left, shown

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def i18n(tmp_path_factory: pytest.TempPathFactory) -> Iterator[I18n]:
    built = I18n(
        path=compile_catalogs(tmp_path_factory.mktemp("locales")),
        default_locale="en",
        domain="messages",
    )
    with built.context():
        yield built


def _stats() -> CampaignStats:
    channel = ChannelStats(
        "telegram", targeted=1200, sent=1180, failed=Counter(bot_blocked=3, chat_not_found=1)
    )
    return CampaignStats(
        campaign_id=1,
        channels={"telegram": channel},
        # 11.5 % came back against 10 % of the holdout group: +1.5 points.
        reached=GroupOutcome(people=200, visitors=23, visits=30, redeemed=4),
        holdout=GroupOutcome(people=100, visitors=10, visits=12, redeemed=1),
        window=timedelta(days=1),
    )


@pytest.mark.parametrize(("language", "uplift"), [("en", "+1.5"), ("uk", "+1,5")])
def test_the_uplift_is_written_with_the_locales_decimal_sign(
    i18n: I18n, language: str, uplift: str
) -> None:
    with i18n.use_locale(language):
        holdout = stats_lines(_stats())[-1]

    assert uplift in holdout, holdout


def test_the_uplift_stays_one_left_to_right_token_in_hebrew(i18n: I18n) -> None:
    with i18n.use_locale("he"):
        holdout = stats_lines(_stats())[-1]

    assert f"{LRI}+1.5{PDI}" in holdout


def test_counts_are_grouped_and_singular_when_one(i18n: I18n) -> None:
    with i18n.use_locale("en"):
        lines = stats_lines(_stats())

    assert lines[0].startswith("<b>Telegram chat</b>: 1,180 of 1,200 sent")
    assert lines[-2].startswith("Within 1 day: 23 of 200 came back")


def test_persian_lists_use_the_persian_comma(i18n: I18n) -> None:
    audience = AudienceFilter(new_within_days=30, inactive_days=60, birthday_this_month=True)
    with i18n.use_locale("fa"):
        details = stats_lines(_stats())[1]
        who = and_list(audience_lines(audience))

    assert "، " in details.replace("\u200f", "")
    assert ", " not in details
    assert "، " in who.replace("\u200f", "")
    assert ", " not in who
    with i18n.use_locale("en"):
        assert stats_lines(_stats())[1] == "  not delivered: 3 blocked the bot, chat not found 1"


def test_paging_arrows_point_the_way_the_language_reads(i18n: I18n) -> None:
    with i18n.use_locale("en"):
        assert arrows() == ("◀", "▶")
    for language in ("he", "fa"):
        with i18n.use_locale(language):
            assert arrows() == ("▶", "◀")
            # Every back button takes its arrow from here (no back arrow in the catalogs).
            assert back_label().startswith("▶ ")
            assert back_label("x") == "▶ x"
    with i18n.use_locale("en"):
        assert back_label() == "◀ Back"
        assert close_label() == "✖ Close"


def test_a_name_is_escaped_then_isolated_and_loses_its_bidi_controls() -> None:
    assert (
        user_text("<b>\u202eTom & Jerry\u2069</b>")
        == "\u2068&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;\u2069"
    )
    assert user_text("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g", html=False) == (
        "\u2068abcdefg\u2069"
    )
    # Persian names keep their zero-width non-joiner, and a cut never loses the closing PDI.
    assert user_text("می\u200cخواهم", limit=3) == "\u2068می\u200c\u2069"


def _refused_fields() -> set[str]:
    sources = [*(ROOT / "campaigns").glob("*.py")]
    found = set()
    for source in sources:
        found |= set(re.findall(r'InvalidCampaign\(\s*"(\w+)"', source.read_text()))
    return found


@pytest.mark.parametrize("language", ["en", "uk", "he", "fa", "th"])
def test_a_refused_campaign_part_is_named_by_its_step_never_by_its_field(
    i18n: I18n, language: str
) -> None:
    fields = _refused_fields()
    assert {"push_text", "message_text", "voucher", "card_id"} <= fields
    with i18n.use_locale(language):
        generic = field_name("no_such_field")
        for field in fields:
            name = field_name(field)
            assert "_" not in name, field
            assert name != field, field
            assert name != generic, f"{field} has no step name"


@pytest.mark.parametrize("language", ["uk", "he", "fa", "th"])
def test_every_delivery_reason_has_a_translated_name(i18n: I18n, language: str) -> None:
    with i18n.use_locale(language):
        names = {reason: reason_name(reason) for reason in (*Reason, "holdout", "new_reason")}

    untranslated = {reason: name for reason, name in names.items() if name.isascii()}
    assert untranslated == {}


@pytest.mark.parametrize(
    ("language", "expected"), [("he", "24 בדצמ׳ 2026 10:05"), ("fa", "24 دسامبر 2026 10:05")]
)
def test_a_date_and_time_read_in_order_in_rtl_text(
    i18n: I18n, language: str, expected: str
) -> None:
    moment = datetime(2026, 12, 24, 8, 5, tzinfo=UTC)
    with i18n.use_locale(language):
        when = local_datetime(moment, "Asia/Jerusalem")
        text = _("This voucher was already redeemed on {when}.").format(when=when)

    assert when == f"{FSI}{expected}{PDI}"
    assert as_read_right_to_left(expected) in shown(text), shown(text)


@pytest.mark.parametrize("language", ["en", "uk", "he", "fa", "th"])
def test_a_switch_says_its_state_in_words(i18n: I18n, language: str) -> None:
    with i18n.use_locale(language):
        on, off = state_label("Email", on=True), state_label("Email", on=False)

    assert on != off
    assert on.startswith("Email: ")
    assert not any(mark in on + off for mark in ("🔔", "🔕", "▫"))
    if language == "en":
        assert (on, off) == ("Email: on", "Email: off")
    else:
        assert not on.removeprefix("Email: ").isascii(), on


@pytest.mark.parametrize(
    ("language", "balance", "needed", "expected"),
    [
        ("en", 3, 10, "3 of 10 stamps"),
        ("en", 0, 1, "0 of 1 stamp"),
        ("uk", 3, 10, "3 із 10 штампів"),
        ("fa", 3, 10, f"{LRI}3{PDI} از {LRI}10{PDI} مهر"),
        ("he", 3, 10, f"{LRI}3{PDI} מתוך {LRI}10{PDI} חותמות"),
    ],
)
def test_stamps_are_counted_in_words_not_with_a_slash(
    i18n: I18n, language: str, balance: int, needed: int, expected: str
) -> None:
    with i18n.use_locale(language):
        assert stamps_of(balance, needed) == expected


def test_customer_templates_say_counter_never_till() -> None:
    """One word for where staff stand (review U3): the emails and web pages customers read
    say "counter", as the chat does."""
    root = Path(__file__).resolve().parents[2] / "templates"
    said = [
        (path.relative_to(root).as_posix(), text)
        for path in sorted(root.rglob("*.html"))
        for text in re.findall(r'_\(\s*"([^"]*)"', path.read_text(encoding="utf-8"))
    ]
    assert said, "no translated strings found in the templates"
    assert [(where, text) for where, text in said if re.search(r"\btill\b", text)] == []
    assert ("email/campaign.html", "Staff scan the QR code or type the code at the counter.") in (
        said
    )
