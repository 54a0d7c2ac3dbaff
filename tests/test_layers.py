"""The layers below the hub know nothing of HTTP, databases, the CLI or the web (STYLE.md §1).

Each layer is checked twice: every ``import`` in every one of its modules, at any depth
(a lazy import inside a function counts: it runs the day that function does), and what
importing all its modules in a fresh interpreter really loads (an allowed import may pull in
a forbidden one). A failure names the module and the offending import, so an auditor's
offline tool and the simulator can keep reusing these layers without the hub's stack.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "exchange"

#: what no pure layer may import, by what it would tie the layer to
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "HTTP": ("fastapi", "starlette", "httpx", "uvicorn", "multipart", "python_multipart"),
    "a database": ("sqlmodel", "sqlalchemy", "psycopg", "alembic"),
    "the CLI": ("typer", "click", "rich", "exchange.cli"),
    "the web": ("jinja2", "exchange.hub", "exchange.node"),
    "the layers above": ("exchange.simulate",),
}

#: the pure layers: packages, and the top-level modules every layer may use
LAYERS = ["exchange.pki", "exchange.cms", "exchange.domain", "exchange.metrics", "exchange.reporting",
          "exchange.tlog", "exchange.audit", "exchange.edxml", "exchange.errors", "exchange.clock",
          "exchange.config"]

#: Reasoned exceptions. exchange.reporting renders the measures: rich draws them as terminal
#: tables and jinja2 fills the six-monthly report's Markdown and HTML documents (files, not web
#: pages); neither brings HTTP, storage, the CLI's commands or the hub with it.
ALLOWED: dict[str, tuple[str, ...]] = {"exchange.reporting": ("rich", "jinja2")}


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _forbidden(layer: str, name: str) -> str | None:
    """What *name* would tie *layer* to, or None when it may import it."""
    if any(_matches(name, allowed) for allowed in ALLOWED.get(layer, ())):
        return None
    return next((what for what, prefixes in FORBIDDEN.items() if any(_matches(name, p) for p in prefixes)), None)


def _sources(layer: str) -> list[tuple[str, Path]]:
    """(module name, file) of every module of *layer*, subpackages included."""
    relative = Path(*layer.split(".")[1:])
    if (PACKAGE / relative).is_dir():
        files = sorted((PACKAGE / relative).rglob("*.py"))
    else:
        files = [PACKAGE / relative.with_suffix(".py")]
    assert files and all(f.is_file() for f in files), f"{layer} has no modules: was it renamed?"
    modules = []
    for path in files:
        parts = ("exchange", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return modules


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in *path*, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from ..y import z
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_of_the_layer_imports_the_stack_above(layer: str) -> None:
    offences = [f"{path.relative_to(PACKAGE.parent)}:{line} ({module}) imports {name}: {what}"
                for module, path in _sources(layer)
                for line, name in _imports(module, path)
                if (what := _forbidden(layer, name)) is not None]
    assert not offences, f"{layer} must know nothing of HTTP, databases, the CLI or the web:\n" + \
        "\n".join(offences)


_LOADER = """
import importlib, json, sys
seen, blame = set(sys.modules), {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    blame[name] = sorted(set(sys.modules) - seen)
    seen = set(sys.modules)
print(json.dumps(blame))
"""


@pytest.mark.parametrize("layer", LAYERS)
def test_importing_the_layer_loads_nothing_of_the_stack_above(layer: str) -> None:
    modules = [module for module, _ in _sources(layer)]
    run = subprocess.run([sys.executable, "-c", _LOADER, json.dumps(modules)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, f"importing {layer} failed:\n{run.stderr}"
    loaded: dict[str, list[str]] = json.loads(run.stdout)
    offences = [f"importing {module} loads {name}: {what}"
                for module, names in loaded.items() for name in names
                if (what := _forbidden(layer, name)) is not None
                and not any(_matches(name, parent) for parent in names  # a package, not each submodule
                            if parent != name and _forbidden(layer, parent))]
    assert not offences, f"{layer} must know nothing of HTTP, databases, the CLI or the web:\n" + \
        "\n".join(offences)


def test_the_measures_import_only_the_standard_library_the_domain_and_the_errors() -> None:
    allowed = ("exchange.domain", "exchange.errors", "exchange.metrics")
    offences = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
                for module, path in _sources("exchange.metrics")
                for line, name in _imports(module, path)
                if not (name.split(".")[0] in sys.stdlib_module_names or name.split(".")[0] == "__future__"
                        or any(_matches(name, a) for a in allowed))]
    assert not offences, "exchange.metrics is pure: standard library, domain and errors only:\n" + \
        "\n".join(offences)


def test_the_check_catches_a_lazy_import_and_names_its_line(tmp_path: Path) -> None:
    source = tmp_path / "late.py"
    source.write_text("import json\n\n\ndef fetch():\n    from httpx import Client\n    return Client\n")
    found = _imports("exchange.cms.late", source)
    assert (5, "httpx") in found
    assert _forbidden("exchange.cms", "httpx.Client") == "HTTP"
    assert _forbidden("exchange.cms", "json") is None
    assert _forbidden("exchange.reporting", "rich.table") is None  # its reasoned exception
    assert _forbidden("exchange.cms", "rich.table") == "the CLI"
    relative = tmp_path / "rel.py"
    relative.write_text("from ..hub import service\n")
    assert _forbidden("exchange.cms", dict(_imports("exchange.cms.rel", relative))[1]) == "the web"
