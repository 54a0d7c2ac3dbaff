"""The one module that reads and writes the hub's tables. Keyword-only, session passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Table, and_, bindparam, func, or_, text, tuple_
from sqlalchemy import insert as _insert
from sqlalchemy import select as _select
from sqlalchemy import update as _update
from sqlmodel import Session, SQLModel, col, select

from exchange.domain.business import BusinessAction
from exchange.domain.documents import Channel, DeliveryState, ReceiptStatus
from exchange.domain.indication import Indication
from exchange.domain.register import IncomingEntry, RegisterEntry
from exchange.hub.store.models import (
    BusinessEvent,
    Delivery,
    Document,
    EdxmlAttachment,
    EdxmlImport,
    Event,
    Incoming,
    Receipt,
    ServedBody,
)
from exchange.hub.store.writes import (
    BusinessEventCreate,
    DocumentCreate,
    EdxmlAttachmentCreate,
    EdxmlImportCreate,
    IncomingCreate,
    ReceiptCreate,
    ServedBodyCreate,
)

_DOCUMENT: Table = Document.__table__  # type: ignore[attr-defined]
_DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
_RECEIPT: Table = Receipt.__table__  # type: ignore[attr-defined]
_INCOMING: Table = Incoming.__table__  # type: ignore[attr-defined]
_EVENT: Table = Event.__table__  # type: ignore[attr-defined]
_SERVED_BODY: Table = ServedBody.__table__  # type: ignore[attr-defined]
_BUSINESS_EVENT: Table = BusinessEvent.__table__  # type: ignore[attr-defined]
_EDXML_IMPORT: Table = EdxmlImport.__table__  # type: ignore[attr-defined]
_EDXML_ATTACHMENT: Table = EdxmlAttachment.__table__  # type: ignore[attr-defined]

# The statements of the hub's hot paths, built once: a statement object caches its own cache
# key, so executing it again skips straight to the compiled SQL.
_ID_BY_MESSAGE_ID = _select(_DOCUMENT.c.id).where(_DOCUMENT.c.sender == bindparam("sender"),
                                                  _DOCUMENT.c.message_id == bindparam("message_id"))
_IDS_BY_MESSAGE_IDS = _select(_DOCUMENT.c.id, _DOCUMENT.c.sender, _DOCUMENT.c.message_id).where(
    tuple_(_DOCUMENT.c.sender, _DOCUMENT.c.message_id).in_(bindparam("keys", expanding=True)))
_RECEIPT_TARGET = (
    _select(_DOCUMENT.c.sha256, _DELIVERY.c.id, _DELIVERY.c.state)
    .select_from(_DOCUMENT.outerjoin(_DELIVERY, and_(_DELIVERY.c.document_id == _DOCUMENT.c.id,
                                                     _DELIVERY.c.recipient == bindparam("recipient"))))
    .where(_DOCUMENT.c.id == bindparam("document_id"))
)
_DOWNLOAD_TARGET = (
    _select(_DOCUMENT.c.sender, _DOCUMENT.c.sha256, _DOCUMENT.c.signature_sha256, _DELIVERY.c.id,
            _DELIVERY.c.state, _DELIVERY.c.fetched_at)
    .select_from(_DOCUMENT.outerjoin(_DELIVERY, and_(_DELIVERY.c.document_id == _DOCUMENT.c.id,
                                                     _DELIVERY.c.recipient == bindparam("recipient"))))
    .where(_DOCUMENT.c.id == bindparam("document_id"))
)
_INSERT_DOCUMENT, _INSERT_DELIVERY = _insert(_DOCUMENT), _insert(_DELIVERY)
_INSERT_RECEIPT, _INSERT_INCOMING, _INSERT_EVENT = _insert(_RECEIPT), _insert(_INCOMING), _insert(_EVENT)
_FIND_RECEIPT = _select(_RECEIPT.c.id).where(
    _RECEIPT.c.document_id == bindparam("document_id"), _RECEIPT.c.recipient == bindparam("recipient"),
    _RECEIPT.c.statement == bindparam("statement")).limit(1)
#: the key of :attr:`Session.info` under which a batch (``hub.batch``) keeps its events
DEFERRED_EVENTS = "exchange.deferred_events"
# SET takes the columns named by the parameters (all but the id)
_UPDATE_DELIVERY = _update(_DELIVERY).where(_DELIVERY.c.id == bindparam("delivery_id"))


def find_document(session: Session, *, document_id: str) -> Document | None:
    """The document *document_id*, or None."""
    return session.get(Document, document_id)


def find_by_message_id(session: Session, *, sender: str, message_id: str) -> Document | None:
    """The document *sender* sent with *message_id*, or None (a message id is used once per
    sender)."""
    # A plain lookup of the id first: nearly every call finds nothing, and a miss then costs
    # no ORM work at all.
    found = session.connection().execute(_ID_BY_MESSAGE_ID, {"sender": sender, "message_id": message_id}).first()
    return session.get(Document, found[0]) if found is not None else None


def find_by_message_ids(session: Session, *, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Document]:
    """The documents already sent under these (sender, message id) pairs, in one query."""
    if not keys:
        return {}
    found = session.connection().execute(_IDS_BY_MESSAGE_IDS, {"keys": keys}).all()
    return {(sender, message_id): doc for doc_id, sender, message_id in found
            if (doc := session.get(Document, doc_id)) is not None}


def deliveries_of(session: Session, *, document_id: str) -> list[Delivery]:
    """A document's rows of the register, by recipient (code-point order on every database)."""
    rows = session.exec(select(Delivery).where(Delivery.document_id == document_id))
    return sorted(rows, key=lambda d: d.recipient)


