"""Run the real ``exchange`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """``run("keys", "list", ...)`` → CompletedProcess (text), in tmp_path, with a clean env."""

    def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "exchange", *map(str, args)], cwd=cwd or tmp_path,
                              env=full_env, capture_output=True, text=True, timeout=120,
                              input=input if input is not None else "")

    return _run
