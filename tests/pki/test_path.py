"""Path building and validation: chain, validity at a pinned time, constraints, revocation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from exchange.pki import (
    Credential,
    KeyAlgorithm,
    PathResult,
    PathStatus,
    PathValidator,
    RevokedEntry,
    build_crl,
)
from exchange.pki.certificates import generate_key, issue_ca, issue_signing_certificate

if TYPE_CHECKING:
    from conftest import TestPKI

ONE_SECOND = timedelta(seconds=1)


def _validator(
    pki: TestPKI,
    *,
    crls: list[x509.CertificateRevocationList] | None = None,
    require_revocation: bool = True,
) -> PathValidator:
    return PathValidator(
        trust_anchors=[pki.store.root()],
        crls=pki.store.crls() if crls is None else crls,
        require_revocation=require_revocation,
    )


def _validate(
    pki: TestPKI,
    credential: Credential,
    *,
    at_offset: timedelta = timedelta(0),
    crls: list[x509.CertificateRevocationList] | None = None,
    require_revocation: bool = True,
) -> PathResult:
    validator = _validator(pki, crls=crls, require_revocation=require_revocation)
    return validator.validate(
        credential.certificate, at=pki.created + at_offset, intermediates=credential.chain
    )


def _leaf(
    issuer: Credential,
    *,
    not_before: datetime,
    crl_url: str | None = "http://ca.example.invalid/x.crl",
) -> Credential:
    """A fresh P-256 signing certificate under *issuer* (EC: cheap to generate)."""
    key = generate_key(KeyAlgorithm.ECDSA_P256)
    cert = issue_signing_certificate(
        key,
        issuer=issuer,
        body_id="test-leaf",
        name_vi="Lá thử nghiệm",
        not_before=not_before,
        crl_url=crl_url,
    )
    return Credential(cert, key, (issuer.certificate, *issuer.chain))


def test_valid_path_reaches_the_root_through_the_issuing_ca(pki: TestPKI) -> None:
    result = _validate(pki, pki.signer)
    assert result.status is PathStatus.VALID and result.ok
    assert result.path == (
        pki.signer.certificate,
        pki.store.issuing_ca().certificate,
        pki.store.root(),
    )
    # revocation twice: the signer from the issuing CA's CRL, the issuing CA from the root's
    assert [c.name for c in result.checks] == ["chain", "validity", "constraints", "revocation", "revocation"]
    assert all(c.passed for c in result.checks)
    assert result.revocation_checked and result.revocation is None


def test_from_files_reads_the_root_and_crl(pki: TestPKI) -> None:
    validator = PathValidator.from_files(pki.store.root_path, crl_files=[pki.store.crl_path])
    result = validator.validate(
        pki.revoked.certificate, at=pki.revoked_at, intermediates=pki.revoked.chain
    )
    assert result.status is PathStatus.REVOKED


def test_a_validator_needs_a_trust_anchor() -> None:
    with pytest.raises(ValueError, match="trust anchor"):
        PathValidator(trust_anchors=[])


# -- chain -----------------------------------------------------------------------------------


def test_foreign_root_is_no_chain_although_the_names_match(pki: TestPKI) -> None:
    result = _validate(pki, pki.foreign)
    assert result.status is PathStatus.NO_CHAIN
    assert "no path" in result.detail
    assert result.path == (pki.foreign.certificate,)


def test_foreign_root_validates_when_trusted(pki: TestPKI) -> None:
    validator = PathValidator(trust_anchors=[pki.foreign_root], require_revocation=False)
    result = validator.validate(
        pki.foreign.certificate, at=pki.created, intermediates=pki.foreign.chain
    )
    assert result.status is PathStatus.VALID


def test_anchors_are_identified_by_fingerprint_not_name(pki: TestPKI) -> None:
    # trusting the foreign root must not make our own certificates valid, and vice versa
    validator = PathValidator(trust_anchors=[pki.foreign_root])
    result = validator.validate(
        pki.signer.certificate, at=pki.created, intermediates=pki.signer.chain
    )
    assert result.status is PathStatus.NO_CHAIN
    assert pki.foreign_root.subject == pki.store.root().subject
    assert pki.foreign_root.fingerprint(hashes.SHA256()) != pki.store.root().fingerprint(
        hashes.SHA256()
    )


def test_missing_intermediate_is_no_chain(pki: TestPKI) -> None:
    result = _validator(pki).validate(pki.signer.certificate, at=pki.created)
    assert result.status is PathStatus.NO_CHAIN


def test_built_paths_are_cached_and_shared_with_other_crls(pki: TestPKI) -> None:
    validator = _validator(pki)
    first = validator.build_path(pki.signer.certificate, pki.signer.chain)
    assert first is not None
    # cached by leaf: found again even without the intermediates
    assert validator.build_path(pki.signer.certificate) is first
    other = validator.with_crls([])
    assert other.build_path(pki.signer.certificate) is first
    assert (
        other.validate(pki.signer.certificate, at=pki.created).status
        is PathStatus.REVOCATION_UNKNOWN
    )


# -- validity at the validation time -----------------------------------------------------------


def test_expiry_is_exact_to_the_second(pki: TestPKI) -> None:
    end = pki.signer.certificate.not_valid_after_utc - pki.created
    crls = pki.crls_at(pki.created + end - timedelta(days=1))  # the CA kept publishing its CRLs
    assert _validate(pki, pki.signer, at_offset=end - ONE_SECOND, crls=crls).status is PathStatus.VALID
    assert _validate(pki, pki.signer, at_offset=end, crls=crls).status is PathStatus.VALID
    result = _validate(pki, pki.signer, at_offset=end + ONE_SECOND, crls=crls)
    assert result.status is PathStatus.EXPIRED
    assert "expired" in result.detail


def test_expired_actor(pki: TestPKI) -> None:
    assert _validate(pki, pki.expired).status is PathStatus.EXPIRED


def test_not_yet_valid_is_exact_to_the_second(pki: TestPKI) -> None:
    start = pki.not_yet_valid.certificate.not_valid_before_utc - pki.created
    assert _validate(pki, pki.not_yet_valid).status is PathStatus.NOT_YET_VALID
    assert (
        _validate(pki, pki.not_yet_valid, at_offset=start - ONE_SECOND).status
        is PathStatus.NOT_YET_VALID
    )
    crls = pki.crls_at(pki.created + start - timedelta(days=1))
    assert _validate(pki, pki.not_yet_valid, at_offset=start, crls=crls).status is PathStatus.VALID


def test_every_certificate_in_the_path_must_be_valid(pki: TestPKI) -> None:
    # the issuing CA expires long before the root; past it, a fresh leaf does not help
    issuing_end = pki.store.issuing_ca().certificate.not_valid_after_utc - pki.created
    leaf = _leaf(pki.store.issuing_ca(), not_before=pki.created + issuing_end - timedelta(days=1))
    result = _validator(pki).validate(
        leaf.certificate, at=pki.created + issuing_end + ONE_SECOND, intermediates=leaf.chain
    )
    assert result.status is PathStatus.EXPIRED
    assert "Issuing CA" in result.detail


# -- constraints -----------------------------------------------------------------------------


def test_leaf_without_signing_key_usage_fails_constraints(pki: TestPKI) -> None:
    result = _validate(pki, pki.no_signing_usage)
    assert result.status is PathStatus.CONSTRAINTS
    assert "digitalSignature" in result.detail


def test_an_end_entity_cannot_issue_certificates(pki: TestPKI) -> None:
    leaf = _leaf(pki.signer, not_before=pki.created)
    result = _validator(pki).validate(leaf.certificate, at=pki.created, intermediates=leaf.chain)
    assert result.status is PathStatus.CONSTRAINTS
    assert "is not a CA certificate" in result.detail


def test_path_length_of_the_issuing_ca_is_enforced(pki: TestPKI) -> None:
    issuing = pki.store.issuing_ca()
    key = generate_key(KeyAlgorithm.ECDSA_P256)
    sub_ca = Credential(
        issue_ca(key, issuer=issuing, not_before=pki.created), key, (issuing.certificate,)
    )
    leaf = _leaf(sub_ca, not_before=pki.created)
    result = _validator(pki, crls=[], require_revocation=False).validate(
        leaf.certificate, at=pki.created, intermediates=leaf.chain
    )
    assert result.status is PathStatus.CONSTRAINTS
    assert "path length constraint 0 exceeded" in result.detail


# -- revocation ------------------------------------------------------------------------------


def test_revocation_takes_effect_at_its_date(pki: TestPKI) -> None:
    before = _validate(pki, pki.revoked, at_offset=pki.revoked_at - pki.created - ONE_SECOND)
    assert before.status is PathStatus.VALID
    after = _validate(pki, pki.revoked, at_offset=pki.revoked_at - pki.created)
    assert after.status is PathStatus.REVOKED
    assert after.revocation is not None and after.revocation.revoked_at == pki.revoked_at


def test_crl_is_enforced_without_a_distribution_point(pki: TestPKI) -> None:
    # Some validators skip revocation when the certificate names no CRL; ours never does.
    issuing = pki.store.issuing_ca()
    leaf = _leaf(issuing, not_before=pki.created, crl_url=None)
    with pytest.raises(x509.ExtensionNotFound):
        leaf.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    crl = build_crl(
        issuing, [RevokedEntry(leaf.certificate.serial_number, pki.created)], at=pki.created
    )
    result = _validator(pki, crls=[crl]).validate(
        leaf.certificate, at=pki.created, intermediates=leaf.chain
    )
    assert result.status is PathStatus.REVOKED


def test_required_revocation_without_a_crl_is_unknown(pki: TestPKI) -> None:
    result = _validate(pki, pki.signer, crls=[])
    assert result.status is PathStatus.REVOCATION_UNKNOWN
    assert not result.revocation_checked


def test_optional_revocation_without_a_crl_is_reported_as_not_performed(pki: TestPKI) -> None:
    result = _validate(pki, pki.signer, crls=[], require_revocation=False)
    assert result.status is PathStatus.VALID
    checks = [c for c in result.checks if c.name == "revocation"]
    assert len(checks) == 2  # neither the signer nor the issuing CA
    assert all(c.passed is None and "not checked" in c.detail for c in checks)
    assert not result.revocation_checked


def test_crl_from_the_wrong_ca_is_not_believed(pki: TestPKI) -> None:
    forged = build_crl(
        pki.foreign_issuing,
        [RevokedEntry(pki.signer.certificate.serial_number, pki.created)],
        at=pki.created,
    )
    assert _validate(pki, pki.signer, crls=[forged]).status is PathStatus.REVOCATION_UNKNOWN
    assert (
        _validate(pki, pki.signer, crls=[forged], require_revocation=False).status
        is PathStatus.VALID
    )


# -- the path cache --------------------------------------------------------------------------
#
# Regression: paths are cached by certificate *equality* (DER), so a later call may pass an
# equal but distinct object (the same certificate parsed again from another signature, or
# by another verifier sharing the validator). Revocation used to recognise the leaf with
# ``cert is leaf`` on the cached path, whose first certificate is the first caller's object:
# for every later caller the leaf was taken for a CA, its revocation entry was dropped and a
# required-but-missing CRL went unreported.


def _twins(credential: Credential) -> tuple[x509.Certificate, x509.Certificate]:
    der = credential.certificate.public_bytes(serialization.Encoding.DER)
    first, again = x509.load_der_x509_certificate(der), x509.load_der_x509_certificate(der)
    assert first == again and first is not again
    return first, again


def test_a_revoked_leaf_is_reported_revoked_when_an_equal_one_is_cached(pki: TestPKI) -> None:
    validator = _validator(pki)
    first, again = _twins(pki.revoked)
    validator.validate(first, at=pki.revoked_at, intermediates=pki.revoked.chain)
    result = validator.validate(again, at=pki.revoked_at, intermediates=pki.revoked.chain)
    assert result.path[0] is first  # the cached path, not rebuilt
    assert result.status is PathStatus.REVOKED
    assert result.revocation is not None and result.revocation.revoked_at == pki.revoked_at
    assert result.revocation_checked


def test_a_missing_crl_is_reported_when_an_equal_leaf_is_cached(pki: TestPKI) -> None:
    validator = _validator(pki, crls=[])
    first, again = _twins(pki.signer)
    assert validator.validate(first, at=pki.created, intermediates=pki.signer.chain).status \
        is PathStatus.REVOCATION_UNKNOWN
    result = validator.validate(again, at=pki.created, intermediates=pki.signer.chain)
    assert result.status is PathStatus.REVOCATION_UNKNOWN
    assert [c.name for c in result.checks if c.passed is False] == ["revocation", "revocation"]
    assert not result.revocation_checked


def test_a_valid_leaf_counts_as_checked_when_an_equal_one_is_cached(pki: TestPKI) -> None:
    validator = _validator(pki)
    first, again = _twins(pki.signer)
    validator.validate(first, at=pki.created, intermediates=pki.signer.chain)
    result = validator.validate(again, at=pki.created, intermediates=pki.signer.chain)
    assert result.status is PathStatus.VALID
    assert result.revocation_checked
