"""Accepting electronic documents, several at a time: one transaction and one wave of fsyncs.

:meth:`ExchangeService.submit` is a group of one; :class:`exchange.hub.intake.Intake` hands
the uploads in flight to :func:`accept` together. For each document in turn its file is
staged (written, hashed, not yet synced), its message id looked up, its signature validated
and, if accepted, time-stamped; then the group is made durable at once: the files fsynced
and put in place, then one database transaction holding every document's rows, events and
evidence-log entries, committed with one fsync. Nothing is answered before that commit, so
every acknowledgement is as durable as a document accepted alone; the group only shares the
cost of making it so.

What one document does wrong is its own answer (an error, raised in its request alone); a
failure of the group's blobs or transaction is every document's answer. A unique-key clash
in the group's transaction (a retry racing a hub process or thread) sends each document
through a transaction of its own, as if it had come alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from exchange.cms import ValidationReport
from exchange.domain.documents import Channel, Classification, DeliveryState, DocumentMetadata
from exchange.domain.text import safe_filename
from exchange.errors import InputError
from exchange.hub import log_events, repeats
from exchange.hub.blobs import Staged
from exchange.hub.secret import check_envelope
from exchange.hub.store import repository as repo
from exchange.hub.store.models import DeliveryPublic, Document, DocumentPublic, as_stored
from exchange.hub.store.writes import DocumentCreate
from exchange.hub.verdicts import Verdict

if TYPE_CHECKING:
    from exchange.hub.service import ExchangeService, Upload

MAX_SIGNATURE = 1024 * 1024

#: what :func:`accept` answers for one document: the stored document, or why it was not
Answer = DocumentPublic | Exception


@dataclass(frozen=True)
class Submission:
    """One electronic document to accept: the arguments of :meth:`ExchangeService.submit`."""

    sender: str
    metadata: DocumentMetadata
    upload: Upload
    signature: bytes | None
    at: datetime
    document_id: str | None = None
    #: :func:`~exchange.hub.verdicts.judge` already run on this signature (the simulator's workers)
    verdict: Verdict | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(sender, message id): what makes a send a repeat of another."""
        return self.sender, self.metadata.message_id


@dataclass
class _Judged:
    """A document ready to record: its staged blobs, its row and its verdict."""

    index: int
    submission: Submission
    blobs: list[Staged]
    row: DocumentCreate
    state: DeliveryState
    reason: str
    report: ValidationReport | None


def accept(service: ExchangeService, submissions: Sequence[Submission]) -> list[Answer]:
    """Validate and register *submissions*; per submission, in order, what
    :meth:`ExchangeService.submit` would return or raise. Durable when it returns."""
    answers: list[Answer | None] = [None] * len(submissions)
    # A message id sent twice in one group: the later send waits for the earlier one's commit,
    # then is answered as its repeat (or a conflict), exactly as if it had come after.
    now: list[int] = []
    later: list[int] = []
    seen: set[tuple[str, str]] = set()
    for i, submission in enumerate(submissions):
        (later if submission.key in seen else now).append(i)
        seen.add(submission.key)
    # Held from storing the blobs until their rows commit: ``exchange hub gc`` waits.
    with service.blobs.writing():
        staged: dict[int, Staged] = {}
        for i in now:
            try:
                staged[i] = _stage(service, submissions[i])
            except Exception as exc:  # this document's own failure: raised in its request only
                answers[i] = exc
        _answer_repeats(service, submissions, staged, answers)
        judged: list[_Judged] = []
        for i, content in staged.items():
            try:
                judged.append(_judge(service, i, submissions[i], content))
            except Exception as exc:
                service.blobs.discard([content])
                answers[i] = exc
        if judged:
            try:
                service.blobs.place([blob for j in judged for blob in j.blobs])
                _record(service, judged, answers)
            except Exception as exc:  # the group's storage failed: no document of it was stored
                for j in judged:
                    if answers[j.index] is None:
                        answers[j.index] = exc
    if later:
        for i, answer in zip(later, accept(service, [submissions[i] for i in later]), strict=True):
            answers[i] = answer
    return [a if a is not None else RuntimeError("no answer") for a in answers]


def _stage(service: ExchangeService, submission: Submission) -> Staged:
    """Check what needs no database, then write the file (not yet synced)."""
    service._check_recipients(submission.sender, submission.metadata.recipients)
    if submission.signature is not None and len(submission.signature) > MAX_SIGNATURE:
        raise InputError("the signature part is larger than 1 MiB", code="invalid-signature-part")
    content = service.blobs.stage_stream(submission.upload.stream, limit=service.max_upload)
    try:
        if content.size == 0:
            raise InputError("the file is empty (0 bytes): nothing to send", code="empty-file")
        if submission.metadata.classification is Classification.SECRET:
            # A secret document's file must be an envelope for every recipient (see
            # hub.secret); refused, it is never put in the store: the hub keeps no plaintext.
            check_envelope(content.path, recipients=submission.metadata.recipients, store=service.trust.store)
    except BaseException:
        service.blobs.discard([content])
        raise
    return content


def _kind(submission: Submission) -> str:
    return repeats.UNSIGNED if submission.signature is None else repeats.SIGNED


def _answer_repeats(service: ExchangeService, submissions: Sequence[Submission], staged: dict[int, Staged],
                    answers: list[Answer | None]) -> None:
    """Answer (and drop from *staged*) every submission whose message id was used before."""
    if not staged:
        return
    with service._session() as session:
        existing = repo.find_by_message_ids(session, keys=[submissions[i].key for i in staged])
        for i in [i for i in staged if submissions[i].key in existing]:
            content = staged.pop(i)
            # The stored document already holds these bytes (or the send is a conflict).
            service.blobs.discard([content])
            try:
                answers[i] = service._repeat(session, existing[submissions[i].key], submissions[i].metadata,
                                             _kind(submissions[i]), content.sha256)
            except Exception as exc:
                answers[i] = exc


