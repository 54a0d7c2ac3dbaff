"""Documents as the hub's API shows them: a document with its deliveries, a signed receipt, an
incoming document from an outside agency. The hub's routes answer with these and
:class:`exchange.node.HubClient` returns them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["DeliveryPublic", "DocumentPublic", "IncomingPublic", "ReceiptPublic"]


class DeliveryPublic(BaseModel):
    """A document's fate for one recipient: delivered, refused or paper; when it was fetched;
    the recipient's own verdict and its latest edXML status (code and name)."""

    recipient: str
    state: str  # delivered | refused | paper
    sent_at: datetime
    fetched_at: datetime | None = None
    verified: bool | None = None
    status: str | None = None
    status_name: str | None = None
    status_at: datetime | None = None


class DocumentPublic(BaseModel):
    """A document as registered by its sender, with every recipient's delivery, the hub's
    indication and (when asked for one document) its validation report. ``duplicate`` is true
    when a repeated message id returned the stored document."""

    id: str
    message_id: str
    sender: str
    recipients: list[str]
    number: str
    doc_type: str
    subject: str
    doc_date: date | None
    classification: str
    channel: str
    filename: str | None
    sha256: str | None
    size: int | None
    indication: str | None
    sub_indication: str | None
    created_at: datetime
    deliveries: list[DeliveryPublic] = []
    report: dict[str, Any] | None = None
    duplicate: bool = False

    def delivery_to(self, recipient: str) -> DeliveryPublic | None:
        """The delivery of this document to *recipient*, or None if it was not sent to it."""
        return next((d for d in self.deliveries if d.recipient == recipient), None)


class ReceiptPublic(BaseModel):
    """A recipient's signed status statement (edXML 01–06) with the hub's validation of it."""

    id: int
    document_id: str
    recipient: str
    status: str
    status_name: str
    reason: str
    stated_at: datetime
    created_at: datetime
    indication: str
    statement: str  # the signed JSON, as text
    signature_b64: str  # its detached CMS signature, base64 DER
    report: dict[str, Any]


class IncomingPublic(BaseModel):
    """A document from an outside (state) agency as recorded on arrival (K3)."""

    id: str
    body: str
    from_agency: str
    number: str
    subject: str
    received_at: datetime
    scanned: bool
    entered: bool
    electronic: bool = False
    superseded: bool = False
