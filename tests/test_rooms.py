"""The map of the house, kept true: which room may import which (see the README's layout).

A static check of the import statements, so it also covers code no test happens to run. An
import under ``if TYPE_CHECKING:`` is only a type and costs nothing at run time, so the
conversation rooms may name a model class there; the adapters may not name one at all, because
what they need is injected (the store seam).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tortoise.models import Model

ROOT = Path(__file__).resolve().parent.parent
CONVERSATION = ("handlers", "web", "conversation")
# The shared vocabulary of plain enums: no query can hide behind them.
ENUMS = "models.enums"
# Protocol types and the shared limiter are not adapters; a handler may name them.
NOT_ADAPTERS = ("channels.base", "channels.ratelimit")
TOP = ("bot", "demo", "bench", "tests")


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str
    type_only: bool

    def __str__(self) -> str:
        kind = " (TYPE_CHECKING)" if self.type_only else ""
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.module}{kind}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, True)
                for stmt in child.orelse:
                    visit_stmt(stmt, type_only)
            else:
                visit_stmt(child, type_only)

    def visit_stmt(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(path, node.lineno, alias.name, type_only))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                # `from models import Card` names the module models.Card for the rules below.
                found.append(Import(path, node.lineno, f"{node.module}.{alias.name}", type_only))
        else:
            visit(node, type_only)

    visit(tree, False)
    return found


def _room(room: str) -> list[Import]:
    return [imp for path in sorted((ROOT / room).rglob("*.py")) for imp in _imports(path)]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_checker_sees_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from models.enums import Platform\n"
        "if TYPE_CHECKING:\n"
        "    from models import Card\n"
        "def f() -> None:\n"
        "    from models import Merchant\n"
    )
    found = {(i.module, i.type_only) for i in _imports(sample)}
    assert ("models.Card", True) in found
    assert ("models.Merchant", False) in found
    assert ("models.enums.Platform", False) in found


@pytest.mark.parametrize("room", CONVERSATION)
def test_conversation_rooms_use_no_model_class_or_orm_at_run_time(room: str) -> None:
    wrong = [
        str(imp)
        for imp in _room(room)
        if not imp.type_only
        and (
            (_within(imp.module, "models") and not _within(imp.module, ENUMS))
            or _within(imp.module, "tortoise")
        )
    ]
    assert wrong == [], "read and write through loyalty/, campaigns/ or wallets/ instead"


@pytest.mark.parametrize("room", CONVERSATION)
def test_conversation_rooms_import_no_adapter(room: str) -> None:
    wrong = [
        str(imp)
        for imp in _room(room)
        if not imp.type_only
        and _within(imp.module, "channels")
        and not any(_within(imp.module, allowed) for allowed in NOT_ADAPTERS)
    ]
    assert wrong == [], "adapters are reached through campaigns/ or wallets/"


# Query methods of Tortoise models and querysets, and the writes of a model instance.
ORM_CALLS = {
    "filter", "get", "get_or_none", "create", "get_or_create", "update_or_create",
    "bulk_create", "bulk_update", "select_for_update", "exclude", "annotate", "all",
    "save", "refresh_from_db", "fetch_related", "in_transaction",
}  # fmt: skip
INSTANCE_WRITES = ("save", "refresh_from_db", "fetch_related")


@functools.cache
def _model_classes() -> frozenset[str]:
    import models

    return frozenset(
        name
        for name, value in vars(models).items()
        if isinstance(value, type) and issubclass(value, Model)
    )


def _orm_calls_and_kwargs(path: Path) -> list[str]:
    """ORM calls on a model class or a model instance's writes, and
    handlers that take ``**kwargs`` instead of naming what they receive."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, attr = node.func.value, node.func.attr
            on_class = isinstance(owner, ast.Name) and owner.id in _model_classes()
            if attr in INSTANCE_WRITES or (attr in ORM_CALLS and on_class):
                found.append(f"{where} calls .{attr}()")
        elif isinstance(node, ast.Name) and node.id == "in_transaction":
            found.append(f"{where} uses in_transaction")
        elif (
            isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
            and node.args.kwarg
            and path.relative_to(ROOT).parts[0] == "handlers"
        ):
            found.append(f"{where} {node.name} takes **{node.args.kwarg.arg}")
    return found


@pytest.mark.parametrize("room", CONVERSATION)
def test_conversation_rooms_make_no_orm_call_and_name_what_they_receive(room: str) -> None:
    wrong = [
        p for path in sorted((ROOT / room).rglob("*.py")) for p in _orm_calls_and_kwargs(path)
    ]
    assert wrong == []


def test_the_orm_check_sees_class_and_instance_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "handlers").mkdir()
    sample = tmp_path / "handlers" / "sample.py"
    sample.write_text(
        "async def handler(message, **data):\n"
        "    await Action.filter(op=1)\n"
        "    card = await Card.get(id=1)\n"
        "    await card.save()\n"
        "    rows = await found.filter(x=1)\n"
        "    async with in_transaction():\n"
        "        pass\n"
    )
    assert {p.split(" ", 1)[1] for p in _orm_calls_and_kwargs(sample)} == {
        "handler takes **data",
        "calls .get()",
        "calls .save()",
        "uses in_transaction",
    }


def test_adapters_import_neither_models_nor_loyalty_at_all() -> None:
    # Nor the rooms above them that do: wallets/ and campaigns/ hold the rows.
    above = ("models", "loyalty", "wallets", "campaigns", "handlers", "web", "tortoise")
    wrong = [str(imp) for imp in _room("channels") if any(_within(imp.module, up) for up in above)]
    assert wrong == [], "inject what an adapter needs (a store protocol), do not import it"


@pytest.mark.parametrize(
    "room",
    [
        "handlers",
        "web",
        "loyalty",
        "campaigns",
        "wallets",
        "channels",
        "render",
        "models",
        "locales",
        "fakes",
    ],
)
def test_nobody_imports_the_composition_root_demo_bench_or_tests(room: str) -> None:
    # A handler may name the settings type it is given (``TYPE_CHECKING``): that is a type only.
    wrong = [
        str(imp)
        for imp in _room(room)
        if any(_within(imp.module, top) for top in TOP)
        and not (imp.type_only and _within(imp.module, "bot.config"))
    ]
    assert wrong == []


@pytest.mark.parametrize("room", ["loyalty", "campaigns", "wallets", "models", "render"])
def test_the_domain_knows_no_messenger_framework_or_http_server(room: str) -> None:
    wrong = [
        str(imp)
        for imp in _room(room)
        if not imp.type_only and any(_within(imp.module, fw) for fw in ("aiogram", "aiohttp.web"))
    ]
    assert wrong == []


def test_pixels_are_drawn_only_in_render() -> None:
    rooms = ["bot", "handlers", "web", "loyalty", "campaigns", "wallets", "channels", "demo"]
    wrong = [str(imp) for room in rooms for imp in _room(room) if _within(imp.module, "PIL")]
    assert wrong == [], "Pillow code lives in render/"
