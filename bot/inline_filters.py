"""Filters that are plain functions run in the event loop, not in a worker thread.

aiogram calls every filter and handler that is not a coroutine function through
``asyncio.to_thread`` (``CallableObject.call``), so that a slow synchronous one cannot stall the
loop. Every magic filter is such a function (``F.text``, ``F.data == …``: its ``resolve``), and
a filter is a few attribute reads of a microsecond; the thread hop around it (a future, the
pool's queue, a thread woken, the loop woken back through its self-pipe, the GIL handed over
both ways) costs tens of microseconds of CPU. An update is checked against the filters of
every handler before the one it matches, 80 of them for a ``/card``: milliseconds an update,
more than the rest of a card view but its photo. Our own synchronous filters are as pure (no
I/O): run inline, each costs what it does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def _inline(callback: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run


def _inline_filter(filter_: FilterObject) -> bool:
    if filter_.awaitable:
        return False
    # The parameters aiogram passes were read from the function itself; they stay.
    filter_.callback = _inline(filter_.callback)
    filter_.awaitable = True
    return True


def run_filters_inline(router: Router) -> int:
    """Make every synchronous filter of ``router`` and the routers under it a coroutine that
    calls it (idempotent); returns how many were changed."""
    changed = 0
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in (observer._handler, *observer.handlers):
                changed += sum(_inline_filter(f) for f in handler.filters or ())
    return changed
