"""The demo PKI: certificate profiles, the CA's operations, CRLs and path validation.

Knows nothing of HTTP or storage engines.
"""

from exchange.pki.ca import (
    CertificateStatus,
    Validity,
    certificate_status,
    init_pki,
    issue_unstored,
    reissue_crls,
    renew,
    revoke,
    revoke_certificate,
)
from exchange.pki.certificates import (
    Credential,
    KeyAlgorithm,
    body_id_of,
    common_name_of,
    fingerprint,
    load_certificate_file,
    load_certificates,
    load_private_key,
)
from exchange.pki.encryption import check_encryption_certificate
from exchange.pki.path import KeyPurpose, PathResult, PathStatus, PathValidator
from exchange.pki.revocation import (
    RevocationIndex,
    RevocationReason,
    RevokedEntry,
    build_crl,
    load_crl,
)
from exchange.pki.store import KeyStore

__all__ = [
    "CertificateStatus",
    "Credential",
    "KeyAlgorithm",
    "KeyPurpose",
    "KeyStore",
    "PathResult",
    "PathStatus",
    "PathValidator",
    "RevocationIndex",
    "RevocationReason",
    "RevokedEntry",
    "Validity",
    "body_id_of",
    "build_crl",
    "check_encryption_certificate",
    "certificate_status",
    "common_name_of",
    "fingerprint",
    "init_pki",
    "issue_unstored",
    "load_certificate_file",
    "load_certificates",
    "load_crl",
    "load_private_key",
    "reissue_crls",
    "renew",
    "revoke",
    "revoke_certificate",
]
