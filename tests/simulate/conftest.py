"""Shared pieces for the simulator's tests: the shipped scenarios and small scenarios built here.

Runs of the real simulator (real PKI, real signatures) are module-scoped fixtures in the test
modules that need them; everything else works on parsed scenarios and planned traffic only.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from exchange.simulate import Scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "samples" / "scenarios"
TINY = SCENARIOS / "tiny.toml"


def tiny_data() -> dict[str, Any]:
    """tiny.toml as parsed TOML, to change a field and build a scenario from."""
    return copy.deepcopy(tomllib.loads(TINY.read_text(encoding="utf-8")))


def build(data: dict[str, Any]) -> Scenario:
    """A scenario from *data* (paths resolve as in samples/scenarios/)."""
    return Scenario.from_dict(data, source="test.toml", base_dir=SCENARIOS)


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real ``exchange`` command in a subprocess, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    return subprocess.run([sys.executable, "-m", "exchange", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tiny() -> dict[str, Any]:
    return tiny_data()
