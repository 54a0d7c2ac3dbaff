"""Training mode: a trainer plays the bodies, and the hub treats each action as real traffic.

Every action goes through :class:`ExchangeService` exactly as a node's request would: the
hub validates, records, refuses or delivers, and the measures move. The nodes' side (signing
with a body's key, the receiver's own verification and its signed receipt) is played here
with the keys of the demo PKI, which is why this exists only on a hub started with
``--training``.

The failures a room can watch:

- ``tampered``: signed by the sender, then bytes changed in transit → HASH_FAILURE;
- ``revoked``: signed with a throwaway certificate of the sender that the issuing CA has
  just revoked (the body's own certificate is left alone) → REVOKED;
- ``expired``: signed with a throwaway certificate whose validity ended → EXPIRED;
- ``unsigned`` and ``paper``: accepted, but they count against K1.

Classified ``secret`` (Mật), an electronic document is triple-wrapped as a node would
(:func:`exchange.cms.sealed.seal`): signed, encrypted to the receiver and the sender, signed
again; the failure modes then apply to the outer signature (or, unsigned, to neither layer).
The receiver opens it with its own encryption key and verifies the inner signature.
"""

from __future__ import annotations

import io
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from exchange.cms import Verifier, digest, sign_detached
from exchange.cms.envelope import encrypt
from exchange.cms.sealed import open_sealed, seal
from exchange.config import default_bodies_file
from exchange.domain.bodies import Body
from exchange.domain.documents import (
    DOCUMENT_TYPES,
    Classification,
    DocumentMetadata,
    ReceiptStatus,
)
from exchange.domain.receipts import ReceiptStatement
from exchange.errors import DecryptionError, InputError, MalformedError, RejectedError
from exchange.hub.service import ExchangeService, Upload
from exchange.hub.store.models import ReceiptPublic
from exchange.pki import (
    Credential,
    KeyAlgorithm,
    KeyStore,
    RevocationReason,
    RevokedEntry,
    build_crl,
    check_encryption_certificate,
)
from exchange.pki.ca import BACKDATE
from exchange.pki.certificates import generate_key, issue_signing_certificate
from exchange.pki.revocation import crl_number, crl_pem, revoked_entries

MODES = {
    "signed": "signed with the sender's certificate",
    "unsigned": "sent electronically, unsigned",
    "paper": "sent on paper",
    "tampered": "signed, then altered in transit",
    "revoked": "signed with a revoked certificate",
    "expired": "signed with an expired certificate",
}
SAMPLE_SUFFIXES = (".pdf", ".txt")
_NUMBER = re.compile(r"Số\s+([\w./-]+)")
_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})")
_CRL_LOCK = threading.Lock()  # one CRL writer at a time within this hub


def samples_dir() -> Path:
    """``samples/documents`` beside the default bodies file (the checkout's samples)."""
    return default_bodies_file().parent / "documents"


def edxml_samples() -> list[str]:
    """The document packages in ``samples/edxml/sdk`` (written the way the Government Office's
    SDK writes them), for the trainer's "import from an outside agency"."""
    folder = default_bodies_file().parent / "edxml" / "sdk"
    return sorted(p.name for p in folder.glob("edoc_*.edxml")) if folder.is_dir() else []


def edxml_sample(name: str) -> bytes:
    """One of :func:`edxml_samples` by name (never a path); InputError otherwise."""
    if name not in edxml_samples():
        raise InputError(f"no sample edXML package {name!r}")
    return (default_bodies_file().parent / "edxml" / "sdk" / name).read_bytes()


@dataclass(frozen=True)
class Sample:
    """A sample document and the metadata a clerk would type for it (read from its text)."""

    name: str  # file name, e.g. 01-cong-van-bao-cao-cntt.pdf
    path: Path
    number: str
    doc_type: str
    subject: str
    doc_date: date | None

    @classmethod
    def from_file(cls, path: Path) -> Sample:
        """The training sample at *path*, with the text beside it (``.txt``) if there is one."""
        text_file = path.with_suffix(".txt")
        text = text_file.read_text(encoding="utf-8") if text_file.is_file() else ""
        slug = path.stem.split("-", 1)[-1]
        doc_type = next((t for t in DOCUMENT_TYPES if slug.startswith(t)), "khac")
        number = m[1] if (m := _NUMBER.search(text)) else ""
        day = None
        if m := _DATE.search(text):
            try:
                day = date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                day = None
        return cls(path.name, path, number[:60], doc_type, _subject(text) or path.stem, day)


