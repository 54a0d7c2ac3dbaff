"""Interoperability with ``openssl cms``, both ways: it accepts ours, we judge its own."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from asn1crypto import cms

from exchange.cms import Indication, Outcome, SubIndication, Verifier, sign_detached

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import TestPKI

    from exchange.pki import KeyStore

    from cms.conftest import BoundaryPKI

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")

CONTENTS = {
    "crlf-and-non-utf8": "Công văn số 7\r\nKính gửi: Tỉnh ủy Nghệ An\r\n".encode()
    + b"\xff\xfe\x00\x80\r\n",
    "empty": b"",
    "lf-text": "Thông báo\nHội nghị trực tuyến\n".encode(),
}


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


def _document(tmp_path: Path, data: bytes) -> Path:
    # a Vietnamese file name with spaces, as clerks name them
    path = tmp_path / "Công văn số 7 (bản chính).txt"
    path.write_bytes(data)
    return path


def _openssl_verify(
    store: KeyStore, document: Path, signature: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        signature,
        "-content",
        document,
        "-CAfile",
        store.root_path,
        "-purpose",
        "any",
        "-out",
        "/dev/null",
        *extra,
    )


def _openssl_sign(
    store: KeyStore, body_id: str, document: Path, signature: Path, *extra: str | Path
) -> None:
    result = openssl(
        "cms",
        "-sign",
        "-binary",
        "-outform",
        "DER",
        "-signer",
        store.cert_path(body_id),
        "-inkey",
        store.key_path(body_id),
        "-certfile",
        store.directory / "issuing-ca.pem",
        "-in",
        document,
        "-out",
        signature,
        *extra,
    )
    assert result.returncode == 0, result.stderr


def _store(pki: TestPKI, ecdsa_store: KeyStore, algorithm: str) -> KeyStore:
    return pki.store if algorithm == "rsa" else ecdsa_store


# -- openssl accepts our signatures ----------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa", "ecdsa"])
@pytest.mark.parametrize("content", list(CONTENTS))
def test_openssl_verifies_our_signature(
    pki: TestPKI, ecdsa_store: KeyStore, tmp_path: Path, algorithm: str, content: str
) -> None:
    store = _store(pki, ecdsa_store, algorithm)
    document = _document(tmp_path, CONTENTS[content])
    signature = tmp_path / "doc.p7s"
    # openssl checks validity against the real clock: pki.created is the session's "now"
    signature.write_bytes(sign_detached(document, store.credential("nghe-an"), at=pki.created))
    result = _openssl_verify(store, document, signature)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_openssl_rejects_our_signature_over_an_altered_file(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["crlf-and-non-utf8"])
    signature = tmp_path / "doc.p7s"
    signature.write_bytes(sign_detached(document, pki.signer, at=pki.created))
    # the same text with LF line endings: the bytes differ, so must the verdict
    document.write_bytes(CONTENTS["crlf-and-non-utf8"].replace(b"\r\n", b"\n"))
    result = _openssl_verify(pki.store, document, signature)
    assert result.returncode != 0
    assert "content verify error" in result.stderr


def test_openssl_checks_our_crl(ecdsa_store: KeyStore, pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    signature.write_bytes(sign_detached(document, ecdsa_store.credential("ha-noi"), at=pki.created))
    # `openssl cms` takes CRLs from the CA file
    ca_and_crl = tmp_path / "root-and-crl.pem"
    ca_and_crl.write_bytes(ecdsa_store.root_path.read_bytes() + ecdsa_store.crl_path.read_bytes())
    result = openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        signature,
        "-content",
        document,
        "-CAfile",
        ca_and_crl,
        "-purpose",
        "any",
        "-crl_check",
        "-out",
        "/dev/null",
    )
    assert result.returncode == 0, result.stderr


def test_openssl_refuses_a_foreign_root(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    signature.write_bytes(sign_detached(document, pki.foreign, at=pki.created))
    result = _openssl_verify(pki.store, document, signature)
    assert result.returncode != 0
    assert "certificate verify error" in result.stderr


# -- our verifier judges openssl's signatures ------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "options"),
    [
        ("rsa", ()),
        ("rsa", ("-cades",)),
        ("rsa", ("-keyid",)),
        ("ecdsa", ()),
        ("ecdsa", ("-noattr",)),
    ],
    ids=["rsa", "rsa-cades", "rsa-keyid", "ecdsa", "ecdsa-noattr"],
)
@pytest.mark.parametrize("content", ["crlf-and-non-utf8", "empty"])
def test_we_verify_openssl_signatures(
    pki: TestPKI,
    ecdsa_store: KeyStore,
    tmp_path: Path,
    algorithm: str,
    options: tuple[str, ...],
    content: str,
) -> None:
    store = _store(pki, ecdsa_store, algorithm)
    document = _document(tmp_path, CONTENTS[content])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(store, "da-nang", document, signature, *options)
    verifier = Verifier(paths=store.path_validator())
    # openssl stamps the real time; a day after the PKI was made is later than that
    at = pki.created + timedelta(days=1)
    report = verifier.verify(document, signature.read_bytes(), at=at)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.signer is not None and report.signer.body_id == "da-nang"
    assert report.revocation_checked

    document.write_bytes(CONTENTS[content] + b" ")
    altered = verifier.verify(document, signature.read_bytes(), at=at)
    assert altered.indication is Indication.TOTAL_FAILED
    if "-noattr" in options:
        # without signed attributes the signature covers the content digest itself
        assert altered.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    else:
        assert altered.sub_indication is SubIndication.HASH_FAILURE


def test_an_openssl_signature_with_noattr_over_rsa(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(pki.store, "central-office", document, signature, "-noattr")
    report = pki.verifier().verify(
        document, signature.read_bytes(), at=pki.created + timedelta(days=1)
    )
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.signing_time is None
    assert [c.outcome for c in report.checks if c.name in ("message digest", "signing time")] == [
        Outcome.SKIPPED,
        Outcome.SKIPPED,
    ]


def test_an_openssl_signature_by_a_revoked_body(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(pki.store, "revoked-body", document, signature)
    # openssl's signing time (the real clock) precedes the revocation, which takes effect an
    # hour after the PKI was made: it is INDETERMINATE, never TOTAL_FAILED
    report = pki.verifier().verify(
        document, signature.read_bytes(), at=pki.revoked_at + timedelta(days=1)
    )
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.REVOKED_NO_POE


def test_an_openssl_sha1_signature_is_refused_by_policy(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(pki.store, "central-office", document, signature, "-md", "sha1")
    report = pki.verifier().verify(
        document, signature.read_bytes(), at=pki.created + timedelta(days=1)
    )
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
    assert "sha1 is not accepted" in report.reason


def test_an_openssl_signature_without_certificates(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(pki.store, "central-office", document, signature, "-nocerts")
    report = pki.verifier().verify(
        document, signature.read_bytes(), at=pki.created + timedelta(days=1)
    )
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_SIGNING_CERTIFICATE_FOUND


def test_an_openssl_signature_by_two_signers_is_refused(pki: TestPKI, tmp_path: Path) -> None:
    document = _document(tmp_path, CONTENTS["lf-text"])
    signature = tmp_path / "doc.p7s"
    _openssl_sign(
        pki.store,
        "central-office",
        document,
        signature,
        "-signer",
        pki.store.cert_path("ha-noi"),
        "-inkey",
        pki.store.key_path("ha-noi"),
    )
    report = pki.verifier().verify(
        document, signature.read_bytes(), at=pki.created + timedelta(days=1)
    )
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "2 signers" in report.reason


# -- openssl accepts every encoding our templates produce --------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa", "ecdsa"])
@pytest.mark.parametrize("offset", [-1, 0], ids=["2049-utc-time", "2050-generalized-time"])
def test_openssl_verifies_our_signatures_either_side_of_2050(
    boundary_pki: BoundaryPKI, tmp_path: Path, algorithm: str, offset: int
) -> None:
    # signing-time is UTCTime up to 2049 and GeneralizedTime from 2050 (RFC 5652 §11.3):
    # the attribute changes length, so the signed attributes are encoded from another template
    store = boundary_pki.store(algorithm)
    document = _document(tmp_path, CONTENTS["crlf-and-non-utf8"])
    signature = tmp_path / "doc.p7s"
    at = boundary_pki.boundary + timedelta(seconds=offset)
    signature.write_bytes(sign_detached(document, store.credential(boundary_pki.body_id), at=at))
    checked_at = boundary_pki.boundary + timedelta(hours=1)
    result = _openssl_verify(store, document, signature, "-attime", str(int(checked_at.timestamp())))
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_openssl_verifies_ecdsa_signatures_of_every_length(
    pki: TestPKI, ecdsa_store: KeyStore, tmp_path: Path
) -> None:
    # an ECDSA value's DER is 70 to 72 bytes: each length changes every enclosing length
    document = _document(tmp_path, CONTENTS["lf-text"])
    credential = ecdsa_store.credential("nghe-an")
    by_length: dict[int, bytes] = {}
    for _ in range(40):
        der = sign_detached(document, credential, at=pki.created)
        value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
        by_length.setdefault(len(value), der)
    assert len(by_length) > 1
    for length, der in sorted(by_length.items()):
        signature = tmp_path / f"doc-{length}.p7s"
        signature.write_bytes(der)
        result = _openssl_verify(ecdsa_store, document, signature)
        assert result.returncode == 0, f"{length}-byte signature value: {result.stderr}"
