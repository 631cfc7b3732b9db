"""Links inside messages, followed by a real HTTP client against the running web app."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.app import BotRuntime
from channels.email_render import EmailRenderer
from loyalty.clock import utcnow
from loyalty.links import Purpose, confirm_email_url
from loyalty.profile import set_email
from models import ChannelOptOut, Customer, Delivery
from models.enums import Channel
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from tests.channels.test_email import Server, renderer, smtp

__all__ = ["renderer", "smtp"]  # the real SMTP server and renderer of the email channel tests
from tests.web_probe import database_snapshot, error_lines

pytestmark = pytest.mark.usefixtures("fresh_state")

LINK = "https://kafe.example/menu"


async def _delivered(
    runtime: BotRuntime, text: str = f'New <a href="{LINK}">menu</a>'
) -> Delivery:
    shop = await factories.merchant()
    await audience(shop, 1)
    campaign = await started(shop, Channel.EMAIL, text=text)
    await worker(ScriptedChannel("email")).tick()
    return await Delivery.get(campaign_id=campaign.id)


async def test_the_open_pixel_counts_the_first_open(runtime: BotRuntime, webhook_url: str) -> None:
    delivery = await _delivered(runtime)
    url = runtime.signer.url(Purpose.OPEN, delivery.id)

    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert (response.status, response.content_type) == (200, "image/gif")
        first = (await Delivery.get(id=delivery.id)).opened_at
        async with http.get(url) as response:
            assert response.status == 200

    assert first is not None
    assert (await Delivery.get(id=delivery.id)).opened_at == first


async def test_a_click_redirects_only_to_links_of_the_campaign(
    runtime: BotRuntime, webhook_url: str
) -> None:
    delivery = await _delivered(runtime)
    base = runtime.signer.url(Purpose.CLICK, delivery.id)

    async with aiohttp.ClientSession() as http:
        async with http.get(
            base, params={"u": "https://evil.example/"}, allow_redirects=False
        ) as r:
            assert r.status == 404
        assert (await Delivery.get(id=delivery.id)).clicked_at is None
        async with http.get(base, params={"u": LINK}, allow_redirects=False) as r:
            assert (r.status, r.headers["Location"]) == (302, LINK)

    stored = await Delivery.get(id=delivery.id)
    assert stored.clicked_at is not None
    assert stored.opened_at is not None


@pytest.mark.parametrize("purpose", [Purpose.OPEN, Purpose.CLICK, Purpose.UNSUBSCRIBE])
async def test_forged_or_cross_purpose_tokens_are_404(
    runtime: BotRuntime, webhook_url: str, purpose: Purpose
) -> None:
    delivery = await _delivered(runtime)
    wrong_purpose = Purpose.VERIFY_EMAIL
    token = runtime.signer.token(wrong_purpose, delivery.id)
    path = {"o": f"/e/o/{token}.gif", "c": f"/e/c/{token}?u={LINK}", "u": f"/e/u/{token}"}
    genuine = runtime.signer.token(purpose, delivery.id)
    # Two characters of the tag changed: never by chance the genuine tag (1 in 4,096 otherwise).
    forged = genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BA")

    async with aiohttp.ClientSession() as http:
        for candidate in (path[purpose.value], path[purpose.value].replace(token, forged)):
            async with http.get(runtime.signer.base_url + candidate, allow_redirects=False) as r:
                assert r.status == 404

    stored = await Delivery.get(id=delivery.id)
    assert (stored.opened_at, stored.clicked_at) == (None, None)
    assert not await ChannelOptOut.all().exists()


async def test_one_click_unsubscribe_really_unsubscribes(
    runtime: BotRuntime, webhook_url: str
) -> None:
    delivery = await _delivered(runtime)
    url = runtime.signer.url(Purpose.UNSUBSCRIBE, delivery.id)

    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            html = await page.text()
            assert "Yes, unsubscribe" in html
        assert not await ChannelOptOut.all().exists()
        # What Gmail and others send for RFC 8058: a POST with this body, no cookies.
        async with http.post(url, data={"List-Unsubscribe": "One-Click"}) as done:
            assert done.status == 200
            assert "You will get no more emails from Kafe Lviv." in await done.text()

    assert await ChannelOptOut.filter(
        customer_id=delivery.customer_id, channel=Channel.EMAIL
    ).exists()


async def test_the_confirmation_link_verifies_only_the_current_address(
    runtime: BotRuntime, webhook_url: str
) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1, email_verified=False))[0]
    url = confirm_email_url(
        runtime.signer, person.id, "p0@example.com", expires_at=utcnow() + timedelta(days=7)
    )

    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            assert page.status == 200
            assert "Your email address is confirmed." in await page.text()
        assert (await Customer.get(id=person.id)).email_verified is True

        await set_email(await Customer.get(id=person.id), "new@example.com")
        async with http.get(url) as stale:
            assert stale.status == 404
    assert (await Customer.get(id=person.id)).email_verified is False


async def test_a_confirmation_link_stops_working_when_it_expires_or_is_re_dated(
    runtime: BotRuntime, webhook_url: str
) -> None:
    shop = await factories.merchant()
    person = (await audience(shop, 1, email_verified=False))[0]
    expired = confirm_email_url(
        runtime.signer, person.id, "p0@example.com", expires_at=utcnow() - timedelta(seconds=1)
    )
    fresh = confirm_email_url(
        runtime.signer, person.id, "p0@example.com", expires_at=utcnow() + timedelta(days=7)
    )
    later = str(int((utcnow() + timedelta(days=365)).timestamp()))
    token = fresh.split("/e/v/")[1].split("?")[0]
    candidates = [
        expired,
        fresh.split("?")[0],  # no expiry at all
        f"{runtime.signer.base_url}/e/v/{token}?until={later}",  # expiry pushed back
        f"{runtime.signer.base_url}/e/v/{token}?until=soon",
    ]

    async with aiohttp.ClientSession() as http:
        for url in candidates:
            async with http.get(url) as page:
                assert page.status == 404, url
                assert "This confirmation link is not valid any more." in await page.text()
        assert (await Customer.get(id=person.id)).email_verified is False
        async with http.get(fresh) as page:
            assert page.status == 200
    assert (await Customer.get(id=person.id)).email_verified is True


async def test_unsubscribing_from_one_shop_stops_only_that_shops_email(
    runtime: BotRuntime, webhook_url: str, smtp: Server, renderer: EmailRenderer, tmp_path: Path
) -> None:
    """The page says "no more emails from <shop>"; the bakery next door may still write."""
    from campaigns.composer import Composer
    from campaigns.worker import DeliveryWorker
    from channels.email import EmailChannel
    from locales import RIGHT_TO_LEFT, SUPPORTED
    from loyalty.memberships import join

    cafe, bakery = await factories.merchant("Kafe Lviv"), await factories.merchant("Bakery")
    [person] = await audience(cafe, 1)
    await join(person, bakery.card)
    email = EmailChannel(smtp.settings(), mailbox_dir=tmp_path / "mail", renderer=renderer)
    composer = Composer(runtime.signer, supported=SUPPORTED, right_to_left=RIGHT_TO_LEFT)
    delivery = DeliveryWorker({"email": email}, composer, lease=timedelta(seconds=60))
    await started(cafe, Channel.EMAIL, text="First week")
    await delivery.tick()
    [first] = smtp.handler.received
    unsubscribe = str(first.message["List-Unsubscribe"]).strip("<>")

    async with (
        aiohttp.ClientSession() as http,
        http.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}) as done,
    ):
        assert done.status == 200
    await started(cafe, Channel.EMAIL, text="Second week at the cafe")
    await started(bakery, Channel.EMAIL, text="Fresh bread")
    await delivery.tick()

    later = smtp.handler.received[1:]
    assert [m.message["From"].addresses[0].display_name for m in later] == ["Bakery via stampbot"]
    assert [m.rcpt_tos for m in later] == [[person.email]]


def _assert_private_page(response: aiohttp.ClientResponse, html: str, form_action: str) -> None:
    """The card page's headers: nothing cached, no referrer, no script, only our own style."""
    headers = response.headers
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"].startswith("noindex")
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert f"form-action {form_action}" in policy
    nonce = re.search(r"style-src 'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in html


async def test_unsubscribe_and_confirmation_pages_are_private(
    runtime: BotRuntime, webhook_url: str
) -> None:
    delivery = await _delivered(runtime)
    unsubscribe = runtime.signer.url(Purpose.UNSUBSCRIBE, delivery.id)
    person = await Customer.get(id=delivery.customer_id)
    await Customer.filter(id=person.id).update(email="p0@example.com", email_verified=False)
    until = utcnow() + timedelta(days=7)
    confirm = confirm_email_url(runtime.signer, person.id, "p0@example.com", expires_at=until)
    stale = confirm_email_url(runtime.signer, person.id, "old@example.com", expires_at=until)

    async with aiohttp.ClientSession() as http:
        async with http.get(unsubscribe) as page:
            _assert_private_page(page, await page.text(), "'self'")
        async with http.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}) as done:
            assert done.status == 200
            _assert_private_page(done, await done.text(), "'none'")
        async with http.get(confirm) as confirmed:
            assert confirmed.status == 200
            _assert_private_page(confirmed, await confirmed.text(), "'none'")
        async with http.get(stale) as refused:
            assert refused.status == 404
            _assert_private_page(refused, await refused.text(), "'none'")


