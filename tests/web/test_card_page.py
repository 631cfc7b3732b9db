"""The card page over real HTTP: what it shows, to whom, in which language, and what it refuses."""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser

import aiohttp
import pytest
import zxingcpp
from PIL import Image
from pydantic import SecretStr

from bot.app import BotRuntime
from loyalty.customers import erase_customer
from loyalty.links import Purpose
from loyalty.messenger_accounts import CredentialBox, connect_account, disconnect_account
from loyalty.tokens import LinkKind, start_link
from models import Customer, Membership, Merchant
from models.enums import Platform
from tests.contrast import AA_NORMAL_TEXT, contrast_ratio
from tests.web.card_page_scenario import card_on_the_web, send_campaign
from wallets.card_link import card_page_token
from web.card_image import CARD_IMAGE_FILE
from web.card_page import _qr_svg, accept_languages, choose_language, wallet_platform

pytestmark = pytest.mark.usefixtures("fresh_state")


class _VisibleText(HTMLParser):
    """The text a reader gets: no <head>, no tags, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in {"head", "style", "script"}

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in {"head", "style", "script"}

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


async def _get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers=headers, allow_redirects=False) as response,
    ):
        return response.status, dict(response.headers), await response.text()


def _assert_private(headers: dict[str, str], html: str) -> None:
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"].startswith("noindex")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to default-src 'none': no script at all
    nonce = re.search(r"style-src 'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in html


async def test_the_page_shows_the_card_vouchers_and_messages(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)

    status, headers, html = await _get(web.url)

    assert status == 200
    _assert_private(headers, html)
    text = visible_text(html)
    assert "Kafe Lviv" in text
    assert "Coffee card" in text
    assert "7 of 10 stamps — 3 more for Free cappuccino" in text
    assert html.count('class="stamp on"') == 7
    assert html.count('class="stamp"') == 3
    assert f"Code: {web.voucher.code}" in text
    assert "Free croissant — until" in text
    assert html.count('<div class="qr"><svg') == 1
    assert "Our autumn menu is here: pumpkin latte and plum cake." in text
    assert "<strong>autumn menu</strong>" in html
    assert '<html lang="en" dir="ltr">' in html


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE, "apple"),
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Safari/604.1", "apple"),
        (MAC_SAFARI, "apple"),
        (MAC_CHROME, "both"),
        (ANDROID, "google"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", "both"),
        ("", "both"),
    ],
)
def test_the_phone_is_told_from_its_user_agent(user_agent: str, expected: str) -> None:
    assert wallet_platform(user_agent) == expected


async def test_the_wallet_badge_is_localized_and_points_at_the_members_pass(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)

    _, _, iphone = await _get(web.url + "?lang=uk", **{"User-Agent": IPHONE})
    _, _, android = await _get(web.url, **{"User-Agent": ANDROID})

    found = re.search(r'<a class="badge apple" href="([^"]+)">', iphone)
    assert found is not None
    assert found.group(1).startswith(web.url)
    assert found.group(1).endswith("/pass.pkpass")
    assert "Add to Apple Wallet" not in visible_text(iphone)  # in Ukrainian
    # Google Wallet is not configured in these tests: nothing an Android phone could add.
    assert 'class="badge' not in android


async def test_head_answers_without_a_body(runtime: BotRuntime, webhook_url: str) -> None:
    _, web = await card_on_the_web(runtime.signer)

    async with aiohttp.ClientSession() as http:
        async with http.head(web.url) as found:
            assert (found.status, await found.read()) == (200, b"")
            assert found.headers["Cache-Control"] == "private, no-store"
        async with http.head(web.url + "x") as missing:
            assert missing.status == 404


async def test_forged_foreign_and_junk_tokens_get_a_localized_404(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)
    base = runtime.signer.base_url
    ident, id_tag, mac = web.url.rsplit("/", 1)[1].split(".")
    candidates = [
        f"{base}/c/{ident}.{id_tag}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}",  # forged MAC
        f"{base}/c/{runtime.signer.token(Purpose.CLICK, web.membership.id)}",  # other purpose
        f"{base}/c/{'A' * 64}",
        f"{base}/c/%00%ff..",
    ]

    for url in candidates:
        status, headers, html = await _get(url)
        assert status == 404, url
        _assert_private(headers, html)
        assert "This card link is not valid any more." in visible_text(html)
        assert "Coffee card" not in html
        assert web.voucher.code not in html

    status, _, html = await _get(candidates[0], **{"Accept-Language": "he-IL,he;q=0.9"})
    assert status == 404
    assert '<html lang="he" dir="rtl">' in html
    assert "הקישור אינו תקף" in visible_text(html)


async def test_an_erased_customer_has_no_page_any_more(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)

    await erase_customer(await Customer.get(id=web.customer.id))

    status, _, html = await _get(web.url)
    assert status == 404
    assert web.voucher.code not in html
    # Even a token minted for the rotated public token of the now anonymous membership.
    fresh = await Membership.get(id=web.membership.id)
    token = card_page_token(runtime.signer, fresh.id, fresh.public_token)
    assert (await _get(f"{runtime.signer.base_url}/c/{token}"))[0] == 404


async def test_campaign_text_is_shown_but_never_runs(
    runtime: BotRuntime, webhook_url: str
) -> None:
    hostile = (
        'Hi <script>alert("x")</script><b onclick="alert(1)">bold</b> '
        '<a href="javascript:alert(1)">bad link</a> <a href="https://kafe.example/menu">menu</a>'
        ' <img src=x onerror=alert(1)> &lt;i&gt;literal&lt;/i&gt; <span style="color:red">s</span>'
    )
    _, web = await card_on_the_web(runtime.signer, campaign_text=hostile)

    status, headers, html = await _get(web.url)

    assert status == 200
    body = html.split("</head>", 1)[1]
    for forbidden in ("<script", "onclick", "onerror", "javascript:", "<img", "style="):
        assert forbidden not in body, forbidden
    text = visible_text(html)
    assert "Hi bold bad link menu <i>literal</i> s" in text
    assert "&lt;i&gt;literal&lt;/i&gt;" in body
    # The one safe link, through the click counter of the delivery that brought the message.
    counted = f"{runtime.signer.base_url}/e/c/" + r"[\w.-]+\?u=https%3A%2F%2Fkafe.example%2Fmenu"
    assert re.search(f'<a href="{counted}" target="_blank">menu</a>', body), body
    assert "alert" not in text
    _assert_private(headers, html)


async def test_newer_campaigns_come_first(runtime: BotRuntime, webhook_url: str) -> None:
    shop, web = await card_on_the_web(runtime.signer)
    await send_campaign(shop, "Second news: we open at 7 now.")

    _, _, html = await _get(web.url)

    text = visible_text(html)
    assert text.index("Second news") < text.index("autumn menu")


@pytest.mark.parametrize(
    ("query", "chosen", "accept", "default", "expected"),
    [
        ("?lang=he", "uk", "th", "en", "he"),
        ("?lang=xx", "uk", "th", "en", "uk"),
        ("", None, "fr-CH, fr;q=0.9, fa;q=0.8, en;q=0.5", "en", "fa"),
        ("", None, "fr", "th", "th"),
        ("", "uk", "he", "en", "uk"),
    ],
)
async def test_the_page_speaks_the_best_language(
    runtime: BotRuntime,
    webhook_url: str,
    query: str,
    chosen: str | None,
    accept: str,
    default: str,
    expected: str,
) -> None:
    shop, web = await card_on_the_web(runtime.signer)
    await Customer.filter(id=web.customer.id).update(language=chosen)
    await Merchant.filter(id=shop.merchant.id).update(default_language=default)

    status, headers, html = await _get(web.url + query, **{"Accept-Language": accept})

    assert status == 200
    direction = "rtl" if expected in {"he", "fa"} else "ltr"
    assert f'<html lang="{expected}" dir="{direction}">' in html
    assert headers["Content-Language"] == expected
    assert '<bdi class="ltr" dir="ltr">7</bdi>' in html
    assert '<bdi class="ltr" dir="ltr">10</bdi>' in html
    assert f'<bdi class="ltr" dir="ltr">{web.voucher.code}</bdi>' in html


def test_accept_language_is_read_by_quality() -> None:
    assert accept_languages("da, en-GB;q=0.8, en;q=0.7, *;q=0.5, de;q=0") == ["da", "en-GB", "en"]
    assert accept_languages("he;q=0.5, uk;q=oops, fa") == ["fa", "he"]
    assert accept_languages("") == []
    assert (
        choose_language(
            asked=None,
            chosen=None,
            accept_language="x;q=1, iw;q=0.3",
            fallback="en",
            available=("en", "he"),
        )
        == "he"
    )


# A valid HTML "global date and time string": at most three digits of fractions.
_HTML_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})"
)


async def test_message_times_are_valid_html_datetimes(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)

    _, _, html = await _get(web.url)

    values = re.findall(r'<time datetime="([^"]*)"', html)
    assert values
    for value in values:
        assert _HTML_DATETIME.fullmatch(value), value


async def test_muted_text_and_footer_meet_wcag_aa_contrast(
    runtime: BotRuntime, webhook_url: str
) -> None:
    _, web = await card_on_the_web(runtime.signer)

    _, _, html = await _get(web.url)

    variables = dict(re.findall(r"--([a-z]+): (#[0-9a-fA-F]{6})", html))
    assert re.search(r"\.hint, time, footer \{ color: var\(--muted\)", html)
    # The footer sits on the page background, hints and times on the white sections.
    for background in (variables["page"], "#ffffff"):
        assert contrast_ratio(variables["muted"], background) >= AA_NORMAL_TEXT
        assert contrast_ratio(variables["text"], background) >= AA_NORMAL_TEXT


_HUGE_ID = "__________8"  # 0xFFFFFFFFFFFFFFFC: no INTEGER or BIGINT column holds it
_INT32_ID = "AAAAAIAAAAA"  # 2**31: beyond PostgreSQL's INTEGER


@pytest.mark.parametrize("ident", [_HUGE_ID, _INT32_ID])
@pytest.mark.parametrize("suffix", ["", "/pass.pkpass"])
async def test_ids_out_of_range_are_404_on_every_database(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    ident: str,
    suffix: str,
) -> None:
    base = runtime.signer.base_url
    tags = [f"{'A' * 22}", f"{'A' * 22}.{'A' * 22}"]

    statuses = [(await _get(f"{base}/c/{ident}.{tag}{suffix}"))[0] for tag in tags]

    assert statuses == [404, 404]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_a_made_up_tag_costs_no_database_query(
    runtime: BotRuntime, webhook_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer for an id that exists and one that does not takes the same work: none."""
    _, web = await card_on_the_web(runtime.signer)
    ident, *tags = web.url.rsplit("/", 1)[1].split(".")
    forged = ".".join([ident, *("A" * len(tag) for tag in tags)])
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")

    caplog.clear()
    missing = await _get(f"{runtime.signer.base_url}/c/{forged}")
    queries_for_forged = [r for r in caplog.records if r.name == "tortoise.db_client"]
    caplog.clear()
    found = await _get(web.url)
    queries_for_genuine = [r for r in caplog.records if r.name == "tortoise.db_client"]

    assert (missing[0], found[0]) == (404, 200)
    assert queries_for_forged == []
    assert queries_for_genuine != []  # the counting itself works


async def test_the_voucher_qr_opens_the_shops_own_bot_while_connected(
    runtime: BotRuntime, webhook_url: str
) -> None:
    shop, web = await card_on_the_web(runtime.signer)
    token = web.voucher.token
    await connect_account(
        shop.merchant.id,
        Platform.TELEGRAM,
        SecretStr(f"7100000998:{'B' * 35}"),
        external_id="7100000998",
        username="kafe_lviv_bot",
        box=CredentialBox(b"k" * 32),
    )

    _, _, html = await _get(web.url)
    assert str(_qr_svg(start_link("kafe_lviv_bot", LinkKind.VOUCHER, token))) in html
    async with aiohttp.ClientSession() as http, http.get(web.url + CARD_IMAGE_FILE) as picture:
        image = Image.open(io.BytesIO(await picture.read()))
    decoded = [code.text for code in zxingcpp.read_barcodes(image)]
    assert decoded == [f"https://t.me/kafe_lviv_bot?start=m-{web.membership.public_token}"]

    await disconnect_account(shop.merchant.id, Platform.TELEGRAM)
    _, _, html = await _get(web.url)
    assert str(_qr_svg(start_link("stampbot_test_bot", LinkKind.VOUCHER, token))) in html