def _judge(service: ExchangeService, index: int, submission: Submission, content: Staged) -> _Judged:
    """The hub's verdict on the signature (validated, time-stamped if accepted): the document's
    row, unwritten."""
    at, signature = submission.at, submission.signature
    report: ValidationReport | None = None
    report_json: str | None = None
    reason = ""
    blobs = [content]
    if signature is None:
        channel = Channel.UNSIGNED
    else:
        # The upload was hashed as it was staged: the verifier need not read it again.
        verdict = service._verdict(submission.verdict, sender=submission.sender, content=content.path,
                                   content_sha256=content.sha256, signature=signature, at=at)
        report, reason, signature = verdict.report, verdict.reason, verdict.signature
        report_json = verdict.report_json
        channel = Channel.SIGNED_VALID if verdict.accepted else Channel.SIGNED_INVALID
        blobs.append(service.blobs.stage_bytes(signature))
    upload = submission.upload
    row = new_document(
        submission.document_id, submission.metadata, sender=submission.sender, channel=channel, at=at,
        filename=safe_filename(upload.filename), media_type=(upload.media_type or "")[:128] or None,
        sha256=content.sha256, size=content.size,
        signature_sha256=blobs[1].sha256 if signature is not None else None, report=report,
        report_json=report_json)
    state = DeliveryState.REFUSED if channel is Channel.SIGNED_INVALID else DeliveryState.DELIVERED
    return _Judged(index, submission, blobs, row, state, reason, report)


def _record(service: ExchangeService, judged: list[_Judged], answers: list[Answer | None]) -> None:
    """Write the documents' rows in one transaction (one by one after a unique-key clash),
    then answer each from what was written."""
    with service._session() as session:
        try:
            entries = []
            for j in judged:
                sender, recipients, at = j.submission.sender, j.submission.metadata.recipients, j.submission.at
                repo.add_document(session, row=j.row, recipients=recipients, state=j.state, at=at)
                repo.add_event(session, at=at, actor=sender, action="refused" if j.reason else "accepted",
                               document_id=j.row.id, detail=j.reason or j.row.channel.value)
                entries += log_events.document_entries(j.row, recipients=recipients, state=j.state,
                                                       reason=j.reason, report=j.report, at=at)
            service.log.append(session, entries)
            session.commit()
        except IntegrityError:
            session.rollback()
            if len(judged) > 1:
                for j in judged:
                    _record(service, [j], answers)
                return
            # A concurrent retry with the same message id won the race: answer as a repeat.
            j = judged[0]
            existing = repo.find_by_message_id(session, sender=j.submission.sender,
                                               message_id=j.submission.metadata.message_id)
            if existing is None:
                raise
            try:
                answers[j.index] = service._repeat(session, existing, j.submission.metadata, _kind(j.submission),
                                                   j.row.sha256)
            except Exception as exc:
                answers[j.index] = exc
            return
    for j in judged:
        public = new_public(j.row, j.submission.metadata.recipients, j.state)
        try:
            if j.reason:
                service._refuse(public, j.reason, j.report)
            answers[j.index] = public
        except Exception as exc:
            answers[j.index] = exc


def new_document(document_id: str | None, metadata: DocumentMetadata, *, sender: str, channel: Channel,
                  at: datetime, filename: str | None = None, media_type: str | None = None,
                  sha256: str | None = None, size: int | None = None, signature_sha256: str | None = None,
                  report: ValidationReport | None = None, report_json: str | None = None) -> DocumentCreate:
    """A document's row: the metadata, the channel, and (electronic) its file, signature and the
    hub's *report* on it (*report_json*: the report already encoded, as a verdict carries it)."""
    return DocumentCreate(
        id=document_id or str(uuid.uuid4()), message_id=metadata.message_id, sender=sender,
        number=metadata.number, doc_type=metadata.doc_type, subject=metadata.subject, doc_date=metadata.doc_date,
        classification=metadata.classification, channel=channel, created_at=as_stored(at),
        filename=filename, media_type=media_type, sha256=sha256, size=size, signature_sha256=signature_sha256,
        indication=report.indication if report else None,
        sub_indication=report.sub_indication.value if report and report.sub_indication else None,
        report_json=report_json if report_json is not None else report.to_json() if report else None,
        signer=report.signer.body_id if report and report.signer else None)


def new_public(row: DocumentCreate, recipients: tuple[str, ...], state: DeliveryState) -> DocumentPublic:
    """The answer for a document just registered, built from what was written (no re-read):
    the same as the stored rows give."""
    return public_of(row, [DeliveryPublic(recipient=r, state=state, sent_at=row.created_at)
                           for r in sorted(recipients)])


def public_of(doc: Document | DocumentCreate, deliveries: list[DeliveryPublic], *,
              with_report: bool = False) -> DocumentPublic:
    """The one mapping of a document's columns to its public model (stored or just written)."""
    return DocumentPublic(
        id=doc.id, message_id=doc.message_id, sender=doc.sender,
        recipients=[d.recipient for d in deliveries], number=doc.number, doc_type=doc.doc_type,
        subject=doc.subject, doc_date=doc.doc_date, classification=doc.classification,
        channel=doc.channel, filename=doc.filename, sha256=doc.sha256, size=doc.size,
        indication=doc.indication, sub_indication=doc.sub_indication, created_at=doc.created_at,
        deliveries=deliveries,
        report=json.loads(doc.report_json) if with_report and doc.report_json else None,
    )

