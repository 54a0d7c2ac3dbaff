"""Verdicts that stay true: signature time-stamps as proof of existence, stale CRLs, refused signers.

Every time is a parameter derived from the session PKI's ``created``: the signing time, the
token's time (``T``), the revocation, each CRL's issue and next update, and the validation.
A token's time is a whole second (the TSA rounds up), so boundaries are exact to the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from exchange.cms import (
    Indication,
    Outcome,
    SubIndication,
    TimeStampAuthority,
    ValidationReport,
    Verifier,
    add_timestamp,
    sign_detached,
)
from exchange.cms.tokens import signature_value, strip_timestamps
from exchange.pki import Credential, KeyAlgorithm, PathValidator, RevokedEntry, build_crl
from exchange.pki.certificates import generate_key, issue_tsa_certificate

if TYPE_CHECKING:
    from conftest import TestPKI

DOCUMENT = "Báo cáo 6 tháng đầu năm 2015 — Tỉnh ủy Nghệ An\n".encode()
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _crls(pki: TestPKI, *, at: datetime, revoked: list[RevokedEntry] | tuple[RevokedEntry, ...] = (),
          days: int = 7) -> list[x509.CertificateRevocationList]:
    """Both CRLs as the CA publishes them at *at*: the issuing CA's listing *revoked*, the root's."""
    life = timedelta(days=days)
    return [build_crl(pki.store.issuing_ca(), revoked, at=at, next_update=life),
            build_crl(pki.store.root_credential(), [], at=at, next_update=life)]


def _verifier(pki: TestPKI, crls: list[x509.CertificateRevocationList], *, require: bool = True,
              anchors: list[x509.Certificate] | None = None) -> Verifier:
    return Verifier(paths=PathValidator(trust_anchors=anchors or [pki.root], crls=crls,
                                        require_revocation=require))


def _signed(pki: TestPKI, tsa: TimeStampAuthority | None, *, signed_at: datetime,
            stamped_at: datetime | None = None, signer: Credential | None = None) -> bytes:
    signature = sign_detached(DOCUMENT, signer or pki.signer, at=signed_at)
    if tsa is None:
        return signature
    return tsa.stamp(signature, at=stamped_at or signed_at + SECOND).signature


def _check(report: ValidationReport, name: str) -> tuple[Outcome, str]:
    found = [c for c in report.checks if c.name == name]
    assert found, f"no {name!r} check in {[c.name for c in report.checks]}"
    return found[0].outcome, found[0].detail


def _revoked(pki: TestPKI, at: datetime, cert: x509.Certificate | None = None) -> RevokedEntry:
    return RevokedEntry((cert or pki.signer.certificate).serial_number, at)


# -- revoked after the signature existed -----------------------------------------------------


def test_revoked_after_the_time_stamp_is_total_passed_saying_why(pki: TestPKI, tsa) -> None:
    t = pki.created + timedelta(minutes=1)
    revoked_at = pki.created + timedelta(hours=1)
    signature = _signed(pki, tsa, signed_at=pki.created, stamped_at=t)
    verifier = _verifier(pki, _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at)]))

    report = verifier.verify(DOCUMENT, signature, at=revoked_at + timedelta(hours=1))

    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert _check(report, "revocation")[0] is Outcome.FAILED  # today's path: the signer is revoked
    assert _check(report, "signature time-stamp")[0] is Outcome.PASSED
    outcome, why = _check(report, "proof of existence")
    assert outcome is Outcome.PASSED
    assert "existed at" in why and "revoked at" in why and "since then" in why
    assert report.timestamp is not None and report.timestamp.passed
    assert report.timestamp.time == t.isoformat().replace("+00:00", "Z")
    assert "time-stamped" in report.summary()


def test_the_same_signature_without_its_token_stays_revoked_no_poe(pki: TestPKI, tsa) -> None:
    revoked_at = pki.created + timedelta(hours=1)
    signature = strip_timestamps(_signed(pki, tsa, signed_at=pki.created))
    report = _verifier(pki, _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at)])).verify(
        DOCUMENT, signature, at=revoked_at + timedelta(hours=1))
    assert (report.indication, report.sub_indication) == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)
    assert report.timestamp is None
    assert all(c.name != "proof of existence" for c in report.checks)


@pytest.mark.parametrize(("revoked_after_token", "expected"), [
    (-SECOND, (Indication.TOTAL_FAILED, SubIndication.REVOKED)),
    (timedelta(0), (Indication.TOTAL_FAILED, SubIndication.REVOKED)),  # at the token's second: not before it
    (SECOND, (Indication.TOTAL_PASSED, None)),
])
def test_revocation_against_the_token_time_is_exact_to_the_second(pki: TestPKI, tsa, revoked_after_token,
                                                                   expected) -> None:
    signed_at = pki.created
    t = pki.created + timedelta(minutes=10)
    revoked_at = t + revoked_after_token
    signature = _signed(pki, tsa, signed_at=signed_at, stamped_at=t)
    report = _verifier(pki, _crls(pki, at=t + DAY, revoked=[_revoked(pki, revoked_at)])).verify(
        DOCUMENT, signature, at=t + 2 * DAY)
    assert (report.indication, report.sub_indication) == expected, report.summary()
    if expected[0] is Indication.TOTAL_FAILED:
        outcome, why = _check(report, "proof of existence")
        assert outcome is Outcome.FAILED and "revoked at" in why


def test_revoked_before_the_claimed_signing_time_is_total_failed_token_or_not(pki: TestPKI, tsa) -> None:
    revoked_at = pki.created + timedelta(hours=1)
    signature = _signed(pki, tsa, signed_at=revoked_at + timedelta(minutes=1))
    report = _verifier(pki, _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at)])).verify(
        DOCUMENT, signature, at=revoked_at + timedelta(hours=1))
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


# -- expired after the signature existed -----------------------------------------------------


def test_a_day_after_expiry_a_time_stamped_signature_passes_and_a_bare_one_does_not(pki: TestPKI, tsa) -> None:
    not_after = pki.signer.certificate.not_valid_after_utc
    signature = _signed(pki, tsa, signed_at=pki.created)
    at = not_after + DAY
    verifier = _verifier(pki, _crls(pki, at=at - timedelta(hours=1)))  # the CA kept publishing its CRLs

    stamped = verifier.verify(DOCUMENT, signature, at=at)
    assert stamped.indication is Indication.TOTAL_PASSED, stamped.summary()
    assert "expired at" in _check(stamped, "proof of existence")[1]

    bare = verifier.verify(DOCUMENT, strip_timestamps(signature), at=at)
    assert (bare.indication, bare.sub_indication) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


@pytest.mark.parametrize(("offset", "needs_proof"), [(-SECOND, False), (timedelta(0), False), (SECOND, True)])
def test_expiry_against_the_validation_time_is_exact_to_the_second(pki: TestPKI, tsa, offset, needs_proof) -> None:
    not_after = pki.signer.certificate.not_valid_after_utc
    signature = _signed(pki, tsa, signed_at=pki.created)
    report = _verifier(pki, _crls(pki, at=not_after - DAY)).verify(DOCUMENT, signature, at=not_after + offset)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert any(c.name == "proof of existence" for c in report.checks) is needs_proof


def test_a_token_made_after_the_certificate_expired_proves_it_expired_first(pki: TestPKI, tsa) -> None:
    not_after = pki.signer.certificate.not_valid_after_utc
    signature = _signed(pki, tsa, signed_at=pki.created, stamped_at=not_after + SECOND)
    report = _verifier(pki, _crls(pki, at=not_after + DAY)).verify(DOCUMENT, signature, at=not_after + 2 * DAY)
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)
    assert "expired at" in _check(report, "proof of existence")[1]


# -- revocation data that must be current ----------------------------------------------------


@pytest.mark.parametrize(("after_next_update", "expected"), [
    (-SECOND, (Indication.TOTAL_PASSED, None)),
    (timedelta(0), (Indication.TOTAL_PASSED, None)),  # nextUpdate itself: still the current CRL
    (SECOND, (Indication.INDETERMINATE, SubIndication.TRY_LATER)),
])
def test_a_crl_past_its_next_update_is_no_evidence(pki: TestPKI, after_next_update, expected) -> None:
    issued = pki.created + timedelta(minutes=1)
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    verifier = _verifier(pki, _crls(pki, at=issued, days=7))
    for require in (True, False):  # a stale CRL given is no evidence, required or not
        verifier.paths.require_revocation = require
        report = verifier.verify(DOCUMENT, signature, at=issued + timedelta(days=7) + after_next_update)
        assert (report.indication, report.sub_indication) == expected, report.summary()
    if expected[0] is Indication.INDETERMINATE:
        assert "was due to be replaced" in report.reason
        assert not report.revocation_checked


def test_a_stale_crl_still_proves_a_revocation(pki: TestPKI) -> None:
    revoked_at = pki.created + timedelta(hours=1)
    signature = sign_detached(DOCUMENT, pki.signer, at=revoked_at + SECOND)
    report = _verifier(pki, _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at)])).verify(
        DOCUMENT, signature, at=revoked_at + timedelta(days=30))
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_a_token_within_the_crls_currency_outlives_it(pki: TestPKI, tsa) -> None:
    issued = pki.created + timedelta(minutes=1)
    verifier = _verifier(pki, _crls(pki, at=issued, days=7))
    inside = _signed(pki, tsa, signed_at=pki.created, stamped_at=issued + timedelta(days=3))
    report = verifier.verify(DOCUMENT, inside, at=issued + timedelta(days=30))
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert "no current revocation data" in _check(report, "proof of existence")[1]

    outside = _signed(pki, tsa, signed_at=pki.created, stamped_at=issued + timedelta(days=8))
    late = verifier.verify(DOCUMENT, outside, at=issued + timedelta(days=30))
    assert (late.indication, late.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)


def test_required_revocation_covers_the_issuing_ca_too(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    issuing_crl_only = [pki.store.crl()]
    required = _verifier(pki, issuing_crl_only).verify(DOCUMENT, signature, at=pki.created)
    assert (required.indication, required.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    assert "DEMO Party Bodies Issuing CA" in required.reason
    optional = _verifier(pki, issuing_crl_only, require=False).verify(DOCUMENT, signature, at=pki.created)
    assert optional.indication is Indication.TOTAL_PASSED
    assert [c.outcome for c in optional.checks if c.name == "revocation"] == [Outcome.PASSED, Outcome.SKIPPED]
    both = _verifier(pki, pki.store.crls()).verify(DOCUMENT, signature, at=pki.created)
    assert both.indication is Indication.TOTAL_PASSED


def test_a_revoked_issuing_ca_fails_the_path(pki: TestPKI, tsa) -> None:
    revoked_at = pki.created + timedelta(hours=1)
    issuing = pki.store.issuing_ca()
    crls = [build_crl(issuing, [], at=revoked_at),
            build_crl(pki.store.root_credential(), [_revoked(pki, revoked_at, issuing.certificate)], at=revoked_at)]
    signature = sign_detached(DOCUMENT, pki.signer, at=revoked_at + SECOND)
    report = _verifier(pki, crls).verify(DOCUMENT, signature, at=revoked_at + timedelta(hours=1))
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "DEMO Party Bodies Issuing CA" in report.reason


# -- only end-entity signing certificates sign ----------------------------------------------


@pytest.mark.parametrize("signer", ["issuing-ca", "root-ca"])
def test_a_document_signed_with_a_ca_key_is_a_chain_constraints_failure(pki: TestPKI, signer: str) -> None:
    ca = pki.store.issuing_ca() if signer == "issuing-ca" else pki.store.root_credential()
    signature = sign_detached(DOCUMENT, ca, at=pki.created)
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created)
    assert (report.indication, report.sub_indication) == (Indication.INDETERMINATE,
                                                          SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    assert "is a CA certificate" in report.reason
    assert _check(report, "signature value")[0] is Outcome.PASSED  # the chain is otherwise fine


def test_a_document_signed_with_the_tsa_key_is_refused(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.store.tsa_credential(), at=pki.created)
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created)
    assert report.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert "time-stamping authority" in report.reason


# -- tokens that prove nothing --------------------------------------------------------------


def _not_proof(report: ValidationReport, words: str) -> None:
    outcome, detail = _check(report, "signature time-stamp")
    assert outcome is Outcome.FAILED and words in detail, detail
    assert report.timestamp is not None and not report.timestamp.passed
    assert any("no proof of existence" in w for w in report.warnings)
    assert all(c.name != "proof of existence" for c in report.checks)


def _after_revocation(pki: TestPKI, signature: bytes, **kwargs) -> ValidationReport:  # type: ignore[no-untyped-def]
    revoked_at = pki.created + timedelta(hours=1)
    crls = kwargs.pop("crls", None) or _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at)])
    return _verifier(pki, crls, **kwargs).verify(DOCUMENT, signature, at=revoked_at + timedelta(hours=1))


def test_a_token_over_another_signature_proves_nothing(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    other = tsa.stamp(sign_detached(b"another document", pki.signer, at=pki.created), at=pki.created)
    report = _after_revocation(pki, add_timestamp(signature, other.token))
    assert report.sub_indication is SubIndication.REVOKED_NO_POE
    _not_proof(report, "dates other data")


def test_an_altered_token_proves_nothing(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    token = tsa.issue("sha256", _sha256(signature_value(signature)), at=pki.created + SECOND)
    # move the token's time an hour earlier: the TSTInfo no longer matches what the TSA signed
    when = (pki.created + SECOND).strftime("%Y%m%d%H%M%SZ").encode()
    earlier = (pki.created + SECOND - timedelta(hours=1)).strftime("%Y%m%d%H%M%SZ").encode()
    assert token.count(when) == 1
    report = _after_revocation(pki, add_timestamp(signature, token.replace(when, earlier)))
    assert report.sub_indication is SubIndication.REVOKED_NO_POE
    _not_proof(report, "altered")


def test_a_token_from_an_untrusted_tsa_proves_nothing_until_its_root_is_trusted(pki: TestPKI) -> None:
    foreign = _foreign_tsa(pki)
    signature = foreign.stamp(sign_detached(DOCUMENT, pki.signer, at=pki.created), at=pki.created + SECOND).signature
    untrusted = _after_revocation(pki, signature)
    _not_proof(untrusted, "no path")
    trusted = _after_revocation(pki, signature, anchors=[pki.root, pki.foreign_root], require=False)
    assert trusted.indication is Indication.TOTAL_PASSED, trusted.summary()


def test_a_token_signed_by_a_body_key_is_no_time_stamp(pki: TestPKI) -> None:
    impostor = TimeStampAuthority(pki.store.credential("da-nang"))  # a signing certificate, no timeStamping
    signature = impostor.stamp(sign_detached(DOCUMENT, pki.signer, at=pki.created), at=pki.created + SECOND).signature
    _not_proof(_after_revocation(pki, signature), "not a time-stamping certificate")


@pytest.mark.parametrize(("tsa_revoked_after_token", "proves"), [(-SECOND, False), (SECOND, True)])
def test_a_tsa_revoked_before_its_token_proves_nothing(pki: TestPKI, tsa, tsa_revoked_after_token, proves) -> None:
    t = pki.created + timedelta(minutes=5)
    revoked_at = pki.created + timedelta(hours=1)
    signature = _signed(pki, tsa, signed_at=pki.created, stamped_at=t)
    crls = _crls(pki, at=revoked_at, revoked=[_revoked(pki, revoked_at),
                                              _revoked(pki, t + tsa_revoked_after_token, tsa.certificate)])
    report = _after_revocation(pki, signature, crls=crls)
    if proves:
        assert report.indication is Indication.TOTAL_PASSED, report.summary()
    else:
        assert report.sub_indication is SubIndication.REVOKED_NO_POE
        _not_proof(report, "revoked at")


def test_a_token_outlives_its_signer_but_not_its_tsa(pki: TestPKI, tsa) -> None:
    tsa_end = tsa.certificate.not_valid_after_utc
    assert tsa_end > pki.signer.certificate.not_valid_after_utc + timedelta(days=365)  # longer-lived
    signature = _signed(pki, tsa, signed_at=pki.created)
    report = _verifier(pki, _crls(pki, at=tsa_end)).verify(DOCUMENT, signature, at=tsa_end + SECOND)
    assert report.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
    _not_proof(report, "prove nothing any longer")


def test_a_token_from_after_the_validation_time_is_not_used(pki: TestPKI, tsa) -> None:
    signature = _signed(pki, tsa, signed_at=pki.created, stamped_at=pki.created + timedelta(hours=2))
    report = pki.verifier().verify(DOCUMENT, signature, at=pki.created + timedelta(minutes=30))
    assert report.indication is Indication.TOTAL_PASSED  # judged as without a token
    _not_proof(report, "after the validation time")


def test_a_token_without_its_tsa_certificate_proves_nothing(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    token = tsa.issue("sha256", _sha256(signature_value(signature)), at=pki.created + SECOND, cert_req=False)
    _not_proof(_after_revocation(pki, add_timestamp(signature, token)), "not in the token")


def test_the_earliest_valid_token_is_the_proof(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    late = tsa.stamp(signature, at=pki.created + timedelta(hours=2)).signature  # after the revocation
    early = tsa.stamp(late, at=pki.created + timedelta(minutes=5)).signature
    forged = add_timestamp(early, _foreign_tsa(pki).issue("sha256", b"\0" * 32, at=pki.created))
    report = _after_revocation(pki, forged)
    assert report.indication is Indication.TOTAL_PASSED, report.summary()
    assert report.timestamp is not None
    assert report.timestamp.time == (pki.created + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")


def test_a_report_with_a_time_stamp_round_trips_through_json(pki: TestPKI, tsa) -> None:
    report = _after_revocation(pki, _signed(pki, tsa, signed_at=pki.created))
    assert ValidationReport.from_dict(report.to_dict()) == report


def test_ecdsa_signatures_and_tokens(ecdsa_store, pki: TestPKI) -> None:  # type: ignore[no-untyped-def]
    authority = TimeStampAuthority(ecdsa_store.tsa_credential())
    signature = authority.stamp(sign_detached(DOCUMENT, ecdsa_store.credential("nghe-an"), at=pki.created),
                                at=pki.created + SECOND).signature
    verifier = Verifier(paths=ecdsa_store.path_validator())
    report = verifier.verify(DOCUMENT, signature, at=pki.created + timedelta(minutes=1))
    assert report.indication is Indication.TOTAL_PASSED and report.timestamp and report.timestamp.passed


# -- helpers -----------------------------------------------------------------------------------


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


def _foreign_tsa(pki: TestPKI) -> TimeStampAuthority:
    """A TSA of the second, independent PKI (same names as ours, other keys)."""
    key = generate_key(KeyAlgorithm.ECDSA_P256)
    cert = issue_tsa_certificate(key, issuer=pki.foreign_issuing, not_before=pki.created - timedelta(minutes=10),
                                 crl_url=None)
    return TimeStampAuthority(Credential(cert, key, (pki.foreign_issuing.certificate,)))


def test_a_token_carrying_a_corrupted_tsa_certificate_proves_nothing_and_never_raises(pki: TestPKI, tsa) -> None:
    """cryptography decodes a certificate's key lazily: a token whose TSA certificate has a
    corrupted key algorithm loads, and used to raise from inside validation (a 5xx at the hub)."""
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    token = tsa.issue("sha256", _sha256(signature_value(signature)), at=pki.created + SECOND)
    tsa_cert = tsa.credential.certificate.public_bytes(Encoding.DER)
    oid = bytes.fromhex("2a864886f70d010101")  # rsaEncryption (the demo TSA's key)
    if oid not in tsa_cert:
        oid = bytes.fromhex("2a8648ce3d0201")  # id-ecPublicKey
    bad = tsa_cert.replace(oid, oid[:-1] + b"\x21")
    assert bad != tsa_cert and token.count(tsa_cert) == 1
    report = _after_revocation(pki, add_timestamp(signature, token.replace(tsa_cert, bad)))
    assert report.sub_indication is SubIndication.REVOKED_NO_POE
    outcome, detail = _check(report, "signature time-stamp")
    assert outcome is Outcome.FAILED and "malformed" in detail and "embedded certificate" in detail, detail
