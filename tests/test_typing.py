"""The package type-checks: ``mypy exchange`` with the project's configuration (pyproject.toml),
which holds pki, cms, domain and metrics to --strict.

One mypy run over the whole package (its cache kept in the checkout's ``.mypy_cache``, so a
second run reads what did not change); a type error anywhere fails the test and prints mypy's
report.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from mypy import api
from mypy.main import define_options
from mypy.options import PER_MODULE_OPTIONS

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
STRICT_PACKAGES = ("exchange.pki", "exchange.cms", "exchange.domain", "exchange.metrics")


def test_mypy_is_clean_on_the_package() -> None:
    stdout, stderr, status = api.run(["--config-file", str(PYPROJECT), "--cache-dir", str(ROOT / ".mypy_cache"),
                                      "--no-error-summary", "--hide-error-context", str(ROOT / "exchange")])
    assert status == 0, f"mypy exchange found type errors:\n{stdout}{stderr}"


def test_the_strict_layers_get_every_flag_of_strict() -> None:
    """The override for pki, cms, domain and metrics sets every per-module flag that --strict
    sets (mypy's own list, so a flag a new mypy adds to --strict is not missed), and the
    global section the global-only ones."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]
    overrides = [o for o in config.get("overrides", []) if {f"{p}.*" for p in STRICT_PACKAGES} <= set(o["module"])]
    assert len(overrides) == 1, "one [[tool.mypy.overrides]] must name the four strict packages"
    _, _, strict = define_options()
    for flag, value in strict:
        section = overrides[0] if flag in PER_MODULE_OPTIONS else config
        assert section.get(flag) == value, f"{flag} = {str(value).lower()} is missing"
