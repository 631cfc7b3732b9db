"""The Graph API's error codes as delivery outcomes, for a refused send and a failed receipt.

Meta asks integrators to act on ``code`` (and ``error_data.details``), never on the title,
which it means to drop. An error comes either as the answer to the send call or later, in a
``failed`` status webhook for a message the call took (Meta: "synchronous and
asynchronous"); both go through :func:`result_for_code`, so the engine treats a code the same
whichever way it came. The codes we know (Meta's "WhatsApp error codes" page):

- 131047 Re-engagement message: more than 24 hours since the person last wrote; only a
  template may go. Skipped, ``OUTSIDE_WINDOW``, and not unreachable: their next message
  opens the window again.
- 131026 Message undeliverable: not a WhatsApp number, terms not accepted, a client too old.
  Failed, unreachable.
- 131050 The person stopped marketing messages from this business (in WhatsApp itself):
  failed ``OPTED_OUT``; still reachable for what is not marketing.
- 131049 Per-user marketing limit ("to maintain healthy ecosystem engagement"): Meta caps the
  marketing templates one person gets; sending again at once only fails again, so the retry
  waits 1 h, then 6 h, then 24 h by attempt (:data:`ECOSYSTEM_RETRY_AFTER`).
- 130429 (throughput), 131056 (pair rate limit: too many messages to one number), 131048
  (spam rate limit: too many of our messages were blocked or reported), 80007 (the business
  account's rate limit): retried, rate limited.
- 190 (access token expired or invalid) and 0 (AuthException), 3, 10 and 200 (permission),
  131005 (access denied), 133010 (our business number is not registered), 131042 (the
  account's payment method): our configuration, which an operator can fix before the attempts
  run out: retried, logged as an error.
- 131031 (the business account is locked) and 368 (blocked for policy violations): no message
  of the account goes; failed ``ACCOUNT_BLOCKED``, logged as an error.
- 100, 131008, 131009 (parameters), 131051 (unsupported message type), 132000-132999 (the
  template: parameters, missing, paused, disabled): this message can never go; failed
  ``BAD_REQUEST``.
- 131000 something went wrong, 131016 service overloaded, 1 / 2 (API unknown / service),
  and any 5xx: retried.

Anything else is failed ``BAD_REQUEST`` (a refusal with a 4xx, or a failed receipt).
"""

from __future__ import annotations

import logging

from channels.base import DeliveryResult, Reason

from .api import GraphError

__all__ = ["ECOSYSTEM_RETRY_AFTER", "RE_ENGAGEMENT", "result_for_code", "result_for_error"]

logger = logging.getLogger(__name__)

RE_ENGAGEMENT = 131047
UNDELIVERABLE = 131026
MARKETING_OPTED_OUT = 131050
ECOSYSTEM_LIMIT = 131049
RATE_LIMITS = frozenset({130429, 131056, 131048, 80007})
CONFIGURATION = frozenset({0, 190, 10, 200, 3, 131005, 133010, 131042})
ACCOUNT_BLOCKED = frozenset({131031, 368})
BAD_REQUESTS = frozenset({100, 131008, 131009, 131051})
TEMPLATE_ERRORS = range(132000, 133000)
# "Template name does not exist in the translation": not approved for this number's account.
TEMPLATE_UNKNOWN = 132001
TRANSIENT = frozenset({1, 2, 131000, 131016})
# Seconds to wait after a 131049, by the attempt that met it (1st, 2nd, 3rd and later).
ECOSYSTEM_RETRY_AFTER = (3600.0, 6 * 3600.0, 24 * 3600.0)


def result_for_error(
    error: GraphError, http_status: int, *, attempt: int = 1, rate_limited_after: float = 60.0
) -> DeliveryResult:
    """What one refusal of a send call means for one delivery; ``attempt`` counts from 1."""
    return result_for_code(
        error.code,
        error.describe(),
        http_status=http_status,
        attempt=attempt,
        rate_limited_after=rate_limited_after,
    )


def result_for_code(
    code: int,
    detail: str,
    *,
    http_status: int | None = None,
    attempt: int = 1,
    rate_limited_after: float = 60.0,
) -> DeliveryResult:
    """What Meta's error ``code`` means for one delivery: a refused send (with its
    ``http_status``) or a failed status webhook (none: the call had been answered 200)."""
    if code == RE_ENGAGEMENT:
        return DeliveryResult.skipped(Reason.OUTSIDE_WINDOW, detail=detail)
    if code == UNDELIVERABLE:
        return DeliveryResult.failed(Reason.UNREACHABLE, unreachable=True, detail=detail)
    if code == MARKETING_OPTED_OUT:
        return DeliveryResult.failed(Reason.OPTED_OUT, detail=detail)
    if code == ECOSYSTEM_LIMIT:
        wait = ECOSYSTEM_RETRY_AFTER[min(max(attempt, 1), len(ECOSYSTEM_RETRY_AFTER)) - 1]
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=wait, detail=detail)
    if code in RATE_LIMITS:
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=rate_limited_after, detail=detail)
    if code in CONFIGURATION:
        logger.error("WhatsApp refused our configuration: %s", detail)
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
    if code in ACCOUNT_BLOCKED:
        logger.error("WhatsApp blocked the business account: %s", detail)
        return DeliveryResult.failed(Reason.ACCOUNT_BLOCKED, detail=detail)
    if code in BAD_REQUESTS or code in TEMPLATE_ERRORS:
        return DeliveryResult.failed(Reason.BAD_REQUEST, detail=detail)
    if code in TRANSIENT or (http_status or 0) >= 500:
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
    return DeliveryResult.failed(Reason.BAD_REQUEST, detail=detail)
