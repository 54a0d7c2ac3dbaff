"""Detached CMS signatures: signing, validation, and the report that says why.

Depends on :mod:`exchange.pki` only; knows nothing of HTTP or storage.
"""

from exchange.cms.content import Content, digest, digests
from exchange.cms.report import (
    CertificateInfo,
    Check,
    Indication,
    Outcome,
    SignerInfo,
    SubIndication,
    ValidationReport,
)
from exchange.cms.sign import sign_detached, sign_digest
from exchange.cms.verify import DetachedSignature, MalformedSignatureError, Verifier

__all__ = [
    "CertificateInfo",
    "Check",
    "Content",
    "DetachedSignature",
    "Indication",
    "MalformedSignatureError",
    "Outcome",
    "SignerInfo",
    "SubIndication",
    "ValidationReport",
    "Verifier",
    "digest",
    "digests",
    "sign_detached",
    "sign_digest",
]
