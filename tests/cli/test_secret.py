"""``exchange encrypt`` / ``exchange decrypt`` as a user runs them, with openssl on the other side."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from exchange.pki import KeyStore
from tests.cli.conftest import Run
from tests.conftest import TestPKI

MARKER = "MARKER-c0ffee"


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "Kế hoạch mật.txt"
    path.write_bytes(f"Tài liệu Mật {MARKER}\r\n".encode() * 50)
    return path


def test_encrypt_as_sender_then_recipient_decrypts_and_verifies(run: Run, pki: TestPKI, doc: Path) -> None:
    sealed = run("encrypt", doc, "--to", "central-office", "--as", "nghe-an", "--keys", pki.dir)
    assert sealed.returncode == 0, sealed.stderr
    envelope = doc.with_name(doc.name + ".p7m")
    assert MARKER.encode() not in envelope.read_bytes()
    # the outer signature is an ordinary detached signature over the envelope
    outer = run("verify", envelope, "--keys", pki.dir, "--json")
    assert outer.returncode == 0 and json.loads(outer.stdout)["signer"]["body_id"] == "nghe-an"
    out = doc.parent / "opened.txt"
    opened = run("decrypt", envelope, "--as", "central-office", "-o", out, "--keys", pki.dir, "--json")
    assert opened.returncode == 0, opened.stderr
    report = json.loads(opened.stdout)
    assert report["indication"] == "TOTAL_PASSED" and report["signer"]["body_id"] == "nghe-an"
    assert out.read_bytes() == doc.read_bytes()
    # the inner signature is kept beside the plaintext: verify works on it later
    assert run("verify", out, "--keys", pki.dir).returncode == 0
    # the sender rereads what it sent
    assert run("decrypt", envelope, "--as", "nghe-an", "-o", doc.parent / "mine.txt", "--keys", pki.dir
               ).returncode == 0


def test_a_third_body_cannot_decrypt(run: Run, pki: TestPKI, doc: Path) -> None:
    run("encrypt", doc, "--to", "central-office", "--as", "nghe-an", "--keys", pki.dir)
    result = run("decrypt", doc.with_name(doc.name + ".p7m"), "--as", "ha-noi", "--keys", pki.dir)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not addressed to any of your encryption certificates" in result.stderr
    assert "Traceback" not in result.stderr


def test_revoked_recipient_is_never_encrypted_to(run: Run, pki_copy: KeyStore, doc: Path) -> None:
    assert run("encrypt", doc, "--to", "ha-noi", "--keys", pki_copy.directory).returncode == 0
    doc.with_name(doc.name + ".p7m").unlink()
    assert run("keys", "revoke", "ha-noi", "--keys", pki_copy.directory).returncode == 0
    result = run("encrypt", doc, "--to", "ha-noi", "--keys", pki_copy.directory)
    assert result.returncode == 1
    assert "will not encrypt to ha-noi" in result.stderr and "is revoked" in result.stderr
    assert not doc.with_name(doc.name + ".p7m").exists()


@pytest.mark.parametrize("args, message", [
    (["decrypt", "nope.p7m", "--as", "ha-noi"], "no such file"),
    (["encrypt", "DOC", "--to", "no-such-body"], "no-such-body"),
    (["decrypt", "DOC", "--as", "ha-noi"], "not a valid CMS envelope"),
])
def test_bad_input_is_one_line(run: Run, pki: TestPKI, doc: Path, args: list[str], message: str) -> None:
    result = run(*[str(doc) if a == "DOC" else a for a in args], "--keys", pki.dir)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")
def test_openssl_both_ways(run: Run, pki: TestPKI, doc: Path, tmp_path: Path) -> None:
    # ours → openssl
    assert run("encrypt", doc, "--to", "central-office", "--keys", pki.dir).returncode == 0
    ours = subprocess.run(["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in",
                           doc.with_name(doc.name + ".p7m"), "-recip", pki.store.encryption_cert_path("central-office"),
                           "-inkey", pki.store.encryption_key_path("central-office")], capture_output=True)
    assert ours.returncode == 0 and ours.stdout == doc.read_bytes()
    # openssl → ours (unsigned content: decrypted, exit 3 says nothing was verified)
    theirs = tmp_path / "theirs.p7m"
    made = subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes256", "-in", doc, "-outform", "DER",
                           "-out", theirs, pki.store.encryption_cert_path("ha-noi")], capture_output=True)
    assert made.returncode == 0, made.stderr
    opened = run("decrypt", theirs, "--as", "ha-noi", "-o", tmp_path / "plain.txt", "--keys", pki.dir)
    assert opened.returncode == 3 and "no inner signature" in opened.stdout
    assert (tmp_path / "plain.txt").read_bytes() == doc.read_bytes()