async def test_a_click_follows_only_links_the_sanitized_email_has(
    runtime: BotRuntime, webhook_url: str
) -> None:
    text = (
        '<a href="javascript:alert(1)">js</a> <a href="https://kafe.example/\tmenu">menu</a> '
        '<code>https://code.example/</code> <!-- <a href="https://hidden.example/">x</a> -->'
        ' <a href="data:text/html,hi">data</a>'
    )
    delivery = await _delivered(runtime, text)
    base = runtime.signer.url(Purpose.CLICK, delivery.id)
    refused = [
        "javascript:alert(1)",
        "https://kafe.example/\tmenu",
        "https://code.example/",
        "https://hidden.example/",
        "data:text/html,hi",
    ]

    async with aiohttp.ClientSession() as http:
        statuses = []
        for target in refused:
            async with http.get(base, params={"u": target}, allow_redirects=False) as r:
                statuses.append(r.status)
        assert statuses == [404] * len(refused)
        assert (await Delivery.get(id=delivery.id)).clicked_at is None
        # The link as the email carries it: the tab a browser would drop is gone.
        async with http.get(
            base, params={"u": "https://kafe.example/menu"}, allow_redirects=False
        ) as r:
            assert (r.status, r.headers["Location"]) == (302, "https://kafe.example/menu")
    assert (await Delivery.get(id=delivery.id)).clicked_at is not None