def receipt_target(session: Session, *, document_id: str, recipient: str
                   ) -> tuple[str | None, int | None, DeliveryState | None] | None:
    """(the document's SHA-256, *recipient*'s delivery id, its state) in one query; None if there
    is no such document, the delivery's id and state None if it was not sent to *recipient*."""
    row = session.connection().execute(_RECEIPT_TARGET, {"document_id": document_id, "recipient": recipient}).first()
    return None if row is None else (row[0], row[1], row[2])


def download_target(session: Session, *, document_id: str, recipient: str) -> tuple[Any, ...] | None:
    """(sender, SHA-256, signature's SHA-256, *recipient*'s delivery id, state, fetched_at) in one
    query; None if there is no such document, the delivery's columns None if not sent to it."""
    row = session.connection().execute(_DOWNLOAD_TARGET, {"document_id": document_id, "recipient": recipient}).first()
    return None if row is None else tuple(row)


# The rows below are append-only (or one known row updated): they are written with Core
# statements, which cost a fraction of the ORM's unit of work, in the caller's transaction.

def add_document(session: Session, *, row: DocumentCreate, recipients: tuple[str, ...], state: DeliveryState,
                 at: datetime) -> None:
    """Insert a document and its one row per recipient (all in *state*, sent *at*); the caller
    commits once. Raises IntegrityError if the sender already used the message id."""
    connection = session.connection()
    connection.execute(_INSERT_DOCUMENT, row.values())  # the document row first: deliveries reference it
    connection.execute(_INSERT_DELIVERY, [
        {"document_id": row.id, "recipient": r, "state": state, "sent_at": at} for r in recipients])


def find_receipt(session: Session, *, document_id: str, recipient: str, statement: bytes) -> Receipt | None:
    """The receipt *recipient* gave for *document_id* with exactly these *statement* bytes, if any."""
    # Asked before every receipt is stored and almost always absent: a Core query for the id
    # (a tenth of the ORM's cost), the row loaded only when there is one.
    found = session.connection().execute(_FIND_RECEIPT, {"document_id": document_id, "recipient": recipient,
                                                         "statement": statement}).first()
    return None if found is None else session.get(Receipt, found[0])


def lock_delivery(session: Session, *, delivery_id: int) -> None:
    """Hold one row of the register until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite's writers take turns on the whole database anyway)."""
    session.connection().execute(_select(_DELIVERY.c.id).where(_DELIVERY.c.id == delivery_id).with_for_update())


