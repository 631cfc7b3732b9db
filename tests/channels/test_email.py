"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1) and in mailbox mode."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosmtplib
import dkim
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from channels.base import (
    CardStatus,
    DeliveryResult,
    OutboundMessage,
    Outcome,
    Reason,
    VoucherLine,
)
from channels.dkim import DkimSigner, new_private_key
from channels.email import EmailChannel, EmailSettings, result_for_error
from channels.email_render import EmailRenderer, telegram_html_to_email, telegram_html_to_text
from fakes.loopback import free_port
from fakes.smtp import FakeSMTP, SmtpHandler
from tests.contrast import AA_NORMAL_TEXT, contrast_ratio

BASE = "https://stamp.example"
# Shaped like campaigns.links tokens: long enough that a folded header would break them.
TOKEN = "AAAAAAAAAAo.q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5"
LINKS = {
    "web": f"{BASE}/c/kafe-mia",
    "unsubscribe": f"{BASE}/e/u/{TOKEN}",
    "open": f"{BASE}/e/o/{TOKEN}.gif",
    "click": f"{BASE}/e/c/{TOKEN}",
}
BODY = (
    "<b>Autumn is here</b>, friends!\n\n"
    'Our <a href="https://kafe.example/menu?season=autumn&lang=en">new menu</a> is out.\n'
    "Pumpkin latte <i>all week</i>.\n\n"
    "<tg-spoiler>Free cookie</tg-spoiler> with every latte."
)


def outbound(**changes: Any) -> OutboundMessage:
    message = OutboundMessage(
        delivery_id=42,
        channel="email",
        address="dana@example.org",
        language="en",
        right_to_left=False,
        merchant_name="Kafe Mia",
        subject="Autumn menu",
        push_text="Pumpkin latte week",
        html=BODY,
        links=dict(LINKS),
    )
    return replace(message, **changes)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


# -- the SMTP server ------------------------------------------------------------------------

USER, PASSWORD = "kafe", "s3cret-Pa55word"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    """The SMTP fake, and the channel settings that point at it."""

    fake: FakeSMTP

    @property
    def handler(self) -> SmtpHandler:
        return self.fake.handler

    @property
    def port(self) -> int:
        return self.fake.port

    def settings(self, **changes: Any) -> EmailSettings:
        settings = EmailSettings(
            host=self.fake.host,
            port=self.fake.port,
            starttls=False,
            from_address="hello@stamp.example",
            timeout=5.0,
        )
        return replace(settings, **changes)


def _serve(handler: SmtpHandler, **smtp: Any) -> Iterator[Server]:
    with FakeSMTP(handler, **smtp) as fake:
        yield Server(fake)


@pytest.fixture
def smtp() -> Iterator[Server]:
    yield from _serve(SmtpHandler())


@pytest.fixture
def auth_smtp() -> Iterator[Server]:
    # AUTH offered without TLS (a test server only); the MAIL hook insists on it.
    yield from _serve(
        SmtpHandler(require_auth=True), authenticator=_authenticate, auth_require_tls=False
    )


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> EmailRenderer:
    return EmailRenderer(tmp_path_factory.mktemp("catalogs"))


@pytest.fixture
def channel(smtp: Server, renderer: EmailRenderer, tmp_path: Path) -> EmailChannel:
    return EmailChannel(smtp.settings(), mailbox_dir=tmp_path / "mail", renderer=renderer)


# -- a campaign message over SMTP -----------------------------------------------------------


async def test_a_campaign_message_arrives_with_its_headers_and_both_parts(
    channel: EmailChannel, smtp: Server, tmp_path: Path
) -> None:
    result = await channel.send(outbound())

    assert result.outcome is Outcome.DELIVERED
    [received] = smtp.handler.received
    assert received.mail_from == "hello@stamp.example"
    assert received.rcpt_tos == ["dana@example.org"]
    mail = received.message
    assert mail["Message-ID"] == result.external_id
    assert ".d42@stamp.example>" in str(mail["Message-ID"])
    assert mail["Subject"] == "Autumn menu"
    assert mail["To"] == "dana@example.org"
    assert mail["From"].addresses[0].display_name == "Kafe Mia via stampbot"
    assert mail["From"].addresses[0].addr_spec == "hello@stamp.example"
    assert mail["Date"] is not None
    assert mail.get_content_type() == "multipart/alternative"
    # RFC 8058, and the URL kept whole on one line (no folding, no encoded words).
    assert f"List-Unsubscribe: <{LINKS['unsubscribe']}>\r\n".encode() in received.raw
    assert mail["List-Unsubscribe"] == f"<{LINKS['unsubscribe']}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Nothing goes into the mailbox folder when SMTP is configured.
    assert not (tmp_path / "mail").exists()


