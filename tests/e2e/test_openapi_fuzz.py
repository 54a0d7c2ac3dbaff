"""A bounded schemathesis run against a real hub, SQLite and PostgreSQL, without and with a
token: every check schemathesis has (no 5xx, status codes, content types, response schemas,
``Allow`` on 405, negative and positive data…) must pass against the hub's own OpenAPI
document, so that document tells the truth. Deterministic generation and a fixed number of
examples keep it repeatable and a few tens of seconds long; ``schemathesis.toml`` beside this
file says where a schema-valid request may still rightly be refused, and why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.harness import RunningHub

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
MAX_EXAMPLES = 10


def schemathesis(hub: RunningHub, cwd: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    command = [str(st), "--config-file", str(CONFIG), "--no-color", "run", f"{hub.url}/openapi.json",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
               "--workers", "1", "--request-timeout", "30"]
    for header in headers:
        command += ["-H", header]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}  # how to make an RFC 3161 request body
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize("authenticated", [False, True, "person"], ids=["no-token", "token", "person-token"])
def test_the_hub_passes_every_schemathesis_check(hub, database_kind, tmp_path, authenticated):  # type: ignore[no-untyped-def]
    """No token; a body's token (the node API); an auditor's token (the register, measures,
    access log: what people read)."""
    if database_kind == "postgresql" and not authenticated:
        pytest.skip("without a token no request reaches the database: the SQLite run covers it")
    if authenticated == "person":
        hub.ensure_person("auditor")
        headers: tuple[str, ...] = (f"Authorization: Bearer {hub.person_token('test-auditor')}",)
    else:
        headers = (f"Authorization: Bearer {hub.token('ha-noi')}",) if authenticated else ()
    done = schemathesis(hub, tmp_path, *headers)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Operations:" in done.stdout and "generated" in done.stdout
    assert "Server error" not in done.stdout