def lock_name(session: Session, name: str) -> None:
    """Hold a lock named *name* until the transaction ends, so that writers of the same thing in
    other processes take turns (PostgreSQL: a transaction-level advisory lock on the name's hash;
    SQLite's writers take turns on the whole database anyway)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


def add_receipt(session: Session, *, row: ReceiptCreate) -> int:
    """Insert a receipt; returns its id."""
    return _inserted_id(session.connection().execute(_INSERT_RECEIPT, row.values()))


def add_incoming(session: Session, *, row: IncomingCreate) -> None:
    """Insert a document from an outside agency."""
    session.connection().execute(_INSERT_INCOMING, row.values())


def mark_fetched(session: Session, *, delivery_id: int, at: datetime) -> None:
    """Record that the recipient of one row of the register downloaded the document *at*."""
    session.connection().execute(_UPDATE_DELIVERY, {"delivery_id": delivery_id, "fetched_at": at})


def record_status(session: Session, *, delivery_id: int, status: ReceiptStatus, at: datetime,
                  verified: bool | None = None) -> None:
    """Set the latest edXML *status* of one row of the register, stated *at*; and, when the
    recipient reported its own validation, whether it *verified* the signature (None: unchanged)."""
    values: dict[str, object] = {"delivery_id": delivery_id, "status": status, "status_at": at}
    if verified is not None:
        values["verified"] = verified
    session.connection().execute(_UPDATE_DELIVERY, values)


def _inserted_id(result: CursorResult[Any]) -> int:
    """The primary key an ``INSERT`` of one row gave it."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer primary key
        raise RuntimeError("the insert returned no primary key")
    return int(key[0])


def add_event(session: Session, *, at: datetime, actor: str, action: str, document_id: str | None = None,
              detail: str = "") -> None:
    """Record an event of the document's history (*action* by *actor* at *at*); *detail* is cut
    at 2,000 characters. Inside a batch it is inserted at the batch's end, with the others."""
    event = {"at": at, "actor": actor, "action": action, "document_id": document_id, "detail": detail[:2000]}
    deferred = session.info.get(DEFERRED_EVENTS)
    if deferred is not None:  # inside a batch: inserted together, in order, at its end
        deferred.append(event)
        return
    session.connection().execute(_INSERT_EVENT, event)


def add_deferred_events(session: Session) -> None:
    """Insert the events a batch's operations recorded, in the order they were recorded, in
    one statement (see :func:`add_event`)."""
    events = session.info.get(DEFERRED_EVENTS)
    if events:
        session.connection().execute(_INSERT_EVENT, events)
        events.clear()


def inbox(session: Session, *, recipient: str, include_all: bool, limit: int = 500) -> list[tuple[Document, Delivery]]:
    """*recipient*'s delivered documents with their deliveries, newest first, at most *limit*:
    those awaiting its answer, or every one with *include_all*."""
    query = (
        select(Document, Delivery)
        .join(Delivery, col(Delivery.document_id) == col(Document.id))
        .where(Delivery.recipient == recipient, Delivery.state == DeliveryState.DELIVERED)
    )
    if not include_all:
        # New: not yet acknowledged, or recalled by its sender and awaiting the answer (15/16).
        query = query.where(or_(col(Delivery.status).is_(None), col(Delivery.status) == ReceiptStatus.RECALL))
    query = query.order_by(col(Delivery.sent_at).desc()).limit(limit)
    return [(d, r) for d, r in session.exec(query)]


def receipts_of(session: Session, *, document_id: str, recipient: str | None = None) -> list[Receipt]:
    """The receipts of *document_id* (of one *recipient* if given), oldest first."""
    query = select(Receipt).where(Receipt.document_id == document_id)
    if recipient is not None:
        query = query.where(Receipt.recipient == recipient)
    return list(session.exec(query.order_by(col(Receipt.created_at), col(Receipt.id))))


