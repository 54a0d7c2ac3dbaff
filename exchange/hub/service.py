"""The hub's operations, in plain Python: the HTTP routes and the simulator both call these.

Every operation takes the authenticated body id and the time ``at`` as parameters and runs in
one database transaction; content is stored (content-addressed) before the transaction, so a
failure leaves at most an unreferenced blob, never a half-stored document.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine
from sqlmodel import Session

from exchange.cms import Indication, ValidationReport
from exchange.domain.bodies import BodyRegistry
from exchange.domain.documents import (
    Channel,
    Classification,
    DeliveryState,
    DocumentMetadata,
    ReceiptStatus,
)
from exchange.domain.receipts import ReceiptStatement
from exchange.domain.text import checked_text, safe_filename
from exchange.errors import (
    InputError,
    NotAuthorizedError,
    NotFoundError,
    RejectedError,
    UnknownBodyError,
)
from exchange.hub import business, edxml_import, log_events, repeats
from exchange.hub.accept import (
    MAX_SIGNATURE,
    Answer,
    Submission,
    accept,
    new_document,
    new_public,
)
from exchange.hub.batch import BatchSession
from exchange.hub.blobs import BlobStore
from exchange.hub.evidence_log import EvidenceLog
from exchange.hub.register_reader import RegisterReader
from exchange.hub.store import repository as repo
from exchange.hub.store.models import Delivery, Document, as_stored
from exchange.hub.store.public import document_public, receipt_answer, receipt_public
from exchange.hub.store.writes import IncomingCreate, ReceiptCreate
from exchange.hub.trust import Trust
from exchange.hub.verdicts import Verdict, judge
from exchange.wire import (
    BusinessEventPublic,
    DocumentPublic,
    EdxmlImportPublic,
    IncomingPublic,
    ReceiptPublic,
)

DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024
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
                 max_upload: int = DEFAULT_MAX_UPLOAD, log: EvidenceLog | None = None) -> None:
        self.engine = engine
        #: every event, appended in the transaction of the rows it describes
        self.log = log or EvidenceLog(engine)
        self.blobs = blobs
        self.trust = trust
        self.bodies = bodies
        self.max_upload = max_upload
        #: the register read-only: the pages, the measures and the register API read through it
        self.reader = RegisterReader(engine=engine, bodies=bodies)
        self._local = threading.local()  # this thread's batch, if it opened one

    # -- sending --------------------------------------------------------------------------
    def submit(self, *, sender: str, metadata: DocumentMetadata, upload: Upload, signature: bytes | None,
               at: datetime, document_id: str | None = None, verdict: Verdict | None = None) -> DocumentPublic:
        """Validate and register an electronic document; deliver it if it passes.

        Raises RejectedError (with the validation report) after recording a refusal.
        A repeated message id returns the stored document (``duplicate=True``).
        *document_id* (default: a random UUID) lets the simulator derive ids from its seed;
        *verdict*, :func:`~exchange.hub.verdicts.judge` already run on this signature (by the
        simulator's workers), spares running it here (InputError if it is about other inputs).
        """
        answer, = self.submit_many([Submission(sender, metadata, upload, signature, at, document_id, verdict)])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def submit_many(self, submissions: Sequence[Submission]) -> list[Answer]:
        """:meth:`submit` for several documents at once, sharing one transaction and one wave
        of fsyncs (see :mod:`exchange.hub.accept`): per submission, in order, the stored
        document or the error :meth:`submit` would raise. Every answer is durable."""
        return accept(self, submissions)

    def _repeat(self, session: Session, existing: Document, metadata: DocumentMetadata, kind: str,
                sha: str | None) -> DocumentPublic:
        """The stored document for a repeated send; ConflictError if it is not a repeat."""
        deliveries = repo.deliveries_of(session, document_id=existing.id)
        repeats.check_repeat(existing, deliveries, metadata=metadata, kind=kind, sha256=sha)
        public = document_public(existing, deliveries)
        public.duplicate = True
        if existing.channel is Channel.SIGNED_INVALID:
            report = ValidationReport.from_dict(json.loads(existing.report_json)) if existing.report_json else None
            # A valid signature that was refused was refused for its signer: say so again.
            self._refuse(public, "signer-mismatch" if report and report.passed else "invalid-signature", report)
        return public

    def _verdict(self, given: Verdict | None, *, sender: str, content: Path | bytes, content_sha256: str,
                 signature: bytes, at: datetime) -> Verdict:
        """*given* if it was reached on these very inputs, else the hub's verdict now
        (:func:`~exchange.hub.verdicts.judge`: validate, check the signer, time-stamp)."""
        if given is None:
            return judge(self.trust, sender=sender, content=content, signature=signature, at=at,
                         content_sha256=content_sha256)
        if not given.concerns(sender=sender, content_sha256=content_sha256, signature=signature, at=at):
            raise InputError("the verdict given was reached on other bytes, sender or time", code="verdict-mismatch")
        return given

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
        with self._session() as session:
            existing = repo.find_by_message_id(session, sender=sender, message_id=metadata.message_id)
            if existing is not None:
                return self._repeat(session, existing, metadata, repeats.PAPER, None)
            row = new_document(document_id, metadata, sender=sender, channel=Channel.PAPER, at=at)
            repo.add_document(session, row=row, recipients=metadata.recipients, state=DeliveryState.PAPER, at=at)
            repo.add_event(session, at=at, actor=sender, action="paper", document_id=row.id)
            self.log.append(session, log_events.document_entries(
                row, recipients=metadata.recipients, state=DeliveryState.PAPER, reason="", report=None, at=at))
            session.commit()
        return new_public(row, metadata.recipients, DeliveryState.PAPER)

    def register_incoming(self, *, body: str, from_agency: str, number: str = "", subject: str = "",
                          scan: Upload | None, entered: bool = True, at: datetime,
                          entry_id: str | None = None) -> IncomingPublic:
        """Record a document from an outside agency; ``scanned`` when a scan is attached (K3)."""
        self.bodies.get(body)
        for name, value in (("from_agency", from_agency), ("number", number), ("subject", subject)):
            checked_text(value, what=f"metadata.{name}")
        if not from_agency.strip():
            raise InputError("from_agency must name the sending agency", code="invalid-metadata")
        sha = filename = None
        with self.blobs.writing():  # until the row naming the scan commits: gc waits
            if scan is not None:
                sha, size = self.blobs.put_stream(scan.stream, limit=self.max_upload)
                if size == 0:
                    raise InputError("the scanned file is empty (0 bytes)", code="empty-file")
                filename = safe_filename(scan.filename)
            row = IncomingCreate(id=entry_id or str(uuid.uuid4()), body=body, from_agency=from_agency.strip()[:200],
                                 number=number[:64], subject=subject[:500], received_at=as_stored(at),
                                 scanned=sha is not None, entered=entered, sha256=sha, filename=filename)
            with self._session() as session:
                repo.add_incoming(session, row=row)
                repo.add_event(session, at=at, actor=body, action="incoming", detail=from_agency[:200])
                self.log.append(session, [log_events.incoming_entry(row, at=at)])
                session.commit()
        return IncomingPublic.model_validate(row, from_attributes=True)

    # -- receiving ------------------------------------------------------------------------
    def inbox(self, *, body: str, include_all: bool = False) -> list[DocumentPublic]:
        """*body*'s inbox, newest first: what awaits its answer (everything with *include_all*)."""
        with self._session() as session:
            return [self._public(session, doc) for doc, _ in
                    repo.inbox(session, recipient=body, include_all=include_all)]

    def document(self, *, body: str, document_id: str) -> DocumentPublic:
        """A document's metadata and the hub's report, for its sender or one of its recipients."""
        with self._session() as session:
            doc, deliveries = self._readable(session, body, document_id)
            return document_public(doc, deliveries, with_report=True)

    def content_path(self, *, body: str, document_id: str, at: datetime) -> tuple[Path, DocumentPublic]:
        """Where the document's bytes are; marks it fetched when a recipient downloads it."""
        with self._session() as session:
            doc, deliveries = self._readable(session, body, document_id)
            if doc.sha256 is None:
                raise NotFoundError(f"document {document_id} was sent on paper: there is no file",
                                    code="no-file")
            delivery = next((d for d in deliveries if d.recipient == body), None)
            if delivery is not None and delivery.fetched_at is None:
                delivery.fetched_at = as_stored(at)
                session.flush()
                self.log.append(session, [log_events.downloaded_entry(document_id=document_id, recipient=body, at=at)])
                session.commit()
            return self.blobs.path(doc.sha256), document_public(doc, deliveries)

    def download(self, *, body: str, document_id: str, at: datetime, record: bool = True
                 ) -> tuple[Path, bytes | None]:
        """:meth:`content_path` and :meth:`signature` in one, without the metadata: where the
        bytes are and the signature (None if unsigned), marked fetched. Same rules and errors;
        one query and one update, for callers that download many documents (the simulator).
        *record* False only reads: the caller records the fetch with :meth:`record_fetch`."""
        with self._session() as session:
            found = self._download_target(session, body, document_id)
            _, sha256, signature_sha256, _, _, _ = found
            if record:
                self._record_fetch(session, found, body=body, document_id=document_id, at=at)
        signature = self.blobs.read(signature_sha256) if signature_sha256 is not None else None
        return self.blobs.path(sha256), signature

    def record_fetch(self, *, body: str, document_id: str, at: datetime) -> bool:
        """Mark a document fetched by *body* at *at*, as :meth:`download` does (same rules and
        errors); whether this was its first fetch (only that one is recorded)."""
        with self._session() as session:
            found = self._download_target(session, body, document_id)
            return self._record_fetch(session, found, body=body, document_id=document_id, at=at)

    @staticmethod
    def _download_target(session: Session, body: str, document_id: str) -> tuple[Any, ...]:
        found = repo.download_target(session, document_id=document_id, recipient=body)
        if found is None:
            raise NotFoundError(f"no document {document_id}")
        sender, sha256, _, _, state, _ = found
        _check_readable(body, document_id, sender=sender, delivery_state=state)
        if sha256 is None:
            raise NotFoundError(f"document {document_id} was sent on paper: there is no file", code="no-file")
        return found

    def _record_fetch(self, session: Session, found: tuple[Any, ...], *, body: str, document_id: str,
                      at: datetime) -> bool:
        delivery_id, fetched = found[3], found[5]
        if delivery_id is None or fetched is not None:
            return False
        repo.mark_fetched(session, delivery_id=delivery_id, at=at)
        self.log.append(session, [log_events.downloaded_entry(document_id=document_id, recipient=body, at=at)])
        session.commit()
        return True

    def signature(self, *, body: str, document_id: str) -> bytes:
        """A document's detached signature (as the hub keeps it, time-stamped), for its sender or a
        recipient; NotFoundError if it is unsigned."""
        with self._session() as session:
            doc, _ = self._readable(session, body, document_id)
            if doc.signature_sha256 is None:
                raise NotFoundError(f"document {document_id} is unsigned", code="no-signature")
            return self.blobs.read(doc.signature_sha256)

    def acknowledge(self, *, body: str, document_id: str, statement: bytes, signature: bytes,
                    at: datetime, verdict: Verdict | None = None) -> ReceiptPublic:
        """Validate and store a recipient's signed status statement (edXML 01–06).

        *verdict*: as for :meth:`submit`, the receipt's signature already judged."""
        if len(statement) > MAX_RECEIPT or len(signature) > MAX_SIGNATURE:
            raise InputError("the receipt is too large", code="invalid-receipt")
        parsed = ReceiptStatement.from_bytes(statement)
        if parsed.status is ReceiptStatus.RECALL:
            raise InputError("status 13 (recall) is the sender's request: exchange node recall", code="invalid-receipt")
        if parsed.document_id != document_id:
            raise InputError(f"the receipt is for document {parsed.document_id}, not {document_id}",
                             code="invalid-receipt")
        if parsed.receiver != body:
            raise NotAuthorizedError(f"the receipt names receiver {parsed.receiver}, but you are {body}")
        with self._session() as session:
            target = repo.receipt_target(session, document_id=document_id, recipient=body)
            if target is None:
                raise NotFoundError(f"no document {document_id}")
            sha256, delivery_id, state = target
            if delivery_id is None or state is not DeliveryState.DELIVERED:
                raise NotAuthorizedError(f"document {document_id} was not delivered to {body}")
            if parsed.status.answers_change:  # 15/16 answer a recall or an update (edXML)
                business.require_pending_change(session, document_id=document_id)
            if parsed.sha256 != sha256:
                raise RejectedError("the receipt's SHA-256 is not that of the document as sent: "
                                    "it acknowledges other bytes", code="receipt-digest-mismatch")
            # A receipt sent again (a retry after a lost answer, maybe to another hub process) is
            # the same signed statement: answer the stored one rather than record it twice.
            stored = repo.find_receipt(session, document_id=document_id, recipient=body, statement=statement)
            if stored is not None:
                return receipt_public(stored)
            verdict = self._verdict(verdict, sender=body, content=statement,
                                    content_sha256=hashlib.sha256(statement).hexdigest(), signature=signature, at=at)
            report = verdict.report
            if not verdict.accepted:
                signer = report.signer.body_id if report.signer else None
                why = report.summary() if not report.passed else f"signed by {signer}, not {body}"
                raise RejectedError(f"receipt signature refused: {why}", code="invalid-signature",
                                    detail={"report": report.to_dict()})
            signature = verdict.signature
            # Two copies arriving at once (two hub processes) take turns on the delivery's row
            # lock; the second then finds the first's receipt. A batch is the only writer.
            if not isinstance(session, BatchSession):
                repo.lock_delivery(session, delivery_id=delivery_id)
                stored = repo.find_receipt(session, document_id=document_id, recipient=body, statement=statement)
                if stored is not None:
                    session.rollback()
                    return receipt_public(stored)
            row = ReceiptCreate(document_id=document_id, recipient=body, status=parsed.status,
                                reason=parsed.reason[:500], statement=statement, signature=signature,
                                indication=report.indication, report_json=verdict.report_json,
                                stated_at=as_stored(parsed.time), created_at=as_stored(at))
            receipt_id = repo.add_receipt(session, row=row)
            repo.record_status(session, delivery_id=delivery_id, status=parsed.status, at=parsed.time,
                               verified=parsed.verification == Indication.TOTAL_PASSED
                               if parsed.verification else None)
            repo.add_event(session, at=at, actor=body, action=f"status-{parsed.status.label}",
                           document_id=document_id, detail=parsed.reason)
            self.log.append(session, [log_events.receipt_entry(row, receipt_id=receipt_id,
                                                               verification=parsed.verification or None, at=at)])
            session.commit()
        return receipt_answer(receipt_id, row)

    def status_trail(self, *, body: str, document_id: str) -> list[ReceiptPublic]:
        """Every signed status of a document: all recipients' for its sender, one's own otherwise."""
        with self._session() as session:
            doc, _ = self._readable(session, body, document_id)
            only = None if doc.sender == body else body
            return [receipt_public(r) for r in repo.receipts_of(session, document_id=document_id, recipient=only)]

    # -- edXML business operations and imported packages (exchange.hub.business, .edxml_import)
    def record_business(self, *, body: str, document_id: str, statement: bytes, signature: bytes,
                        at: datetime) -> BusinessEventPublic:
        """A sender's signed recall, update or replacement (see :mod:`exchange.hub.business`)."""
        return business.record(self, body=body, document_id=document_id, statement=statement,
                               signature=signature, at=at)

    def business_events(self, *, body: str | None, document_id: str) -> list[BusinessEventPublic]:
        """The document's signed business events, for its sender or recipients (None: the pages)."""
        if body is not None:
            with self._session() as session:
                self._readable(session, body, document_id)
        return business.events(self, document_id=document_id)

    def business_relations(self, *, document_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
        """For the register's pages: per document, (relation, other document id) pairs such as
        ("recalled", ""), ("replaced by", NEW), ("replaces", OLD), ("updated", "")."""
        return business.relations(self, document_ids=document_ids)

    def edxml_imports(self, *, body: str | None = None, document_id: str | None = None) -> list[EdxmlImportPublic]:
        """Imported edXML packages, newest first (the pages)."""
        return edxml_import.imports(self, body=body, document_id=document_id)

    def edxml_import(self, *, import_id: str) -> EdxmlImportPublic:
        """One imported package with what it said; NotFoundError if unknown."""
        return edxml_import.find(self, import_id=import_id)

    def register_edxml(self, *, body: str, data: bytes, at: datetime) -> EdxmlImportPublic:
        """An edXML package from an outside agency (see :mod:`exchange.hub.edxml_import`)."""
        return edxml_import.register(self, body=body, data=data, at=at)

    def record_refusal(self, *, actor: str | None, method: str, path: str, code: str, at: datetime,
                       revoked_serial: str | None = None) -> None:
        """Log a request refused for authentication or access (and a revoked certificate seen)."""
        entries = [log_events.access_refused_entry(at, actor=actor, method=method, path=path, code=code)]
        if revoked_serial is not None:
            entries.append(log_events.revoked_entry(at, body=actor, serial=revoked_serial,
                                                    seen_in="authentication"))
        with self._session() as session:
            self.log.append(session, entries)
            session.commit()

    # -- helpers --------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run this thread's operations inside as one transaction, their log entries appended
        together (see :mod:`exchange.hub.batch`: for a sole writer, such as the simulator)."""
        if getattr(self._local, "batch", None) is not None:
            raise RuntimeError("batches do not nest")
        session = BatchSession(self.engine, expire_on_commit=False)
        self._local.batch = session
        try:
            with self.blobs.writing():  # the blobs stored inside wait for the batch's commit
                yield
                session.finish()
        except BaseException:
            session.discard()
            raise
        finally:
            self._local.batch = None
            session.end()

    def _session(self) -> Session:
        # Each operation is one short transaction that builds its answer from what it read or
        # wrote: expiring the rows at commit would only cost queries to read them again.
        batch = getattr(self._local, "batch", None)
        return batch if batch is not None else Session(self.engine, expire_on_commit=False)

    def _check_recipients(self, sender: str, recipients: tuple[str, ...]) -> None:
        for recipient in recipients:
            if recipient not in self.bodies:
                raise UnknownBodyError(f"unknown recipient {recipient!r}", code="unknown-recipient")
            if recipient == sender:
                raise InputError("a body cannot send a document to itself", code="invalid-recipient")

    def _readable(self, session: Session, body: str, document_id: str) -> tuple[Document, list[Delivery]]:
        """The document and all its deliveries, if *body* may read it."""
        doc = repo.find_document(session, document_id=document_id)
        if doc is None:
            raise NotFoundError(f"no document {document_id}")
        deliveries = repo.deliveries_of(session, document_id=document_id)
        delivery = next((d for d in deliveries if d.recipient == body), None)
        _check_readable(body, document_id, sender=doc.sender, delivery_state=delivery.state if delivery else None)
        return doc, deliveries

    def _public(self, session: Session, doc: Document, *, with_report: bool = False) -> DocumentPublic:
        return document_public(doc, repo.deliveries_of(session, document_id=doc.id), with_report=with_report)

    # -- the hub's own web pages: read-only views of the whole register -------------------
    # These skip the per-body access rule of the API (the pages show the register, as the
    # Central Party Office's operators see it); no method here returns a document's bytes
    # except text_preview, which never does for a secret document.
    def reverify(self, *, document_id: str, at: datetime) -> ValidationReport | None:
        """The stored signature of a document validated again at *at*, with the hub's current
        CRLs: today's verdict (None for an unsigned or paper document). The hub's time-stamp on
        an accepted signature is its proof of existence, so a signer revoked or expired since
        does not change a TOTAL_PASSED. NotFoundError if the document is unknown."""
        with self._session() as session:
            doc = repo.find_document(session, document_id=document_id)
            if doc is None:
                raise NotFoundError(f"no document {document_id}")
            sha256, signature_sha256 = doc.sha256, doc.signature_sha256
        if sha256 is None or signature_sha256 is None:
            return None
        return self.trust.verifier().verify(self.blobs.path(sha256), self.blobs.read(signature_sha256), at=at,
                                            sha256=bytes.fromhex(sha256))

    def text_preview(self, *, document_id: str, limit: int = 4000) -> str | None:
        """The beginning of a document's file as text, for the pages; ``None`` when it must
        not or cannot be shown: anything not classified ``normal`` (a secret document's
        content is never shown), a paper document, or bytes that are not UTF-8 text."""
        with self._session() as session:
            doc = repo.find_document(session, document_id=document_id)
        if doc is None or doc.classification is not Classification.NORMAL or doc.sha256 is None:
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


def _check_readable(body: str, document_id: str, *, sender: str, delivery_state: DeliveryState | None) -> None:
    """Raise NotAuthorizedError unless *body* sent the document or it was delivered to it."""
    if sender == body:
        return
    if delivery_state is None:
        raise NotAuthorizedError(f"document {document_id} was neither sent by nor to {body}")
    # A refused document was never delivered: its would-be recipients must not read it.
    if delivery_state is DeliveryState.REFUSED:
        raise NotAuthorizedError(f"document {document_id} was refused by the hub and not delivered to {body}",
                                 code="not-delivered")


