"""Detached CMS signatures: signing, validation, and the report that says why; CMS envelopes
and the sign-encrypt-sign triple wrap of secret documents.

Depends on :mod:`exchange.pki` only; knows nothing of HTTP or storage.
"""

from exchange.cms.content import Content, digest, digests
from exchange.cms.envelope import Envelope, MalformedEnvelopeError, Recipient, encrypt
from exchange.cms.report import (
    CertificateInfo,
    Check,
    Indication,
    Outcome,
    SignerInfo,
    SubIndication,
    TimestampInfo,
    ValidationReport,
)
from exchange.cms.sealed import Opened, Sealed, attach, detach, open_sealed, seal
from exchange.cms.sign import sign_detached, sign_digest
from exchange.cms.tokens import TimestampToken, add_timestamp, check_token, strip_timestamps
from exchange.cms.tsa import TimeStampAuthority, TimestampError
from exchange.cms.verify import DetachedSignature, MalformedSignatureError, Verifier

__all__ = [
    "CertificateInfo",
    "Check",
    "Content",
    "DetachedSignature",
    "Envelope",
    "Indication",
    "MalformedEnvelopeError",
    "MalformedSignatureError",
    "Opened",
    "Outcome",
    "Recipient",
    "Sealed",
    "SignerInfo",
    "SubIndication",
    "TimeStampAuthority",
    "TimestampError",
    "TimestampInfo",
    "TimestampToken",
    "ValidationReport",
    "Verifier",
    "add_timestamp",
    "attach",
    "check_token",
    "detach",
    "digest",
    "digests",
    "encrypt",
    "open_sealed",
    "seal",
    "sign_detached",
    "sign_digest",
    "strip_timestamps",
]