async def test_the_html_part_is_the_escaped_body_with_tracking_and_footer(
    channel: EmailChannel, smtp: Server
) -> None:
    await channel.send(outbound())

    html = html_of(smtp.handler.received[0].message)
    assert '<html lang="en" dir="ltr">' in html
    assert "<strong>Autumn is here</strong>, friends!" in html
    assert "<em>all week</em>" in html
    assert "<br>Pumpkin latte" in html
    assert html.count('<p style="margin:0 0 16px;">') == 3
    assert "<span>Free cookie</span>" in html
    assert "tg-spoiler" not in html
    target = quote("https://kafe.example/menu?season=autumn&lang=en", safe="")
    assert f'href="{LINKS["click"]}?u={target}"' in html
    assert 'href="https://kafe.example/menu' not in html
    assert f'<img src="{LINKS["open"]}" width="1" height="1" alt=""' in html
    assert f'href="{LINKS["web"]}"' in html
    assert "View in your browser" in html
    assert f'href="{LINKS["unsubscribe"]}"' in html
    assert "Unsubscribe" in html
    assert "You receive this because you joined Kafe Mia&#39;s card." in html
    assert "Pumpkin latte week" in html  # the inbox preview line


async def test_the_text_part_is_readable_with_links_and_the_unsubscribe_url_last(
    channel: EmailChannel, smtp: Server
) -> None:
    await channel.send(outbound())

    text = text_of(smtp.handler.received[0].message)
    assert "<" not in text.replace(f"<{LINKS['unsubscribe']}>", "")
    assert "Autumn is here, friends!" in text
    assert "Our new menu (https://kafe.example/menu?season=autumn&lang=en) is out." in text
    assert "Free cookie with every latte." in text
    assert f"View in your browser: {LINKS['web']}" in text
    assert text.rstrip().endswith(f"Unsubscribe: {LINKS['unsubscribe']}")


async def test_every_delivery_gets_its_own_message_id(channel: EmailChannel, smtp: Server) -> None:
    first = await channel.send(outbound())
    second = await channel.send(outbound())
    third = await channel.send(outbound(delivery_id=43))

    ids = [str(r.message["Message-ID"]) for r in smtp.handler.received]
    assert ids == [first.external_id, second.external_id, third.external_id]
    assert len(set(ids)) == 3
    assert ".d43@" in ids[2]


async def test_hebrew_is_right_to_left_and_translated(channel: EmailChannel, smtp: Server) -> None:
    message = outbound(
        language="he",
        right_to_left=True,
        merchant_name="קפה מיה",
        subject="תפריט סתיו",
        html="<b>הסתיו כאן</b>\nלאטה דלעת כל השבוע.",
    )
    await channel.send(message)

    mail = smtp.handler.received[0].message
    assert mail["Subject"] == "תפריט סתיו"
    assert mail["From"].addresses[0].display_name == "קפה מיה via stampbot"
    html = html_of(mail)
    assert '<html lang="he" dir="rtl">' in html
    assert "text-align:right" in html
    assert "צפייה בדפדפן" in html  # View in your browser
    assert "הסרה מרשימת התפוצה" in html  # Unsubscribe
    assert "קיבלת את ההודעה הזו כי הצטרפת לכרטיס של קפה מיה." in html
    assert "<strong>הסתיו כאן</strong><br>לאטה דלעת כל השבוע." in html
    text = text_of(mail)
    assert "הסרה מרשימת התפוצה: " + LINKS["unsubscribe"] in text
    assert "View in your browser" not in text


