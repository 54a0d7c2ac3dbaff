"""Crafted signatures: a CMS whose embedded certificate is corrupted is a FORMAT_FAILURE report.

``cryptography`` decodes a certificate's names, key and extensions only when first read, so a
corrupted certificate loads, and used to raise later from inside validation (an HTTP 500 at
the hub). The verifier now decodes every embedded certificate at parse time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from exchange.cms import Indication, SubIndication, sign_detached
from exchange.errors import MalformedError
from exchange.pki.certificates import load_certificates

if TYPE_CHECKING:
    from conftest import TestPKI

DOCUMENT = b"Cong van so 12-CV/VPTW\n"
RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # OID 1.2.840.113549.1.1.1


def _signed(pki: TestPKI) -> tuple[bytes, bytes]:
    signature = sign_detached(DOCUMENT, pki.signer, at=pki.created)
    return signature, pki.signer.certificate.public_bytes(Encoding.DER)


def _corrupt_subject(certificate: bytes, pki: TestPKI) -> bytes:
    """The certificate with its subject's country ``VN`` (a PrintableString) made ``@N``: the
    certificate loads, and only reading its subject fails ('@' is not printable-string)."""
    subject = pki.signer.certificate.subject.public_bytes()
    country = bytes.fromhex("1302") + b"VN"
    assert country in subject
    at = certificate.rindex(subject)  # the subject follows the issuer, which names VN too
    return certificate[:at] + subject.replace(country, country[:2] + b"@N") + certificate[at + len(subject):]


@pytest.mark.parametrize("corruption", ["subject", "key algorithm"])
def test_a_corrupted_embedded_certificate_is_a_format_failure(pki: TestPKI, corruption: str) -> None:
    signature, certificate = _signed(pki)
    if corruption == "subject":
        bad = _corrupt_subject(certificate, pki)
    else:
        bad = certificate.replace(RSA_ENCRYPTION, RSA_ENCRYPTION[:-1] + b"\x21")
    assert bad != certificate and len(bad) == len(certificate)
    report = pki.verifier().verify(DOCUMENT, signature.replace(certificate, bad), at=pki.created)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert report.reason.startswith("an embedded certificate")
    with pytest.raises(MalformedError, match="cert.der"):
        load_certificates(bad, source="cert.der")


@pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")
def test_no_single_byte_of_the_embedded_certificate_makes_verification_raise(pki: TestPKI) -> None:
    signature, certificate = _signed(pki)
    start = signature.index(certificate)
    verifier = pki.verifier()
    outcomes = set()
    for offset in range(len(certificate)):
        for mask in (0x01, 0x80):
            at = start + offset
            crafted = signature[:at] + bytes([signature[at] ^ mask]) + signature[at + 1:]
            report = verifier.verify(DOCUMENT, crafted, at=pki.created)  # never raises
            assert report.indication is not Indication.TOTAL_PASSED or crafted == signature
            outcomes.add(report.sub_indication)
    assert SubIndication.FORMAT_FAILURE in outcomes
