"""Register an edXML package from an outside (state) agency at a body.

A document package becomes an incoming document (K3): its attachments are stored
content-addressed, it is marked ``electronic`` (born digital: nothing to scan) and entered. A
revocation or update names an earlier package by its DocumentId and is recorded on it; a
replacement is a new incoming document that supersedes the one it names (K3 counts it once).
A status package about a document the body sent is recorded on that document's trail.
Anything the reader refuses (not edXML, oversized, undecodable, an XML attack) or a signature
that does not match the package is refused before anything is stored.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from exchange.domain.documents import Channel
from exchange.edxml import (
    BusinessDocType,
    DocumentPackage,
    StatusPackage,
    read_package,
    verify_package,
)
from exchange.edxml.compose import edxml_document_id
from exchange.edxml.xmlsig import XmlSignatureReport, XmlSignatureStatus
from exchange.errors import NotFoundError, RejectedError
from exchange.hub import log_events
from exchange.hub.evidence_log import EvidenceLog
from exchange.hub.store import repository as repo
from exchange.hub.store.models import EdxmlImport, as_stored
from exchange.hub.store.writes import EdxmlAttachmentCreate, EdxmlImportCreate, IncomingCreate
from exchange.wire import EdxmlImportPublic, IncomingPublic

if TYPE_CHECKING:
    from exchange.hub.service import ExchangeService


def register(service: ExchangeService, *, body: str, data: bytes, at: datetime) -> EdxmlImportPublic:
    """Parse, check and record *data* at *body*; raises (nothing stored) when it is refused."""
    service.bodies.get(body)
    package = read_package(data, max_size=service.max_upload)
    verdict = verify_package(data, validator=service.trust.store.path_validator(require_revocation=False), at=at)
    if verdict.status is XmlSignatureStatus.INVALID:
        raise RejectedError(f"the package's XML signature does not match it: {verdict.detail}",
                            code="invalid-xml-signature", detail={"xml_signature": verdict.to_dict()})
    # Content first (whole or absent), then one transaction for every row; `hub gc` waits for both.
    with service.blobs.writing():
        return _register(service, body=body, data=data, package=package, verdict=verdict, at=at)


def _register(service: ExchangeService, *, body: str, data: bytes, package: DocumentPackage | StatusPackage,
              verdict: XmlSignatureReport, at: datetime) -> EdxmlImportPublic:
    package_sha = service.blobs.put_bytes(data)
    stored = [(a, service.blobs.put_bytes(a.data)) for a in getattr(package, "attachments", ())]
    summary = package.summary()
    for item, (_, sha) in zip(summary.get("attachments", []), stored, strict=False):
        item["stored_sha256"] = sha
    import_id = str(uuid.uuid4())
    incoming: IncomingPublic | None = None
    incoming_id = document_id = None
    with Session(service.engine, expire_on_commit=False) as session:
        # The same package registered again at the same body (a retry after a lost answer, maybe
        # at another hub process) is the same registration: answer it, do not count it twice.
        # Copies arriving at once take turns on a lock named for the package.
        repo.lock_name(session, f"edxml-import {body} {package_sha}")
        earlier = repo.edxml_imports(session, body=body, sha256=package_sha, limit=1)
        if earlier:
            session.rollback()
            return find(service, import_id=earlier[0].id)
        if isinstance(package, StatusPackage):
            edxml_id, status_code, business_type = package.response_for.document_id, package.status_code, ""
            document_id = _our_document(service, session, body, package)
            repo.add_event(session, at=at, actor=body, action=f"edxml-status-{package.status_code}"[:32],
                           document_id=document_id,
                           detail=f"{package.sender.organ_id} {package.sender.name}: {package.description}".strip())
        else:
            edxml_id, status_code, business_type = package.document_id, "", package.business.doc_type.value
            incoming = _document(session, body, package, stored[0][1] if stored else None, import_id, at,
                                 log=service.log)
            incoming_id = incoming.id if incoming else _target_incoming(session, body, package)
        row = EdxmlImportCreate(
            id=import_id, body=body, kind=package.kind, sha256=package_sha, header_json=json.dumps(summary, ensure_ascii=False),
            received_at=as_stored(at), edxml_document_id=edxml_id[:255], business_type=business_type,
            status_code=status_code[:4], from_organ=package.sender.organ_id[:64], from_name=package.sender.name[:255],
            xml_signature=verdict.status.value, xml_signature_json=json.dumps(verdict.to_dict(), ensure_ascii=False),
            incoming_id=incoming_id, document_id=document_id)
        repo.add_edxml_import(session, row=row, attachments=[
            EdxmlAttachmentCreate(import_id=import_id, name=a.name[:255], sha256=sha, size=a.size) for a, sha in stored])
        session.commit()
    return public(row, incoming)


def _document(session: Session, body: str, package: DocumentPackage, first_sha: str | None, import_id: str,
              at: datetime, *, log: EvidenceLog) -> IncomingPublic | None:
    kind = package.business.doc_type
    agency = (package.sender.name or package.sender.organ_id or "?").strip()[:200]
    if kind in (BusinessDocType.REVOKE, BusinessDocType.UPDATE):
        target = _target_incoming(session, body, package)
        if target is None:
            raise NotFoundError(f"the {kind.name.lower()} names edXML document "
                                f"{package.business.document_id or package.document_id!r}, which was never "
                                f"registered at {body}", code="unknown-edxml-document")
        if kind is BusinessDocType.UPDATE:
            repo.update_incoming(session, incoming_id=target, subject=package.subject[:500], number=package.code[:64])
        repo.add_event(session, at=at, actor=body, action=f"edxml-{kind.name.lower()}",
                       detail=f"incoming {target} from {agency}: {package.business.reason}"[:2000])
        return None
    row = IncomingCreate(id=str(uuid.uuid4()), body=body, from_agency=agency, number=package.code[:64],
                         subject=package.subject[:500], received_at=as_stored(at), scanned=False, entered=True,
                         sha256=first_sha, filename=package.attachments[0].name[:255] if package.attachments else None,
                         electronic=True, superseded=False)
    repo.add_incoming(session, row=row)
    # in the same transaction as the row, like every incoming registration (audit log verify)
    log.append(session, [log_events.incoming_entry(row, at=at)])
    repo.add_event(session, at=at, actor=body, action="incoming-edxml", detail=f"{agency} ({package.sender.organ_id})")
    if kind is BusinessDocType.REPLACE:
        for replaced in package.business.replaces:
            for old in repo.edxml_imports(session, body=body, edxml_document_id=replaced.document_id):
                if old.incoming_id:
                    repo.update_incoming(session, incoming_id=old.incoming_id, superseded=True)
    return IncomingPublic.model_validate(row, from_attributes=True)


def _target_incoming(session: Session, body: str, package: DocumentPackage) -> str | None:
    """The incoming document a revocation or update is about: by the Bussiness DocumentId, else
    by the package's own DocumentId (a revocation repeats the original header)."""
    for key in (package.business.document_id, package.document_id):
        if not key:
            continue
        for earlier in repo.edxml_imports(session, body=body, edxml_document_id=key):
            if earlier.incoming_id and earlier.kind == "document":
                return earlier.incoming_id
    return None


