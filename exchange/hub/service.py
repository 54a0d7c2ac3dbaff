"""The hub's operations, in plain Python: the HTTP routes and the simulator both call these.

Every operation takes the authenticated body id and the time ``at`` as parameters and runs in
one database transaction; content is stored (content-addressed) before the transaction, so a
failure leaves at most an unreferenced blob, never a half-stored document.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exchange.cms import Indication, ValidationReport
from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import Channel, DocumentMetadata, ReceiptStatus
from exchange.domain.receipts import ReceiptStatement
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.errors import (
    ConflictError,
    InputError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
    UnknownBodyError,
)
from exchange.hub.blobs import BlobStore
from exchange.hub.store import repository as repo
from exchange.hub.store.models import (
    DeliveryPublic,
    Document,
    DocumentPublic,
    Incoming,
    IncomingPublic,
    Receipt,
    ReceiptPublic,
)
from exchange.hub.trust import Trust

DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
MAX_SIGNATURE = 1024 * 1024
MAX_RECEIPT = 64 * 1024


@dataclass(frozen=True)
class Upload:
    """A file as received: a readable stream, the client's name for it (display only)."""

    stream: BinaryIO
    filename: str | None = None
    media_type: str | None = None


class ExchangeService:
    """Send, deliver, fetch, acknowledge; the register of every exchange."""

    def __init__(self, *, engine: Engine, blobs: BlobStore, trust: Trust, bodies: BodyRegistry,
                 max_upload: int = DEFAULT_MAX_UPLOAD) -> None:
        self.engine = engine
        self.blobs = blobs
        self.trust = trust
        self.bodies = bodies
        self.max_upload = max_upload

    # -- sending --------------------------------------------------------------------------
    def submit(self, *, sender: str, metadata: DocumentMetadata, upload: Upload, signature: bytes | None,
               at: datetime, document_id: str | None = None) -> DocumentPublic:
        """Validate and register an electronic document; deliver it if it passes.

        Raises RejectedError (with the validation report) after recording a refusal.
        A repeated message id returns the stored document (``duplicate=True``).
        *document_id* (default: a random UUID) lets the simulator derive ids from its seed.
        """
        self._check_recipients(sender, metadata.recipients)
        if signature is not None and len(signature) > MAX_SIGNATURE:
            raise InputError("the signature part is larger than 1 MiB", code="invalid-signature-part")
        sha, size = self.blobs.put_stream(upload.stream, limit=self.max_upload)
        if size == 0:
            raise InputError("the file is empty (0 bytes): nothing to send", code="empty-file")
        with Session(self.engine) as session:
            existing = repo.find_by_message_id(session, sender=sender, message_id=metadata.message_id)
            if existing is not None:
                return self._repeat(session, existing, sha)
        report: ValidationReport | None = None
        reason = ""
        if signature is None:
            channel = Channel.UNSIGNED
        else:
            report = self.trust.verifier().verify(self.blobs.path(sha), signature, at=at)
            signer = report.signer.body_id if report.signer else None
            if not report.passed:
                channel, reason = Channel.SIGNED_INVALID, "invalid-signature"
            elif signer != sender:
                channel, reason = Channel.SIGNED_INVALID, "signer-mismatch"
            else:
                channel = Channel.SIGNED_VALID
        doc = Document(
            id=document_id or str(uuid.uuid4()), message_id=metadata.message_id, sender=sender,
            number=metadata.number, doc_type=metadata.doc_type, subject=metadata.subject,
            doc_date=metadata.doc_date,
            classification=metadata.classification.value, channel=channel.value,
            filename=_display_name(upload.filename), media_type=(upload.media_type or "")[:128] or None,
            sha256=sha, size=size,
            signature_sha256=self.blobs.put_bytes(signature) if signature is not None else None,
            indication=report.indication.value if report else None,
            sub_indication=report.sub_indication.value if report and report.sub_indication else None,
            report_json=report.to_json() if report else None,
            signer=report.signer.body_id if report and report.signer else None,
            created_at=at,
        )
        state = "refused" if channel is Channel.SIGNED_INVALID else "delivered"
        with Session(self.engine) as session:
            repo.add_document(session, document=doc, recipients=metadata.recipients, state=state, at=at)
            repo.add_event(session, at=at, actor=sender, action="refused" if reason else "accepted",
                           document_id=doc.id, detail=reason or channel.value)
            try:
                session.commit()
            except IntegrityError:
                # A concurrent retry with the same message id won the race: answer as a repeat.
                session.rollback()
                existing = repo.find_by_message_id(session, sender=sender, message_id=metadata.message_id)
                if existing is None:
                    raise
                return self._repeat(session, existing, sha)
            public = self._public(session, doc)
        if reason:
            self._refuse(public, reason, report)
        return public

    def _repeat(self, session: Session, existing: Document, sha: str) -> DocumentPublic:
        if existing.sha256 is not None and sha != existing.sha256:
            raise ConflictError(f"message id {existing.message_id!r} was already used for another document "
                                f"({existing.id})", code="message-id-reused")
        public = self._public(session, existing)
        public.duplicate = True
        if existing.channel == Channel.SIGNED_INVALID.value:
            report = ValidationReport.from_dict(json.loads(existing.report_json)) if existing.report_json else None
            # A valid signature that was refused was refused for its signer: say so again.
            self._refuse(public, "signer-mismatch" if report and report.passed else "invalid-signature", report)
        return public

    @staticmethod
    def _refuse(public: DocumentPublic, code: str, report: ValidationReport | None) -> None:
        if code == "signer-mismatch":
            signer = report.signer.body_id if report and report.signer else "?"
            message = f"the document is signed by {signer}, not by the sender {public.sender}"
        else:
            message = f"signature refused: {report.summary() if report else 'invalid'}"
        raise RejectedError(message, code=code, detail={"document_id": public.id,
                                                        "report": report.to_dict() if report else None})

    def register_paper(self, *, sender: str, metadata: DocumentMetadata, at: datetime,
                       document_id: str | None = None) -> DocumentPublic:
        """Register a document sent on paper: metadata only, no file, not delivered electronically."""
        self._check_recipients(sender, metadata.recipients)
        with Session(self.engine) as session:
            existing = repo.find_by_message_id(session, sender=sender, message_id=metadata.message_id)
            if existing is not None:
                public = self._public(session, existing)
                public.duplicate = True
                return public
            doc = Document(id=document_id or str(uuid.uuid4()), message_id=metadata.message_id, sender=sender,
                           number=metadata.number, doc_type=metadata.doc_type, subject=metadata.subject,
                           doc_date=metadata.doc_date, classification=metadata.classification.value,
                           channel=Channel.PAPER.value, created_at=at)
            repo.add_document(session, document=doc, recipients=metadata.recipients, state="paper", at=at)
            repo.add_event(session, at=at, actor=sender, action="paper", document_id=doc.id)
            session.commit()
            return self._public(session, doc)

    def register_incoming(self, *, body: str, from_agency: str, number: str = "", subject: str = "",
                          scan: Upload | None, entered: bool = True, at: datetime,
                          entry_id: str | None = None) -> IncomingPublic:
        """Record a document from an outside agency; ``scanned`` when a scan is attached (K3)."""
        self.bodies.get(body)
        if not from_agency.strip():
            raise InputError("from_agency must name the sending agency", code="invalid-metadata")
        sha = filename = None
        if scan is not None:
            sha, size = self.blobs.put_stream(scan.stream, limit=self.max_upload)
            if size == 0:
                raise InputError("the scanned file is empty (0 bytes)", code="empty-file")
            filename = _display_name(scan.filename)
        row = Incoming(id=entry_id or str(uuid.uuid4()), body=body, from_agency=from_agency.strip()[:200], number=number[:64],
                       subject=subject[:500], received_at=at, scanned=sha is not None, entered=entered,
                       sha256=sha, filename=filename)
        with Session(self.engine) as session:
            session.add(row)
            repo.add_event(session, at=at, actor=body, action="incoming", detail=from_agency[:200])
            session.commit()
            session.refresh(row)
            return IncomingPublic.model_validate(row, from_attributes=True)

    # -- receiving ------------------------------------------------------------------------
    def inbox(self, *, body: str, include_all: bool = False) -> list[DocumentPublic]:
        with Session(self.engine) as session:
            return [self._public(session, doc) for doc, _ in
                    repo.inbox(session, recipient=body, include_all=include_all)]

    def document(self, *, body: str, document_id: str) -> DocumentPublic:
        """A document's metadata and the hub's report, for its sender or one of its recipients."""
        with Session(self.engine) as session:
            doc = self._readable(session, body, document_id)
            return self._public(session, doc, with_report=True)

    def content_path(self, *, body: str, document_id: str, at: datetime) -> tuple[Path, DocumentPublic]:
        """Where the document's bytes are; marks it fetched when a recipient downloads it."""
        with Session(self.engine) as session:
            doc = self._readable(session, body, document_id)
            if doc.sha256 is None:
                raise NotFoundError(f"document {document_id} was sent on paper: there is no file",
                                    code="no-file")
            delivery = repo.delivery_for(session, document_id=document_id, recipient=body)
            if delivery is not None and delivery.fetched_at is None:
                delivery.fetched_at = at
                session.add(delivery)
                session.commit()
            return self.blobs.path(doc.sha256), self._public(session, doc)

    def signature(self, *, body: str, document_id: str) -> bytes:
        with Session(self.engine) as session:
            doc = self._readable(session, body, document_id)
            if doc.signature_sha256 is None:
                raise NotFoundError(f"document {document_id} is unsigned", code="no-signature")
            return self.blobs.read(doc.signature_sha256)

    def acknowledge(self, *, body: str, document_id: str, statement: bytes, signature: bytes,
                    at: datetime) -> ReceiptPublic:
        """Validate and store a recipient's signed status statement (edXML 01–06)."""
        if len(statement) > MAX_RECEIPT or len(signature) > MAX_SIGNATURE:
            raise InputError("the receipt is too large", code="invalid-receipt")
        parsed = ReceiptStatement.from_bytes(statement)
        if parsed.document_id != document_id:
            raise InputError(f"the receipt is for document {parsed.document_id}, not {document_id}",
                             code="invalid-receipt")
        if parsed.receiver != body:
            raise NotAuthorizedError(f"the receipt names receiver {parsed.receiver}, but you are {body}")
        with Session(self.engine) as session:
            doc = repo.find_document(session, document_id=document_id)
            if doc is None:
                raise NotFoundError(f"no document {document_id}")
            delivery = repo.delivery_for(session, document_id=document_id, recipient=body)
            if delivery is None or delivery.state != "delivered":
                raise NotAuthorizedError(f"document {document_id} was not delivered to {body}")
            if parsed.sha256 != doc.sha256:
                raise RejectedError("the receipt's SHA-256 is not that of the document as sent: "
                                    "it acknowledges other bytes", code="receipt-digest-mismatch")
            report = self.trust.verifier().verify(statement, signature, at=at)
            signer = report.signer.body_id if report.signer else None
            if not report.passed or signer != body:
                why = report.summary() if not report.passed else f"signed by {signer}, not {body}"
                raise RejectedError(f"receipt signature refused: {why}", code="invalid-signature",
                                    detail={"report": report.to_dict()})
            receipt = Receipt(document_id=document_id, recipient=body, status=parsed.status.value,
                              reason=parsed.reason[:500], statement=statement, signature=signature,
                              indication=report.indication.value, report_json=report.to_json(),
                              stated_at=parsed.time, created_at=at)
            session.add(receipt)
            delivery.status, delivery.status_at = parsed.status.value, parsed.time
            if parsed.verification:
                delivery.verified = parsed.verification == Indication.TOTAL_PASSED.value
            session.add(delivery)
            repo.add_event(session, at=at, actor=body, action=f"status-{parsed.status.label}",
                           document_id=document_id, detail=parsed.reason)
            session.commit()
            session.refresh(receipt)
            return _receipt_public(receipt)

    def status_trail(self, *, body: str, document_id: str) -> list[ReceiptPublic]:
        """Every signed status of a document: all recipients' for its sender, one's own otherwise."""
        with Session(self.engine) as session:
            doc = self._readable(session, body, document_id)
            only = None if doc.sender == body else body
            return [_receipt_public(r) for r in repo.receipts_of(session, document_id=document_id, recipient=only)]

    # -- the register ---------------------------------------------------------------------
    def register_entries(self, *, start: datetime | None = None, end: datetime | None = None
                         ) -> Iterator[RegisterEntry]:
        with Session(self.engine) as session:
            yield from repo.register_entries(session, start=start, end=end)

    def incoming_entries(self, *, start: datetime | None = None, end: datetime | None = None
                         ) -> Iterator[IncomingEntry]:
        with Session(self.engine) as session:
            yield from repo.incoming_entries(session, start=start, end=end)

    # -- helpers --------------------------------------------------------------------------
    def _check_recipients(self, sender: str, recipients: tuple[str, ...]) -> None:
        for recipient in recipients:
            if recipient not in self.bodies:
                raise UnknownBodyError(f"unknown recipient {recipient!r}", code="unknown-recipient")
            if recipient == sender:
                raise InputError("a body cannot send a document to itself", code="invalid-recipient")

    def _readable(self, session: Session, body: str, document_id: str) -> Document:
        doc = repo.find_document(session, document_id=document_id)
        if doc is None:
            raise NotFoundError(f"no document {document_id}")
        if doc.sender == body:
            return doc
        delivery = repo.delivery_for(session, document_id=document_id, recipient=body)
        if delivery is None:
            raise NotAuthorizedError(f"document {document_id} was neither sent by nor to {body}")
        # A refused document was never delivered: its would-be recipients must not read it.
        if delivery.state == "refused":
            raise NotAuthorizedError(f"document {document_id} was refused by the hub and not delivered to {body}",
                                     code="not-delivered")
        return doc

    def _public(self, session: Session, doc: Document, *, with_report: bool = False) -> DocumentPublic:
        deliveries = repo.deliveries_of(session, document_id=doc.id)
        return DocumentPublic(
            id=doc.id, message_id=doc.message_id, sender=doc.sender,
            recipients=[d.recipient for d in deliveries], number=doc.number, doc_type=doc.doc_type,
            subject=doc.subject, doc_date=doc.doc_date, classification=doc.classification,
            channel=doc.channel, filename=doc.filename, sha256=doc.sha256, size=doc.size,
            indication=doc.indication, sub_indication=doc.sub_indication, created_at=doc.created_at,
            deliveries=[DeliveryPublic(
                recipient=d.recipient, state=d.state, sent_at=d.sent_at, fetched_at=d.fetched_at,
                verified=d.verified, status=d.status,
                status_name=ReceiptStatus(d.status).label if d.status else None, status_at=d.status_at,
            ) for d in deliveries],
            report=json.loads(doc.report_json) if with_report and doc.report_json else None,
        )

    # -- the hub's own web pages: read-only views of the whole register -------------------
    # These skip the per-body access rule of the API (the pages show the register, as the
    # Central Party Office's operators see it); no method here returns a document's bytes
    # except text_preview, which never does for a secret document.
    def register_span(self) -> tuple[datetime, datetime] | None:
        """The first and last moments in the register (sends and incoming); None if empty."""
        with Session(self.engine) as session:
            return repo.register_span(session)

    def find_documents(self, *, start: datetime | None = None, end: datetime | None = None,
                       channel: str | None = None, sender: str | None = None, recipient: str | None = None,
                       body: str | None = None, validity: str | None = None, status: str | None = None,
                       offset: int = 0, limit: int = 50) -> tuple[list[DocumentPublic], int]:
        """One page of the register's documents (newest first) and the number matching.

        Raises InputError for a filter value outside ``repository.VALIDITY_FILTERS`` /
        ``STATUS_FILTERS`` or an unknown channel.
        """
        if validity and validity not in repo.VALIDITY_FILTERS:
            raise InputError(f"validity must be one of {', '.join(repo.VALIDITY_FILTERS)}")
        if status and status not in repo.STATUS_FILTERS:
            raise InputError(f"status must be one of {', '.join(repo.STATUS_FILTERS)}")
        if channel and channel not in {c.value for c in Channel}:
            raise InputError(f"channel must be one of {', '.join(c.value for c in Channel)}")
        with Session(self.engine) as session:
            rows, total = repo.search_documents(
                session, start=start, end=end, channel=channel, sender=sender, recipient=recipient, body=body,
                validity=validity, status=status, offset=offset, limit=limit)
            return [self._public(session, doc) for doc in rows], total

    def audit_document(self, *, document_id: str) -> DocumentPublic:
        """Any document's metadata and the hub's validation report; NotFoundError if unknown."""
        with Session(self.engine) as session:
            doc = repo.find_document(session, document_id=document_id)
            if doc is None:
                raise NotFoundError(f"no document {document_id}")
            return self._public(session, doc, with_report=True)

    def audit_receipts(self, *, document_id: str) -> list[ReceiptPublic]:
        """Every recipient's signed statuses for a document, oldest first."""
        with Session(self.engine) as session:
            return [_receipt_public(r) for r in repo.receipts_of(session, document_id=document_id)]

    def audit_events(self, *, document_id: str) -> list[dict[str, object]]:
        """The hub's audit trail of one document: ``at``, ``actor``, ``action``, ``detail``."""
        with Session(self.engine) as session:
            return [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                    for e in repo.events_of(session, document_id=document_id)]

    def activity(self, *, since: datetime) -> dict[str, object]:
        """Live counts since *since* and the last event id (see ``repository.activity``)."""
        with Session(self.engine) as session:
            return repo.activity(session, since=since)

    def receipt_tallies(self, *, start: datetime | None = None, end: datetime | None = None
                        ) -> dict[str, tuple[int, int]]:
        """Per recipient: (documents delivered to it in [start, end), how many it acknowledged)."""
        with Session(self.engine) as session:
            return repo.receipt_tallies(session, start=start, end=end)

    def text_preview(self, *, document_id: str, limit: int = 4000) -> str | None:
        """The beginning of a document's file as text, for the pages; ``None`` when it must
        not or cannot be shown: anything not classified ``normal`` (a secret document's
        content is never shown), a paper document, or bytes that are not UTF-8 text."""
        with Session(self.engine) as session:
            doc = repo.find_document(session, document_id=document_id)
        if doc is None or doc.classification != "normal" or doc.sha256 is None:
            return None
        with self.blobs.path(doc.sha256).open("rb") as stream:
            head = stream.read(limit + 4)
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not merely a character cut at the end
                return None
            text = head[:exc.start].decode("utf-8")
        if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
            return None
        return text[:limit]


def _receipt_public(r: Receipt) -> ReceiptPublic:
    return ReceiptPublic(
        id=r.id or 0, document_id=r.document_id, recipient=r.recipient, status=r.status,
        status_name=ReceiptStatus(r.status).label, reason=r.reason, stated_at=r.stated_at,
        created_at=r.created_at, indication=r.indication, statement=r.statement.decode("utf-8"),
        signature_b64=base64.b64encode(r.signature).decode(), report=json.loads(r.report_json),
    )


def _display_name(name: str | None) -> str | None:
    """The client's file name, kept for display only: path parts and control characters removed."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return cleaned[:255] or None
