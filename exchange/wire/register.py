"""The register as the hub's read API gives it (``/api/register``, ``/api/bodies``): one row per
document and recipient, the incoming log, and the bodies served. Each row converts to and
from the domain's plain record, so a report computes K1–K3 alike from the API or the database.

Times keep the text the API has always written (``datetime.isoformat()``: ``+00:00``, not ``Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

from exchange.domain.bodies import Body, BodyKind
from exchange.domain.documents import Channel, ReceiptStatus
from exchange.domain.register import IncomingEntry, RegisterEntry

__all__ = ["BodyPublic", "IncomingRow", "RegisterPublic", "RegisterRow"]

#: a time written as ``datetime.isoformat()`` (the register's rows have always been so)
IsoTime = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class RegisterRow(BaseModel):
    """One register row: a document from *sender* to one *recipient*, how it went (channel,
    delivered), and the recipient's own verdict and latest signed status."""

    document_id: str
    sender: str
    recipient: str
    channel: str  # exchange.domain.documents.Channel
    sent_at: IsoTime
    delivered: bool
    verified_by_recipient: bool | None = None
    receipt_status: str | None = None  # exchange.domain.documents.ReceiptStatus
    receipt_at: IsoTime | None = None
    superseded: bool = False

    @classmethod
    def from_entry(cls, entry: RegisterEntry) -> RegisterRow:
        """The row for the domain's *entry*."""
        return cls(document_id=entry.document_id, sender=entry.sender, recipient=entry.recipient,
                   channel=entry.channel.value, sent_at=entry.sent_at, delivered=entry.delivered,
                   verified_by_recipient=entry.verified_by_recipient,
                   receipt_status=entry.receipt_status.value if entry.receipt_status else None,
                   receipt_at=entry.receipt_at, superseded=entry.superseded)

    def to_entry(self) -> RegisterEntry:
        """The domain's record (times in UTC); ValueError for an unknown channel or status."""
        return RegisterEntry(
            document_id=self.document_id, sender=self.sender, recipient=self.recipient,
            channel=Channel(self.channel), sent_at=_utc(self.sent_at), delivered=self.delivered,
            verified_by_recipient=self.verified_by_recipient,
            receipt_status=ReceiptStatus(self.receipt_status) if self.receipt_status else None,
            receipt_at=_utc(self.receipt_at) if self.receipt_at else None, superseded=self.superseded)


class IncomingRow(BaseModel):
    """One document from an outside agency in the incoming log (K3)."""

    entry_id: str
    body: str
    from_agency: str
    received_at: IsoTime
    scanned: bool
    entered: bool
    electronic: bool = False
    superseded: bool = False

    @classmethod
    def from_entry(cls, entry: IncomingEntry) -> IncomingRow:
        """The row for the domain's *entry*."""
        return cls(entry_id=entry.entry_id, body=entry.body, from_agency=entry.from_agency,
                   received_at=entry.received_at, scanned=entry.scanned, entered=entry.entered,
                   electronic=entry.electronic, superseded=entry.superseded)

    def to_entry(self) -> IncomingEntry:
        """The domain's record (time in UTC)."""
        return IncomingEntry(self.entry_id, self.body, self.from_agency, _utc(self.received_at), self.scanned,
                             self.entered, self.electronic, self.superseded)


class RegisterPublic(BaseModel):
    """``/api/register``: the rows sent in a period and the documents received from outside."""

    entries: list[RegisterRow]
    incoming: list[IncomingRow]


class BodyPublic(BaseModel):
    """A body the hub serves (``/api/bodies``): id, kind, Vietnamese and English names."""

    id: str
    kind: str  # exchange.domain.bodies.BodyKind
    name: str
    name_en: str = ""

    @classmethod
    def from_body(cls, body: Body) -> BodyPublic:
        """The public form of *body*."""
        return cls(id=body.id, kind=body.kind.value, name=body.name_vi, name_en=body.name_en)

    def to_body(self) -> Body:
        """The domain's body; ValueError for an unknown kind."""
        return Body(id=self.id, kind=BodyKind(self.kind), name_vi=self.name, name_en=self.name_en)
