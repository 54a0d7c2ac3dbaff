"""exchange.edxml knows nothing of HTTP or the database: the auditor's tools and the hub share it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "exchange" / "edxml"


def _imports() -> set[str]:
    names: set[str] = set()
    for path in FOLDER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


@pytest.mark.parametrize("forbidden", ["fastapi", "starlette", "httpx", "sqlmodel", "sqlalchemy",
                                       "exchange.hub", "exchange.node", "exchange.cli"])
def test_edxml_stays_off_the_web_and_storage_stack(forbidden: str) -> None:
    assert not any(name == forbidden or name.startswith(forbidden + ".") for name in _imports())
