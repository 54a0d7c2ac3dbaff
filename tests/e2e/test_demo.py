"""``exchange demo`` end to end: a real hub and real node processes, and none left afterwards.

Each test runs ``python -m exchange demo`` in a subprocess in its own temporary directory (so
``demo-data/`` is the test's), with ``EXCHANGE_KEYS`` pointing at a directory that must stay
untouched: the demo makes its own PKI inside its folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from exchange.domain.documents import Channel
from exchange.hub import build_service
from exchange.hub.people import Accounts
from exchange.hub.settings import HubSettings
from exchange.hub.store.db import make_engine
from exchange.hub.store.models import Document

from e2e.harness import free_port, start_hub


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["EXCHANGE_KEYS"] = str(tmp_path / "user-keys")  # must not be created or changed
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "exchange", "demo", *args]


def _pids(folder: Path) -> list[int]:
    data = json.loads((folder / "pids.json").read_text())
    return [data["hub"], *data["nodes"].values()]


def _assert_all_gone(pids: list[int]) -> None:
    """Every process is gone (the demo waits for its children, so none is a zombie)."""
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    assert not alive, f"processes still running after the demo: {alive}"


def test_a_small_demo_runs_real_traffic_and_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(_command("--bodies", "3", "--documents", "8", "--exit", "--port", str(port),
                                   "--seconds", "4"),
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Measures K1–K3" in done.stdout and "K1 electronic, signed and delivered" in done.stdout
    # over HTTPS by default: the hub's TLS certificate comes from the demo's own PKI
    assert f"dashboard: https://127.0.0.1:{port}/" in done.stdout
    assert "revoked at" in done.stdout  # what the revocation did to what the body had sent before
    folder = tmp_path / "demo-data"
    assert (folder / "keys" / "tls" / "hub.pem").is_file()
    pids = _pids(folder)
    assert len(pids) == 4  # the hub and three nodes
    _assert_all_gone(pids)
    assert not (tmp_path / "user-keys").exists()

    # The pages need a login: the demo made a trainer and an auditor and printed their passwords.
    logins = dict(line.split(" ", 1) for line in (folder / "logins.txt").read_text().splitlines())
    assert set(logins) == {"trainer", "auditor"}
    assert (folder / "logins.txt").stat().st_mode & 0o077 == 0
    assert all(f"{name} / {password}" in done.stdout for name, password in logins.items())
    accounts = Accounts(make_engine(f"sqlite:///{folder / 'hub' / 'hub.db'}"))
    try:
        for name, password in logins.items():
            assert accounts.login(name, password, at=datetime.now(UTC)).viewer.role.value == name
    finally:
        accounts.engine.dispose()

    # The register in the hub's database holds exactly what the plans say was sent.
    plans = [json.loads(p.read_text()) for p in sorted((folder / "plans").glob("*.json"))]
    planned_rows = sum(len(s["recipients"]) for plan in plans for s in plan["sends"])
    planned_arrivals = sum(len(plan["arrivals"]) for plan in plans)
    service = build_service(HubSettings(keys_dir=folder / "keys", data_dir=folder / "hub",
                                        bodies_file=folder / "bodies.toml"))
    try:
        entries = list(service.reader.register_entries())
        incoming = list(service.reader.incoming_entries())
        with Session(service.engine) as session:
            refused = session.exec(select(Document).where(Document.channel == Channel.SIGNED_INVALID.value)).all()
            refused_reasons = {d.sub_indication for d in refused}
    finally:
        service.engine.dispose()
    assert len({e.document_id for e in entries}) == 8
    assert len(entries) == planned_rows
    assert len(incoming) == planned_arrivals
    channels = Counter(e.channel for e in entries)
    assert channels[Channel.SIGNED_VALID] > 0
    assert channels[Channel.SIGNED_INVALID] >= 1
    assert "HASH_FAILURE" in refused_reasons  # the document altered in transit
    assert all(e.delivered for e in entries if e.channel is Channel.SIGNED_VALID)

    # After the demo, an auditor replays the hub's log against its register and blobs, exports
    # the year's archive, stops the hub and checks every document offline: all agree.
    root = str(folder / "keys" / "root-ca.pem")
    audit = _audit(tmp_path, "log", "verify", "--db", f"sqlite:///{folder / 'hub' / 'hub.db'}",
                   "--data", str(folder / "hub"), "--ca", root)
    assert audit.returncode == 0 and "0 difference(s)" in audit.stdout, audit.stdout + audit.stderr
    hub = start_hub(keys=folder / "keys", data=folder / "hub", db_url=f"sqlite:///{folder / 'hub' / 'hub.db'}",
                    args=("--bodies", str(folder / "bodies.toml"), "--clock", str(folder / "clock.json")))
    try:
        year = str(entries[0].sent_at.year)
        token = hub.person_token(hub.ensure_person("auditor"))
        hub.cli("audit", "archive", "--period", year, "-o", "archive.zip", "--token", token, cwd=tmp_path)
    finally:
        hub.stop()
    checked = _audit(tmp_path, "verify", "archive.zip", "--ca", root, "--workers", "2")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "TOTAL_PASSED: 8 documents — 8 passed, 0 failed" in checked.stdout


def _audit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exchange", "audit", *args], cwd=cwd, env=_env(cwd),
                          capture_output=True, text=True, timeout=120, check=False)


def test_ctrl_c_during_the_run_stops_every_process(tmp_path: Path) -> None:
    process = subprocess.Popen(_command("--bodies", "3", "--documents", "40", "--seconds", "30",
                                        "--port", str(free_port())),
                               cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    folder = tmp_path / "demo-data"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if len(_pids(folder)) == 4:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()
        time.sleep(2.0)  # the nodes are logging in or sending
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, 130), out + err
    assert "Traceback" not in out + err
    _assert_all_gone(_pids(folder))


def test_a_busy_port_given_explicitly_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(_command("--bodies", "2", "--documents", "2", "--exit", "--port", str(port)),
                              cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=60,
                              check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        (f"error: port {port} is already in use on 127.0.0.1; choose another --port, or leave it out to take "
         "the next free one")]
    assert not (tmp_path / "demo-data" / "pids.json").exists()  # nothing was started
