"""A button press skips every router that has no handler for its kind of button.

aiogram tries a callback query on the handlers of one router after another, in the order the
routers were included, until one takes it (``Router._propagate_event``, then
``TelegramEventObserver.trigger``). Nearly all our buttons carry a ``CallbackData`` (``stp:…``,
``adm:…``), and a handler's ``CallbackData.filter()`` unpacks the press's data to see whether it
is its kind: split, count the fields, compare the prefix, raise and catch a ``ValueError``. A
cashier's "+1" is checked that way by about a hundred handlers before the counter's, an
expired button by all of them; a few microseconds each, a millisecond an update.

The prefix alone decides it: ``CallbackData.unpack`` fails unless the text before the first
separator is the class's ``__prefix__``. So, once the routers are assembled, each router whose
callback handlers (its own and its sub-routers') all start with such a filter gets one
router-level filter: the press's prefix is one of theirs. aiogram checks a router's own filters
before any of its handlers and sub-routers (``check_root_filters``); when they fail it goes on
to the next router exactly as it does when none of the handlers matched, so a press that could
not have matched here skips the router, and any other goes on as before. A router with a
handler that takes presses by something else (``F.data == "…"``, no filter at all: the
fallback's "this button has expired") is left as it is, and so are its parents.

The gate only ever fails where every handler behind it would have failed on its first filter,
so no filter that would have run is skipped, and the handler a press reaches is the same. It
is put after a router's own filters, which still run; a router whose sub-routers have
callback filters or outer middlewares of their own (which would be skipped) is not gated, only
those below it that can be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery


class CallbackPrefixGate(Filter):
    """Passes a press whose data could unpack to one of ``classes``: its text before the
    class's separator is the class's prefix (as ``CallbackData.unpack`` splits it)."""

    def __init__(self, classes: Iterable[type[CallbackData]]) -> None:
        by_separator: defaultdict[str, set[str]] = defaultdict(set)
        for each in classes:
            by_separator[each.__separator__].add(each.__prefix__)
        self.prefixes = tuple((sep, frozenset(found)) for sep, found in by_separator.items())

    def __str__(self) -> str:
        return self._signature_to_string(
            *sorted(prefix for _, found in self.prefixes for prefix in found)
        )

    def accepts(self, data: str | None) -> bool:
        if not data:  # CallbackQueryFilter takes no press without data (a game's)
            return False
        return any(data.partition(sep)[0] in found for sep, found in self.prefixes)

    async def __call__(self, query: CallbackQuery) -> bool:
        return isinstance(query, CallbackQuery) and self.accepts(query.data)


def callback_classes(router: Router) -> set[type[CallbackData]] | None:
    """The CallbackData classes the callback handlers of ``router`` and its sub-routers start
    with; None when one of them starts with another filter (or none), or when a sub-router has
    callback filters or outer middlewares of its own, which a gate here would skip."""
    classes: set[type[CallbackData]] = set()
    for each in router.chain_tail:
        observer = each.callback_query
        own = [f for f in observer._handler.filters or () if not _is_gate(f.callback)]
        if each is not router and (own or len(observer.outer_middleware) > 0):
            return None
        for handler in observer.handlers:
            first = handler.filters[0].callback if handler.filters else None
            if not isinstance(first, CallbackQueryFilter):
                return None
            classes.add(first.callback_data)
    return classes


def gate_callbacks(router: Router) -> dict[str, CallbackPrefixGate]:
    """Give ``router`` and every router under it that can have one a gate (idempotent: a
    router's gate is rebuilt, not added twice); returns the gates by router name."""
    remove_gates(router)
    gates: dict[str, CallbackPrefixGate] = {}
    for each in router.chain_tail:
        observer = each.callback_query
        classes = callback_classes(each)
        if classes is None:
            continue
        gate = CallbackPrefixGate(classes)
        observer.filter(gate)  # after the router's own filters
        gates[each.name] = gate
    return gates


def remove_gates(router: Router) -> None:
    """Take the gates off ``router`` and the routers under it (to compare, in a bench)."""
    for each in router.chain_tail:
        handler = each.callback_query._handler
        handler.filters = [f for f in handler.filters or () if not _is_gate(f.callback)]


def _is_gate(callback: object) -> bool:
    return isinstance(callback, CallbackPrefixGate)
