"""The measures are pure: exchange.metrics imports only the standard library, the domain and
the error tree; exchange.reporting adds rendering libraries, never the web or storage stack."""

from __future__ import annotations

import ast
import sys
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


def test_metrics_imports_only_stdlib_domain_and_errors() -> None:
    allowed = ("exchange.domain", "exchange.errors", "exchange.metrics")
    for name in _imports("metrics"):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name == "__future__" or name.startswith(
            allowed), f"exchange.metrics imports {name}"


@pytest.mark.parametrize("forbidden", ["fastapi", "httpx", "sqlmodel", "sqlalchemy",
                                       "exchange.hub", "exchange.node", "exchange.cli"])
def test_reporting_stays_off_the_web_and_storage_stack(forbidden: str) -> None:
    assert not any(name == forbidden or name.startswith(forbidden + ".")
                   for name in _imports("reporting"))
