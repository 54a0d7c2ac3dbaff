"""What the hub inserts: one typed, frozen write model per kind of row.

Operations build these (the FastAPI template's ``*Create`` models) and hand them to
:mod:`exchange.hub.store.repository`, which inserts them with Core statements; the evidence log
and the API's answers read the same objects. A new column then changes one class here (and
its table), and mypy names every caller that misses it. Field names are the table's column
names; enums are stored as their values (see :class:`~exchange.hub.store.models.EnumText`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from exchange.domain.bodies import BodyKind
from exchange.domain.business import BusinessAction
from exchange.domain.documents import Channel, Classification, ReceiptStatus
from exchange.domain.indication import Indication


@dataclass(frozen=True, slots=True)
class Row:
    """A row to insert; :meth:`values` gives its column values for a Core ``INSERT``."""

    def values(self) -> dict[str, Any]:
        """The column values, by column name (enum members as they are: the columns convert)."""
        names = _NAMES.get(type(self))
        if names is None:
            names = _NAMES[type(self)] = tuple(f.name for f in fields(self))
        return {name: getattr(self, name) for name in names}


#: each write model's field names, in order (``dataclasses.fields`` is slow for a hot path)
_NAMES: dict[type[Row], tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class DocumentCreate(Row):
    """A document as registered: the sender's metadata, its channel and (electronic) its file,
    signature and the hub's validation of it. Times are UTC (:func:`~.models.as_stored`)."""

    id: str
    message_id: str
    sender: str
    channel: Channel
    created_at: datetime
    number: str = ""
    doc_type: str = "cong-van"
    subject: str = ""
    doc_date: date | None = None
    classification: Classification = Classification.NORMAL
    filename: str | None = None  # display only, never a path
    media_type: str | None = None
    sha256: str | None = None
    size: int | None = None
    signature_sha256: str | None = None
    indication: Indication | None = None
    sub_indication: str | None = None
    report_json: str | None = None
    signer: str | None = None


@dataclass(frozen=True, slots=True)
class SignedStatementCreate(Row):
    """The columns of a signed statement the hub validated (see
    :class:`~exchange.hub.store.models.SignedStatement`): the exact bytes, the signature (with
    the hub's time-stamp), the hub's verdict and report, when it was stated and recorded."""

    statement: bytes
    signature: bytes
    indication: Indication
    report_json: str
    stated_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiptCreate(SignedStatementCreate):
    """A recipient's signed status statement as the hub accepted it (its id is the database's)."""

    document_id: str
    recipient: str
    status: ReceiptStatus
    reason: str


@dataclass(frozen=True, slots=True)
class IncomingCreate(Row):
    """A document from an outside agency, recorded on arrival (K3)."""

    id: str
    body: str
    from_agency: str
    received_at: datetime
    number: str = ""
    subject: str = ""
    scanned: bool = False
    entered: bool = True
    sha256: str | None = None
    filename: str | None = None
    electronic: bool = False
    superseded: bool = False


@dataclass(frozen=True, slots=True)
class BusinessEventCreate(SignedStatementCreate):
    """A sender's signed recall, update or replacement as the hub accepted it."""

    document_id: str
    related_id: str | None
    action: BusinessAction
    sender: str
    reason: str
    changes_json: str


@dataclass(frozen=True, slots=True)
class EdxmlImportCreate(Row):
    """An edXML package from an outside agency, with what it said and what it was matched to."""

    id: str
    body: str
    kind: str  # document | status
    sha256: str
    header_json: str
    received_at: datetime
    edxml_document_id: str = ""
    business_type: str = ""
    status_code: str = ""
    from_organ: str = ""
    from_name: str = ""
    xml_signature: str = ""
    xml_signature_json: str = "{}"
    incoming_id: str | None = None
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class EdxmlAttachmentCreate(Row):
    """One stored attachment of an imported package."""

    import_id: str
    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ServedBodyCreate(Row):
    """A body the hub serves from *since* (open: no ``until`` yet)."""

    body_id: str
    kind: BodyKind
    name_vi: str
    name_en: str
    population_millions: float | None
    since: datetime
