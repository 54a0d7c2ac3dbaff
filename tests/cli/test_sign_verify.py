"""``exchange sign`` / ``exchange verify``: outputs, exit statuses and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.cms import TimeStampAuthority, sign_detached
from exchange.pki import Credential, KeyAlgorithm
from exchange.pki.certificates import certificate_pem, generate_key, issue_tsa_certificate
from tests.cli.conftest import Run
from tests.conftest import TestPKI


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "Báo cáo 6 tháng đầu năm.txt"  # diacritics and spaces in the name
    path.write_bytes("Tỉnh ủy Nghệ An báo cáo\r\n".encode() * 100)
    return path


def test_sign_then_verify_passes_with_json_report(run: Run, pki: TestPKI, doc: Path) -> None:
    signed = run("sign", doc, "--as", "nghe-an", "--keys", pki.dir)
    assert signed.returncode == 0, signed.stderr
    assert doc.with_name(doc.name + ".p7s").is_file()
    verified = run("verify", doc, "--keys", pki.dir, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["indication"] == "TOTAL_PASSED" and report["sub_indication"] is None
    assert report["signer"]["body_id"] == "nghe-an"
    assert report["signer"]["name"] == "Tỉnh ủy Nghệ An"
    assert report["signing_time"]
    assert report["revocation_checked"] is True


def test_altered_document_exit_1_and_says_why(run: Run, pki: TestPKI, doc: Path) -> None:
    run("sign", doc, "--as", "nghe-an", "--keys", pki.dir)
    doc.write_bytes(doc.read_bytes() + b"!")
    result = run("verify", doc, "--keys", pki.dir)
    assert result.returncode == 1
    assert "TOTAL_FAILED / HASH_FAILURE" in result.stdout
    assert "altered" in result.stdout


def test_untrusted_root_is_indeterminate_exit_3(run: Run, pki: TestPKI, doc: Path, tmp_path: Path) -> None:
    run("sign", doc, "--as", "nghe-an", "--keys", pki.dir)
    other = tmp_path / "other-root.pem"
    other.write_bytes(certificate_pem(pki.foreign_root))
    result = run("verify", doc, "--ca", other, "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_revoked_signer_with_explicit_crl(run: Run, pki_copy, pki: TestPKI, doc: Path) -> None:
    keys = pki_copy.directory
    run("sign", doc, "--as", "ha-noi", "--keys", keys)
    run("keys", "revoke", "ha-noi", "--dir", keys, "--bodies", pki.bodies_file)
    result = run("verify", doc, "--ca", keys / "root-ca.pem", "--crl", keys / "crl.pem", "--json")
    # signed a moment before the revocation: no proof it existed before → INDETERMINATE
    report = json.loads(result.stdout)
    assert report["sub_indication"] in ("REVOKED_NO_POE", "REVOKED")
    assert result.returncode in (1, 3)


def test_verify_at_a_time_after_expiry(run: Run, pki: TestPKI, doc: Path) -> None:
    run("sign", doc, "--as", "da-nang", "--keys", pki.dir)
    result = run("verify", doc, "--keys", pki.dir, "--at", "2040-01-01T00:00:00Z", "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["sub_indication"] == "OUT_OF_BOUNDS_NO_POE"


def test_zero_byte_document_signs_and_verifies(run: Run, pki: TestPKI, tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert run("sign", empty, "--as", "ha-noi", "--keys", pki.dir, "--output", tmp_path / "e.p7s").returncode == 0
    assert run("verify", empty, tmp_path / "e.p7s", "--keys", pki.dir).returncode == 0


@pytest.mark.parametrize("content", [b"", b"not a signature", b"\x30\x82\x05\x00\x06"])
def test_bad_signature_file_is_format_failure(run: Run, pki: TestPKI, doc: Path, tmp_path: Path,
                                              content: bytes) -> None:
    sig = tmp_path / "bad.p7s"
    sig.write_bytes(content)
    result = run("verify", doc, sig, "--keys", pki.dir, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["sub_indication"] == "FORMAT_FAILURE"


def test_bad_input_is_one_line_exit_2(run: Run, pki: TestPKI, doc: Path, tmp_path: Path) -> None:
    cases = [
        (("sign", tmp_path / "missing.txt", "--as", "ha-noi", "--keys", pki.dir), "no such file"),
        (("sign", tmp_path, "--as", "ha-noi", "--keys", pki.dir), "is a directory"),
        (("sign", doc, "--as", "atlantis", "--keys", pki.dir), "unknown body id"),
        (("verify", doc, "--keys", pki.dir), "no such file"),  # no .p7s yet
        (("verify", doc, doc, "--keys", pki.dir, "--at", "yesterday"), "ISO-8601"),
    ]
    for args, words in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and result.stderr.count("\n") == 1, (args, result.stderr)


def test_sign_timestamp_from_an_unreachable_tsa_is_one_line_exit_1(run: Run, pki: TestPKI, doc: Path) -> None:
    result = run("sign", doc, "--as", "nghe-an", "--keys", pki.dir, "--timestamp", "http://127.0.0.1:9/api/tsa")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the TSA at http://127.0.0.1:9/api/tsa")
    assert result.stderr.count("\n") == 1
    assert not doc.with_name(doc.name + ".p7s").exists()  # nothing half-done


def test_verify_trusts_several_roots_for_another_pkis_tsa(run: Run, pki: TestPKI, doc: Path, tmp_path: Path) -> None:
    key = generate_key(KeyAlgorithm.ECDSA_P256)
    now = datetime.now(UTC)
    cert = issue_tsa_certificate(key, issuer=pki.foreign_issuing, not_before=now - timedelta(minutes=5), crl_url=None)
    foreign_tsa = TimeStampAuthority(Credential(cert, key, (pki.foreign_issuing.certificate,)))
    doc.with_name(doc.name + ".p7s").write_bytes(
        foreign_tsa.stamp(sign_detached(doc, pki.store.credential("nghe-an"), at=now), at=now).signature)
    other = tmp_path / "other-root.pem"
    other.write_bytes(certificate_pem(pki.foreign_root))
    crls = [arg for path in pki.store.crl_paths for arg in ("--crl", str(path))]

    ours = json.loads(run("verify", doc, "--ca", pki.store.root_path, *crls, "--json").stdout)
    assert ours["indication"] == "TOTAL_PASSED" and ours["timestamp"]["passed"] is False
    both = json.loads(run("verify", doc, "--ca", pki.store.root_path, "--ca", other, *crls, "--json").stdout)
    assert both["timestamp"]["passed"] is True
    required = run("verify", doc, "--ca", pki.store.root_path, "--ca", other, *crls, "--require-revocation", "--json")
    assert json.loads(required.stdout)["timestamp"]["passed"] is False  # no CRL for the other PKI's TSA
