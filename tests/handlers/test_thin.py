"""Handlers and the web pages parse, call a service and render: they import no model class,
no ORM and no adapter at run time, make no ORM calls, and take what the dispatcher provides
as named, typed parameters (no ``**data``). Imports under ``TYPE_CHECKING`` are for typing
only; the plain enums of ``models.enums`` are fine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The throttling and customer middlewares are being reworked for speed on their own; they
# join this rule when that lands.
PENDING = {ROOT / "handlers" / "middlewares.py"}
MODULES = sorted(
    {*(ROOT / "handlers").rglob("*.py"), ROOT / "web" / "card_page.py", ROOT / "web" / "links.py"}
    - PENDING
)
# Query methods of Tortoise models and querysets, and the writes of a model instance.
ORM_CALLS = {
    "filter", "get", "get_or_none", "create", "get_or_create", "update_or_create",
    "bulk_create", "bulk_update", "select_for_update", "exclude", "annotate", "all",
    "save", "refresh_from_db", "fetch_related", "in_transaction",
}  # fmt: skip
MODEL_NAMES = {
    "Campaign", "Card", "ChannelOptOut", "Customer", "Delivery", "GoogleWalletObject",
    "Identity", "LedgerEntry", "Membership", "Merchant", "Staff", "StaffInvite", "Voucher",
    "WalletPass",
}  # fmt: skip


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs, leaving out the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                todo.extend(child.orelse)
            else:
                todo.append(child)
    return found


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = []
    for node in _runtime_nodes(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if module == "models" or (module.startswith("models.") and module != "models.enums"):
                problems.append(f"{where} imports {module} at run time")
            if module.split(".")[0] in ("tortoise", "channels"):
                problems.append(f"{where} imports {module} at run time")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("models", "tortoise", "channels"):
                    problems.append(f"{where} imports {alias.name} at run time")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in ORM_CALLS and (
                (isinstance(owner, ast.Name) and owner.id in MODEL_NAMES)
                or node.func.attr in ("save", "refresh_from_db", "fetch_related")
            ):
                problems.append(f"{where} calls .{node.func.attr}()")
        elif isinstance(node, ast.Name) and node.id == "in_transaction":
            problems.append(f"{where} uses in_transaction")
        elif (
            isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
            and node.args.kwarg
            and path.relative_to(root).parts[0] == "handlers"
        ):
            problems.append(f"{where} {node.name} takes **{node.args.kwarg.arg}")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_and_pages_leave_the_database_to_the_services(path: Path) -> None:
    assert _problems(path) == []


def test_the_rule_sees_what_it_forbids(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    sample = tmp_path / "handlers" / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from models import Card\n"
        "from models.enums import Channel\n"
        "from channels.email import EmailChannel\n"
        "if TYPE_CHECKING:\n"
        "    from models import Merchant\n"
        "async def handler(message, **data):\n"
        "    card = await Card.get(id=1)\n"
        "    await card.save()\n"
    )
    problems = _problems(sample, root=tmp_path)

    assert {problem.split(" ", 1)[1] for problem in problems} == {
        "imports models at run time",
        "imports channels.email at run time",
        "handler takes **data",
        "calls .get()",
        "calls .save()",
    }
