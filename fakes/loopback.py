"""Serving a fake on loopback: an aiohttp app on 127.0.0.1, and a free port for a process.

Every HTTP fake starts and stops its app the same way and reports where it listens; the demo,
the benchmarks and the tests that start a server process of their own need a port nobody
holds.
"""

from __future__ import annotations

import socket

from aiohttp import web

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server started elsewhere."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class LoopbackSite:
    """One aiohttp app served on 127.0.0.1, with no access log (fakes are chatty enough)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, app: web.Application, *, port: int = 0, shutdown: float) -> None:
        """Listen on ``port`` (any free one by default); ``shutdown`` bounds the wait for
        requests still open when the site stops."""
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError(f"{self._name} is not started")
        return f"http://{HOST}:{self.port}"
