"""The public API is documented: interrogate, configured in pyproject.toml's [tool.interrogate]
(what counts as public is said there), must find a docstring on at least its ``fail-under`` share
of modules, classes, functions and methods, and every error class must say when it is raised.
A failure lists every one that lacks it."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import attr
from interrogate.config import InterrogateConfig
from interrogate.coverage import InterrogateCoverage

import exchange
from exchange.errors import ExchangeError

ROOT = Path(__file__).resolve().parents[1]
#: interrogate's CLI spells one option differently from its configuration object
_RENAMED = {"ignore_setters": "ignore_property_setters", "whitelist_regex": "include_regex"}


def _settings() -> tuple[InterrogateConfig, tuple[str, ...]]:
    """The [tool.interrogate] table of pyproject.toml as interrogate's config, and its excludes."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["interrogate"]
    options = {_RENAMED.get(key.replace("-", "_"), key.replace("-", "_")): value for key, value in table.items()}
    excluded = tuple(str(ROOT / path) for path in options.pop("exclude", ()))
    known = {field.name for field in attr.fields(InterrogateConfig)}
    unknown = set(options) - known
    assert not unknown, f"[tool.interrogate] options this test does not pass on: {sorted(unknown)}"
    return InterrogateConfig(**options), excluded


def test_the_public_api_has_docstrings() -> None:
    config, excluded = _settings()
    assert config.fail_under >= 90, "the issue asks for at least 90 %"
    results = InterrogateCoverage(paths=[str(ROOT / "exchange")], conf=config, excluded=excluded).get_coverage()
    missing = [f"{Path(result.filename).relative_to(ROOT)}:{node.lineno or 1} "
               + ("(the module)" if node.node_type == "Module" else node.path.rpartition(":")[2])
               for result in sorted(results.file_results, key=lambda r: r.filename)
               for node in sorted(result.nodes, key=lambda n: n.lineno or 0) if not node.covered]
    assert results.total > 1000, "interrogate found too little to measure: is the path right?"
    assert round(results.perc_covered, 1) >= config.fail_under, (
        f"{results.perc_covered:.1f} % of the public API has a docstring, below {config.fail_under} %; "
        f"{len(missing)} lack one:\n" + "\n".join(missing))


def _error_classes() -> list[type[ExchangeError]]:
    """Every subclass of ExchangeError the package defines. Not imported: ``__main__`` (it runs
    the CLI) and Alembic's migration scripts (only Alembic can run them)."""
    for module in pkgutil.walk_packages(exchange.__path__, "exchange."):
        if not module.name.endswith("__main__") and ".migrations." not in module.name:
            importlib.import_module(module.name)
    found, todo = [], [ExchangeError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("exchange.") and sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


def test_every_error_class_says_when_it_is_raised() -> None:
    classes = _error_classes()
    assert len(classes) >= 25, "the error tree was not found: were the modules imported?"
    silent = [f"{cls.__module__}.{cls.__qualname__}" for cls in classes
              if "raised" not in (cls.__dict__.get("__doc__") or "").lower()]
    assert not silent, "error classes whose docstring does not say when they are raised:\n" + "\n".join(silent)