async def test_hostile_input_is_escaped_or_removed(channel: EmailChannel, smtp: Server) -> None:
    message = outbound(
        merchant_name='<b>"Evil"</b> & Co',
        subject="Hi\r\nBcc: victim@example.org",
        html=(
            '<script>alert("x")</script>Hello <a href="javascript:alert(1)">there</a>'
            ' <a href=" jav&#x61;script:alert(2)">again</a> <img src=x onerror="alert(3)">'
            '<a href="https://ok.example/" onclick="alert(4)" style="x">ok</a>'
            '<iframe src="https://evil.example/"></iframe><style>body{}</style>'
            '<b title="x" onmouseover="alert(5)">bold</b> 1 &lt; 2 <unknown>tag</unknown>'
        ),
    )
    result = await channel.send(message)

    assert result.outcome is Outcome.DELIVERED
    [received] = smtp.handler.received
    assert received.rcpt_tos == ["dana@example.org"]
    mail = received.message
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Hi Bcc: victim@example.org"
    assert mail["From"].addresses[0].display_name == '<b>"Evil"</b> & Co via stampbot'
    html = html_of(mail)
    hostile = ["<script", "alert", "javascript", "onerror", "onclick", "onmouseover", "<iframe"]
    hostile += ["evil.example", "body{}", "<unknown", "<b>&#34;", 'title="x"']
    assert [h for h in hostile if h in html] == []
    assert "&lt;b&gt;&#34;Evil&#34;&lt;/b&gt; &amp; Co" in html
    assert "Hello there again" in html
    assert f'href="{LINKS["click"]}?u={quote("https://ok.example/", safe="")}"' in html
    assert "<strong>bold</strong> 1 &lt; 2 tag" in html
    text = text_of(mail)
    assert "alert" not in text
    assert "Hello there again" in text
    assert "ok (https://ok.example/)" in text
    assert '<b>"Evil"</b> & Co' in text  # plain text needs no escaping


async def test_a_photo_travels_inline_with_the_html(channel: EmailChannel, smtp: Server) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    await channel.send(outbound(photo=photo))

    mail = smtp.handler.received[0].message
    html_part = mail.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    related = next(p for p in mail.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.walk() if p.get_content_type() == "image/png")
    assert isinstance(image, EmailMessage)
    assert image.get_content() == photo
    cid = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in str(html_part.get_content())


async def test_no_unsubscribe_header_without_an_unsubscribe_link(
    channel: EmailChannel, smtp: Server
) -> None:
    await channel.send(outbound(links={"web": LINKS["web"]}))

    mail = smtp.handler.received[0].message
    assert mail["List-Unsubscribe"] is None
    assert mail["List-Unsubscribe-Post"] is None
    html = html_of(mail)
    assert "/e/o/" not in html
    assert "/e/c/" not in html
    assert 'href="https://kafe.example/menu?season=autumn&amp;lang=en"' in html


# -- SMTP replies → outcomes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "reply", "reason"),
    [
        ("full", "452 4.2.2 Mailbox full", Reason.MAILBOX_UNAVAILABLE),
        ("busy", "450 4.2.1 Mailbox busy, try later", Reason.MAILBOX_UNAVAILABLE),
        ("grey", "451 4.7.1 Greylisted, come back later", Reason.SERVER_ERROR),
    ],
)
async def test_a_temporary_refusal_of_the_recipient_is_retried(
    channel: EmailChannel, smtp: Server, local: str, reply: str, reason: Reason
) -> None:
    smtp.handler.rcpt_replies[local] = reply

    result = await channel.send(outbound(address=f"{local}@example.org"))

    assert result.outcome is Outcome.RETRY
    assert result.reason is reason
    assert reply.split(" ", 1)[1] in result.detail
    assert smtp.handler.received == []


@pytest.mark.parametrize(
    ("local", "reply", "unreachable"),
    [
        ("nobody", "550 5.1.1 <nobody@example.org>: user unknown", True),
        ("moved", "551 5.1.6 User not local", True),
        ("bad", "553 5.1.3 Mailbox name not allowed", True),
        ("policy", "554 5.7.1 Relay access denied", False),
    ],
)
async def test_a_permanent_refusal_of_the_recipient_fails(
    channel: EmailChannel, smtp: Server, local: str, reply: str, unreachable: bool
) -> None:
    smtp.handler.rcpt_replies[local] = reply

    result = await channel.send(outbound(address=f"{local}@example.org"))

    assert result.outcome is Outcome.FAILED
    assert result.reason is Reason.ADDRESS_REJECTED
    assert result.unreachable is unreachable
    assert result.detail == reply


async def test_a_temporary_data_failure_is_retried_and_the_retry_arrives(
    channel: EmailChannel, smtp: Server
) -> None:
    smtp.handler.data_replies.append("451 4.3.0 Local error in processing")

    first = await channel.send(outbound())
    second = await channel.send(outbound())

    assert first.outcome is Outcome.RETRY
    assert first.reason is Reason.SERVER_ERROR
    assert "Local error in processing" in first.detail
    assert second.outcome is Outcome.DELIVERED
    assert len(smtp.handler.received) == 1


async def test_content_rejected_at_data_fails_without_giving_up_the_address(
    channel: EmailChannel, smtp: Server
) -> None:
    smtp.handler.data_replies.append("554 5.7.1 Message looks like spam")

    result = await channel.send(outbound())

    assert result == DeliveryResult.failed(
        Reason.ADDRESS_REJECTED, detail="554 5.7.1 Message looks like spam"
    )


