"""Stored rows as the API shows them: the wire models of :mod:`exchange.wire`, built from the
tables of :mod:`exchange.hub.store.models` (the service and the register reader both answer so)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from exchange.domain.documents import ReceiptStatus
from exchange.hub.store.models import Delivery, Document, Receipt
from exchange.wire import DeliveryPublic, DocumentPublic, ReceiptPublic

__all__ = ["RECEIPT_FIELDS", "document_public", "receipt_answer", "receipt_public"]


def document_public(doc: Document, deliveries: list[Delivery], *, with_report: bool = False) -> DocumentPublic:
    """*doc* with its *deliveries* (one per recipient), and its validation report if *with_report*."""
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


#: the columns of a receipt that :func:`receipt_answer` reads
RECEIPT_FIELDS = ("document_id", "recipient", "status", "reason", "statement", "signature", "indication",
                  "report_json", "stated_at", "created_at")


def receipt_public(r: Receipt) -> ReceiptPublic:
    """A stored receipt as the API shows it."""
    return receipt_answer(r.id or 0, {name: getattr(r, name) for name in RECEIPT_FIELDS})


def receipt_answer(receipt_id: int, row: Mapping[str, Any]) -> ReceiptPublic:
    """A receipt as the API shows it, from its column values (:data:`RECEIPT_FIELDS`)."""
    return ReceiptPublic(
        id=receipt_id, document_id=row["document_id"], recipient=row["recipient"], status=row["status"],
        status_name=ReceiptStatus(row["status"]).label, reason=row["reason"], stated_at=row["stated_at"],
        created_at=row["created_at"], indication=row["indication"], statement=row["statement"].decode("utf-8"),
        signature_b64=base64.b64encode(row["signature"]).decode(), report=json.loads(row["report_json"]),
    )
