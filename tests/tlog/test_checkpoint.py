"""Signed checkpoints: the C2SP text form, the signed note, and the detached CMS judged by
openssl both ways (it accepts ours; we accept one it made with the hub's key)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from exchange.audit.verify import check_signed_checkpoint
from exchange.cms import Indication
from exchange.pki import KeyStore
from exchange.tlog import (
    Checkpoint,
    MalformedCheckpointError,
    SignedCheckpoint,
    note_signature_valid,
)

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")

ROOT = hashlib.sha256(b"a root").digest()


def _openssl(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False)


def test_the_text_is_the_c2sp_form() -> None:
    checkpoint = Checkpoint("hub.example/log", 42, ROOT)
    assert checkpoint.text() == b"hub.example/log\n42\n" + base64.b64encode(ROOT) + b"\n"
    assert Checkpoint.from_text(checkpoint.text()) == checkpoint
    assert Checkpoint.from_text(checkpoint.text() + b"extension line\n") == checkpoint


@pytest.mark.parametrize("text", [b"", b"origin\n12\n", b"has space\n1\n" + base64.b64encode(ROOT) + b"\n",
                                  b"o\n012\n" + base64.b64encode(ROOT) + b"\n", b"o\n1\nnot-base64\n",
                                  b"o\n1\n" + base64.b64encode(b"short") + b"\n", b"\xff\n1\n"])
def test_a_malformed_checkpoint_says_so(text: bytes) -> None:
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.from_text(text)


@pytest.mark.parametrize("algorithm", ["rsa", "ecdsa"])
def test_openssl_verifies_the_checkpoint_cms_and_the_note_checks(pki, ecdsa_store, tmp_path, algorithm) -> None:
    store: KeyStore = pki.store if algorithm == "rsa" else ecdsa_store
    hub = store.hub_credential()
    signed = SignedCheckpoint.sign(Checkpoint("hub.example/log", 7, ROOT), hub, at=pki.created + timedelta(hours=2))
    (tmp_path / "cp.txt").write_bytes(signed.checkpoint.text())
    (tmp_path / "cp.p7s").write_bytes(signed.cms)
    done = _openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", "cp.p7s", "-content", "cp.txt",
                    "-CAfile", store.root_path, "-purpose", "any", "-out", "/dev/null", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # the note: text, blank line, one signature line "— origin base64(keyid || sig)"
    text, sep, line = signed.note.partition(b"\n\n")
    assert sep and line.startswith("\u2014 hub.example/log ".encode())
    spki = hub.certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = hashlib.sha256(b"hub.example/log\n\xffx509-sha256" + spki).digest()[:4]
    assert base64.b64decode(line.split(b" ")[2])[:4] == key_id
    assert note_signature_valid(signed, hub.certificate)
    assert not note_signature_valid(signed, store.credential("ha-noi").certificate)  # another key
    forged = SignedCheckpoint(Checkpoint("hub.example/log", 8, ROOT), signed.note.replace(b"\n7\n", b"\n8\n"),
                              signed.cms)
    assert not note_signature_valid(forged, hub.certificate)


def test_a_checkpoint_cms_made_by_openssl_with_the_hubs_key_is_accepted(pki, tmp_path) -> None:
    store = pki.store
    hub = store.hub_credential()
    ours = SignedCheckpoint.sign(Checkpoint("hub.example/log", 3, ROOT), hub, at=pki.created + timedelta(hours=2))
    (tmp_path / "cp.txt").write_bytes(ours.checkpoint.text())
    done = _openssl("cms", "-sign", "-binary", "-in", "cp.txt", "-signer", store.directory / "hub.pem",
                    "-inkey", store.directory / "hub.key", "-certfile", store.directory / "issuing-ca.pem",
                    "-outform", "DER", "-out", "theirs.p7s", "-md", "sha256", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    theirs = SignedCheckpoint(ours.checkpoint, ours.note, (tmp_path / "theirs.p7s").read_bytes())
    verdict = check_signed_checkpoint(theirs, pki.verifier())
    assert verdict.indication is Indication.TOTAL_PASSED, verdict.summary()


def test_a_checkpoint_signed_by_a_body_is_not_the_hubs(pki) -> None:
    body = pki.store.credential("ha-noi")
    signed = SignedCheckpoint.sign(Checkpoint("hub.example/log", 3, ROOT), body, at=pki.created + timedelta(hours=2))
    verdict = check_signed_checkpoint(signed, pki.verifier())
    assert verdict.indication is Indication.TOTAL_FAILED
    assert "signed by ha-noi, not by the hub" in verdict.summary()
