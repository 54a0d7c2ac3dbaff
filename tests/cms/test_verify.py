"""Validation of detached CMS signatures: every failure of the issue, reported with its reason."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from asn1crypto import cms

from exchange.cms import (
    DetachedSignature,
    Indication,
    MalformedSignatureError,
    Outcome,
    SubIndication,
    ValidationReport,
    Verifier,
    sign_detached,
)
from exchange.errors import InputFileError, MalformedError
from exchange.pki import Credential, KeyAlgorithm, KeyStore, RevokedEntry, build_crl
from exchange.pki.certificates import generate_key, issue_signing_certificate, load_certificate_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import TestPKI

DOCUMENT = "Quyết định số 260-QĐ/TW\nBan Bí thư Trung ương Đảng\n".encode()
ONE_SECOND = timedelta(seconds=1)
MiB = 1 << 20

CHECKS = [
    "format",
    "signing certificate",
    "algorithms",
    "message digest",
    "signature value",
    "signing time",
    "chain",
    "validity",
    "constraints",
    "revocation",  # the signer, from the issuing CA's CRL
    "revocation",  # the issuing CA, from the root's CRL
]


def _flip_signature_byte(signature: bytes) -> bytes:
    """The same CMS with one bit changed in the middle of the signer's signature value."""
    value = cms.ContentInfo.load(signature)["content"]["signer_infos"][0]["signature"].contents
    assert signature.count(value) == 1
    offset = signature.index(value) + len(value) // 2
    return signature[:offset] + bytes([signature[offset] ^ 0x01]) + signature[offset + 1 :]