@pytest.mark.parametrize("ident", ["__________8", "AAAAAIAAAAA", "AAAAAAAAAAA"])
async def test_ids_out_of_range_in_message_links_are_404(
    runtime: BotRuntime, webhook_url: str, caplog: pytest.LogCaptureFixture, ident: str
) -> None:
    """Ids beyond BIGINT, beyond PostgreSQL's INTEGER, and 0: never a database error."""
    await _delivered(runtime)
    before = await database_snapshot()
    token = f"{ident}.{'A' * 22}"
    paths = [f"/e/o/{token}.gif", f"/e/c/{token}?u={LINK}", f"/e/u/{token}", f"/e/v/{token}"]

    async with aiohttp.ClientSession() as http:
        statuses = []
        for path in paths:
            async with http.get(runtime.signer.base_url + path, allow_redirects=False) as r:
                statuses.append(r.status)
        async with http.post(f"{runtime.signer.base_url}/e/u/{token}") as r:
            statuses.append(r.status)

    assert statuses == [404] * 5
    assert error_lines(caplog) == []
    assert await database_snapshot() == before


async def test_an_unsubscribe_link_for_a_delivery_that_is_gone_is_404(
    runtime: BotRuntime, webhook_url: str
) -> None:
    """A genuine link whose delivery was erased offers nothing to unsubscribe from."""
    gone = runtime.signer.url(Purpose.UNSUBSCRIBE, 987_654)

    async with aiohttp.ClientSession() as http:
        async with http.get(gone) as page:
            assert page.status == 404
        async with http.post(gone, data={"List-Unsubscribe": "One-Click"}) as posted:
            assert posted.status == 404
    assert await ChannelOptOut.all().count() == 0