def register_entries(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                     batch: int = 5000) -> Iterator[RegisterEntry]:
    """Every (document, recipient) of the register sent in [start, end), streamed in batches."""
    replaced = _select(_BUSINESS_EVENT.c.document_id).where(_BUSINESS_EVENT.c.action == BusinessAction.REPLACE)
    document, delivery = _DOCUMENT.c, _DELIVERY.c
    query = _select(document.id, document.sender, document.channel, delivery.recipient, delivery.sent_at,
                    delivery.state, delivery.verified, delivery.status, delivery.status_at,
                    document.id.in_(replaced)).join_from(_DOCUMENT, _DELIVERY, delivery.document_id == document.id)
    if start is not None:
        query = query.where(delivery.sent_at >= start)
    if end is not None:
        query = query.where(delivery.sent_at < end)
    result = session.connection().execute(query.order_by(delivery.sent_at).execution_options(yield_per=batch))
    for doc_id, sender, channel, recipient, sent_at, state, verified, status, status_at, superseded in result:
        yield RegisterEntry(
            document_id=doc_id,
            sender=sender,
            recipient=recipient,
            channel=channel,
            sent_at=_aware(sent_at),
            delivered=state is DeliveryState.DELIVERED,
            verified_by_recipient=verified,
            receipt_status=status,
            receipt_at=_aware(status_at) if status_at else None,
            superseded=bool(superseded),
        )


def incoming_entries(session: Session, *, start: datetime | None = None, end: datetime | None = None
                     ) -> Iterator[IncomingEntry]:
    """The incoming documents received in [*start*, *end*), as plain entries for K3, streamed."""
    query = select(Incoming)
    if start is not None:
        query = query.where(col(Incoming.received_at) >= start)
    if end is not None:
        query = query.where(col(Incoming.received_at) < end)
    for row in session.exec(query.order_by(col(Incoming.received_at))):
        yield IncomingEntry(row.id, row.body, row.from_agency, _aware(row.received_at), row.scanned, row.entered,
                            electronic=bool(row.electronic), superseded=bool(row.superseded))


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- read queries for the hub's own web pages (the dashboard) --------------------------------

#: ``validity`` filter values of :func:`search_documents` (the hub's indication, or none).
VALIDITY_FILTERS = ("passed", "failed", "indeterminate", "unsigned")
#: ``status`` filter values: a delivery state, ``awaiting`` (delivered, no receipt yet), or
#: an edXML status by name.
STATUS_FILTERS = (*(state.value for state in DeliveryState), "awaiting",
                  *(status.label for status in ReceiptStatus))


def register_span(session: Session) -> tuple[datetime, datetime] | None:
    """The first and last moments the register records (sends and incoming); None if empty."""
    sent = session.exec(select(func.min(Delivery.sent_at), func.max(Delivery.sent_at))).one()
    received = session.exec(select(func.min(Incoming.received_at), func.max(Incoming.received_at))).one()
    moments = [_aware(m) for m in (*sent, *received) if m is not None]
    return (min(moments), max(moments)) if moments else None


def search_documents(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                     channel: str | None = None, sender: str | None = None, recipient: str | None = None,
                     body: str | None = None, validity: str | None = None, status: str | None = None,
                     offset: int = 0, limit: int = 50) -> tuple[list[Document], int]:
    """Documents registered in [start, end) matching every given filter, newest first, and
    how many match in all. *body* matches its sender or any recipient; *recipient* and
    *status* must hold for the same recipient. Unknown filter values match nothing."""
    query = select(Document)
    if start is not None:
        query = query.where(col(Document.created_at) >= start)
    if end is not None:
        query = query.where(col(Document.created_at) < end)
    if channel:
        query = query.where(Document.channel == channel)
    if sender:
        query = query.where(Document.sender == sender)
    if body:
        received = select(Delivery.document_id).where(Delivery.recipient == body)
        query = query.where(or_(col(Document.sender) == body, col(Document.id).in_(received)))
    if validity:
        query = query.where(_validity_clause(validity))
    if recipient or status:
        rows = select(Delivery.document_id)
        if recipient:
            rows = rows.where(Delivery.recipient == recipient)
        if status:
            rows = rows.where(_status_clause(status))
        query = query.where(col(Document.id).in_(rows))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = query.order_by(col(Document.created_at).desc(), col(Document.id)).offset(max(offset, 0)).limit(limit)
    return list(session.exec(page)), int(total)


def _validity_clause(validity: str) -> Any:
    if validity == "unsigned":
        return col(Document.indication).is_(None)
    indication = {"passed": Indication.TOTAL_PASSED, "failed": Indication.TOTAL_FAILED,
                  "indeterminate": Indication.INDETERMINATE}
    return Document.indication == indication.get(validity, "?")


