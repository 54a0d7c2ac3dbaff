"""The one module that reads and writes the hub's tables. Keyword-only, session passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.hub.store.models import Delivery, Document, Event, Incoming, Receipt


def find_document(session: Session, *, document_id: str) -> Document | None:
    return session.get(Document, document_id)


def find_by_message_id(session: Session, *, sender: str, message_id: str) -> Document | None:
    return session.exec(
        select(Document).where(Document.sender == sender, Document.message_id == message_id)
    ).first()


def deliveries_of(session: Session, *, document_id: str) -> list[Delivery]:
    return list(session.exec(select(Delivery).where(Delivery.document_id == document_id).order_by(Delivery.recipient)))


def delivery_for(session: Session, *, document_id: str, recipient: str) -> Delivery | None:
    return session.exec(
        select(Delivery).where(Delivery.document_id == document_id, Delivery.recipient == recipient)
    ).first()


def add_document(session: Session, *, document: Document, recipients: tuple[str, ...], state: str,
                 at: datetime) -> list[Delivery]:
    """Stage a document and its one row per recipient; the caller commits once."""
    session.add(document)
    session.flush()  # the document row first: deliveries reference it
    rows = [Delivery(document_id=document.id, recipient=r, state=state, sent_at=at) for r in recipients]
    session.add_all(rows)
    return rows


def add_event(session: Session, *, at: datetime, actor: str, action: str, document_id: str | None = None,
              detail: str = "") -> None:
    session.add(Event(at=at, actor=actor, action=action, document_id=document_id, detail=detail[:2000]))


def inbox(session: Session, *, recipient: str, include_all: bool, limit: int = 500) -> list[tuple[Document, Delivery]]:
    query = (
        select(Document, Delivery)
        .join(Delivery, col(Delivery.document_id) == col(Document.id))
        .where(Delivery.recipient == recipient, Delivery.state == "delivered")
    )
    if not include_all:
        query = query.where(col(Delivery.status).is_(None))
    query = query.order_by(col(Delivery.sent_at).desc()).limit(limit)
    return [(d, r) for d, r in session.exec(query)]


def receipts_of(session: Session, *, document_id: str, recipient: str | None = None) -> list[Receipt]:
    query = select(Receipt).where(Receipt.document_id == document_id)
    if recipient is not None:
        query = query.where(Receipt.recipient == recipient)
    return list(session.exec(query.order_by(col(Receipt.created_at), col(Receipt.id))))


def register_entries(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                     batch: int = 5000) -> Iterator[RegisterEntry]:
    """Every (document, recipient) of the register sent in [start, end), streamed in batches."""
    query = select(Document.id, Document.sender, Document.channel, Delivery.recipient, Delivery.sent_at,
                   Delivery.state, Delivery.verified, Delivery.status, Delivery.status_at).join(
        Delivery, col(Delivery.document_id) == col(Document.id))
    if start is not None:
        query = query.where(col(Delivery.sent_at) >= start)
    if end is not None:
        query = query.where(col(Delivery.sent_at) < end)
    result = session.exec(query.order_by(col(Delivery.sent_at)).execution_options(yield_per=batch))
    for doc_id, sender, channel, recipient, sent_at, state, verified, status, status_at in result:
        yield RegisterEntry(
            document_id=doc_id,
            sender=sender,
            recipient=recipient,
            channel=Channel(channel),
            sent_at=_aware(sent_at),
            delivered=state == "delivered",
            verified_by_recipient=verified,
            receipt_status=ReceiptStatus(status) if status else None,
            receipt_at=_aware(status_at) if status_at else None,
        )


def incoming_entries(session: Session, *, start: datetime | None = None, end: datetime | None = None
                     ) -> Iterator[IncomingEntry]:
    query = select(Incoming)
    if start is not None:
        query = query.where(col(Incoming.received_at) >= start)
    if end is not None:
        query = query.where(col(Incoming.received_at) < end)
    for row in session.exec(query.order_by(col(Incoming.received_at))):
        yield IncomingEntry(row.id, row.body, row.from_agency, _aware(row.received_at), row.scanned, row.entered)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
