"""Passes kept current and campaign messages added, against the fake Wallet Objects API."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from channels.base import OutboundMessage, Outcome, Reason
from channels.google_wallet import (
    QUOTA_SILENT_DETAIL,
    GoogleWalletChannel,
    GoogleWalletSettings,
    LoyaltyPass,
    LoyaltyProgram,
    google_wallet_channel,
    notified,
    pass_from_card,
    program_from_card,
)
from fakes.google_wallet import FakeClock, FakeGoogleWallet
from loyalty.stamps import add_stamps
from loyalty.tokens import LinkKind, start_link
from loyalty.views import customer_card
from loyalty.vouchers import issue_voucher, redeem_voucher
from models import Membership
from models.enums import RedeemVia, VoucherSource
from tests import factories
from tests.channels.google_wallet.conftest import SECRET
from tests.factories import T0

BOT = "stampbot_demo_bot"
BASE = "https://stampbot.example"
DAY = 24 * 3600


async def program_and_pass(membership: Membership) -> tuple[LoyaltyProgram, LoyaltyPass]:
    """The Google Wallet view of a membership, built from the same read model as the chat."""
    view = await customer_card(membership.id, membership.customer_id, now=T0)
    program = program_from_card(view, logo_url=f"{BASE}/logo/{view.card_id}.png")
    card = pass_from_card(
        view,
        account_name="Olena",
        barcode_value=start_link(BOT, LinkKind.MEMBERSHIP, view.token),
        card_page_url=f"{BASE}/c/{view.token}",
        language="uk",
        counter_code=view.counter_code,
    )
    return program, card


def outbound(address: str, delivery_id: int, push_text: str = "2 for 1 today") -> OutboundMessage:
    return OutboundMessage(
        delivery_id=delivery_id,
        channel="google_wallet",
        address=address,
        language="en",
        right_to_left=False,
        merchant_name="Kafe Lviv",
        subject="News",
        push_text=push_text,
        html="<b>Two coffees</b> for the price of one, <i>all day</i>.",
    )


async def object_ready(channel: GoogleWalletChannel, membership_id: int = 41) -> str:
    program = LoyaltyProgram(41, "Coffee card", "Kafe Lviv", f"{BASE}/logo/41.png")
    card = LoyaltyPass(membership_id, 41, "Olena", 1, 10, barcode_value="qr-payload")
    assert (await channel.sync_pass(card, program=program)).outcome is Outcome.DELIVERED
    return channel.object_id(membership_id)


# -- classes and objects ---------------------------------------------------------------------


async def test_card_and_membership_become_class_and_object(
    db: object, channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    await add_stamps(membership.id, 3, merchant_id=shop.merchant.id, now=T0)
    await membership.refresh_from_db()
    voucher = await issue_voucher(
        membership, shop.card, source=VoucherSource.MANUAL, title="Free croissant",
        validity_days=30, now=T0,
    )  # fmt: skip
    program, card = await program_and_pass(membership)

    assert (await channel.sync_program(program)).outcome is Outcome.DELIVERED
    result = await channel.sync_pass(card)

    assert result.outcome is Outcome.DELIVERED
    class_id = f"{google.issuer_id}.card-{shop.card.id}"
    stored_class = google.classes[class_id]
    assert stored_class["programName"] == "Coffee card"
    assert stored_class["issuerName"] == "Kafe Lviv"
    assert stored_class["programLogo"]["sourceUri"]["uri"] == f"{BASE}/logo/{shop.card.id}.png"
    assert stored_class["hexBackgroundColor"] == "#1F2937"
    assert stored_class["reviewStatus"] == "UNDER_REVIEW"

    object_id = channel.object_id(membership.id)
    assert object_id.startswith(f"{google.issuer_id}.m-{membership.id}-")
    stored = google.objects[object_id]
    assert stored["classId"] == class_id
    assert stored["state"] == "ACTIVE"
    assert stored["accountId"] == str(membership.id)
    assert stored["accountName"] == "Olena"
    # Olena reads Ukrainian: it is the default, every other language a translation.
    assert stored["loyaltyPoints"] == {
        "label": "Штампи",
        "localizedLabel": {
            "defaultValue": {"language": "uk", "value": "Штампи"},
            "translatedValues": [
                {"language": "en", "value": "Stamps"},
                {"language": "he", "value": "חותמות"},
                {"language": "fa", "value": "مهرها"},
                {"language": "th", "value": "แสตมป์"},
            ],
        },
        "balance": {"string": "3/10"},
    }
    code = await Membership.get(id=membership.id).values_list("counter_code", flat=True)
    assert stored["barcode"] == {
        "type": "QR_CODE",
        "value": f"https://t.me/{BOT}?start=m-{membership.public_token}",
        "alternateText": f"Код для каси: \u2068{code}\u2069",
    }
    texts = {t["id"]: t for t in stored["textModulesData"]}
    assert texts["reward"]["header"] == "Нагорода"
    assert texts["reward"]["body"] == "Ще 7 штампів до нагороди: \u2068Free cappuccino\u2069"
    english = {
        v["language"]: v["value"] for v in texts["reward"]["localizedBody"]["translatedValues"]
    }
    assert english["en"] == "7 more stamps for \u2068Free cappuccino\u2069"
    # Valid 30 days from 14:19 UTC: the date in Kyiv, in each language's own format.
    module = texts[f"voucher-{voucher.id}"]
    assert (module["header"], module["body"]) == (
        "Free croissant",
        f"Код: \u2068{voucher.code}\u2069 · діє до \u20683 черв. 2026\u202fр.\u2069",
    )
    assert "localizedHeader" not in module  # the shop's own words: no translations
    dates = {v["language"]: v["value"] for v in module["localizedBody"]["translatedValues"]}
    assert dates["en"] == f"Code: \u2068{voucher.code}\u2069 · valid until \u2068Jun 3, 2026\u2069"
    assert dates["he"].endswith("בתוקף עד \u20683 ביוני 2026\u2069")
    [link] = stored["linksModuleData"]["uris"]
    assert (link["uri"], link["description"]) == (
        f"{BASE}/c/{membership.public_token}",
        "Твоя картка онлайн",
    )
    assert link["localizedDescription"]["translatedValues"][0] == {
        "language": "en",
        "value": "Your card online",
    }


async def test_object_follows_the_membership(
    db: object, channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    shop = await factories.merchant()
    membership = await factories.member(shop)
    voucher = await issue_voucher(
        membership, shop.card, source=VoucherSource.MANUAL, title="Free croissant",
        validity_days=30, now=T0,
    )  # fmt: skip
    program, card = await program_and_pass(membership)
    await channel.sync_pass(card, program=program)
    object_id = channel.object_id(membership.id)

    later = T0 + timedelta(hours=2)
    await add_stamps(membership.id, 4, merchant_id=shop.merchant.id, now=later)
    await redeem_voucher(voucher.id, merchant_id=shop.merchant.id, via=RedeemVia.CODE, now=later)
    await membership.refresh_from_db()
    _, changed = await program_and_pass(membership)
    result = await channel.sync_pass(changed)

    assert result.outcome is Outcome.DELIVERED
    assert result.external_id == f"{object_id}:patched"
    stored = google.objects[object_id]
    assert stored["loyaltyPoints"]["balance"] == {"string": "4/10"}
    assert [t["id"] for t in stored["textModulesData"]] == ["reward"]
    # insert refused as a duplicate, then patched
    calls = [(r.method, r.status) for r in google.api_requests() if "loyaltyObject" in r.path]
    assert calls[-2:] == [("POST", 409), ("PATCH", 200)]
    assert google.api_requests()[-2].response["error"]["status"] == "ALREADY_EXISTS"


async def test_the_first_member_creates_the_missing_class(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    card = LoyaltyPass(5, 9, "Taras", 0, 8, barcode_value="qr")
    alone = await channel.sync_pass(card)
    assert alone.outcome is Outcome.FAILED
    assert alone.reason is Reason.BAD_REQUEST
    assert "not found" in alone.detail

    program = LoyaltyProgram(9, "Haircut card", "Barber Bob", f"{BASE}/logo/9.png")
    assert (await channel.sync_pass(card, program=program)).outcome is Outcome.DELIVERED
    assert google.objects[channel.object_id(5)]["classId"] == f"{google.issuer_id}.card-9"


# -- campaign messages and the notification quota --------------------------------------------


async def test_fourth_message_in_a_day_is_added_quietly(
    channel: GoogleWalletChannel, google: FakeGoogleWallet, clock: FakeClock
) -> None:
    object_id = await object_ready(channel)
    results = []
    for delivery_id in range(1, 5):
        results.append(await channel.send(outbound(object_id, delivery_id)))
        clock.advance(3600)

    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 4
    assert [notified(r) for r in results] == [True, True, True, False]
    assert results[3].reason is Reason.QUOTA_SILENT
    assert results[3].detail == QUOTA_SILENT_DETAIL
    assert [m["messageType"] for m in google.messages(object_id)] == [
        "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT",
    ]  # fmt: skip
    # Counted here, so Google never had to refuse.
    assert all(r.status == 200 for r in google.api_requests("POST")[-4:])

    clock.advance(DAY - 3 * 3600)  # 24 h after the first notification
    fifth = await channel.send(outbound(object_id, 5))

    assert notified(fifth)
    assert fifth.reason is None
    assert google.messages(object_id)[-1]["messageType"] == "TEXT_AND_NOTIFY"


async def test_googles_refusal_turns_into_a_quiet_message(
    google: FakeGoogleWallet, settings: GoogleWalletSettings, clock: FakeClock
) -> None:
    # Two workers with their own counts: the second one learns of the quota from Google.
    async with (
        GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as first,
        GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as second,
    ):
        object_id = await object_ready(first)
        for delivery_id in range(1, 4):
            assert notified(await first.send(outbound(object_id, delivery_id)))

        result = await second.send(outbound(object_id, 4))

    assert result.outcome is Outcome.DELIVERED
    assert not notified(result)
    assert result.reason is Reason.QUOTA_SILENT
    refusal, quiet = google.api_requests("POST")[-2:]
    assert refusal.status == 403
    assert refusal.response["error"]["errors"][0]["reason"] == "quotaExceeded"
    assert refusal.body["message"]["messageType"] == "TEXT_AND_NOTIFY"
    assert quiet.status == 200
    assert quiet.body["message"]["messageType"] == "TEXT"
    assert [m["id"] for m in google.messages(object_id)] == ["d1", "d2", "d3", "d4"]


async def test_message_carries_push_text_and_plain_body(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    object_id = await object_ready(channel)
    result = await channel.send(outbound(object_id, 77, push_text="  2 for 1\ntoday "))

    assert result.external_id == "d77"
    [message] = google.messages(object_id)
    assert message["header"] == "2 for 1 today"
    assert message["body"] == "Two coffees for the price of one, all day."
    assert message["id"] == "d77"


@pytest.mark.parametrize(
    ("status", "retry_after", "reason"),
    [
        (500, None, Reason.SERVER_ERROR),
        (503, 30, Reason.SERVER_ERROR),
        (429, 7, Reason.RATE_LIMITED),
    ],
)
async def test_server_trouble_is_retried(
    channel: GoogleWalletChannel,
    google: FakeGoogleWallet,
    status: int,
    retry_after: int | None,
    reason: Reason,
) -> None:
    object_id = await object_ready(channel)
    google.fail(status, path_contains="addMessage", retry_after=retry_after)

    result = await channel.send(outbound(object_id, 1))

    assert result.outcome is Outcome.RETRY
    assert result.reason is reason
    assert result.retry_after == retry_after
    assert google.messages(object_id) == []
    # The failed attempt used none of the pass's notifications.
    again = await channel.send(outbound(object_id, 1))
    assert notified(again)


async def test_an_unknown_pass_is_unreachable(
    channel: GoogleWalletChannel, google: FakeGoogleWallet
) -> None:
    await object_ready(channel)
    result = await channel.send(outbound(channel.object_id(999), 1))

    assert result.outcome is Outcome.FAILED
    assert result.reason is Reason.UNREACHABLE
    assert result.unreachable
    assert google.api_requests()[-1].response["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize("address", ["", "   ", "1234.m-1-abc", "not an id"])
async def test_addresses_of_other_issuers_are_not_sent(
    channel: GoogleWalletChannel, google: FakeGoogleWallet, address: str
) -> None:
    result = await channel.send(outbound(address, 1))
    assert result.outcome is Outcome.FAILED
    assert result.reason is Reason.NO_ADDRESS
    assert google.requests == []


async def test_network_failure_is_retried(key_file: Path, clock: FakeClock) -> None:
    async with FakeGoogleWallet(clock=clock) as gone:
        api_url, token_url, issuer = gone.api_url, gone.token_url, gone.issuer_id
    settings = GoogleWalletSettings(
        issuer_id=issuer, key_file=key_file, api_url=api_url, token_url=token_url
    )
    async with GoogleWalletChannel.from_settings(settings, secret=SECRET, clock=clock) as channel:
        result = await channel.send(outbound(channel.object_id(1), 1))
    assert result.outcome is Outcome.RETRY
    assert result.reason is Reason.NETWORK_ERROR


# -- configuration ---------------------------------------------------------------------------


async def test_off_unless_configured(caplog: pytest.LogCaptureFixture, key_file: Path) -> None:
    caplog.set_level(logging.INFO, logger="channels.google_wallet")
    assert google_wallet_channel(None, None, secret=SECRET) is None
    assert google_wallet_channel("3388000000022123456", None, secret=SECRET) is None
    assert google_wallet_channel(None, key_file, secret=SECRET) is None
    off = [r.getMessage() for r in caplog.records]
    assert (
        off
        == [
            "Google Wallet is off: set STAMPBOT_GOOGLE_WALLET_ISSUER_ID and "
            "STAMPBOT_GOOGLE_WALLET_KEY_FILE to turn it on"
        ]
        * 3
    )

    caplog.clear()
    channel = google_wallet_channel("3388000000022123456", key_file, secret=SECRET)
    assert channel is not None
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("Google Wallet is on: issuer 3388000000022123456, service account ")
    assert "PRIVATE KEY" not in caplog.text
    await channel.close()


def test_a_non_numeric_issuer_id_is_a_configuration_error(key_file: Path) -> None:
    with pytest.raises(ValueError, match="issuer id"):
        google_wallet_channel("my-issuer", key_file, secret=SECRET)
