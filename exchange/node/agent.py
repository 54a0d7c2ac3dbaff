"""What a receiving body does with a document: download it, verify it itself, acknowledge it.

The node never trusts the hub's verdict: it validates the signature with its own trust
anchor and CRLs (its local copy and the hub's, each believed only if the CA signed it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from exchange.cms import ValidationReport, Verifier, digest
from exchange.domain.documents import ReceiptStatus
from exchange.errors import ExchangeError
from exchange.node.client import HubClient
from exchange.pki import KeyStore, PathValidator
from exchange.pki.revocation import load_crl


@dataclass(frozen=True)
class Fetched:
    """A downloaded document, where it was written, and the node's own validation of it."""

    document: dict[str, Any]
    path: Path
    sha256: str
    signature_path: Path | None
    report: ValidationReport | None  # None: the document is unsigned


def node_verifier(store: KeyStore, client: HubClient | None = None) -> Verifier:
    """A verifier trusting the local root, enforcing the local CRL and (if given) the hub's."""
    crls = [store.crl()] if store.crl_path.is_file() else []
    if client is not None:
        try:
            crls.append(load_crl(client.crl_pem(), source="the hub's CRL"))
        except ExchangeError:
            pass  # the local CRL still applies; a hub that hides its CRL gains nothing
    return Verifier(paths=PathValidator(trust_anchors=[store.root()], crls=crls, require_revocation=True))


def fetch(client: HubClient, document_id: str, *, out_dir: Path, verifier: Verifier,
          at: Callable[[], datetime]) -> Fetched:
    """Download a document (and its signature) into *out_dir* and validate it locally."""
    doc = client.document(document_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = _local_name(doc.get("filename"), document_id)
    target = client.download(document_id, out_dir / f"{document_id[:8]}-{name}")
    sha = digest(target).hex()
    if doc.get("indication") is None:  # unsigned electronic document
        return Fetched(doc, target, sha, None, None)
    signature = client.signature(document_id)
    sig_path = target.with_name(target.name + ".p7s")
    sig_path.write_bytes(signature)
    report = verifier.verify(target, signature, at=at())
    return Fetched(doc, target, sha, sig_path, report)


def _local_name(name: object, document_id: str) -> str:
    """A file name from the hub, made safe to join to a directory (the node trusts no path)."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return cleaned[:200] or f"{document_id}.bin"


def acknowledge(client: HubClient, fetched: Fetched, *, status: ReceiptStatus | None = None,
                reason: str = "") -> dict[str, Any]:
    """Send a signed receipt: received if the node's validation passed, else rejected with why."""
    report = fetched.report
    if status is None:
        status = ReceiptStatus.RECEIVED if report is None or report.passed else ReceiptStatus.REJECTED
    if status is ReceiptStatus.REJECTED and not reason:
        reason = report.summary() if report is not None else "rejected"
    verification = report.indication.value if report is not None else "UNSIGNED"
    return client.acknowledge(fetched.document["id"], sha256=fetched.sha256, status=status, reason=reason,
                              verification=verification)