def _our_document(service: ExchangeService, session: Session, body: str, package: StatusPackage) -> str:
    """The document *body* sent that a status is about, matched by DocumentId (ours, or the
    edXML id we exported it under); NotFoundError if none."""
    wanted = package.response_for.document_id.strip()
    doc = repo.find_document(session, document_id=wanted)
    if doc is not None and doc.sender == body:
        return doc.id
    organ = service.bodies.get(body).organ_id
    number = wanted.split(",", 2)[2] if wanted.count(",") >= 2 else ""
    for candidate in repo.documents_sent_by(session, sender=body, number=number):
        if candidate.channel is not Channel.PAPER and edxml_document_id(
                organ_id=organ, number=candidate.number, doc_date=candidate.doc_date,
                created_at=candidate.created_at, document_id=candidate.id) == wanted:
            return candidate.id
    raise NotFoundError(f"no document sent by {body} has edXML DocumentId {wanted!r}: the status is not about "
                        "one of yours", code="unknown-edxml-document")


def imports(service: ExchangeService, *, body: str | None = None, incoming_id: str | None = None,
            document_id: str | None = None) -> list[EdxmlImportPublic]:
    """The edXML packages imported at the hub, newest first, filtered by *body*, the incoming
    entry or the document they concern."""
    with Session(service.engine) as session:
        return [public(i) for i in repo.edxml_imports(session, body=body, incoming_id=incoming_id,
                                                      document_id=document_id)]


def find(service: ExchangeService, *, import_id: str) -> EdxmlImportPublic:
    """The imported package *import_id* with its incoming entry; NotFoundError when there is
    none."""
    with Session(service.engine) as session:
        row = repo.find_edxml_import(session, import_id=import_id)
        if row is None:
            raise NotFoundError(f"no imported edXML package {import_id}")
        incoming = repo.find_incoming(session, incoming_id=row.incoming_id) if row.incoming_id else None
        return public(row, IncomingPublic.model_validate(incoming, from_attributes=True) if incoming else None)


def public(row: EdxmlImport | EdxmlImportCreate, incoming: IncomingPublic | None = None) -> EdxmlImportPublic:
    """The API's view of an imported package *row* (header and XML signature report decoded)."""
    return EdxmlImportPublic(
        id=row.id, kind=row.kind, body=row.body, business_type=row.business_type, status_code=row.status_code,
        from_organ=row.from_organ, from_name=row.from_name, edxml_document_id=row.edxml_document_id,
        header=json.loads(row.header_json), xml_signature=json.loads(row.xml_signature_json or "{}"),
        sha256=row.sha256, incoming=incoming, document_id=row.document_id, received_at=row.received_at)
