"""Secrets and link tokens never reach the log, at any level: the bot token, the webhook
secret, every token behind a link (join, invite, personal QR, voucher, card page, email links,
the pass's authentication token), the APNs and Google keys and the SMTP password.

The flows run with every logger at DEBUG, as an operator chasing a problem would run them;
what is checked is the text the log would hold (``caplog.text``: messages and tracebacks).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import BotRuntime
from bot.config import Settings
from campaigns.worker import DeliveryWorker
from channels.email import EmailChannel
from channels.email_render import EmailRenderer
from fakes.apns import FakeAPNs
from fakes.google_wallet import FakeGoogleWallet
from fakes.telegram import FakeTelegramAPI
from loyalty.links import Purpose
from loyalty.merchants import create_staff_invite
from loyalty.views import customer_card
from models import Card, Delivery, Membership, Voucher, WalletPass
from models.enums import Channel, StaffRole
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from tests.channels.apple_wallet.pki import PASS_TYPE_ID
from tests.channels.test_email import PASSWORD, USER, Server, auth_smtp, html_of, renderer, text_of
from tests.chat import WEBHOOK_SECRET, Chat
from tests.web_probe import error_lines, raw_exchange
from wallets.apple_registry import ensure_wallet_pass, register_device
from wallets.card_link import card_page_url

__all__ = ["auth_smtp", "renderer"]  # the email channel tests' SMTP server and renderer


def _ours(record: logging.LogRecord) -> bool:
    """Whether production would log this too. The loopback fakes run in this process and log
    what they read from us: aiosmtpd (``mail.log``) every line of a message, and the HTTP/2
    library's decoder each header of an APNs request. In production those readers are the
    mail server and Apple. (Our APNs client's encoder marks the authorization header
    sensitive: it logs it redacted, which the shop's day checks.)"""
    if record.name == "mail.log" or record.name.startswith("mail.log."):
        return False
    reading = record.name == "hpack.hpack" and record.getMessage().startswith("Decoded (")
    return not (reading and "authorization" in record.getMessage())


def _leaked(caplog: pytest.LogCaptureFixture, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets that show anywhere in what this process logged."""
    logged = "\n".join(caplog.handler.format(r) for r in caplog.records if _ours(r))
    assert logged, "nothing was logged: the check would be empty"
    return [name for name, value in secrets.items() if value in logged]


def _key_lines(name: str, pem: str) -> dict[str, str]:
    """Each base64 line of a PEM private key, so a key logged in part is caught too."""
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert len(lines) >= 2, pem
    return {f"{name}, line {n}": line for n, line in enumerate(lines, 1)}


def _google_key(folder: Path) -> str:
    """The private key of the service account the ``google_wallet`` fixture wrote there."""
    [key_file] = folder.glob("*.json")
    return str(json.loads(key_file.read_text())["private_key"])


async def test_a_shops_day_at_debug_logs_no_secret_or_token(
    new_chat: Any,
    runtime: BotRuntime,
    webhook_url: str,
    telegram: FakeTelegramAPI,
    apns: FakeAPNs,
    apns_key: str,
    google_wallet: FakeGoogleWallet,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await factories.merchant(stamps_needed=1)
    invite = await create_staff_invite(
        shop.merchant, StaffRole.CASHIER, ttl=timedelta(hours=1), created_by=None
    )
    owner: Chat = new_chat(first_name="Marta")
    cashier: Chat = new_chat(first_name="Taras")
    customer: Chat = new_chat(first_name="Olena")

    await owner.send(f"/start i-{shop.owner_invite.token}")
    await cashier.send(f"/start i-{invite.token}")
    await customer.send(f"/start j-{shop.card.join_token}")
    membership = await Membership.get(card_id=shop.card.id)
    # The card in both wallets, the iPhone registered for pushes.
    issued = await runtime.wallets.apple_pass(membership.id)
    wallet_pass = await WalletPass.get(serial_number=issued.serial_number)
    await register_device(wallet_pass, "iphone-of-olena", apns.add_device())
    card = await customer_card(membership.id, membership.customer_id)
    assert await runtime.wallets.google_save_url(card) is not None
    # The counter: a stamp by the personal QR that fills the card, the voucher redeemed by QR.
    screen = (await cashier.send(f"/start m-{membership.public_token}"))[0]
    await cashier.press_label(screen, "+1")
    voucher = await Voucher.get(membership_id=membership.id)
    redeem = (await cashier.send(f"/start v-{voucher.token}"))[0]
    await cashier.press_label(redeem, "Redeem now")
    # The card page, the pass download and the PassKit web service, as the phone calls them.
    page = card_page_url(runtime.signer, membership.id, membership.public_token)
    latest = f"{runtime.signer.base_url}/passkit/v1/passes/{PASS_TYPE_ID}/{issued.serial_number}"
    async with aiohttp.ClientSession() as http:
        for url, headers in (
            (page, {}),
            (page + "/pass.pkpass", {}),
            (latest, {"Authorization": f"ApplePass {wallet_pass.authentication_token}"}),
            (latest, {"Authorization": "ApplePass wrong-token"}),
        ):
            async with http.get(url, headers=headers) as response:
                assert response.status in (200, 401), url
                await response.read()
    # A webhook call with a wrong secret is logged as such, without the secret it should have.
    refused = await telegram.post_update(
        telegram.message_update(customer.user, "/card"), url=webhook_url, secret_token="guess"
    )
    assert refused.status == 401

    assert apns.pushes, "the stamp pushed the pass: the APNs key was used"
    assert google_wallet.api_requests("PATCH"), "the stamp reached Google: its key was used"
    secrets = {
        "bot token": telegram.token,
        "bot token, secret part": telegram.token.split(":", 1)[1],
        "webhook secret": WEBHOOK_SECRET,
        "owner invite": shop.owner_invite.token,
        "staff invite": invite.token,
        "join link": shop.card.join_token,
        "personal QR": membership.public_token,
        "voucher QR": voucher.token,
        "card page link": page.rsplit("/", 1)[1],
        "pass authentication token": wallet_pass.authentication_token,
        "APNs provider token": apns.pushes[-1].headers["authorization"].split(" ", 1)[1],
        **_key_lines("APNs key", apns_key),
        **_key_lines("Google key", _google_key(tmp_path)),
    }
    google_bearer = google_wallet.api_requests("PATCH")[-1].authorization
    assert google_bearer is not None
    secrets["Google access token"] = google_bearer.split(" ", 1)[1]
    assert _leaked(caplog, secrets) == []
    assert "PRIVATE KEY" not in caplog.text
    assert "b'authorization'=b'SENSITIVE_REDACTED'" in caplog.text  # our client's encoder


async def test_an_email_campaign_at_debug_logs_neither_the_smtp_password_nor_its_links(
    db: Any, auth_smtp: Server, renderer: EmailRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await factories.merchant()
    await audience(shop, 2)
    campaign = await started(
        shop, Channel.EMAIL, text='New <a href="https://kafe.example">menu</a>'
    )
    channel = EmailChannel(
        auth_smtp.settings(username=USER, password=SecretStr(PASSWORD)), renderer=renderer
    )
    sender: DeliveryWorker = worker(cast("ScriptedChannel", channel))

    await sender.tick()

    assert await Delivery.filter(campaign_id=campaign.id, sent_at__isnull=False).count() == 2
    mails = [received.message for received in auth_smtp.handler.received]
    bodies = "\n".join(html_of(mail) + text_of(mail) for mail in mails)
    headers = "\n".join(str(mail.get("List-Unsubscribe", "")) for mail in mails)
    tokens = set(re.findall(r"/e/[a-z]/([A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22})", bodies + headers))
    assert len(tokens) >= 4  # open pixel, click and unsubscribe at least, for two people
    secrets = {
        "SMTP password": PASSWORD,
        "SMTP password as AUTH LOGIN sends it": base64.b64encode(PASSWORD.encode()).decode(),
        "SMTP login as AUTH PLAIN sends it": base64.b64encode(
            f"\0{USER}\0{PASSWORD}".encode()
        ).decode(),
    } | {f"email link {t}": t for t in tokens}
    assert _leaked(caplog, secrets) == []


def test_secrets_never_appear_in_reprs_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STAMPBOT_BOT_TOKEN", "123:very-secret")
    monkeypatch.setenv("STAMPBOT_WEBHOOK_SECRET", "hook-secret")
    monkeypatch.setenv("STAMPBOT_SMTP_PASSWORD", "smtp-secret")

    settings = Settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", settings)

    for text in (repr(settings), str(settings), caplog.text, settings.model_dump_json()):
        assert "very-secret" not in text
        assert "hook-secret" not in text
        assert "smtp-secret" not in text


@pytest.mark.usefixtures("db")
async def test_tokens_in_sql_parameters_never_reach_the_debug_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    caplog.set_level(logging.DEBUG, logger="aiosqlite")
    shop = await factories.merchant()
    member = await factories.member(shop)
    wallet_pass = await ensure_wallet_pass(member.id)
    assert await Card.get(join_token=shop.card.join_token)
    assert await Membership.get(public_token=member.public_token)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "INSERT" in logged  # queries are logged, tokens are not
    assert "SELECT" in logged
    secrets = {
        "join token": shop.card.join_token,
        "invite token": shop.owner_invite.token,
        "public token": member.public_token,
        "pass authentication token": wallet_pass.authentication_token,
    }
    assert [name for name, secret in secrets.items() if secret in logged] == []


@pytest.mark.usefixtures("fresh_state")
async def test_the_access_log_names_routes_never_link_tokens(
    runtime: BotRuntime, webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    shop = await factories.merchant()
    member = await factories.member(shop)
    signer = runtime.signer
    card = card_page_url(signer, member.id, member.public_token)
    links = [
        card,
        card + "/pass.pkpass",
        card + "/",  # mangled: no route takes it
        signer.url(Purpose.OPEN, 1),
        signer.url(Purpose.CLICK, 1) + "?u=https://kafe.example/",
        signer.url(Purpose.UNSUBSCRIBE, 1),
        signer.url(Purpose.VERIFY_EMAIL, member.customer_id, "a@example.com"),
    ]

    async with aiohttp.ClientSession() as http:
        for link in links:
            async with http.get(link, allow_redirects=False) as response:
                await response.read()

    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == len(links)
    tokens = {link.split("/")[5 if "/e/" in link else 4].split("?")[0] for link in links}
    tags = {tag for token in tokens for tag in token.removesuffix(".gif").split(".")[1:]}
    assert len(tags) >= 5  # the card page's, and one for each message link
    assert [tag for tag in tags for line in lines if tag in line] == []
    assert '"GET /c/{token} HTTP' not in lines[0]  # the method, the route, no version
    assert '"GET /c/{token}"' in lines[0]
    assert '"GET /c/{token}/pass.pkpass"' in lines[1]
    assert '"GET /e/c/{token}"' in lines[4]


async def test_a_request_the_parser_refuses_is_400_without_an_error_or_its_bytes_logged(
    webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    token = "q83vASNFZ4mrze8BI0VniQ"
    garbage = [
        f"GET /c/x HTTP/1.1\r\nHost: x\r\nBroken header {token}\r\n\r\n".encode(),
        f"GET /c/{token}\x01 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
    ]

    statuses = [(await raw_exchange(webhook_url, [request]))[0] for request in garbage]

    assert statuses == [400, 400, 400]
    assert error_lines(caplog) == []
    assert not [r for r in caplog.records if token in r.getMessage() or r.exc_info]
