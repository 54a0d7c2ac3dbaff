"""``exchange audit`` on bad input: one readable line on stderr and a non-zero exit, never a
traceback (2 for a usage error, 1 when the hub cannot be reached)."""

from __future__ import annotations

import zipfile

import pytest

from e2e.harness import free_port


@pytest.mark.parametrize(("args", "status", "words"), [
    (("audit", "verify", "missing.zip", "--ca", "root.pem"), 2, "no such file"),
    (("audit", "verify", "notzip.zip", "--ca", "root.pem"), 2, "not an evidence bundle"),
    (("audit", "verify", "otherzip.zip", "--ca", "root.pem"), 2, "not an evidence bundle"),
    (("audit", "log", "verify"), 2, "exactly one of --hub URL or --db URL"),
    (("audit", "log", "verify", "--db", "sqlite:///nowhere/hub.db", "--ca", "ROOT"), 1, "no hub database"),
    (("audit", "watch", "--state", "s.json", "--interval", "0"), 2, "--interval must be positive"),
    (("audit", "archive", "--period", "20x5", "-o", "a.zip"), 2, "period"),
])
def test_bad_input_is_one_line(run, pki, tmp_path, args, status, words) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notzip.zip").write_bytes(b"not a zip")
    with zipfile.ZipFile(tmp_path / "otherzip.zip", "w") as other:
        other.writestr("hello.txt", "hi")
    (tmp_path / "root.pem").write_text("not a certificate")
    done = run(*(str(pki.store.root_path) if a == "ROOT" else a for a in args))
    assert done.returncode == status, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_hub_is_one_line(run, pki) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}"
    for args in (("audit", "checkpoint", "--hub", url, "--ca", str(pki.store.root_path)),
                 ("audit", "bundle", "x", "--hub", url, "-o", "b.zip"),
                 ("audit", "watch", "--hub", url, "--state", "s.json", "--once", "--ca", str(pki.store.root_path))):
        done = run(*args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.startswith("error: cannot reach the hub") and "Traceback" not in done.stderr
