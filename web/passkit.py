"""Apple's "Wallet Passes Web Service": devices register, ask what changed, fetch passes, log.

Mounted under ``WEB_SERVICE_PREFIX`` (the pass's webServiceURL); Wallet appends ``/v1/...``.
A wrong or missing ``Authorization: ApplePass <token>`` is a 401 and changes nothing; malformed
input is a 400. Tokens never reach the log, and what devices log here reaches ours only as
printable text, a few lines at a time per client.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import regex
from aiohttp import web

from channels.ratelimit import MemoryRateLimiter, Rate
from wallets.apple_passes import MEDIA_TYPE, WalletPasses
from wallets.apple_registry import (
    Registration,
    authorized_pass,
    register_device,
    serials_updated_since,
    unregister_device,
    voided_pass_fetched,
)

if TYPE_CHECKING:
    from models import WalletPass

logger = logging.getLogger(__name__)

PASSES_KEY = web.AppKey("wallet_passes", WalletPasses)
LOG_LIMITER_KEY = web.AppKey("device_log_limiter", MemoryRateLimiter)
LOG_RATE_KEY = web.AppKey("device_log_rate", Rate)
MAX_BODY_BYTES = 64 * 1024
MAX_LOG_LINES = 50
MAX_LOG_LINE = 500
# Wallet posts its log after a failed update, rarely; more from one address is someone filling
# our log. Per process and per remote address (behind a proxy: the proxy's, which only makes
# the limit stricter). A few requests in a burst, then one a minute.
DEVICE_LOG_RATE = Rate(per_second=1 / 60, burst=5)
# The biggest update tag there can be: tags are BIGINT.
MAX_TAG = 2**63 - 1
# Control characters (newlines, escapes, bidi overrides), line and paragraph separators: in a
# log line each of them could forge or hide lines.
_UNPRINTABLE = regex.compile(r"[\p{C}\p{Zl}\p{Zp}]+")

# What Wallet sends: opaque identifiers and hex push tokens. Anything else is refused before
# it reaches the database or the log.
_DEVICE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_PUSH_TOKEN = re.compile(r"[A-Za-z0-9]{1,200}")
_SERIAL = re.compile(r"[A-Za-z0-9._-]{1,64}")
_TAG = re.compile(r"\d{1,19}")

routes = web.RouteTableDef()


def _unauthorized(what: str, request: web.Request) -> web.Response:
    logger.info("PassKit %s refused: not authorized (from %s)", what, request.remote)
    return web.Response(status=401)


def _bad_request(reason: str) -> web.Response:
    logger.info("PassKit request refused: %s", reason)
    return web.Response(status=400)


def _ours(request: web.Request) -> bool:
    passes = request.app[PASSES_KEY]
    return request.match_info["passTypeIdentifier"] == passes.pass_type_identifier


async def _json_body(request: web.Request) -> Any:
    """The whole body as JSON; ValueError for anything else (RecursionError: nested too deep).

    ``request.read()`` waits for the whole body, however many TCP segments it comes in (the web
    app's middleware has read it within its timeout already); ``content.read(n)`` would return
    only what has arrived so far.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ValueError("body too large")
    body = await request.read()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("body too large")
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise ValueError("JSON nested too deep") from exc


def _device(request: web.Request) -> str | None:
    device = request.match_info["deviceLibraryIdentifier"]
    return device if _DEVICE_ID.fullmatch(device) else None


def _serial(request: web.Request) -> str | None:
    serial = request.match_info["serialNumber"]
    return serial if _SERIAL.fullmatch(serial) else None


@routes.post(
    "/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}"
)
async def register(request: web.Request) -> web.Response:
    serial = _serial(request)
    authorization = request.headers.get("Authorization")
    wallet_pass = await authorized_pass(serial, authorization) if serial else None
    if wallet_pass is None or not _ours(request):
        return _unauthorized("registration", request)
    device = _device(request)
    if device is None:
        return _bad_request("malformed device library identifier")
    try:
        payload = await _json_body(request)
    except (ValueError, UnicodeDecodeError):
        return _bad_request("registration body is not JSON")
    push_token = payload.get("pushToken") if isinstance(payload, dict) else None
    if not isinstance(push_token, str) or not _PUSH_TOKEN.fullmatch(push_token):
        return _bad_request("registration without a valid pushToken")
    outcome = await register_device(wallet_pass, device, push_token)
    if outcome is Registration.UNAUTHORIZED:
        return _unauthorized("registration of a retiring pass", request)
    logger.info("PassKit device registered for pass %s (%s)", wallet_pass.id, outcome.value)
    return web.Response(status=201 if outcome is Registration.CREATED else 200)


@routes.delete(
    "/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}"
)
async def unregister(request: web.Request) -> web.Response:
    serial = _serial(request)
    authorization = request.headers.get("Authorization")
    wallet_pass = await authorized_pass(serial, authorization) if serial else None
    if wallet_pass is None or not _ours(request):
        return _unauthorized("unregistration", request)
    device = _device(request)
    if device is None:
        return _bad_request("malformed device library identifier")
    if await unregister_device(wallet_pass, device):
        # Wallet unregisters when the pass is deleted from the device.
        logger.info("PassKit device unregistered from pass %s", wallet_pass.id)
    return web.Response(status=200)


@routes.get("/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}")
async def updated_serials(request: web.Request) -> web.Response:
    device = _device(request)
    if device is None:
        return _bad_request("malformed device library identifier")
    if not _ours(request):
        return web.Response(status=204)
    since_text = request.query.get("passesUpdatedSince", "")
    if since_text and not (_TAG.fullmatch(since_text) and int(since_text) <= MAX_TAG):
        return _bad_request("passesUpdatedSince is not one of our tags")
    since = int(since_text) if since_text else None
    updated = await serials_updated_since(device, since)
    if updated is None:
        return web.Response(status=204)
    # lastUpdated is a string: Wallet ignores a number here.
    return web.json_response(
        {"serialNumbers": updated.serial_numbers, "lastUpdated": updated.last_updated}
    )


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


@routes.get("/v1/passes/{passTypeIdentifier}/{serialNumber}")
async def latest_pass(request: web.Request) -> web.StreamResponse:
    serial = _serial(request)
    authorization = request.headers.get("Authorization")
    wallet_pass = await authorized_pass(serial, authorization) if serial else None
    if wallet_pass is None or not _ours(request):
        return _unauthorized("pass request", request)
    # HTTP dates have whole seconds. Last-Modified is the second this copy was read, which is
    # never later than the state it shows; a change after that, even within the same second,
    # has updated_at ≥ that second and so is never answered with 304.
    served_at = datetime.now(UTC).replace(microsecond=0)
    modified_since = request.if_modified_since
    if modified_since is not None and wallet_pass.updated_at < modified_since:
        # Its copy is newer than the voiding, if the pass is retiring: it has the voided one.
        await _delivered_if_retiring(wallet_pass)
        return web.Response(status=304, headers={"Last-Modified": _http_date(served_at)})
    issued = await request.app[PASSES_KEY].build(wallet_pass)
    await _delivered_if_retiring(wallet_pass)
    return web.Response(
        body=issued.pkpass,
        content_type=MEDIA_TYPE,
        headers={"Last-Modified": _http_date(served_at), "Cache-Control": "no-cache"},
    )


async def _delivered_if_retiring(wallet_pass: WalletPass) -> None:
    """The voided copy reached a device: it may let that device's registration go. The copy
    was built before, with the token it was asked with, so this device holds a valid pass."""
    if await voided_pass_fetched(wallet_pass):
        logger.info("PassKit pass %s retired: its devices have the voided pass", wallet_pass.id)


@routes.post("/v1/log")
async def device_log(request: web.Request) -> web.Response:
    client = request.remote or "-"
    wait = await request.app[LOG_LIMITER_KEY].try_acquire(client, request.app[LOG_RATE_KEY])
    if wait > 0:
        return web.Response(status=429, headers={"Retry-After": str(max(1, round(wait)))})
    try:
        payload = await _json_body(request)
    except (ValueError, UnicodeDecodeError):
        return _bad_request("log body is not JSON")
    logs = payload.get("logs") if isinstance(payload, dict) else None
    if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
        return _bad_request("log body without a list of strings")
    for line in logs[:MAX_LOG_LINES]:
        # Wallet reports problems with our passes here (bad signature, missing header...):
        # worth reading, but anyone can post here, so it is not a warning of ours.
        logger.info("Wallet device log: %s", printable(line[:MAX_LOG_LINE]))
    return web.Response(status=200)


def printable(text: str) -> str:
    """``text`` as one log line: every run of control characters becomes one space."""
    return _UNPRINTABLE.sub(" ", text)


def passkit_app(passes: WalletPasses, *, log_rate: Rate = DEVICE_LOG_RATE) -> web.Application:
    """The web service as a sub-app, to be mounted at ``WEB_SERVICE_PREFIX``."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[PASSES_KEY] = passes
    app[LOG_LIMITER_KEY] = MemoryRateLimiter()
    app[LOG_RATE_KEY] = log_rate
    app.add_routes(routes)
    return app
