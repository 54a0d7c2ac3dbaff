"""Crafted input on the command line: one readable line on stderr and a clear exit, never a
traceback. A corrupted embedded certificate is a FORMAT_FAILURE report (exit 1); dates at the
edge of the calendar and a file where a folder belongs are usage errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from exchange.cms import sign_detached
from tests.cli.conftest import Run
from tests.conftest import TestPKI


def test_a_signature_with_a_corrupted_certificate_is_a_format_failure(run: Run, pki: TestPKI,
                                                                       tmp_path: Path) -> None:
    doc = tmp_path / "cv.txt"
    doc.write_bytes(b"Cong van\n")
    signature = sign_detached(doc.read_bytes(), pki.signer, at=pki.created)
    certificate = pki.signer.certificate.public_bytes(Encoding.DER)
    rsa = bytes.fromhex("2a864886f70d010101")
    (tmp_path / "cv.txt.p7s").write_bytes(signature.replace(certificate, certificate.replace(rsa, rsa[:-1] + b"!")))
    result = run("verify", doc, "--keys", pki.dir, "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["sub_indication"] == "FORMAT_FAILURE"


def test_edge_dates_and_files_for_folders_are_one_line_exit_2(run: Run, pki: TestPKI, tmp_path: Path) -> None:
    doc = tmp_path / "cv.txt"
    doc.write_bytes(b"Cong van\n")
    (tmp_path / "cv.txt.p7s").write_bytes(sign_detached(doc.read_bytes(), pki.signer, at=pki.created))
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    data = tmp_path / "data"
    cases = [
        (("verify", doc, "--keys", pki.dir, "--at", "0001-01-01T00:00:00+14:00"), "outside the years"),
        (("verify", doc, "--keys", pki.dir, "--at", "9999-12-31T23:59:59-14:00"), "outside the years"),
        (("report", "--period", "9999-12-31", "--data", data), "outside the years"),
        (("report", "--period", "0001", "--data", data), "within the years"),
        (("report", "--from", "0001-01-01", "--to", "2015-01-01", "--data", data), "within the years"),
        (("report", "--half", "9999H2", "--data", data), "outside the years"),
        (("keys", "init", "--dir", a_file), "is a file, not a key directory"),
        (("keys", "init", "--dir", a_file / "keys"), "is a file, not a key directory"),
    ]
    for args, words in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and result.stderr.count("\n") == 1, (args, result.stderr)