def _status_clause(status: str) -> Any:
    if status == "awaiting":
        return and_(col(Delivery.state) == DeliveryState.DELIVERED, col(Delivery.status).is_(None))
    if status in {state.value for state in DeliveryState}:
        return Delivery.state == DeliveryState(status)
    codes = {s.label: s for s in ReceiptStatus}
    return Delivery.status == codes.get(status, "?")


def activity(session: Session, *, since: datetime) -> dict[str, Any]:
    """Live counts: documents and refusals registered since *since*, deliveries still awaiting
    a receipt, and the last event (its id changes whenever anything happens)."""
    documents = session.exec(select(func.count()).select_from(Document)
                             .where(col(Document.created_at) >= since)).one()
    refused = session.exec(select(func.count()).select_from(Document).where(
        col(Document.created_at) >= since, Document.channel == Channel.SIGNED_INVALID)).one()
    awaiting = session.exec(select(func.count()).select_from(Delivery).where(
        Delivery.state == DeliveryState.DELIVERED, col(Delivery.status).is_(None))).one()
    last = session.exec(select(Event.id, Event.at).order_by(col(Event.id).desc()).limit(1)).first()
    return {"documents": int(documents), "refused": int(refused), "awaiting_receipt": int(awaiting),
            "last_event_id": last[0] if last else 0, "last_event_at": _aware(last[1]) if last else None}


def receipt_tallies(session: Session, *, start: datetime | None = None, end: datetime | None = None
                    ) -> dict[str, tuple[int, int]]:
    """Per recipient: documents delivered to it in [start, end), and how many it acknowledged."""
    query = select(Delivery.recipient, func.count(), func.count(col(Delivery.status))).where(
        Delivery.state == DeliveryState.DELIVERED)
    if start is not None:
        query = query.where(col(Delivery.sent_at) >= start)
    if end is not None:
        query = query.where(col(Delivery.sent_at) < end)
    return {recipient: (int(delivered), int(acknowledged))
            for recipient, delivered, acknowledged in session.exec(query.group_by(Delivery.recipient))}


def events_of(session: Session, *, document_id: str) -> list[Event]:
    """The audit trail of one document, oldest first."""
    return list(session.exec(select(Event).where(Event.document_id == document_id)
                             .order_by(col(Event.at), col(Event.id))))


# -- housekeeping ---------------------------------------------------------------------------


def blob_columns() -> list[Any]:
    """Every column that names a stored blob: by the schema's rule, any text column whose name
    ends in ``sha256`` (documents' files and signatures, scans, and whatever a later table
    stores the same way). Garbage collection keeps whatever these name."""
    return [column for table in SQLModel.metadata.sorted_tables for column in table.columns
            if column.name.endswith("sha256")]


def referenced_blobs(session: Session) -> set[str]:
    """The SHA-256 of every blob a row names (see :func:`blob_columns`)."""
    names: set[str] = set()
    connection = session.connection()
    for column in blob_columns():
        names.update(value for (value,) in connection.execute(_select(column).where(column.is_not(None)).distinct()))
    return names


# -- the bodies the hub served ----------------------------------------------------------------

def served_bodies(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                  current: bool = False) -> list[ServedBody]:
    """Rows of the bodies served at some moment of [start, end) (all rows without bounds; only
    the open ones with *current*), oldest first."""
    query = select(ServedBody)
    if current:
        query = query.where(col(ServedBody.until).is_(None))
    if end is not None:
        query = query.where(col(ServedBody.since) < end)
    if start is not None:
        query = query.where(or_(col(ServedBody.until).is_(None), col(ServedBody.until) > start))
    return list(session.exec(query.order_by(col(ServedBody.since), col(ServedBody.id))))


def add_served_bodies(session: Session, *, rows: list[ServedBodyCreate]) -> None:
    """Insert rows of ``served_body``, in the caller's transaction."""
    if rows:
        session.connection().execute(_insert(_SERVED_BODY), [row.values() for row in rows])


def close_served_body(session: Session, *, row_id: int, at: datetime) -> None:
    """End one row of ``served_body`` at *at*."""
    session.connection().execute(_update(_SERVED_BODY).where(_SERVED_BODY.c.id == row_id).values(until=at))


