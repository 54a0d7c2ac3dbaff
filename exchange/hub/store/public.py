"""Stored rows as the API shows them: the wire models of :mod:`exchange.wire`, built from the
tables of :mod:`exchange.hub.store.models` or from the write models just written
(:mod:`exchange.hub.store.writes`); the service and the register reader both answer so."""

from __future__ import annotations

import base64
import json

from exchange.hub.store.models import Delivery, Document, Receipt
from exchange.hub.store.writes import DocumentCreate, ReceiptCreate
from exchange.wire import DeliveryPublic, DocumentPublic, ReceiptPublic

__all__ = ["document_public", "public_of", "receipt_answer", "receipt_public"]


def document_public(doc: Document, deliveries: list[Delivery], *, with_report: bool = False) -> DocumentPublic:
    """A stored document and its rows of the register as the API shows them."""
    return public_of(doc, [DeliveryPublic(
        recipient=d.recipient, state=d.state, sent_at=d.sent_at, fetched_at=d.fetched_at, verified=d.verified,
        status=d.status, status_name=d.status.label if d.status else None, status_at=d.status_at,
    ) for d in deliveries], with_report=with_report)


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


def receipt_public(r: Receipt) -> ReceiptPublic:
    """A stored receipt as the API shows it."""
    return receipt_answer(r.id or 0, r)


def receipt_answer(receipt_id: int, row: Receipt | ReceiptCreate) -> ReceiptPublic:
    """A receipt as the API shows it, from its columns (stored, or just written as *receipt_id*)."""
    return ReceiptPublic(
        id=receipt_id, document_id=row.document_id, recipient=row.recipient, status=row.status,
        status_name=row.status.label, reason=row.reason, stated_at=row.stated_at,
        created_at=row.created_at, indication=row.indication, statement=row.statement.decode("utf-8"),
        signature_b64=base64.b64encode(row.signature).decode(), report=json.loads(row.report_json),
    )