def _without_certificates(signature: bytes) -> bytes:
    signed = cms.ContentInfo.load(signature)["content"]
    bare = cms.SignedData(
        {
            "version": signed["version"],
            "digest_algorithms": signed["digest_algorithms"],
            "encap_content_info": signed["encap_content_info"],
            "signer_infos": signed["signer_infos"],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": bare}).dump()


def _outcome(report: ValidationReport, name: str) -> Outcome:
    """The outcome of the check *name* (the first, for the signer's own revocation check)."""
    return next(c for c in report.checks if c.name == name).outcome


def _verify(
    pki: TestPKI,
    credential: Credential,
    *,
    signed_at: datetime,
    at: datetime,
    verifier: Verifier | None = None,
) -> ValidationReport:
    signature = sign_detached(DOCUMENT, credential, at=signed_at)
    return (verifier or pki.verifier()).verify(DOCUMENT, signature, at=at)


# -- TOTAL_PASSED ----------------------------------------------------------------------------


def test_a_good_signature_passes_every_check(pki: TestPKI) -> None:
    report = _verify(pki, pki.signer, signed_at=pki.created, at=pki.created + timedelta(minutes=5))
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.sub_indication is None
    assert [c.name for c in report.checks] == CHECKS
    assert all(c.outcome is Outcome.PASSED for c in report.checks)
    assert report.signer is not None
    assert report.signer.body_id == "central-office"
    assert report.signer.name == "Văn phòng Trung ương Đảng"
    assert report.signer.certificate.serial == f"{pki.signer.certificate.serial_number:x}"
    assert report.signing_time == pki.created.isoformat().replace("+00:00", "Z")
    assert report.document_sha256 == hashlib.sha256(DOCUMENT).hexdigest()
    assert (report.digest_algorithm, report.signature_algorithm) == ("sha256", "sha256_rsa")
    assert [c.subject for c in report.chain] == [
        pki.store.issuing_ca().certificate.subject.rfc4514_string(),
        pki.store.root().subject.rfc4514_string(),
    ]
    assert report.revocation_checked
    assert report.warnings == ()


def test_the_report_as_a_dict_is_dataclasses_asdict_plus_the_summary(pki: TestPKI) -> None:
    # to_dict is written out for speed (the hub stores a report per document); it must stay
    # exactly what dataclasses.asdict gives.
    for report in (_verify(pki, pki.signer, signed_at=pki.created, at=pki.created + timedelta(minutes=5)),
                   _verify(pki, pki.signer, signed_at=pki.created, at=pki.created - timedelta(days=1))):
        assert report.to_dict() == {**dataclasses.asdict(report), "summary": report.summary()}
        assert list(report.to_dict()) == [*dataclasses.asdict(report), "summary"]


def test_ecdsa_signature_passes(ecdsa_store: KeyStore, pki: TestPKI) -> None:
    verifier = Verifier(paths=ecdsa_store.path_validator())
    report = _verify(
        pki,
        ecdsa_store.credential("nghe-an"),
        signed_at=pki.created,
        at=pki.created,
        verifier=verifier,
    )
    assert report.indication is Indication.TOTAL_PASSED, report.summary()


def test_from_ca_file_with_crl_files(pki: TestPKI) -> None:
    verifier = Verifier.from_ca_file(
        pki.store.root_path, crl_files=pki.store.crl_paths, require_revocation=True
    )
    report = _verify(pki, pki.signer, signed_at=pki.created, at=pki.created, verifier=verifier)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.revocation_checked


def test_an_empty_document_signs_and_verifies(pki: TestPKI, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    signature = sign_detached(empty, pki.signer, at=pki.created)
    report = pki.verifier().verify(empty, signature, at=pki.created)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.document_sha256 == hashlib.sha256(b"").hexdigest()
    assert (
        pki.verifier().verify(b"\0", signature, at=pki.created).sub_indication
        is SubIndication.HASH_FAILURE
    )


def test_a_50_mib_document_streams_in_flat_memory(pki: TestPKI, tmp_path: Path) -> None:
    big = tmp_path / "Hồ sơ lưu trữ 50 MiB.bin"
    chunk = bytes(range(256)) * (MiB // 256)
    with big.open("wb") as out:
        for _ in range(50):
            out.write(chunk)
    del chunk
    verifier = pki.verifier()
    tracemalloc.start()
    try:
        signature = sign_detached(big, pki.signer, at=pki.created)
        report = verifier.verify(big, signature, at=pki.created)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB for a 50 MiB document"


# -- TOTAL_FAILED: the document, the signature value, the format ---------------------------


def test_an_altered_document_is_a_hash_failure(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    report = pki.verifier().verify(DOCUMENT.replace(b"260", b"261"), signature, at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.HASH_FAILURE
    assert _outcome(report, "message digest") is Outcome.FAILED
    # the signature over the attributes is intact: only the document changed
    assert _outcome(report, "signature value") is Outcome.PASSED
    assert report.signer is not None and report.signer.body_id == "central-office"


@pytest.mark.parametrize("algorithm", ["rsa", "ecdsa"])
def test_an_altered_signature_value_is_a_crypto_failure(
    pki: TestPKI, ecdsa_store: KeyStore, algorithm: str
) -> None:
    store = pki.store if algorithm == "rsa" else ecdsa_store
    signature = sign_detached(DOCUMENT, store.credential("da-nang"), at=pki.created)
    report = Verifier(paths=store.path_validator()).verify(
        DOCUMENT, _flip_signature_byte(signature), at=pki.created
    )
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    assert _outcome(report, "message digest") is Outcome.PASSED
    assert _outcome(report, "signature value") is Outcome.FAILED


def test_a_signature_by_another_key_is_a_crypto_failure(pki: TestPKI) -> None:
    # the signer's certificate, but another body's key
    impostor = Credential(
        pki.signer.certificate, pki.store.credential("ha-noi").private_key, pki.signer.chain
    )
    report = _verify(pki, impostor, signed_at=pki.created, at=pki.created)
    assert report.sub_indication is SubIndication.SIG_CRYPTO_FAILURE


def test_a_refused_digest_algorithm_is_a_crypto_constraint_not_a_hash_failure(pki: TestPKI) -> None:
    info = cms.ContentInfo.load(sign_detached(DOCUMENT, pki.signer, at=pki.created))
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "md5"}
    report = pki.verifier().verify(DOCUMENT, info.dump(force=True), at=pki.created)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
    assert "md5 is not accepted" in report.reason
    assert _outcome(report, "message digest") is Outcome.SKIPPED
    assert _outcome(report, "signature value") is Outcome.SKIPPED


def _not_signed_data() -> bytes:
    return cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda sig: b"", "empty"),
        (lambda sig: b"Hello, this is not CMS", "not a valid CMS"),
        (lambda sig: sig[: len(sig) // 2], "not a valid CMS"),
        (lambda sig: sig[:-1], "not a valid CMS"),
        (lambda sig: sig + b"\0", "not a valid CMS"),
        (lambda sig: b"\x30\x80" + sig[2:], "not a valid CMS"),
        (lambda sig: _not_signed_data(), "not signed_data"),
    ],
    ids=[
        "empty",
        "text",
        "truncated-half",
        "truncated-1",
        "trailing-byte",
        "bad-length",
        "not-signed-data",
    ],
)
def test_not_cms_is_a_format_failure(
    pki: TestPKI, mangle: Callable[[bytes], bytes], message: str
) -> None:
    signature = mangle(sign_detached(DOCUMENT, pki.signer, at=pki.created))
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert message in report.reason
    assert report.signer is None
    assert report.document_sha256 == hashlib.sha256(DOCUMENT).hexdigest()
    with pytest.raises(MalformedSignatureError):
        DetachedSignature.from_der(signature)


def test_a_certificate_is_not_a_signature(pki: TestPKI) -> None:
    pem = pki.store.cert_path("ha-noi").read_bytes()
    report = pki.verifier().verify(DOCUMENT, pem, at=pki.created)
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert issubclass(MalformedSignatureError, MalformedError)


def test_more_than_one_signer_is_a_format_failure(pki: TestPKI) -> None:
    # Only one signer would be checked: accepting the others unchecked would mislead an auditor.
    first = cms.ContentInfo.load(sign_detached(DOCUMENT, pki.signer, at=pki.created))["content"]
    second = cms.ContentInfo.load(
        sign_detached(DOCUMENT, pki.store.credential("ha-noi"), at=pki.created)
    )["content"]
    both = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": first["digest_algorithms"],
            "encap_content_info": first["encap_content_info"],
            "certificates": [*first["certificates"], second["certificates"][0]],
            "signer_infos": [first["signer_infos"][0], second["signer_infos"][0]],
        }
    )
    signature = cms.ContentInfo({"content_type": "signed_data", "content": both}).dump()
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "2 signers" in report.reason


def test_a_signature_without_its_certificate(pki: TestPKI) -> None:
    signature = _without_certificates(sign_detached(DOCUMENT, pki.signer, at=pki.created))
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_SIGNING_CERTIFICATE_FOUND


# -- the signer's certificate ----------------------------------------------------------------


def test_a_foreign_root_is_no_certificate_chain(pki: TestPKI) -> None:
    report = _verify(pki, pki.foreign, signed_at=pki.created, at=pki.created)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert _outcome(report, "signature value") is Outcome.PASSED
    # the same signature passes for whoever trusts that root
    trusting = pki.verifier(trust_anchors=[pki.foreign_root], crls=[], require_revocation=False)
    assert (
        _verify(
            pki, pki.foreign, signed_at=pki.created, at=pki.created, verifier=trusting
        ).indication
        is Indication.TOTAL_PASSED
    )


def test_revoked_before_signing_is_total_failed(pki: TestPKI) -> None:
    report = _verify(
        pki,
        pki.revoked,
        signed_at=pki.revoked_at + timedelta(hours=1),
        at=pki.revoked_at + timedelta(hours=2),
    )
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.REVOKED
    assert _outcome(report, "revocation") is Outcome.FAILED
    assert "revoked at" in report.reason


def test_verifiers_sharing_a_path_validator_agree_on_a_revoked_signer(pki: TestPKI) -> None:
    # Regression: each verifier parses its own certificate objects, while the path cache they
    # share is keyed by certificate equality. The second verifier's leaf used to be told from
    # a CA by identity (``cert is leaf``), so it lost the revocation entry: a signature made
    # after the revocation came out INDETERMINATE/REVOKED_NO_POE instead of TOTAL_FAILED.
    paths = pki.verifier().paths
    signature = sign_detached(DOCUMENT, pki.revoked, at=pki.revoked_at + timedelta(hours=1))
    at = pki.revoked_at + timedelta(hours=2)
    for verifier in (Verifier(paths=paths), Verifier(paths=paths)):
        report = verifier.verify(DOCUMENT, signature, at=at)
        assert report.indication is Indication.TOTAL_FAILED, report.summary()
        assert report.sub_indication is SubIndication.REVOKED
        assert report.revocation_checked


def test_signed_before_revocation_validated_after_is_revoked_no_poe(pki: TestPKI) -> None:
    report = _verify(
        pki,
        pki.revoked,
        signed_at=pki.revoked_at - timedelta(minutes=30),
        at=pki.revoked_at + timedelta(hours=2),
    )
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.REVOKED_NO_POE


def test_validated_before_the_revocation_passes(pki: TestPKI) -> None:
    report = _verify(pki, pki.revoked, signed_at=pki.created, at=pki.revoked_at - ONE_SECOND)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()


def test_expired_at_validation_time_is_out_of_bounds_no_poe(pki: TestPKI) -> None:
    signed_at = pki.expired.certificate.not_valid_before_utc + timedelta(days=1)
    report = _verify(pki, pki.expired, signed_at=signed_at, at=pki.created)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    assert _outcome(report, "signing time") is Outcome.PASSED
    assert _outcome(report, "validity") is Outcome.FAILED


def test_expiry_is_exact_to_the_second(pki: TestPKI) -> None:
    not_after = pki.signer.certificate.not_valid_after_utc
    verifier = pki.verifier(crls=pki.crls_at(not_after - timedelta(days=1)))
    before = _verify(pki, pki.signer, signed_at=pki.created, at=not_after - ONE_SECOND, verifier=verifier)
    assert before.indication is Indication.TOTAL_PASSED, before.summary()
    after = _verify(pki, pki.signer, signed_at=pki.created, at=not_after + ONE_SECOND, verifier=verifier)
    assert after.indication is Indication.INDETERMINATE
    assert after.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE


def test_signed_after_expiry_is_total_failed_expired(pki: TestPKI) -> None:
    report = _verify(pki, pki.expired, signed_at=pki.created, at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.EXPIRED


def test_not_yet_valid_is_total_failed(pki: TestPKI) -> None:
    report = _verify(pki, pki.not_yet_valid, signed_at=pki.created, at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.NOT_YET_VALID


def test_lacking_signing_key_usage_is_a_chain_constraints_failure(pki: TestPKI) -> None:
    report = _verify(pki, pki.no_signing_usage, signed_at=pki.created, at=pki.created)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert "digitalSignature" in report.reason


# -- revocation data -------------------------------------------------------------------------


def test_a_crl_is_enforced_without_a_distribution_point(pki: TestPKI) -> None:
    issuing = pki.store.issuing_ca()
    key = generate_key(KeyAlgorithm.ECDSA_P256)
    cert = issue_signing_certificate(
        key,
        issuer=issuing,
        body_id="no-cdp",
        name_vi="Không có điểm CRL",
        not_before=pki.created - timedelta(days=1),
        crl_url=None,
    )
    crl = build_crl(
        issuing,
        [RevokedEntry(cert.serial_number, pki.created - timedelta(hours=1))],
        at=pki.created - timedelta(hours=1),
    )
    report = _verify(
        pki,
        Credential(cert, key, (issuing.certificate,)),
        signed_at=pki.created,
        at=pki.created,
        verifier=pki.verifier(crls=[crl]),
    )
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.REVOKED


def test_required_revocation_without_a_crl_is_try_later(pki: TestPKI) -> None:
    report = _verify(
        pki,
        pki.signer,
        signed_at=pki.created,
        at=pki.created,
        verifier=pki.verifier(crls=[], require_revocation=True),
    )
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.TRY_LATER


def test_optional_revocation_without_a_crl_passes_with_a_warning(pki: TestPKI) -> None:
    report = _verify(
        pki,
        pki.signer,
        signed_at=pki.created,
        at=pki.created,
        verifier=pki.verifier(crls=[], require_revocation=False),
    )
    assert report.indication is Indication.TOTAL_PASSED
    assert _outcome(report, "revocation") is Outcome.SKIPPED
    assert not report.revocation_checked
    assert any("revocation not checked" in w for w in report.warnings)


def test_a_crl_signed_by_the_wrong_ca_is_ignored(pki: TestPKI) -> None:
    # same issuer name as ours, different key: it must neither revoke nor vouch
    forged = build_crl(
        pki.foreign_issuing,
        [RevokedEntry(pki.signer.certificate.serial_number, pki.created)],
        at=pki.created,
    )
    optional = _verify(
        pki,
        pki.signer,
        signed_at=pki.created,
        at=pki.created + ONE_SECOND,
        verifier=pki.verifier(crls=[forged], require_revocation=False),
    )
    assert optional.indication is Indication.TOTAL_PASSED
    assert not optional.revocation_checked and optional.warnings
    required = _verify(
        pki,
        pki.signer,
        signed_at=pki.created,
        at=pki.created + ONE_SECOND,
        verifier=pki.verifier(crls=[forged]),
    )
    assert required.sub_indication is SubIndication.TRY_LATER
    with_real = _verify(
        pki,
        pki.signer,
        signed_at=pki.created,
        at=pki.created + ONE_SECOND,
        verifier=pki.verifier(crls=[forged, *pki.store.crls()]),
    )
    assert with_real.indication is Indication.TOTAL_PASSED and with_real.revocation_checked


# -- the report ------------------------------------------------------------------------------


def test_signing_time_after_validation_time_is_a_warning(pki: TestPKI) -> None:
    report = _verify(pki, pki.signer, signed_at=pki.created + timedelta(hours=1), at=pki.created)
    assert report.indication is Indication.TOTAL_PASSED
    assert any("after the validation time" in w for w in report.warnings)


@pytest.mark.parametrize("case", ["passed", "revoked", "format"])
def test_report_round_trips_through_json(pki: TestPKI, case: str) -> None:
    if case == "format":
        report = pki.verifier().verify(DOCUMENT, b"junk", at=pki.created)
    else:
        actor = pki.signer if case == "passed" else pki.revoked
        report = _verify(
            pki, actor, signed_at=pki.revoked_at + ONE_SECOND, at=pki.revoked_at + ONE_SECOND
        )
    data = json.loads(report.to_json())
    assert data["indication"] == report.indication.value
    assert data["summary"] == report.summary()
    assert ValidationReport.from_dict(data) == report


def test_summary_says_why(pki: TestPKI) -> None:
    passed = _verify(pki, pki.signer, signed_at=pki.created, at=pki.created)
    assert passed.summary().startswith("TOTAL_PASSED — signed by central-office at ")
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    altered = pki.verifier().verify(DOCUMENT + b".", signature, at=pki.created)
    assert altered.summary() == (
        "TOTAL_FAILED / HASH_FAILURE: the document's digest differs from the signed one: "
        "the document was altered after signing — signed by central-office"
    )
    revoked = _verify(
        pki, pki.revoked, signed_at=pki.revoked_at + ONE_SECOND, at=pki.revoked_at + ONE_SECOND
    )
    assert revoked.summary().startswith("TOTAL_FAILED / REVOKED: ")
    assert "revoked at" in revoked.summary() and revoked.summary().endswith(
        "signed by revoked-body"
    )


def test_times_are_reported_in_utc(pki: TestPKI) -> None:
    ict = timezone(timedelta(hours=7), "ICT")
    report = _verify(
        pki,
        pki.signer,
        signed_at=pki.created.astimezone(ict),
        at=pki.created.astimezone(ict) + ONE_SECOND,
    )
    assert report.validation_time == (pki.created + ONE_SECOND).isoformat().replace("+00:00", "Z")
    assert report.signing_time == pki.created.isoformat().replace("+00:00", "Z")
    assert all("+07:00" not in c.detail for c in report.checks)


def test_every_sub_indication_is_explained() -> None:
    for sub in SubIndication:
        assert sub.explanation


# -- usage errors are raised, not reported ---------------------------------------------------


def test_a_missing_document_is_an_input_error(pki: TestPKI, tmp_path: Path) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    with pytest.raises(InputFileError, match="no such file"):
        pki.verifier().verify(tmp_path / "missing.pdf", signature, at=pki.created)
    with pytest.raises(InputFileError, match="directory"):
        pki.verifier().verify(tmp_path, signature, at=pki.created)


def test_validation_time_must_be_timezone_aware(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.verifier().verify(DOCUMENT, signature, at=pki.created.replace(tzinfo=None))


def test_the_signer_file_in_the_pki_is_the_signer(pki: TestPKI) -> None:
    assert load_certificate_file(pki.store.cert_path("central-office")) == [pki.signer.certificate]
