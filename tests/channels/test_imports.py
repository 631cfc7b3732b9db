"""Adapters are pure: no module under ``channels/`` imports the database or the domain.

Checked on the source, so an import under ``TYPE_CHECKING`` or inside a function counts too:
what a channel needs of the rest is a small protocol it is given (``PassStore``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
FORBIDDEN = ("models", "loyalty", "wallets", "campaigns", "handlers", "web", "bot")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted(CHANNELS.rglob("*.py")), ids=lambda p: str(p.relative_to(CHANNELS))
)
def test_a_channel_module_imports_neither_models_nor_the_domain(path: Path) -> None:
    wrong = sorted(n for n in _imported(path) if n.split(".")[0] in FORBIDDEN)
    assert wrong == []


def test_the_check_sees_an_import_hidden_under_type_checking(tmp_path: Path) -> None:
    module = tmp_path / "adapter.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import models\n")
    assert "models" in _imported(module)