# -- edXML (#15): business operations and imported packages ----------------------------------


def add_business_event(session: Session, *, row: BusinessEventCreate) -> int:
    """Insert a recall, update or replacement; returns its id."""
    return _inserted_id(session.connection().execute(_insert(_BUSINESS_EVENT), row.values()))


def business_events_of(session: Session, *, document_id: str) -> list[BusinessEvent]:
    """Every business event that names *document_id* (acted on, or the new version), oldest first."""
    query = select(BusinessEvent).where(or_(col(BusinessEvent.document_id) == document_id,
                                            col(BusinessEvent.related_id) == document_id))
    return list(session.exec(query.order_by(col(BusinessEvent.created_at), col(BusinessEvent.id))))


def business_relations(session: Session, *, document_ids: list[str]) -> dict[str, list[BusinessEvent]]:
    """For the register's pages: the business events naming each of *document_ids*."""
    if not document_ids:
        return {}
    query = select(BusinessEvent).where(or_(col(BusinessEvent.document_id).in_(document_ids),
                                            col(BusinessEvent.related_id).in_(document_ids)))
    out: dict[str, list[BusinessEvent]] = {}
    for event in session.exec(query.order_by(col(BusinessEvent.id))):
        for key in {event.document_id, event.related_id}:
            if key in document_ids:
                out.setdefault(key, []).append(event)
    return out


def update_document(session: Session, *, document_id: str, **values: Any) -> None:
    """Set columns *values* of document *document_id*."""
    session.connection().execute(_update(_DOCUMENT).where(_DOCUMENT.c.id == document_id), values)


def add_edxml_import(session: Session, *, row: EdxmlImportCreate, attachments: list[EdxmlAttachmentCreate]) -> None:
    """Insert an imported package and one row per stored attachment (their blobs stay referenced)."""
    connection = session.connection()
    connection.execute(_insert(_EDXML_IMPORT), row.values())
    if attachments:
        connection.execute(_insert(_EDXML_ATTACHMENT), [a.values() for a in attachments])


def find_edxml_import(session: Session, *, import_id: str) -> EdxmlImport | None:
    """The imported edXML package *import_id*, or None."""
    return session.get(EdxmlImport, import_id)


def edxml_imports(session: Session, *, body: str | None = None, edxml_document_id: str | None = None,
                  incoming_id: str | None = None, document_id: str | None = None, sha256: str | None = None,
                  limit: int = 200) -> list[EdxmlImport]:
    """Imported packages matching every given filter, newest first."""
    query = select(EdxmlImport)
    if body is not None:
        query = query.where(EdxmlImport.body == body)
    if sha256 is not None:
        query = query.where(EdxmlImport.sha256 == sha256)
    if edxml_document_id is not None:
        query = query.where(EdxmlImport.edxml_document_id == edxml_document_id)
    if incoming_id is not None:
        query = query.where(EdxmlImport.incoming_id == incoming_id)
    if document_id is not None:
        query = query.where(EdxmlImport.document_id == document_id)
    return list(session.exec(query.order_by(col(EdxmlImport.received_at).desc()).limit(limit)))


def find_incoming(session: Session, *, incoming_id: str) -> Incoming | None:
    """The incoming document *incoming_id*, or None."""
    return session.get(Incoming, incoming_id)


def update_incoming(session: Session, *, incoming_id: str, **values: Any) -> None:
    """Set columns *values* of incoming document *incoming_id*."""
    session.connection().execute(_update(_INCOMING).where(_INCOMING.c.id == incoming_id), values)


def documents_sent_by(session: Session, *, sender: str, number: str) -> list[Document]:
    """Documents *sender* registered under the số ký hiệu *number* (to match an edXML DocumentId)."""
    return list(session.exec(select(Document).where(Document.sender == sender, Document.number == number)))


def document_ids(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                 batch: int = 2000) -> Iterator[str]:
    """The ids of the documents registered in [start, end), oldest first, streamed."""
    query = select(Document.id)
    if start is not None:
        query = query.where(col(Document.created_at) >= start)
    if end is not None:
        query = query.where(col(Document.created_at) < end)
    yield from session.exec(query.order_by(col(Document.created_at), col(Document.id))
                            .execution_options(yield_per=batch))
