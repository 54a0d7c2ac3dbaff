"""The log's core and the auditor's checks stay off the web and storage stack, so an auditor's
tool can reuse them offline (the CLI fetches over HTTP; exchange.hub stores)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "exchange"


def _imports(folder: str) -> set[str]:
    names: set[str] = set()
    for path in (PACKAGE / folder).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["tlog", "audit"])
@pytest.mark.parametrize("forbidden", ["fastapi", "httpx", "sqlmodel", "sqlalchemy", "starlette",
                                       "exchange.hub", "exchange.node", "exchange.cli"])
def test_no_http_and_no_database(folder: str, forbidden: str) -> None:
    assert not any(name == forbidden or name.startswith(forbidden + ".") for name in _imports(folder))
