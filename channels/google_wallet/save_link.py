"""The "Save to Google Wallet" link: ``https://pay.google.com/gp/v/save/<signed JWT>``.

The JWT (RS256, signed with the service account's key) names the passes to save: either only
their ids, for classes and objects already inserted through the API (a short link), or whole
objects, which Google creates when the person saves them. ``origins`` lists the web origins
allowed to show the button (needed for the JavaScript button, harmless for a plain link).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from channels.google_wallet.auth import ServiceAccount

__all__ = ["SAVE_URL_PREFIX", "save_claims", "save_url"]

SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"


def save_claims(
    account: ServiceAccount,
    *,
    loyalty_objects: Sequence[Mapping[str, Any]],
    loyalty_classes: Sequence[Mapping[str, Any]] = (),
    origins: Sequence[str] = (),
    now: float | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"loyaltyObjects": [dict(o) for o in loyalty_objects]}
    if loyalty_classes:
        payload["loyaltyClasses"] = [dict(c) for c in loyalty_classes]
    return {
        "iss": account.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time() if now is None else now),
        "origins": list(origins),
        "payload": payload,
    }


def save_url(
    account: ServiceAccount,
    *,
    loyalty_objects: Sequence[Mapping[str, Any]],
    loyalty_classes: Sequence[Mapping[str, Any]] = (),
    origins: Sequence[str] = (),
    now: float | None = None,
) -> str:
    claims = save_claims(
        account,
        loyalty_objects=loyalty_objects,
        loyalty_classes=loyalty_classes,
        origins=origins,
        now=now,
    )
    return SAVE_URL_PREFIX + account.sign(claims)
