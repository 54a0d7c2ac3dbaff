"""Every ``exchange`` command starts without loading the hub's web stack: only ``hub serve``
needs FastAPI, SQLModel, uvicorn and argon2, and loading them costs about a second of CPU at each
start (every node command a user or a script runs, every node process of the demo)."""

from __future__ import annotations

import subprocess
import sys

WEB_STACK = ("fastapi", "starlette", "sqlmodel", "uvicorn", "argon2", "exchange.hub.app")


def test_the_command_line_loads_no_web_stack_until_the_hub_serves() -> None:
    probe = ("import sys, exchange.cli.app; exchange.cli.app.build_app(); "
             f"print(' '.join(m for m in {WEB_STACK!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "", f"loaded at start: {done.stdout.strip()}"