async def test_a_server_that_is_down_means_retry_later(
    renderer: EmailRenderer, tmp_path: Path
) -> None:
    settings = EmailSettings(host="127.0.0.1", port=free_port(), starttls=False, timeout=2.0)
    channel = EmailChannel(settings, mailbox_dir=tmp_path / "mail", renderer=renderer)

    result = await channel.send(outbound())

    assert result.outcome is Outcome.RETRY
    assert result.reason is Reason.NETWORK_ERROR
    assert not (tmp_path / "mail").exists()


async def test_a_server_that_never_answers_times_out_into_a_retry(
    renderer: EmailRenderer,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and hangs up
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = EmailSettings(host="127.0.0.1", port=port, starttls=False, timeout=0.3)
    try:
        result = await EmailChannel(settings, renderer=renderer).send(outbound())
    finally:
        server.close()
        await server.wait_closed()

    assert result.outcome is Outcome.RETRY
    assert result.reason is Reason.NETWORK_ERROR


async def test_an_invalid_address_fails_before_any_connection(
    channel: EmailChannel, smtp: Server
) -> None:
    result = await channel.send(outbound(address="not an address"))

    assert result.outcome is Outcome.FAILED
    assert result.reason is Reason.ADDRESS_REJECTED
    assert result.unreachable
    assert smtp.handler.received == []


@pytest.mark.parametrize(
    ("error", "outcome", "reason"),
    [
        (aiosmtplib.SMTPServerDisconnected("gone"), Outcome.RETRY, Reason.NETWORK_ERROR),
        (aiosmtplib.SMTPReadTimeoutError("slow"), Outcome.RETRY, Reason.NETWORK_ERROR),
        (ConnectionResetError(), Outcome.RETRY, Reason.NETWORK_ERROR),
        (aiosmtplib.SMTPDataError(421, "closing"), Outcome.RETRY, Reason.SERVER_ERROR),
        (aiosmtplib.SMTPSenderRefused(553, "no", "x@y"), Outcome.RETRY, Reason.SERVER_ERROR),
        (aiosmtplib.SMTPAuthenticationError(535, "bad"), Outcome.RETRY, Reason.SERVER_ERROR),
        (aiosmtplib.SMTPNotSupported("STARTTLS"), Outcome.RETRY, Reason.SERVER_ERROR),
        (aiosmtplib.SMTPDataError(552, "too big"), Outcome.FAILED, Reason.ADDRESS_REJECTED),
    ],
)
def test_errors_map_onto_outcomes(error: Exception, outcome: Outcome, reason: Reason) -> None:
    result = result_for_error(error)

    assert (result.outcome, result.reason, result.unreachable) == (outcome, reason, False)


def test_an_enhanced_status_saying_the_mailbox_is_gone_makes_it_unreachable() -> None:
    result = result_for_error(aiosmtplib.SMTPDataError(554, "5.1.1 No such user here"))

    assert result.outcome is Outcome.FAILED
    assert result.unreachable


# -- authentication ------------------------------------------------------------------------


async def test_login_with_username_and_password(
    auth_smtp: Server, renderer: EmailRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = auth_smtp.settings(username=USER, password=SecretStr(PASSWORD))
    channel = EmailChannel(settings, renderer=renderer)

    result = await channel.send(outbound())

    assert result.outcome is Outcome.DELIVERED
    assert len(auth_smtp.handler.received) == 1
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in caplog.text


async def test_a_wrong_password_or_none_waits_for_the_setup_to_be_fixed(
    auth_smtp: Server, renderer: EmailRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = auth_smtp.settings(username=USER, password=SecretStr("not-" + PASSWORD))
    anonymous = auth_smtp.settings()

    refused = await EmailChannel(wrong, renderer=renderer).send(outbound())
    unauthenticated = await EmailChannel(anonymous, renderer=renderer).send(outbound())

    assert (refused.outcome, refused.reason) == (Outcome.RETRY, Reason.SERVER_ERROR)
    assert refused.detail.startswith("535")
    assert (unauthenticated.outcome, unauthenticated.reason) == (
        Outcome.RETRY,
        Reason.SERVER_ERROR,
    )
    assert unauthenticated.detail.startswith("530")
    assert auth_smtp.handler.received == []
    assert "not-" + PASSWORD not in caplog.text
    assert "delivered" not in caplog.text or "retry" in caplog.text


# -- mailbox mode --------------------------------------------------------------------------


async def test_without_smtp_settings_the_message_is_written_to_the_mailbox(
    renderer: EmailRenderer, tmp_path: Path
) -> None:
    mailbox = tmp_path / "var" / "mail"
    channel = EmailChannel(None, mailbox_dir=mailbox, renderer=renderer)

    result = await channel.send(outbound())

    assert result.outcome is Outcome.DELIVERED
    files = await asyncio.to_thread(lambda: [p for p in tmp_path.rglob("*") if p.is_file()])
    assert files == [mailbox / "42.eml"]
    mail = parse(files[0].read_bytes())
    assert mail["Message-ID"] == result.external_id
    assert mail["To"] == "dana@example.org"
    assert mail["List-Unsubscribe"] == f"<{LINKS['unsubscribe']}>"
    assert "<strong>Autumn is here</strong>" in html_of(mail)
    assert "Autumn is here, friends!" in text_of(mail)


async def test_mailbox_files_are_readable_by_their_owner_only(
    renderer: EmailRenderer, tmp_path: Path
) -> None:
    """A written message holds an address and signed links: 0600, in a 0700 folder."""
    mailbox = tmp_path / "var" / "mail"
    channel = EmailChannel(None, mailbox_dir=mailbox, renderer=renderer)
    previous = os.umask(0o022)  # the usual umask, which would make both world-readable
    try:
        await channel.send(outbound())
    finally:
        os.umask(previous)

    assert stat.S_IMODE((mailbox / "42.eml").stat().st_mode) == 0o600
    assert stat.S_IMODE(mailbox.stat().st_mode) == 0o700


async def test_the_mailbox_needs_a_folder_when_there_is_no_smtp(
    renderer: EmailRenderer,
) -> None:
    with pytest.raises(ValueError, match="mailbox"):
        EmailChannel(None, renderer=renderer)


def test_settings_refuse_both_tls_modes() -> None:
    with pytest.raises(ValueError, match="not both"):
        EmailSettings(host="smtp.example", starttls=True, use_tls=True)


# -- verification mail ---------------------------------------------------------------------


VERIFY_LINK = f"{BASE}/e/v/{TOKEN}?email=dana%40example.org"


async def test_the_verification_mail_is_localized_and_carries_the_link(
    channel: EmailChannel, smtp: Server
) -> None:
    campaign = await channel.send(outbound())
    result = await channel.send_verification(
        "dana@example.org", "uk", VERIFY_LINK, merchant_name="Кафе Міа"
    )

    assert result.outcome is Outcome.DELIVERED
    mail = smtp.handler.received[1].message
    assert mail["Message-ID"] == result.external_id != campaign.external_id
    assert mail["Subject"] == "Підтвердь свою адресу ел. пошти"
    assert mail["From"].addresses[0].display_name == "Кафе Міа via stampbot"
    assert mail["List-Unsubscribe"] is None
    assert mail["Auto-Submitted"] == "auto-generated"
    html = html_of(mail)
    link = VERIFY_LINK.replace("&", "&amp;")
    assert html.count(f'href="{link}"') == 2  # the button and the copyable link
    assert '<html lang="uk" dir="ltr">' in html
    assert "Кафе Міа може надсилати тобі повідомлення на цю адресу." in html
    text = text_of(mail)
    assert f"Підтвердити адресу: {VERIFY_LINK}" in text


async def test_the_verification_mail_in_mailbox_mode(
    renderer: EmailRenderer, tmp_path: Path
) -> None:
    channel = EmailChannel(None, mailbox_dir=tmp_path, renderer=renderer)

    first = await channel.send_verification("dana@example.org", "fa", VERIFY_LINK)
    second = await channel.send_verification("dana@example.org", "fa", VERIFY_LINK)

    files = sorted(await asyncio.to_thread(lambda: list(tmp_path.iterdir())))
    assert len(files) == 2
    assert all(p.name.startswith("verify-") for p in files)
    mails = [parse(p.read_bytes()) for p in files]
    assert {str(m["Message-ID"]) for m in mails} == {first.external_id, second.external_id}
    html = html_of(mails[0])
    assert '<html lang="fa" dir="rtl">' in html
    assert "نشانی ایمیل خود را تأیید کنید" in html
    assert "stampbot" in html


def test_verification_without_a_shop_and_in_each_language(renderer: EmailRenderer) -> None:
    subjects = {}
    for language in ("en", "uk", "he", "fa", "th"):
        subject, text, html = renderer.verification(language, None, VERIFY_LINK)
        subjects[language] = subject
        assert VERIFY_LINK in text
        assert f'lang="{language}"' in html
    assert subjects["en"] == "Confirm your email address"
    assert subjects["th"] == "ยืนยันที่อยู่อีเมลของคุณ"
    assert len(set(subjects.values())) == 5
    with pytest.raises(ValueError, match="http"):
        renderer.verification("en", None, "javascript:alert(1)")


# -- Telegram HTML → email ------------------------------------------------------------------


def test_newlines_become_paragraphs_and_line_breaks() -> None:
    html = telegram_html_to_email(
        "\n\nOne\ntwo\n\n\n<b>three\n\nfour</b>\n", click=None, right_to_left=False
    )

    p = '<p style="margin:0 0 16px;">'
    assert str(html) == (
        f"{p}One<br>two</p>{p}<strong>three</strong></p>{p}<strong>four</strong></p>"
    )


def test_blocks_keep_their_shape() -> None:
    html = str(
        telegram_html_to_email(
            "Intro <b>x<blockquote>quoted\nline</blockquote>y</b>\n"
            '<pre><code class="language-py">a = 1\n\nb = "<2>"</code></pre>',
            click=None,
            right_to_left=True,
        )
    )

    assert (
        '<blockquote style="margin:0 0 16px;padding:4px 12px;color:#374151;border-right:3px'
        in html
    )
    assert "quoted<br>line</blockquote>" in html
    assert '<code>a = 1\n\nb = "&lt;2&gt;"</code></pre>' in html
    assert '<p style="margin:0 0 16px;"><strong>y</strong></p>' in html
    assert html.count("<p ") == html.count("</p>")
    assert html.count("<strong>") == html.count("</strong>")


def test_links_are_rewritten_only_for_the_web() -> None:
    source = (
        '<a href="https://a.example/x?y=1#z">web</a> '
        '<a href="mailto:hi@kafe.example">mail</a> '
        '<a href="tg://resolve?domain=kafe">tg</a> '
        '<a href="/relative">rel</a> '
        '<a href="data:text/html,hi">data</a>'
    )

    click = "https://t.example/c?k=1"
    html = str(telegram_html_to_email(source, click=click, right_to_left=False))
    text = telegram_html_to_text(source)

    target = quote("https://a.example/x?y=1#z", safe="")
    assert f'href="{click.replace("&", "&amp;")}&amp;u={target}"' in html
    assert 'href="mailto:hi@kafe.example"' in html
    assert [bad for bad in ("tg://", "relative", "data:") if bad in html] == []
    assert text == "web (https://a.example/x?y=1#z) mail (hi@kafe.example) tg rel data"


# -- sender, DKIM and unsubscribe headers -------------------------------------------------

DKIM_DOMAIN, DKIM_SELECTOR = "stamp.example", "mail2026"


@pytest.fixture(scope="module")
def dkim_signer() -> DkimSigner:
    return DkimSigner(DKIM_DOMAIN, DKIM_SELECTOR, SecretStr(new_private_key().decode()))


def _dns(signer: DkimSigner) -> Any:
    """A stub resolver answering only our selector's TXT record, as dkimpy asks for it."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if name == f"{signer.record_name}.".encode():
            return signer.dns_record().encode()
        return None

    return lookup


def _signed_headers(raw: bytes) -> list[str]:
    mail = parse(raw)
    tags = dict(
        part.strip().split("=", 1)
        for part in str(mail["DKIM-Signature"]).split(";")
        if "=" in part
    )
    return [name.strip().lower() for name in re.sub(r"\s", "", tags["h"]).split(":")]


async def test_dkim_signs_the_from_domain_and_both_unsubscribe_headers(
    smtp: Server, renderer: EmailRenderer, dkim_signer: DkimSigner
) -> None:
    channel = EmailChannel(smtp.settings(), renderer=renderer, dkim=dkim_signer)

    await channel.send(outbound())

    raw = smtp.handler.received[0].raw
    assert raw.startswith(b"DKIM-Signature: ")
    assert dkim.verify(raw, dnsfunc=_dns(dkim_signer))
    signed = _signed_headers(raw)
    for header in ("from", "to", "subject", "date", "message-id", "mime-version",
                   "content-type", "list-unsubscribe", "list-unsubscribe-post"):  # fmt: skip
        assert header in signed
    assert "d=stamp.example" in str(parse(raw)["DKIM-Signature"])
    assert parse(raw)["From"].addresses[0].domain == DKIM_DOMAIN  # aligned
    # A relay that re-aims the unsubscribe link or edits the subject breaks the signature.
    for old, new in (
        (LINKS["unsubscribe"].encode(), b"https://evil.example/u"),
        (b"Subject: Autumn menu", b"Subject: Autumn MENU"),
        (b"Pumpkin latte", b"Pumpkin latte!"),
    ):
        assert old in raw
        assert not dkim.verify(raw.replace(old, new, 1), dnsfunc=_dns(dkim_signer))


async def test_the_mailbox_holds_what_smtp_sends(
    smtp: Server, renderer: EmailRenderer, dkim_signer: DkimSigner, tmp_path: Path
) -> None:
    sender, reply_to = "hello@stamp.example", "shop@stamp.example"
    over_smtp = EmailChannel(
        smtp.settings(), renderer=renderer, dkim=dkim_signer, from_address=sender,
        reply_to=reply_to,
    )  # fmt: skip
    mailbox = EmailChannel(
        None, mailbox_dir=tmp_path, renderer=renderer, dkim=dkim_signer, from_address=sender,
        reply_to=reply_to,
    )  # fmt: skip

    await over_smtp.send(outbound())
    await mailbox.send(outbound())

    sent = smtp.handler.received[0].raw
    written = (tmp_path / "42.eml").read_bytes()
    assert dkim.verify(written, dnsfunc=_dns(dkim_signer))
    assert parse(written)["From"] == parse(sent)["From"]
    assert parse(written)["From"].addresses[0].addr_spec == "hello@stamp.example"
    varying = {"date", "message-id", "dkim-signature", "content-type"}  # + MIME boundary

    def headers(raw: bytes) -> list[tuple[str, str]]:
        mail = parse(raw)
        return [(k, v) for k, v in mail.items() if k.lower() not in varying] + [
            ("type", mail.get_content_type())
        ]

    assert headers(written) == headers(sent)
    assert _signed_headers(written) == _signed_headers(sent)


async def test_mailbox_mode_uses_the_configured_sender_not_localhost(
    renderer: EmailRenderer, tmp_path: Path
) -> None:
    from bot.config import Settings
    from bot.delivery import build_email_channel

    settings = Settings(
        var_dir=tmp_path, email={"from_address": "news@kafe.example"}, smtp={"host": None}
    )
    channel = build_email_channel(settings)
    assert channel.mailbox_dir == tmp_path / "mail"

    await channel.send(outbound())

    mail = parse((tmp_path / "mail" / "42.eml").read_bytes())
    assert mail["From"].addresses[0].addr_spec == "news@kafe.example"
    assert "@kafe.example>" in str(mail["Message-ID"])


async def test_one_click_only_over_https_and_a_mailto_with_a_reply_address(
    smtp: Server, renderer: EmailRenderer
) -> None:
    plain = EmailChannel(smtp.settings(), renderer=renderer)
    replying = EmailChannel(smtp.settings(), renderer=renderer, reply_to="shop@stamp.example")
    http_link = "http://127.0.0.1:8080/e/u/" + TOKEN

    await plain.send(outbound(links={**LINKS, "unsubscribe": http_link}))
    await replying.send(outbound())

    over_http, with_mailto = (received.message for received in smtp.handler.received)
    assert over_http["List-Unsubscribe"] == f"<{http_link}>"
    assert over_http["List-Unsubscribe-Post"] is None
    assert over_http["Reply-To"] is None
    assert with_mailto["List-Unsubscribe"] == (
        f"<{LINKS['unsubscribe']}>, <mailto:shop@stamp.example?subject=unsubscribe>"
    )
    assert with_mailto["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert with_mailto["Reply-To"] == "shop@stamp.example"


async def test_the_open_pixel_can_be_switched_off(smtp: Server, renderer: EmailRenderer) -> None:
    channel = EmailChannel(smtp.settings(), renderer=renderer, open_tracking=False)

    await channel.send(outbound())

    html = html_of(smtp.handler.received[0].message)
    assert LINKS["open"] not in html
    assert 'width="1" height="1"' not in html
    assert f'href="{LINKS["click"]}?u=' in html  # clicks are still counted


async def test_the_preheader_is_visible_text_not_hidden_in_the_background_colour(
    channel: EmailChannel, smtp: Server
) -> None:
    await channel.send(outbound())

    html = html_of(smtp.handler.received[0].message)
    assert "display:none" not in html
    assert "opacity:0" not in html
    assert "<span>Pumpkin latte week</span>" in html


def test_the_dkim_command_prints_the_record_that_verifies_our_mail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    key = tmp_path / "secrets" / "dkim.pem"
    monkeypatch.setenv("STAMPBOT_DKIM_DOMAIN", DKIM_DOMAIN)
    monkeypatch.setenv("STAMPBOT_DKIM_SELECTOR", DKIM_SELECTOR)
    monkeypatch.setenv("STAMPBOT_DKIM_KEY_PATH", str(key))

    assert main(["dkim"]) == 0
    first = capsys.readouterr().out
    assert key.stat().st_mode & 0o777 == 0o600
    assert main(["dkim"]) == 0  # the key is kept, not replaced
    assert capsys.readouterr().out == first

    name, value = first.splitlines()
    assert name == f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}. IN TXT"
    record = "".join(re.findall(r'"([^"]*)"', value))
    assert record.startswith("v=DKIM1; k=rsa; p=")
    signer = DkimSigner.from_file(DKIM_DOMAIN, DKIM_SELECTOR, key)
    raw = signer.sign(b"From: a@stamp.example\r\nSubject: hi\r\n\r\nbody\r\n")
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record.encode())


async def test_footer_and_muted_text_meet_wcag_aa_contrast(
    channel: EmailChannel, smtp: Server
) -> None:
    await channel.send(outbound())

    html = html_of(smtp.handler.received[0].message)
    page = re.search(r"<body[^>]*background-color:(#[0-9a-f]{6})", html)
    assert page is not None
    footer = re.search(r"<td[^>]*color:(#[0-9a-f]{6});[^>]*>\s*<p[^>]*>You receive this", html)
    assert footer is not None
    unsubscribe = re.search(r'style="color:(#[0-9a-f]{6});[^"]*">Unsubscribe<', html)
    assert unsubscribe is not None
    preheader = re.search(r"color:(#[0-9a-f]{6});[^>]*>\s*<span>Pumpkin latte week", html)
    assert preheader is not None
    for colour in (footer, unsubscribe, preheader):
        assert contrast_ratio(colour.group(1), page.group(1)) >= AA_NORMAL_TEXT


def _logo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 48), (10, 120, 90)).save(out, format="PNG")
    return out.getvalue()


async def test_the_loyalty_part_is_right_to_left_in_hebrew_with_the_shops_logo_and_colours(
    channel: EmailChannel, smtp: Server
) -> None:
    card = CardStatus(
        card_name="כרטיס קפה",
        stamps_needed=8,
        balance=8,
        reward_text="קפוצ'ינו חינם",
        timezone="Asia/Jerusalem",
        background="#0B3D2E",
        foreground="#FFFFFF",
        accent="#FFC107",
        logo_png=_logo(),
        vouchers=(VoucherLine("קפוצ'ינו חינם", "K7M2-QX"),),
    )

    await channel.send(outbound(language="he", right_to_left=True, card=card))

    mail = smtp.handler.received[0].message
    html = html_of(mail)
    assert '<html lang="he" dir="rtl">' in html
    assert html.count('dir="rtl"') >= 5
    assert "text-align:right" in html
    assert "8/10" not in html
    assert "8/8 — ההטבה מוכנה: קפוצ&#39;ינו חינם" in html
    assert "background-color:#0B3D2E;color:#FFFFFF" in html
    assert 'color:#FFFFFF;text-decoration:none;border-radius:8px;">הצגת הכרטיס שלי</a>' in html
    assert re.search(r'<span dir="ltr" [^>]*>K7M2-QX</span>', html)
    logo = re.search(r'<img src="cid:([^"]+)" alt="Kafe Mia" width="48"', html)
    assert logo is not None
    images = {
        str(part["Content-ID"]).strip("<>"): part.get_content()
        for part in mail.walk()
        if part.get_content_maintype() == "image"
    }
    assert images[logo.group(1)] == _logo()
    assert len(images) == 1  # no QR code without a voucher link


async def test_colours_that_are_not_hex_never_reach_a_style_attribute(
    channel: EmailChannel, smtp: Server
) -> None:
    card = CardStatus("Coffee", 5, 1, "Cake", background="red;background:url(x)", accent="#12")

    await channel.send(outbound(card=card))

    html = html_of(smtp.handler.received[0].message)
    assert "url(x)" not in html
    assert "background-color:#1F2937" in html


async def test_the_configured_dkim_key_signs_the_mailbox_too(
    tmp_path: Path, dkim_signer: DkimSigner
) -> None:
    from bot.config import Settings
    from bot.delivery import build_email_channel

    key = tmp_path / "dkim.pem"
    key.write_text(dkim_signer.private_key.get_secret_value(), encoding="ascii")
    settings = Settings(
        var_dir=tmp_path,
        email={"from_address": "hello@stamp.example"},
        dkim={"domain": DKIM_DOMAIN, "selector": DKIM_SELECTOR, "key_path": key},
    )

    await build_email_channel(settings).send(outbound())

    raw = (tmp_path / "mail" / "42.eml").read_bytes()
    assert dkim.verify(raw, dnsfunc=_dns(dkim_signer))
    assert "list-unsubscribe" in _signed_headers(raw)
