"""The auditor's side: evidence bundles and archives, their offline verification, and the
checks of a hub's log (replay against the register, consistency between checkpoints).

Knows nothing of HTTP or databases: the CLI fetches, this package checks.
"""

from exchange.audit.bundle import (
    FORMAT,
    BundleReader,
    BundleWriter,
    DocumentEvidence,
    LoggedEntry,
    ReceiptFiles,
)
from exchange.audit.report import AuditCheck, Verdict
from exchange.audit.verify import bundle_verifier, verify_checkpoint, verify_document, verify_file

__all__ = [
    "FORMAT",
    "AuditCheck",
    "BundleReader",
    "BundleWriter",
    "DocumentEvidence",
    "LoggedEntry",
    "ReceiptFiles",
    "Verdict",
    "bundle_verifier",
    "verify_checkpoint",
    "verify_document",
    "verify_file",
]
