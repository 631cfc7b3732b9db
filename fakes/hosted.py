"""The lifecycle of a fake API that serves several accounts at one address.

Viber serves every bot and the Graph API every business number at one URL; the fakes do the
same: the shared account's fake listens (``_site``), and a shop's own account is a fake of the
same kind hosted by it (``_host``), answering the calls made with its own credentials. Both
post to webhooks through a client session of their own (``_http``). Stopping the host stops
its guests first, so no test leaves a session open behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    import aiohttp

    from .loopback import LoopbackSite


class HostedFake:
    """A fake that listens itself or is hosted by another of its kind. A subclass sets
    ``_site``, ``_http`` and ``_host`` and says how it starts and who its guests are."""

    _site: LoopbackSite
    _http: aiohttp.ClientSession | None
    _host: Self | None

    async def start(self) -> Self:
        raise NotImplementedError

    def _guests(self) -> Iterable[HostedFake]:
        """The accounts this one hosts (a shop's own bots or numbers)."""
        return ()

    async def stop(self) -> None:
        for other in self._guests():
            await other.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._host is None:
            await self._site.stop()  # a guest listens through its host

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
