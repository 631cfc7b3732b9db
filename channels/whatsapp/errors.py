"""The Graph API's error codes as delivery outcomes.

Meta asks integrators to act on ``code`` (and ``error_data.details``), never on the title,
which it means to drop. The codes we know (Meta's "WhatsApp error codes" page):

- 131047 Re-engagement message: more than 24 hours since the person last wrote; only a
  template may go. Skipped, ``OUTSIDE_WINDOW``, and not unreachable: their next message
  opens the window again.
- 131026 Message undeliverable: not a WhatsApp number, terms not accepted, a client too old.
  Failed, unreachable.
- 131049 Per-user marketing limit ("to maintain healthy ecosystem engagement"): Meta caps the
  marketing templates one person gets; sending again at once only fails again, so the retry
  waits 1 h, then 6 h, then 24 h by attempt (:data:`ECOSYSTEM_RETRY_AFTER`).
- 130429 (throughput), 131056 (pair rate limit: too many messages to one number),
  80007 (the business account's rate limit): retried soon.
- 190 (access token expired or invalid) and 0 (AuthException), 10 and 200 (permission): our
  configuration, which an operator can fix before the attempts run out: retried, logged as an
  error.
- 132000-132015 (template parameters, missing or paused template), 131008/131009/100
  (parameters): this message can never go; failed ``BAD_REQUEST``.
- 131000 something went wrong, 131016 service overloaded, 1 / 2 (API unknown / service),
  and any 5xx: retried.

Anything else with a 4xx is failed ``BAD_REQUEST``.
"""

from __future__ import annotations

import logging

from channels.base import DeliveryResult, Reason

from .api import GraphError

__all__ = ["ECOSYSTEM_RETRY_AFTER", "RE_ENGAGEMENT", "result_for_error"]

logger = logging.getLogger(__name__)

RE_ENGAGEMENT = 131047
UNDELIVERABLE = 131026
ECOSYSTEM_LIMIT = 131049
RATE_LIMITS = frozenset({130429, 131056, 80007})
CONFIGURATION = frozenset({0, 190, 10, 200, 3})
TRANSIENT = frozenset({1, 2, 131000, 131016})
# Seconds to wait after a 131049, by the attempt that met it (1st, 2nd, 3rd and later).
ECOSYSTEM_RETRY_AFTER = (3600.0, 6 * 3600.0, 24 * 3600.0)


def result_for_error(
    error: GraphError, http_status: int, *, attempt: int = 1, rate_limited_after: float = 60.0
) -> DeliveryResult:
    """What one refusal means for one delivery; ``attempt`` counts from 1."""
    detail = error.describe()
    code = error.code
    if code == RE_ENGAGEMENT:
        return DeliveryResult.skipped(Reason.OUTSIDE_WINDOW, detail=detail)
    if code == UNDELIVERABLE:
        return DeliveryResult.failed(Reason.UNREACHABLE, unreachable=True, detail=detail)
    if code == ECOSYSTEM_LIMIT:
        wait = ECOSYSTEM_RETRY_AFTER[min(max(attempt, 1), len(ECOSYSTEM_RETRY_AFTER)) - 1]
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=wait, detail=detail)
    if code in RATE_LIMITS:
        return DeliveryResult.retry(Reason.RATE_LIMITED, after=rate_limited_after, detail=detail)
    if code in CONFIGURATION:
        logger.error("WhatsApp refused our configuration: %s", detail)
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
    if code in TRANSIENT or http_status >= 500:
        return DeliveryResult.retry(Reason.SERVER_ERROR, detail=detail)
    return DeliveryResult.failed(Reason.BAD_REQUEST, detail=detail)
