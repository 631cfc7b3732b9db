"""How updates reach the bot: long polling (getUpdates) and the webhook's registration.

The two exclude each other as on Telegram: polling while a webhook is set is refused, and a
newer poll or a new webhook ends a poll still waiting, with the conflict Telegram reports.
Posting an update *to* the webhook is server plumbing (:mod:`.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Final

from .calls import Described, Params, Uploads, bot_method
from .errors import (
    TERMINATED_BY_OTHER_POLL,
    TERMINATED_BY_WEBHOOK,
    WEBHOOK_ACTIVE,
    ApiError,
    bad_request,
)
from .state import TelegramState, WebhookState

# The update types Telegram leaves out unless they are asked for by name.
OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateMethods(TelegramState):
    """getUpdates and the webhook methods, over the state's update queue."""

    @bot_method("getUpdates")
    async def _get_updates(self, params: Params, files: Uploads) -> Any:
        if self.webhook.url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit", 100), 1), 100)
        timeout = max(params.integer("timeout"), 0)
        allowed = params.raw.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer poll ends the one still waiting, exactly like two bot instances polling.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            wakeup = self._wakeup
            updates = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self._closing.is_set():
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(409, TERMINATED_BY_OTHER_POLL)
            if self.webhook.url:
                raise ApiError(409, TERMINATED_BY_WEBHOOK)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        def wanted(update: dict[str, Any]) -> bool:
            kinds = update.keys() - {"update_id"}
            if self._allowed_updates:
                return bool(kinds & set(self._allowed_updates))
            return not kinds & OPT_IN_UPDATES

        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates[:limit]

    @bot_method("setWebhook")
    async def _set_webhook(self, params: Params, files: Uploads) -> Any:
        url = (params.text("url") or "").strip()
        if not url:
            return await self._delete_webhook(params, files)
        scheme, _, rest = url.partition("://")
        allowed_schemes = ("https",) if self.require_https_webhook else ("http", "https")
        if scheme.lower() not in allowed_schemes or not rest.split("/", 1)[0]:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None:
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in secret):
                raise bad_request("secret token contains unallowed characters")
        allowed = params.raw.get("allowed_updates")
        state = WebhookState(
            url=url,
            secret_token=secret or None,
            allowed_updates=[str(k) for k in allowed] if isinstance(allowed, list) else None,
            max_connections=min(max(params.integer("max_connections", 40), 1), 100),
        )
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        if state.allowed_updates is not None:
            self._allowed_updates = state.allowed_updates
        unchanged = (self.webhook.url, self.webhook.secret_token) == (url, state.secret_token)
        self.webhook = state
        self._wake_pollers()
        return Described(True, "Webhook is already set" if unchanged else "Webhook was set")

    @bot_method("deleteWebhook")
    async def _delete_webhook(self, params: Params, files: Uploads) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        had_webhook = bool(self.webhook.url)
        self.webhook = WebhookState()
        outcome = "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        return Described(True, outcome)

    @bot_method("getWebhookInfo")
    async def _get_webhook_info(self, params: Params, files: Uploads) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info
