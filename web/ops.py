"""What an operator's probes and Prometheus read: ``/healthz``, ``/readyz`` and ``/metrics``.

``/healthz`` answers as long as the process serves requests (a liveness probe restarts it
otherwise). ``/readyz`` runs the checks the composition root hands in — the database answers,
Redis answers, every migration is applied — each within ``CHECK_TIMEOUT``, and says 503 with
the names of the failing ones, so a load balancer sends no traffic to a replica that would only
fail. Failures are named, never described: error texts can carry hosts and credentials.
``/metrics`` is the process's Prometheus registry, with the shared queue gauges read first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
# A check raises (or returns False) when its part is not ready.
Check = Callable[[], Awaitable[bool]]

WEBHOOK_SECONDS = Histogram(
    "stampbot_webhook_seconds",
    "Time to handle one Telegram webhook update, from the request to the answer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _passes(name: str, check: Check) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return bool(await check())
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return False


def setup_ops_routes(
    app: web.Application,
    *,
    checks: Mapping[str, Check] | None = None,
    refresh: Callable[[], Awaitable[None]] | None = None,
) -> None:
    async def ready(request: web.Request) -> web.Response:
        names = list(checks or {})
        results = await asyncio.gather(*(_passes(n, (checks or {})[n]) for n in names))
        report = {n: "ok" if ok else "failing" for n, ok in zip(names, results, strict=True)}
        return web.json_response(report, status=200 if all(results) else 503)

    async def metrics(request: web.Request) -> web.Response:
        if refresh is not None:
            try:
                await refresh()
            except Exception as exc:  # the counters still say something
                logger.warning("metrics refresh failed: %s", type(exc).__name__)
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", _health)
    app.router.add_get("/readyz", ready)
    app.router.add_get("/metrics", metrics)


def metrics_app(refresh: Callable[[], Awaitable[None]] | None = None) -> web.Application:
    """A worker's own small web app: ``/healthz`` and ``/metrics`` (a worker has no other)."""
    app = web.Application()
    setup_ops_routes(app, refresh=refresh)
    return app