def _subject(text: str) -> str:
    """The title block under the number line: ``QUYẾT ĐỊNH ban hành …`` or ``V/v …``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _NUMBER.search(line)), None)
    if start is None:
        return ""
    block: list[str] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if not stripped:
            if block:
                if block[-1].isupper():  # the document kind (QUYẾT ĐỊNH) stands on its own line
                    continue
                break
            continue
        if stripped.startswith("---") or stripped.startswith("Kính gửi"):
            break
        block.append(stripped)
    if block and block[0].isupper():
        block[0] = block[0].capitalize()
    return " ".join(block)[:500]


def list_samples(directory: Path) -> list[Sample]:
    """The training samples in *directory*, by file name (none when it does not exist)."""
    if not directory.is_dir():
        return []
    return [Sample.from_file(p) for p in sorted(directory.iterdir())
            if p.suffix in SAMPLE_SUFFIXES and p.is_file()]


@dataclass(frozen=True)
class Outcome:
    """What the hub answered: accepted (and delivered or registered) or refused, and why."""

    document_id: str
    mode: str
    accepted: bool
    message: str


class Trainer:
    """Plays the nodes for a trainer, against the hub's own service."""

    def __init__(self, service: ExchangeService, *, samples: Path) -> None:
        self.service = service
        self.samples = samples

    @property
    def store(self) -> KeyStore:
        """The hub's key directory, whose CA the trainer uses to revoke and renew certificates."""
        return self.service.trust.store

    def sample(self, name: str) -> Sample:
        """A sample by file name; only files listed in the samples folder (never a path)."""
        for sample in list_samples(self.samples):
            if sample.name == name:
                return sample
        raise InputError(f"no sample document named {name!r}")

    def send(self, *, sender: str, recipient: str, sample: str, mode: str,
             classification: str = Classification.NORMAL, at: datetime) -> Outcome:
        """Send *sample* from *sender* to *recipient* in *mode* (see :data:`MODES`)."""
        if mode not in MODES:
            raise InputError(f"unknown training mode {mode!r}; one of {', '.join(MODES)}")
        body = self.service.bodies.get(sender)
        self.service.bodies.get(recipient)
        chosen = self.sample(sample)
        metadata = DocumentMetadata(
            recipients=(recipient,), subject=chosen.subject, message_id=f"training-{uuid.uuid4()}",
            number=chosen.number, doc_type=chosen.doc_type, doc_date=chosen.doc_date,
            classification=Classification(classification))
        if mode == "paper":
            doc = self.service.register_paper(sender=sender, metadata=metadata, at=at)
            return Outcome(doc.id, mode, True, "registered as sent on paper: it counts against K1")
        content = chosen.path.read_bytes()
        signer: Credential | None = None
        if mode in ("signed", "tampered"):
            signer = self.store.credential(sender)
        elif mode in ("revoked", "expired"):
            signer = self._throwaway(body, at=at, expired=mode == "expired")
            if mode == "revoked":
                self._revoke(signer, at=at)
        name = chosen.name
        if metadata.classification is Classification.SECRET:
            content, signature = self._seal(content, sender=sender, recipient=recipient, signer=signer, at=at)
            name += ".p7m"
        else:
            signature = sign_detached(content, signer, at=at) if signer is not None else None
        if mode == "tampered":
            content = _alter(content)
        upload = Upload(io.BytesIO(content), name, None)
        try:
            doc = self.service.submit(sender=sender, metadata=metadata, upload=upload, signature=signature, at=at)
        except RejectedError as refusal:
            detail = refusal.detail if isinstance(refusal.detail, dict) else {}
            return Outcome(str(detail.get("document_id", "")), mode, False, refusal.message)
        words = "accepted and delivered" + ("" if signature else " (unsigned: it counts against K1)")
        return Outcome(doc.id, mode, True, words)

    def _seal(self, content: bytes, *, sender: str, recipient: str, signer: Credential | None,
              at: datetime) -> tuple[bytes, bytes | None]:
        """The envelope (to the receiver and the sender) and its outer signature; signed inside
        and outside by *signer*, or (None) encrypted only."""
        paths = self.store.path_validator()
        issuing = [self.store.issuing_certificate()]
        readers = []
        for body_id in (recipient, sender):
            cert = self.store.encryption_certificate(body_id)
            check_encryption_certificate(cert, paths=paths, body_id=body_id, at=at, intermediates=issuing)
            readers.append(cert)
        if signer is None:
            return encrypt(content, readers), None
        sealed = seal(content, sender=signer, recipients=readers[:1], sender_encryption=readers[1], at=at)
        return sealed.envelope, sealed.outer_signature

    def acknowledge(self, *, document_id: str, recipient: str, status: ReceiptStatus | None = None,
                    at: datetime) -> ReceiptPublic:
        """The receiver downloads the document, verifies it itself and sends a signed receipt:
        ``received`` if its own verification passed, else ``rejected`` with why (or *status*)."""
        path, doc = self.service.content_path(body=recipient, document_id=document_id, at=at)
        sha256 = digest(path).hex()
        verification, reason = "UNSIGNED", ""
        # The receiver's own trust: the root and CRL of its key directory, not the hub's verdict.
        verifier = Verifier(paths=self.store.path_validator())
        if doc.indication is not None:
            signature = self.service.signature(body=recipient, document_id=document_id)
            report = verifier.verify(path, signature, at=at)
            verification = report.indication.value
            if not report.passed:
                reason = report.summary()
        if doc.classification == Classification.SECRET:
            verification, reason = self._open(path, recipient, verifier, at=at, outer_problem=reason)
        chosen = status or (ReceiptStatus.REJECTED if reason else ReceiptStatus.RECEIVED)
        if chosen is ReceiptStatus.REJECTED and not reason:
            reason = "rejected by the receiver (training)"
        statement = ReceiptStatement(document_id=document_id, sha256=sha256, status=chosen,
                                     time=at.replace(microsecond=0), receiver=recipient, reason=reason,
                                     verification=verification).to_bytes()
        signature = sign_detached(statement, self.store.credential(recipient), at=at)
        return self.service.acknowledge(body=recipient, document_id=document_id, statement=statement,
                                        signature=signature, at=at)

    def _open(self, envelope: Path, recipient: str, verifier: Verifier, *, at: datetime,
              outer_problem: str) -> tuple[str, str]:
        """(verification, reason) of a secret document the receiver opens with its own key:
        the inner signature's indication, and why it rejects it ("" when it does not)."""
        try:
            opened = open_sealed(envelope.read_bytes(), credentials=self.store.encryption_credentials(recipient),
                                 verifier=verifier, at=at)
        except (DecryptionError, MalformedError) as exc:
            return "UNREADABLE", f"cannot open the secret document: {exc}"
        if opened.report is None:
            return "UNSIGNED", outer_problem
        inner = "" if opened.report.passed else f"inner signature: {opened.report.summary()}"
        return opened.report.indication.value, outer_problem or inner

    # -- throwaway certificates -----------------------------------------------------------
    def _throwaway(self, body: Body, *, at: datetime, expired: bool) -> Credential:
        """A fresh key and certificate for *body* from the issuing CA, used once and never
        written to the key directory (the body's own certificate is untouched)."""
        issuing = self.store.issuing_ca()
        algorithm = KeyAlgorithm(self.store.manifest().get("algorithm", KeyAlgorithm.RSA2048.value))
        key = generate_key(algorithm)
        if expired:
            not_before, days = at - timedelta(days=400), 365
        else:
            not_before, days = at - BACKDATE, 30
        cert = issue_signing_certificate(key, issuer=issuing, body_id=body.id, name_vi=body.name_vi,
                                         unit=f"{body.name_en} (training certificate)",
                                         not_before=not_before, days=days)
        return Credential(cert, key, (issuing.certificate,))

    def _revoke(self, credential: Credential, *, at: datetime) -> None:
        """Put the throwaway certificate on the CRL, revoked a second before it signs."""
        issuing = self.store.issuing_ca()
        revoked_at = (at - timedelta(seconds=1)).replace(microsecond=0)
        with _CRL_LOCK:
            current = self.store.crl()
            entries = revoked_entries(current)
            entries.append(RevokedEntry(credential.certificate.serial_number, revoked_at,
                                        RevocationReason.KEY_COMPROMISE))
            crl = build_crl(issuing, entries, at=revoked_at, number=crl_number(current) + 1)
            self.store.write("crl.pem", crl_pem(crl))
        self.service.trust.reload()  # the hub enforces the new CRL now, not within a second


def _alter(content: bytes) -> bytes:
    """The bytes changed in transit: one byte in the middle flipped (a figure, a word)."""
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1:]

