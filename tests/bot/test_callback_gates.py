"""The callback gates (``bot.callback_gates``): a press skips only routers that could not take it.

A gate may only ever turn a press away from a router where every callback handler behind it
would have refused it on its first filter; then the press reaches the handler it reached
without gates. These tests check that on the real routers (each CallbackData a handler filters
on still gets through every gate on the way to it; a forged press still gets the fallback's
"expired" answer) and on small trees of their own for the rules: who gets a gate, and who not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiogram import BaseMiddleware, Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery, User
from hypothesis import given
from hypothesis import strategies as st

from bot.app import BotRuntime
from bot.callback_gates import CallbackPrefixGate, gate_callbacks, remove_gates
from handlers import fallback, get_routers
from tests.chat import Chat
from tests.factories import merchant

EXPIRED = "This button has expired."


def gate_of(router: Router) -> CallbackPrefixGate | None:
    gates = [
        f.callback
        for f in router.callback_query._handler.filters or ()
        if isinstance(f.callback, CallbackPrefixGate)
    ]
    assert len(gates) <= 1, f"{router} has {len(gates)} gates"
    return gates[0] if gates else None


def press(data: str | None) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="Olena")
    return CallbackQuery(id="1", from_user=user, chat_instance="1", data=data)


def callback_filters(router: Router) -> Iterator[CallbackQueryFilter]:
    """The first filter of every callback handler of ``router`` and its sub-routers that
    starts with a CallbackData filter."""
    for each in router.chain_tail:
        for handler in each.callback_query.handlers:
            first = handler.filters[0].callback if handler.filters else None
            if isinstance(first, CallbackQueryFilter):
                yield first


def private() -> Router:
    [routers] = get_routers()
    return routers


# -- the real routers ----------------------------------------------------------------------


def test_every_router_but_those_holding_a_catch_all_is_gated(runtime: BotRuntime) -> None:
    dispatcher = runtime.dispatcher
    ungated = [router for router in dispatcher.chain_tail if gate_of(router) is None]

    # The fallback answers every press nobody took ("this button has expired"), so it and the
    # routers above it take any press; everything else has a gate, and a new router whose
    # buttons are not CallbackData (a gate lost without a word) fails here.
    assert ungated == [dispatcher, private(), fallback.router]


async def test_each_callback_data_a_handler_filters_on_passes_every_gate_to_it(
    runtime: BotRuntime,
) -> None:
    checked = 0
    for router in runtime.dispatcher.chain_tail:
        for handler in router.callback_query.handlers:
            first = handler.filters[0].callback if handler.filters else None
            if not isinstance(first, CallbackQueryFilter):
                continue
            data = first.callback_data
            for above in router.chain_head:
                gate = gate_of(above)
                for sent in (data.__prefix__, f"{data.__prefix__}{data.__separator__}1"):
                    assert gate is None or await gate(press(sent)), (above, data, sent)
            checked += 1

    assert checked > 100


def test_the_gates_are_made_again_not_added_twice(runtime: BotRuntime) -> None:
    before = {r.name: str(gate_of(r)) for r in runtime.dispatcher.chain_tail}

    gate_callbacks(runtime.dispatcher)
    gate_callbacks(runtime.dispatcher)

    assert {r.name: str(gate_of(r)) for r in runtime.dispatcher.chain_tail} == before


CLASSES = sorted({f.callback_data for f in callback_filters(private())}, key=str)


@st.composite
def shaped_like(draw: st.DrawFn) -> str:
    """Data of a class's shape: its prefix (or a neighbour's), then as many fields as it has."""
    data = draw(st.sampled_from(CLASSES))
    prefix = draw(st.sampled_from([data.__prefix__, data.__prefix__[:-1], "x" + data.__prefix__]))
    values = st.sampled_from(["1", "0", "", "x", "2", "en", "on", "ADD"])
    fields = draw(
        st.lists(values, min_size=len(data.model_fields), max_size=len(data.model_fields))
    )
    return data.__separator__.join([prefix, *fields])


@given(
    st.one_of(
        shaped_like(),
        st.lists(
            st.one_of(
                st.sampled_from(sorted({c.__prefix__ for c in CLASSES})),
                st.sampled_from([":", "|", "", "0", "x", "adm:", ":1", "set:lang"]),
                st.text(max_size=4),
            ),
            max_size=6,
        ).map("".join),
    )
)
def test_a_press_a_gate_turns_away_no_handler_behind_it_could_have_taken(data: str) -> None:
    """What CallbackData.filter() needs of a press: data that unpacks (then its rule)."""
    for router in private().chain_tail:
        gate = gate_of(router)
        if gate is None or gate.accepts(data):
            continue
        for check in callback_filters(router):
            try:
                check.callback_data.unpack(data)
            except (TypeError, ValueError):
                continue
            raise AssertionError(f"{router} turned away {data!r}, which {check} unpacks")


async def test_a_forged_press_still_gets_the_expired_answer(chat: Chat) -> None:
    shop = await merchant("Kafe Lviv")
    card = (await chat.send(f"/start j-{shop.card.join_token}"))[0]

    for data in ("gone:1:2", "stp:x", "adm", "", "tel:99999"):
        update = chat.telegram.callback_update(chat.user, card, data, check_button=False)
        assert await chat._post(update) == [], data
        assert chat.last_answer()["text"] == EXPIRED, data


# -- the rules, on trees of their own --------------------------------------------------------


class Stamp(CallbackData, prefix="stp"):
    n: int


class Voucher(CallbackData, prefix="vch", sep="|"):
    id: int


class Bare(CallbackData, prefix="bare"):
    pass


async def taken(router: Router) -> str:
    return "taken"


class Watch(BaseMiddleware):
    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        return await handler(event, data)


def tree() -> tuple[Dispatcher, dict[str, Router]]:
    """Routers of every kind, in a dispatcher, gated."""
    routers = {
        name: Router(name=name)
        for name in ("stamps", "vouchers", "by_text", "parent", "child", "watched", "later")
    }
    routers["stamps"].callback_query.register(taken, Stamp.filter(F.n > 0))
    routers["stamps"].callback_query.register(taken, Bare.filter())
    routers["vouchers"].callback_query.register(taken, Voucher.filter())
    routers["vouchers"].callback_query.filter(F.from_user)  # its own filter stays, first
    routers["by_text"].callback_query.register(taken, F.data == "x")
    routers["parent"].include_routers(routers["child"], routers["watched"])
    routers["child"].callback_query.register(taken, Stamp.filter())
    routers["watched"].callback_query.register(taken, Bare.filter())
    routers["watched"].callback_query.outer_middleware(Watch())
    routers["later"].callback_query.register(taken, F.from_user, Stamp.filter())
    dispatcher = Dispatcher()
    dispatcher.include_routers(*(r for n, r in routers.items() if n not in ("child", "watched")))
    gate_callbacks(dispatcher)
    return dispatcher, routers


def test_a_router_is_gated_by_the_callback_data_its_handlers_start_with() -> None:
    _dispatcher, routers = tree()
    stamps, vouchers = gate_of(routers["stamps"]), gate_of(routers["vouchers"])
    assert stamps is not None
    assert vouchers is not None

    assert [stamps.accepts(d) for d in ("stp:1", "stp:0", "stp", "bare", "bare:x")] == [True] * 5
    assert [stamps.accepts(d) for d in ("stpx:1", "st", "", None, "vch|1", "x")] == [False] * 6
    # A separator of its own: the prefix is what comes before it.
    assert vouchers.accepts("vch|1")
    assert vouchers.accepts("vch")
    assert not vouchers.accepts("vch:1")
    filters = [f.callback for f in routers["vouchers"].callback_query._handler.filters or ()]
    assert filters[0] is not vouchers
    assert filters[-1] is vouchers


def test_a_router_that_takes_presses_by_anything_else_is_not_gated_nor_above_it() -> None:
    dispatcher, routers = tree()

    assert gate_of(routers["by_text"]) is None  # F.data == "x"
    assert gate_of(routers["later"]) is None  # its CallbackData filter comes second
    assert gate_of(dispatcher) is None


def test_a_parent_is_not_gated_over_a_sub_router_with_an_outer_middleware() -> None:
    _dispatcher, routers = tree()
    child = gate_of(routers["child"])

    assert gate_of(routers["parent"]) is None  # its gate would skip Watch
    assert gate_of(routers["watched"]) is not None  # its own gate runs after Watch
    assert child is not None
    assert child.accepts("stp:1")
    assert not child.accepts("bare")


def test_a_router_with_no_callback_handlers_lets_no_press_through() -> None:
    dispatcher = Dispatcher()
    empty = Router(name="empty")
    dispatcher.include_router(empty)
    gate_callbacks(dispatcher)

    gate = gate_of(empty)
    assert gate is not None
    assert not gate.accepts("stp:1")


def test_removed_gates_leave_the_routers_own_filters() -> None:
    dispatcher, routers = tree()

    remove_gates(dispatcher)

    assert all(gate_of(router) is None for router in dispatcher.chain_tail)
    assert len(routers["vouchers"].callback_query._handler.filters or ()) == 1


async def test_presses_reach_the_same_handler_with_and_without_gates() -> None:
    """aiogram's own propagation on the small tree: which handler answers each press."""
    reached: list[tuple[str, str | None]] = []

    def handler(name: str) -> Any:
        async def answer(query: CallbackQuery) -> str:
            reached.append((name, query.data))
            return name

        return answer

    def build() -> Dispatcher:
        dispatcher = Dispatcher()
        first, second, last = Router(name="first"), Router(name="second"), Router(name="last")
        first.callback_query.register(handler("stamp"), Stamp.filter(F.n > 1))
        second.callback_query.register(handler("voucher"), Voucher.filter())
        second.callback_query.register(handler("stamp again"), Stamp.filter())
        last.callback_query.register(handler("expired"))
        dispatcher.include_routers(first, second, last)
        return dispatcher

    sent = ["stp:2", "stp:1", "stp:x", "vch|3", "vch:3", "bare", "gone:1", "", None, "stp"]

    async def answers(dispatcher: Dispatcher) -> list[tuple[str, str | None]]:
        reached.clear()
        for data in sent:
            await dispatcher.propagate_event("callback_query", press(data))
        return list(reached)

    plain = await answers(build())
    gated = build()
    gate_callbacks(gated)
    assert [gate_of(r) is not None for r in gated.chain_tail] == [False, True, True, False]

    assert await answers(gated) == plain
    assert plain[:4] == [
        ("stamp", "stp:2"),
        ("stamp again", "stp:1"),
        ("expired", "stp:x"),
        ("voucher", "vch|3"),
    ]
