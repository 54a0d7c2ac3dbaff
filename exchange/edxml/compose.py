"""Build edXML packages from the register's view of a document (plain values, no HTTP/DB).

The input is a document as the hub's API shows it (``DocumentPublic`` as JSON), the bodies
(for organ ids and names), the document's bytes and its detached CMS signature, and the
document's business events; the output is a :class:`DocumentPackage` or
:class:`StatusPackage` ready for :mod:`exchange.edxml.writer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from exchange.domain.bodies import Body, BodyRegistry
from exchange.edxml.codes import DOCUMENT_TYPES, BusinessDocType, StatusCode, status_description_vi
from exchange.edxml.model import (
    Attachment,
    Business,
    DocumentPackage,
    Organization,
    Replacement,
    ResponseFor,
    StatusPackage,
    Trace,
    UpdateInfo,
    split_code,
)
from exchange.edxml.writer import content_id_for
from exchange.errors import InputError


def edxml_document_id(*, organ_id: str, number: str, doc_date: date | None, created_at: datetime,
                      document_id: str) -> str:
    """The canonical DocumentId ``OrganId,yyyy/MM/dd,Number/Notation``; a document without a
    số ký hiệu keeps our id after the date (DocumentId is opaque to readers)."""
    day = doc_date or created_at.date()
    return f"{organ_id},{day:%Y/%m/%d},{number or document_id}"


def organization(body: Body) -> Organization:
    """*body* as an edXML ``Organization`` (its organ id, its Vietnamese name); raises InputError
    when the bodies file gives it no ``organ_id``."""
    if not body.organ_id:
        raise InputError(f"body {body.id} has no organ_id in the bodies file: it cannot speak edXML",
                         code="no-organ-id")
    return Organization(organ_id=body.organ_id, name=body.name_vi, in_charge=body.name_vi)


def document_package(doc: Mapping[str, Any], *, bodies: BodyRegistry, content: bytes, signature: bytes | None,
                     at: datetime, business: Sequence[Mapping[str, Any]] = (),
                     replaced_docs: Sequence[Mapping[str, Any]] = (),
                     kind: BusinessDocType | None = None) -> DocumentPackage:
    """*doc* (the API's JSON of a document) as a package of business type *kind* (default: 3
    if it replaces another document, else 0). Attachments: the file and its ``.p7s``.
    *business* are the document's business events, *replaced_docs* the documents it replaces."""
    sender = bodies.get(doc["sender"])
    ids = {b.id: b for b in bodies}
    recipients = tuple(organization(bodies.get(r)) for r in doc["recipients"])
    doc_date = date.fromisoformat(doc["doc_date"]) if doc.get("doc_date") else None
    created = datetime.fromisoformat(doc["created_at"]) if isinstance(doc["created_at"], str) else doc["created_at"]
    own_id = edxml_document_id(organ_id=sender.organ_id, number=doc["number"], doc_date=doc_date,
                               created_at=created, document_id=doc["id"])
    number, notation = split_code(doc["number"] or doc["id"])
    type_code, type_name = DOCUMENT_TYPES.get(doc["doc_type"], DOCUMENT_TYPES["khac"])
    replaced = [e for e in business if e["action"] == "replace" and e.get("related_id") == doc["id"]]
    kind = kind or (BusinessDocType.REPLACE if replaced else BusinessDocType.NEW)
    name = doc.get("filename") or f"{doc['id']}.pdf"
    attachments = [Attachment(content_id_for(doc["id"], 0), name, content, description=doc["subject"] or name)]
    if signature is not None:
        attachments.append(Attachment(content_id_for(doc["id"], 1), f"{name}.p7s", signature,
                                      description="Chữ ký số CMS (detached) của văn bản"))
    replacements = tuple(Replacement(_own_id(old, bodies), tuple(ids[r].organ_id for r in old["recipients"] if r in ids))
                         for old in replaced_docs)
    business_node = _business(kind, doc, business, replaced, own_id, replacements)
    # SignerInfo: who signed, as the hub's validation of the document's signature names it
    # (our certificates are the bodies' own, so the name is the body's).
    signer = ((doc.get("report") or {}).get("signer") or {}).get("name", "")
    return DocumentPackage(
        sender=organization(sender), recipients=recipients, document_id=own_id,
        code_number=number, code_notation=notation, subject=doc["subject"], promulgation_date=doc_date or created.date(),
        type_code=type_code, type_detail=0, type_name=type_name, content=doc["subject"],
        priority=0, steering_type=1, sphere="Liên thông văn bản cơ quan Đảng", signer_name=signer,
        traces=(Trace(sender.organ_id, at),), business=business_node, attachments=tuple(attachments),
        response_for=(ResponseFor(sender.organ_id, doc["number"], doc_date, own_id),)
        if kind is BusinessDocType.REVOKE else ())


def _own_id(doc: Mapping[str, Any], bodies: BodyRegistry) -> str:
    doc_date = date.fromisoformat(doc["doc_date"]) if doc.get("doc_date") else None
    created = datetime.fromisoformat(doc["created_at"]) if isinstance(doc["created_at"], str) else doc["created_at"]
    return edxml_document_id(organ_id=bodies.get(doc["sender"]).organ_id, number=doc["number"], doc_date=doc_date,
                             created_at=created, document_id=doc["id"])


def _business(kind: BusinessDocType, doc: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
              replaced: Sequence[Mapping[str, Any]], own_id: str, replacements: tuple[Replacement, ...]) -> Business:
    if kind is BusinessDocType.NEW:
        return Business(kind)
    if kind is BusinessDocType.REPLACE:
        if not replaced or not replacements:
            raise InputError(f"document {doc['id']} replaces no document", code="no-business-event")
        return Business(kind, reason=replaced[-1]["reason"] or kind.reason_vi, replaces=replacements)
    wanted = "recall" if kind is BusinessDocType.REVOKE else "update"
    found = [e for e in events if e["action"] == wanted and e["document_id"] == doc["id"]]
    if not found:
        raise InputError(f"document {doc['id']} has no {wanted} to export", code="no-business-event")
    event = found[-1]
    if kind is BusinessDocType.REVOKE:
        return Business(kind, reason=event["reason"])
    return Business(kind, reason=event["reason"], document_id=own_id,
                    update=UpdateInfo(document_info=True, document_receiver=False))


def status_package(doc: Mapping[str, Any], *, bodies: BodyRegistry, by: str, status: str, at: datetime,
                   reason: str = "", to: str | None = None) -> StatusPackage:
    """A status package from *by* about *doc*: a recipient's 01–06/15/16 names the sender in
    ResponseFor; the sender's 13 (recall) names the recipient *to* (default: the first)."""
    sender = bodies.get(doc["sender"])
    doc_date = date.fromisoformat(doc["doc_date"]) if doc.get("doc_date") else None
    created = datetime.fromisoformat(doc["created_at"]) if isinstance(doc["created_at"], str) else doc["created_at"]
    own_id = _own_id(doc, bodies)
    code = StatusCode(status)
    if code is StatusCode.RECALL:
        target = bodies.get(to or doc["recipients"][0])
        about = target.organ_id
    else:
        about = sender.organ_id
    description = status_description_vi(code) + (f": {reason}" if reason else "")
    return StatusPackage(sender=organization(bodies.get(by)),
                         response_for=ResponseFor(about, doc["number"] or doc["id"], doc_date or created.date(), own_id),
                         status=code, timestamp=at, description=description)
