"""The card page in a real headless Chromium: what a person sees, in English and in Hebrew.

Chromium and its driver come from Debian (``make install`` puts them there). Without them this
fails rather than skips, so a machine that cannot show the page cannot pass the suite.
Screenshots land in ``var/test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import asyncio
import base64
import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from bot.app import BotRuntime
from loyalty.tokens import LinkKind, start_link
from models import Customer
from tests.web.card_page_scenario import card_on_the_web

pytestmark = pytest.mark.usefixtures("fresh_state")

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
PHONE = (412, 915)  # a common Android viewport, CSS pixels
ACCENT = "rgba(245, 158, 11, 1)"  # the shop's default accent, #F59E0B


@dataclass(frozen=True, slots=True)
class Seen:
    text: str
    direction: str
    code_direction: str
    progress_shown: bool
    code_shown: bool
    filled: list[str]
    empty: int
    qr_texts: list[str]
    csp_complaints: list[str]
    seconds: float


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail("chromium and chromium-driver are missing: run `make install`")
    options = Options()
    options.binary_location = binary
    # --no-sandbox: Chromium refuses to sandbox as root, which is how CI runs.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--force-device-scale-factor=1",
                     f"--window-size={PHONE[0]},{PHONE[1]}"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    started = time.perf_counter()
    browser = webdriver.Chrome(options=options, service=Service(driver))
    print(f"\nChromium started in {time.perf_counter() - started:.2f} s")
    try:
        yield browser
    finally:
        browser.quit()


def look(browser: webdriver.Chrome, url: str, screenshot: Path) -> Seen:
    """Open the page as a person would and note what is on the screen (runs in a thread)."""
    started = time.perf_counter()
    browser.set_window_size(*PHONE)
    browser.get(url)
    body = browser.find_element(By.TAG_NAME, "body")
    html = browser.find_element(By.TAG_NAME, "html")
    progress = browser.find_element(By.CSS_SELECTOR, ".progress")
    code = browser.find_element(By.CSS_SELECTOR, ".code bdi")
    qr_texts = []
    for qr in browser.find_elements(By.CSS_SELECTOR, ".qr svg"):
        image = Image.open(io.BytesIO(qr.screenshot_as_png))
        qr_texts += [result.text for result in zxingcpp.read_barcodes(image)]
    seen = Seen(
        text=body.text,
        direction=html.value_of_css_property("direction"),
        code_direction=code.value_of_css_property("direction"),
        progress_shown=progress.is_displayed(),
        code_shown=code.is_displayed(),
        filled=[
            stamp.value_of_css_property("background-color")
            for stamp in browser.find_elements(By.CSS_SELECTOR, ".stamp.on")
            if stamp.is_displayed()
        ],
        empty=len(browser.find_elements(By.CSS_SELECTOR, ".stamp:not(.on)")),
        qr_texts=qr_texts,
        csp_complaints=[
            entry["message"]
            for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ],
        seconds=time.perf_counter() - started,
    )
    # The whole page, not just the first screen.
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            # Captured beyond the viewport there is no scrollbar: the page is the phone's width.
            "clip": {"x": 0, "y": 0, "width": PHONE[0], "height": size["height"], "scale": 1},
        },
    )
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    return seen


@pytest.mark.parametrize(
    ("language", "progress", "heading"),
    [
        ("en", "3 more for Free cappuccino", "My vouchers"),
        ("he", "Free cappuccino", "השוברים שלי"),
    ],
    ids=["en", "he"],
)
async def test_a_person_sees_their_card_in_chromium(
    runtime: BotRuntime,
    webhook_url: str,
    chromium: webdriver.Chrome,
    capsys: pytest.CaptureFixture[str],
    language: str,
    progress: str,
    heading: str,
) -> None:
    _, web = await card_on_the_web(runtime.signer)
    if language != "en":
        await Customer.filter(id=web.customer.id).update(language=language)
    screenshot = ARTIFACTS / f"card_page_{language}.png"

    seen = await asyncio.to_thread(look, chromium, web.url, screenshot)

    with capsys.disabled():
        print(f"\n{language}: page read in {seen.seconds:.2f} s; screenshot {screenshot}")
    assert seen.direction == ("rtl" if language == "he" else "ltr")
    assert seen.code_direction == "ltr"
    assert seen.progress_shown
    assert seen.code_shown
    for visible in ("Kafe Lviv", "Coffee card", "7", "10", progress, heading, web.voucher.code,
                    "pumpkin latte and plum cake", "Free croissant"):  # fmt: skip
        assert visible in seen.text, visible
    assert seen.filled == [ACCENT] * 7
    assert seen.empty == 3
    voucher_link = start_link(
        runtime.settings.telegram.username, LinkKind.VOUCHER, web.voucher.token
    )
    assert seen.qr_texts == [voucher_link]
    assert seen.csp_complaints == []
    assert screenshot.stat().st_size > 10_000


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def badges_seen(browser: webdriver.Chrome, url: str, user_agent: str) -> list[tuple[str, int]]:
    """The wallet badges shown to this phone: (label, height in CSS pixels)."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": user_agent})
    try:
        browser.get(url)
        return [
            (badge.text, badge.size["height"])
            for badge in browser.find_elements(By.CSS_SELECTOR, ".badge")
            if badge.is_displayed()
        ]
    finally:
        browser.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": ""})


@pytest.mark.parametrize(
    ("user_agent", "language", "expected"),
    [
        (IPHONE, "en", ["Add to Apple Wallet"]),
        (ANDROID, "en", ["Save to Google Wallet"]),
        (ANDROID, "he", ["שמירה ב-Google Wallet"]),
    ],
    ids=["iphone", "android", "android-he"],
)
@pytest.mark.usefixtures("google_wallet")
async def test_each_phone_sees_its_own_wallet_badge_in_chromium(
    runtime: BotRuntime,
    webhook_url: str,
    chromium: webdriver.Chrome,
    user_agent: str,
    language: str,
    expected: list[str],
) -> None:
    _, web = await card_on_the_web(runtime.signer)
    if language != "en":
        await Customer.filter(id=web.customer.id).update(language=language)

    seen = await asyncio.to_thread(badges_seen, chromium, web.url, user_agent)

    assert [label for label, _ in seen] == expected
    assert all(height >= 44 for _, height in seen)  # a thumb-sized target
