"""pyHanko (the test extra) judges the same signatures: where it can answer, it agrees.

* basic validation (``async_validate_detached_cms``, hard-fail revocation, no fetching): a
  time-stamped signature passes with the same token time; a stale CRL is TRY_LATER; a CA-signed
  document is CHAIN_CONSTRAINTS_FAILURE; a signature without a token, revoked since, is
  REVOKED_NO_POE; a token over other data is not intact.
* validation with time (``ades_with_time_validation``, ETSI EN 319 102-1 §5.5): a signature
  time-stamped before its signer's revocation or expiry passes, as ours does.

Where the two differ, on purpose: a token made *after* the revocation is TOTAL_FAILED/REVOKED
here (the issue asks for a definitive answer) and INDETERMINATE/REVOKED_NO_POE for pyHanko;
both refuse it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from exchange.cms import Indication, SubIndication, Verifier, add_timestamp, sign_detached
from exchange.cms.tokens import signature_value
from exchange.pki import PathValidator, RevokedEntry, build_crl

pytest.importorskip("pyhanko.sign.validation")
pytest.importorskip("pyhanko_certvalidator")

if TYPE_CHECKING:
    from conftest import TestPKI

DOCUMENT = "Kế hoạch triển khai chữ ký số — Thành ủy Đà Nẵng\n".encode()


@pytest.fixture(autouse=True)
def _quiet() -> None:
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.ERROR)  # it logs every failure it finds


def _der(obj: Any) -> bytes:
    return obj.public_bytes(serialization.Encoding.DER)


def _crls(pki: TestPKI, *, at: datetime, revoked: tuple[RevokedEntry, ...] = ()) -> list[Any]:
    life = timedelta(days=7)
    return [build_crl(pki.store.issuing_ca(), revoked, at=at, next_update=life),
            build_crl(pki.store.root_credential(), [], at=at, next_update=life)]


def _ours(pki: TestPKI, signature: bytes, crls: list[Any], at: datetime) -> Any:
    return Verifier(paths=PathValidator(trust_anchors=[pki.root], crls=crls, require_revocation=True)).verify(
        DOCUMENT, signature, at=at)


def _basic(pki: TestPKI, signature: bytes, crls: list[Any], at: datetime) -> Any:
    from pyhanko.sign.validation import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(_der(pki.root))],
                                crls=[asn1_crl.CertificateList.load(_der(c)) for c in crls],
                                allow_fetching=False, revocation_mode="hard-fail", moment=at)
    return asyncio.run(async_validate_detached_cms(DOCUMENT, cms.ContentInfo.load(signature)["content"],
                                                   signer_validation_context=context))


def _with_time(pki: TestPKI, signature: bytes, crls: list[Any], at: datetime) -> Any:
    from pyhanko.sign.validation.ades import ades_with_time_validation
    from pyhanko.sign.validation.policy_decl import LocalKnowledge, SignatureValidationSpec
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager
    from pyhanko_certvalidator.revinfo.archival import CRLContainer

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build([asn1_x509.Certificate.load(_der(pki.root))]),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("hard-fail")))
    spec = SignatureValidationSpec(cert_validation_policy=policy, local_knowledge=LocalKnowledge(
        known_crls=[CRLContainer(asn1_crl.CertificateList.load(_der(c))) for c in crls]))
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=False)
    return asyncio.run(ades_with_time_validation(cms.ContentInfo.load(signature)["content"], spec,
                                                 timing_info=timing, raw_digest=hashlib.sha256(DOCUMENT).digest()))


def _stamped(pki: TestPKI, tsa: Any, *, stamped_at: datetime) -> bytes:
    return tsa.stamp(sign_detached(DOCUMENT, pki.signer, at=pki.created), at=stamped_at).signature


def test_a_time_stamped_signature_passes_with_the_same_token_time(pki: TestPKI, tsa) -> None:
    signature = _stamped(pki, tsa, stamped_at=pki.created + timedelta(seconds=1))
    at, crls = pki.created + timedelta(minutes=5), _crls(pki, at=pki.created)
    ours, theirs = _ours(pki, signature, crls, at), _basic(pki, signature, crls, at)
    assert ours.passed and theirs.bottom_line
    assert theirs.timestamp_validity.trusted and theirs.timestamp_validity.intact
    assert theirs.timestamp_validity.timestamp.isoformat().replace("+00:00", "Z") == ours.timestamp.time


def test_a_stale_crl_is_try_later_for_both(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    crls, at = _crls(pki, at=pki.created), pki.created + timedelta(days=8)
    assert _ours(pki, signature, crls, at).sub_indication is SubIndication.TRY_LATER
    assert _basic(pki, signature, crls, at).trust_problem_indic.name == "TRY_LATER"


def test_a_ca_signed_document_is_a_chain_constraints_failure_for_both(pki: TestPKI) -> None:
    signature = sign_detached(DOCUMENT, pki.store.issuing_ca(), at=pki.created)
    crls, at = _crls(pki, at=pki.created), pki.created + timedelta(minutes=5)
    assert _ours(pki, signature, crls, at).sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    theirs = _basic(pki, signature, crls, at)
    assert not theirs.bottom_line and theirs.trust_problem_indic.name == "CHAIN_CONSTRAINTS_FAILURE"


def test_revoked_after_the_token_passes_with_time_and_not_without_it(pki: TestPKI, tsa) -> None:
    revoked_at = pki.created + timedelta(hours=1)
    signature = _stamped(pki, tsa, stamped_at=pki.created + timedelta(minutes=1))
    crls = _crls(pki, at=revoked_at, revoked=(RevokedEntry(pki.signer.certificate.serial_number, revoked_at),))
    at = revoked_at + timedelta(hours=1)

    assert _ours(pki, signature, crls, at).indication is Indication.TOTAL_PASSED
    assert _with_time(pki, signature, crls, at).ades_subindic.name == "OK"

    bare = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    assert _ours(pki, bare, crls, at).sub_indication is SubIndication.REVOKED_NO_POE
    assert _basic(pki, bare, crls, at).trust_problem_indic.name == "REVOKED_NO_POE"


def test_expired_after_the_token_passes_with_time_for_both(pki: TestPKI, tsa) -> None:
    signature = _stamped(pki, tsa, stamped_at=pki.created + timedelta(minutes=1))
    at = pki.signer.certificate.not_valid_after_utc + timedelta(days=1)
    crls = _crls(pki, at=at - timedelta(hours=1))
    assert _ours(pki, signature, crls, at).indication is Indication.TOTAL_PASSED
    assert _with_time(pki, signature, crls, at).ades_subindic.name == "OK"


def test_a_token_made_after_the_revocation_is_refused_by_both(pki: TestPKI, tsa) -> None:
    # In the past of the real clock: pyHanko also counts the moment it sees a signature as a
    # proof of its existence, so a revocation "later than now" would not count against it.
    revoked_at = pki.created - timedelta(minutes=5)
    signature = tsa.stamp(sign_detached(DOCUMENT, pki.signer, at=pki.created - timedelta(minutes=9)),
                          at=revoked_at + timedelta(minutes=1)).signature
    crls = _crls(pki, at=revoked_at, revoked=(RevokedEntry(pki.signer.certificate.serial_number, revoked_at),))
    at = datetime.now(UTC) + timedelta(minutes=1)
    ours = _ours(pki, signature, crls, at)
    assert (ours.indication, ours.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert _with_time(pki, signature, crls, at).ades_subindic.name == "REVOKED_NO_POE"


def test_a_token_over_other_data_is_not_intact_for_either(pki: TestPKI, tsa) -> None:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    other = tsa.issue("sha256", hashlib.sha256(signature_value(sign_detached(b"x", pki.signer, at=pki.created)))
                      .digest(), at=pki.created + timedelta(seconds=1))
    forged = add_timestamp(signature, other)
    crls, at = _crls(pki, at=pki.created), pki.created + timedelta(minutes=5)
    ours = _ours(pki, forged, crls, at)
    assert ours.timestamp is not None and not ours.timestamp.passed
    assert not _basic(pki, forged, crls, at).timestamp_validity.intact
