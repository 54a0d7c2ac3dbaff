"""What a receiving body does with a document: download it, verify it itself, acknowledge it.

The node never trusts the hub's verdict: it validates the signature with its own trust
anchor and CRLs (its local copy and the hub's, each believed only if the CA signed it).
A secret (Mật) document arrives as an envelope: the node checks the outer signature over
it, opens it with its encryption key and validates the inner signature over the plaintext;
its receipt reports that inner verdict (what K1-verified counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from exchange.cms import ValidationReport, Verifier, digest
from exchange.cms.sealed import open_sealed
from exchange.domain.documents import Classification, ReceiptStatus
from exchange.domain.text import safe_filename
from exchange.errors import DecryptionError, ExchangeError, MalformedError
from exchange.node.client import HubClient
from exchange.node.secret import ENVELOPE_SUFFIX
from exchange.pki import Credential, KeyStore, PathValidator
from exchange.pki.revocation import load_crls


@dataclass(frozen=True)
class Fetched:
    """A downloaded document, where it was written, and the node's own validation of it."""

    document: dict[str, Any]
    path: Path
    sha256: str
    signature_path: Path | None
    report: ValidationReport | None  # None: the document is unsigned
    secret: Decrypted | None = None  # a secret document, opened (or why it could not be)

    @property
    def verdict(self) -> ValidationReport | None:
        """The validation the receipt reports: of the inner signature for a secret document."""
        return self.secret.report if self.secret is not None else self.report


@dataclass(frozen=True)
class Decrypted:
    """A secret document opened by its recipient: the plaintext, the inner signature (kept
    beside it as ``.p7s``) and its validation; or, when it would not open, why."""

    path: Path | None
    signature_path: Path | None
    report: ValidationReport | None
    error: str | None = None


def node_verifier(store: KeyStore, client: HubClient | None = None) -> Verifier:
    """A verifier trusting the local root, enforcing the local CRLs and (if given) the hub's.

    Revocation data is required for every certificate below the root, each CRL current at the
    validation time; a time-stamp token on the signature (the hub adds one) is checked against
    the same root and CRLs and used as proof of existence.
    """
    crls = store.crls()
    if client is not None:
        try:
            crls.extend(load_crls(client.crl_pem(), source="the hub's CRLs"))
        except ExchangeError:
            pass  # the local CRLs still apply; a hub that hides its CRL gains nothing
    return Verifier(paths=PathValidator(trust_anchors=[store.root()], crls=crls, require_revocation=True))


def fetch(client: HubClient, document_id: str, *, out_dir: Path, verifier: Verifier,
          at: Callable[[], datetime], decrypt_with: Sequence[Credential] = ()) -> Fetched:
    """Download a document (and its signature) into *out_dir* and validate it locally.

    A secret document is opened with the first of *decrypt_with* (the body's encryption
    credentials) it is addressed to, and its inner signature validated.
    """
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
    secret = None
    if doc.get("classification") == Classification.SECRET:
        secret = _open(target, decrypt_with, verifier=verifier, at=at())
    return Fetched(doc, target, sha, sig_path, report, secret)


def _open(envelope: Path, credentials: Sequence[Credential], *, verifier: Verifier, at: datetime) -> Decrypted:
    try:
        opened = open_sealed(envelope.read_bytes(), credentials=credentials, verifier=verifier, at=at)
    except (DecryptionError, MalformedError) as exc:
        # Not a usage error: the document arrived but cannot be read; the receipt says why.
        return Decrypted(None, None, None, f"cannot open the secret document: {exc}")
    plain = envelope.with_name(envelope.name.removesuffix(ENVELOPE_SUFFIX) if envelope.name.endswith(
        ENVELOPE_SUFFIX) else envelope.name + ".plain")
    plain.write_bytes(opened.content)
    signature = None
    if opened.inner_signature is not None:
        signature = plain.with_name(plain.name + ".p7s")
        signature.write_bytes(opened.inner_signature)
    return Decrypted(plain, signature, opened.report)


def _local_name(name: object, document_id: str) -> str:
    """A file name from the hub, made safe to join to a directory (the node trusts no path)."""
    return safe_filename(name, limit=200) or f"{document_id}.bin"


def acknowledge(client: HubClient, fetched: Fetched, *, status: ReceiptStatus | None = None,
                reason: str = "") -> dict[str, Any]:
    """Send a signed receipt: received if the node's validation passed, else rejected with why.

    For a secret document both signatures must pass (the outer over the envelope, the inner
    over the plaintext) and the receipt reports the inner one's indication.
    """
    report = fetched.verdict
    problem = _problem(fetched)
    if status is None:
        status = ReceiptStatus.REJECTED if problem else ReceiptStatus.RECEIVED
    if status is ReceiptStatus.REJECTED and not reason:
        reason = problem or "rejected"
    if fetched.secret is not None and fetched.secret.error is not None:
        verification = "UNREADABLE"
    else:
        verification = report.indication.value if report is not None else "UNSIGNED"
    return client.acknowledge(fetched.document["id"], sha256=fetched.sha256, status=status, reason=reason,
                              verification=verification)


def _problem(fetched: Fetched) -> str:
    """Why the node would reject what it fetched ("" when nothing is wrong)."""
    if fetched.report is not None and not fetched.report.passed:
        return fetched.report.summary()
    secret = fetched.secret
    if secret is None:
        return ""
    if secret.error is not None:
        return secret.error
    if secret.report is None:
        return "the secret document carries no inner signature"
    return "" if secret.report.passed else f"inner signature: {secret.report.summary()}"
