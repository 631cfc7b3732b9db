"""Every HTTP route, fuzzed: whatever arrives, no 5xx, no ERROR in the log, no row changed.

Inputs are near misses of real tokens (a character changed, dropped or added, other spellings
of the same bytes), numbers at and beyond the id columns, hostile headers and bodies, and plain
noise. The one exactly valid token is left out, so any change to the database is a defect.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import BotRuntime
from loyalty.links import Purpose
from models import Delivery, Membership, Merchant, WalletPass
from models.enums import Channel
from tests import factories
from tests.campaigns.helpers import ScriptedChannel, audience, started, worker
from tests.chat import WEBHOOK_SECRET
from tests.web_probe import database_snapshot, error_lines, other_spellings
from wallets.apple_registry import ensure_wallet_pass, register_device
from wallets.card_link import card_page_token

pytestmark = pytest.mark.usefixtures("fresh_state")

LINK = "https://kafe.example/menu"
DEVICE = "6b1c2a7e9f0d4c3b8a5e6f7d8c9b0a1e"
_B64 = string.ascii_letters + string.digits + "-_"


def _fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


_numbers = st.sampled_from(
    ["0", "-1", str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), "9" * 20, "1e9", ""]
)
_header_text = st.text(alphabet=string.printable.strip() + " ", max_size=60)


@dataclass(frozen=True, slots=True)
class Scene:
    """One member with a pass and one email delivery: the real tokens the fuzz starts from."""

    card_token: str
    delivery_id: int
    serial: str
    auth: str


_scenes: dict[int, Scene] = {}


async def _scene(runtime: BotRuntime) -> Scene:
    """Made by the first example of a test, reused by the rest (the database stays)."""
    shop = await Merchant.filter(name="Fuzz café").first()
    if shop is not None and shop.id in _scenes:
        return _scenes[shop.id]
    made = await factories.merchant("Fuzz café")
    await audience(made, 1)
    campaign = await started(made, Channel.EMAIL, text=f'New <a href="{LINK}">menu</a>')
    await worker(ScriptedChannel("email")).tick()
    delivery = await Delivery.get(campaign_id=campaign.id)
    membership = await Membership.get(customer_id=delivery.customer_id)
    wallet_pass = await ensure_wallet_pass(membership.id)
    await register_device(wallet_pass, DEVICE, "a" * 64)  # so update tags reach the query
    scene = Scene(
        card_token=card_page_token(runtime.signer, membership.id, membership.public_token),
        delivery_id=delivery.id,
        serial=wallet_pass.serial_number,
        auth=wallet_pass.authentication_token,
    )
    _scenes[made.merchant.id] = scene
    return scene


def near_misses(token: str) -> st.SearchStrategy[str]:
    """Strings close to ``token`` but never equal to it, and some far from it."""
    positions = st.integers(0, len(token) - 1)
    characters = st.sampled_from(_B64 + ".=+/!~%")
    out_of_range = [
        f"{ident}.{tag}"
        for ident in ("__________8", "AAAAAIAAAAA", "AAAAAAAAAAA", "f_________8")
        for tag in (token.partition(".")[2] or "A" * 22, "A" * 22)
    ]
    candidates = st.one_of(
        st.builds(lambda i, c: token[:i] + c + token[i + 1 :], positions, characters),
        st.builds(lambda i: token[:i] + token[i + 1 :], positions),
        st.builds(lambda i, c: token[:i] + c + token[i:], positions, characters),
        st.builds(lambda cut: token[:cut], positions),
        st.sampled_from(other_spellings(token) + out_of_range),
        st.text(alphabet=_B64 + ".", max_size=80),
        st.text(max_size=40),
    )
    return candidates.filter(lambda candidate: candidate != token)


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


async def _fetch(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> int:
    async with http.request(
        method, url, headers=headers, data=data, allow_redirects=False
    ) as response:
        await response.read()
        return response.status


async def _check(
    requests: Sequence[tuple[str, str, dict[str, str] | None, bytes | None]],
    caplog: pytest.LogCaptureFixture,
    allowed: frozenset[int] = frozenset(range(400, 500)),
) -> None:
    """Send ``requests``; every answer is in ``allowed``, no ERROR is logged, no row changes."""
    before = await database_snapshot()
    caplog.clear()
    async with aiohttp.ClientSession() as http:
        statuses = [
            (method, url, await _fetch(http, method, url, headers=headers, data=_expand(data)))
            for method, url, headers, data in requests
        ]
    assert [s for s in statuses if s[2] not in allowed] == []
    assert error_lines(caplog) == []
    assert await database_snapshot() == before


@_fuzz(100)
@given(
    data=st.data(),
    accept_language=_header_text,
    lang=st.text(max_size=12),
    method=st.sampled_from(["GET", "HEAD"]),
)
async def test_fuzzed_card_page_requests(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    accept_language: str,
    lang: str,
    method: str,
) -> None:
    scene = await _scene(runtime)
    token = data.draw(near_misses(scene.card_token), label="token")
    url = f"{runtime.signer.base_url}{_path('c', token)}?lang={quote(lang)}"
    await _check([(method, url, {"Accept-Language": accept_language}, None)], caplog)


@_fuzz(80)
@given(data=st.data(), suffix=st.sampled_from(["/pass.pkpass", "/pass.pkpass/", "/pass"]))
async def test_fuzzed_pass_downloads(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    suffix: str,
) -> None:
    scene = await _scene(runtime)
    token = data.draw(near_misses(scene.card_token), label="token")
    url = f"{runtime.signer.base_url}{_path('c', token)}{suffix}"
    await _check([("GET", url, None, None)], caplog)


_EMAIL_ROUTES = {
    Purpose.OPEN: ("GET", "/e/o/{token}.gif"),
    Purpose.CLICK: ("GET", "/e/c/{token}?u={target}"),
    Purpose.UNSUBSCRIBE: ("POST", "/e/u/{token}"),
    Purpose.VERIFY_EMAIL: ("GET", "/e/v/{token}"),
}


@_fuzz(120)
@given(
    data=st.data(),
    purpose=st.sampled_from(list(_EMAIL_ROUTES)),
    target=st.sampled_from([LINK, "javascript:alert(1)", "https://evil.example/"])
    | st.text(max_size=40),
    get_instead=st.booleans(),
)
async def test_fuzzed_email_links(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    purpose: Purpose,
    target: str,
    get_instead: bool,
) -> None:
    scene = await _scene(runtime)
    valid = runtime.signer.token(purpose, scene.delivery_id)
    # Also a genuine token of another purpose: it must not work here either.
    other = runtime.signer.token(Purpose.CARD_PAGE, scene.delivery_id)
    token = data.draw(near_misses(valid) | st.just(other), label="token")
    method, template = _EMAIL_ROUTES[purpose]
    if get_instead:
        method = "GET"
    path = template.format(token=quote(token, safe=""), target=quote(target, safe=""))
    await _check([(method, runtime.signer.base_url + path, None, None)], caplog)


# Stands for JSON nested 100,000 deep, expanded only when sent (its repr would fill a report).
_DEEP = b"<100,000 x [>"


def _expand(body: bytes | None) -> bytes | None:
    return b"[" * 100_000 if body == _DEEP else body


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(alphabet=_B64, max_size=80), st.text()
)
_json = st.recursive(
    _json_leaf,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)
_bodies = st.one_of(
    st.builds(lambda v: json.dumps(v).encode(), _json),
    st.builds(lambda v: json.dumps({"pushToken": v}).encode(), _json),
    st.builds(lambda v: json.dumps({"logs": v}).encode(), _json),
    st.sampled_from([_DEEP, b'{"a":' * 5000, b"\xff\xfe", b""]),
    st.binary(max_size=200),
)


@_fuzz(150)
@given(
    data=st.data(),
    route=st.sampled_from(["register", "unregister", "serials", "latest", "log"]),
    device=st.just(DEVICE) | st.text(max_size=140),
    serial_is_real=st.booleans(),
    pass_type=st.just("ours") | st.text(max_size=30),
    authorization=st.none() | _header_text | st.builds(lambda t: "ApplePass " + t, _header_text),
    body=_bodies,
    since=_numbers | st.text(alphabet=string.digits, max_size=21) | st.text(max_size=25),
)
async def test_fuzzed_passkit_requests(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    route: str,
    device: str,
    serial_is_real: bool,
    pass_type: str,
    authorization: str | None,
    body: bytes,
    since: str,
) -> None:
    scene = await _scene(runtime)
    passes = runtime.wallets.passes
    assert passes is not None
    real_type = passes.pass_type_identifier
    pass_type = real_type if pass_type == "ours" else pass_type
    serial = scene.serial if serial_is_real else data.draw(near_misses(scene.serial))
    headers = {} if authorization is None else {"Authorization": authorization}
    base = f"{runtime.signer.base_url}/passkit/v1"
    registration = base + _path("devices", device, "registrations", pass_type, serial)
    method, url, content = {
        "register": ("POST", registration, body),
        "unregister": ("DELETE", registration, None),
        "serials": (
            "GET",
            f"{base}{_path('devices', device, 'registrations', pass_type)}?"
            f"passesUpdatedSince={quote(since)}",
            None,
        ),
        "latest": ("GET", base + _path("passes", pass_type, serial), None),
        "log": ("POST", f"{base}/log", body),
    }[route]
    if route == "latest" and data.draw(st.booleans(), label="real authorization"):
        headers = {"Authorization": f"ApplePass {scene.auth}"}  # read-only: may be a 200
    ok = frozenset({200, 204, 304}) if route in {"serials", "latest", "log"} else frozenset()
    await _check([(method, url, headers, content)], caplog, ok | frozenset(range(400, 500)))
    assert await WalletPass.filter(serial_number=scene.serial).count() == 1


@_fuzz(100)
@given(
    secret=st.sampled_from([WEBHOOK_SECRET]) | _header_text,
    body=_bodies | st.builds(lambda v: json.dumps({"update_id": 1, "message": v}).encode(), _json),
)
async def test_fuzzed_webhook_bodies_and_secrets(
    runtime: BotRuntime,
    webhook_url: str,
    caplog: pytest.LogCaptureFixture,
    secret: str,
    body: bytes,
) -> None:
    allowed = frozenset(range(400, 500)) | {200}
    headers: dict[str, Any] = {"X-Telegram-Bot-Api-Secret-Token": secret}
    await _check([("POST", webhook_url, headers, body)], caplog, allowed)
