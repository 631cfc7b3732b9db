"""Every parameter a handler or filter asks for is a name the dispatcher provides.

aiogram passes a handler only the names its signature asks for and finds a missing one when
the handler runs (a TypeError in front of a person); this finds it at test time.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.context import HandlerData
from handlers import get_routers

# Names that a filter of that very handler returns: aiogram's Command and CallbackData
# filters, and ours (admin_mode's staff seats, and the seat and screen of SeatFor; the
# counter's scanned link or typed code; a link code typed to join another messenger).
FILTER_RESULTS = frozenset(
    {"command", "callback_data", "seats", "seat", "screen", "link", "typed", "typed_code"}
)
PROVIDED = HandlerData.__required_keys__ | HandlerData.__optional_keys__ | FILTER_RESULTS


def _routers(routers: list[Router]) -> Iterator[Router]:
    for router in routers:
        yield router
        yield from _routers(list(router.sub_routers))


def _callables() -> Iterator[tuple[str, CallableObject]]:
    for router in _routers(get_routers()):
        for event, observer in router.observers.items():
            for handler in observer.handlers:
                name = f"{router.name}.{event}:{handler.callback.__qualname__}"
                yield name, handler
                for check in handler.filters or ():
                    yield f"{name} filter {type(check.callback).__name__}", check
            for check in observer._handler.filters or ():
                yield f"{router.name}.{event} filter {type(check.callback).__name__}", check


def _asked_for(callable_object: CallableObject) -> set[str]:
    """The keyword names aiogram will look up: every named parameter after the event.

    ``**data`` takes whatever there is and asks for no name in particular."""
    parameters = list(inspect.signature(inspect.unwrap(callable_object.callback)).parameters)
    return set(parameters[1:]) & callable_object.params


def test_the_routers_have_handlers_to_check() -> None:
    handlers = [name for name, _ in _callables() if " filter " not in name]

    assert len(handlers) > 50
    assert {"state", "customer", "wallets"} <= set().union(
        *(_asked_for(c) for _, c in _callables())
    )


def test_every_name_a_handler_or_filter_asks_for_is_provided() -> None:
    unknown = {
        name: sorted(asked - PROVIDED)
        for name, callable_object in _callables()
        if (asked := _asked_for(callable_object)) - PROVIDED
    }

    assert unknown == {}


def test_a_misspelt_name_would_be_found() -> None:
    async def handler(message: object, wallet: object, state: object) -> None: ...

    assert _asked_for(CallableObject(handler)) - PROVIDED == {"wallet"}
