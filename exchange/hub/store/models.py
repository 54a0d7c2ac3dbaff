"""The hub's tables: what is stored. What the API shows of it are the wire models of
:mod:`exchange.wire`, built from these rows by the service."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, DateTime, Index, String, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from exchange.domain.bodies import BodyKind
from exchange.domain.business import BusinessAction
from exchange.domain.documents import Channel, Classification, DeliveryState, ReceiptStatus
from exchange.domain.indication import Indication

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL keeps the offset; SQLite stores no offset at all, so values are converted to
    UTC on the way in (a +07:00 time would otherwise be stored as the wrong instant) and
    marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """*value* in UTC (a naive value is taken as UTC already)."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """*value* marked UTC when the database gave it back naive (SQLite)."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class EnumText(TypeDecorator[E], Generic[E]):
    """A :class:`~enum.StrEnum` kept as its value in a plain ``VARCHAR(length)`` column.

    The schema is that of a string column (no database ENUM type, no CHECK), so the stored
    values are the enum's strings, as before the column was typed; rows read back as members.
    Parameters may be members or their strings (a search filter with an unknown value simply
    matches nothing).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    @property
    def python_type(self) -> type[E]:
        """The enum: what a value of the column is in Python."""
        return self.enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """The member's value (a plain ``str`` for the driver); None stays NULL."""
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """The member a stored value names; None for NULL."""
        return None if value is None else self.enum(value)


def as_stored(value: datetime) -> datetime:
    """*value* as a :class:`UTCDateTime` column reads it back: in UTC (naive taken as UTC), so an
    answer built from what was written equals one read back from the database."""
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _utc(*, nullable: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable)


# The lengths are those of the string columns the enums replaced: the schema is unchanged.
_CLASSIFICATION = EnumText(Classification, 16)
_CHANNEL = EnumText(Channel, 16)
_DELIVERY_STATE = EnumText(DeliveryState, 16)
_INDICATION = EnumText(Indication, 16)
_STATUS = EnumText(ReceiptStatus, 2)
_ACTION = EnumText(BusinessAction, 16)
_BODY_KIND = EnumText(BodyKind, 16)


class Document(SQLModel, table=True):
    """One official document as registered by its sender (electronic or paper)."""

    __table_args__ = (UniqueConstraint("sender", "message_id", name="uq_document_sender_message"),)

    id: str = Field(primary_key=True, max_length=36)
    message_id: str = Field(max_length=128)
    sender: str = Field(index=True, max_length=64)
    number: str = Field(default="", max_length=64)
    doc_type: str = Field(default="cong-van", max_length=32)
    subject: str = Field(default="", max_length=500)
    doc_date: date | None = None
    classification: Classification = Field(default=Classification.NORMAL, sa_type=_CLASSIFICATION)
    channel: Channel = Field(index=True, sa_type=_CHANNEL)
    filename: str | None = Field(default=None, max_length=255)  # display only, never a path
    media_type: str | None = Field(default=None, max_length=128)
    sha256: str | None = Field(default=None, max_length=64)
    size: int | None = None
    signature_sha256: str | None = Field(default=None, max_length=64)
    indication: Indication | None = Field(default=None, sa_type=_INDICATION)
    sub_indication: str | None = Field(default=None, max_length=48)
    report_json: str | None = None  # the hub's validation report
    signer: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_utc())


class Delivery(SQLModel, table=True):
    """A document's fate for one recipient: the register's row (document, recipient)."""

    __table_args__ = (
        UniqueConstraint("document_id", "recipient", name="uq_delivery_document_recipient"),
        Index("ix_delivery_recipient_state", "recipient", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", max_length=36)
    recipient: str = Field(max_length=64)
    state: DeliveryState = Field(sa_type=_DELIVERY_STATE)
    sent_at: datetime = Field(sa_column=_utc())
    fetched_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    verified: bool | None = None  # the recipient's own validation, from its receipt
    status: ReceiptStatus | None = Field(default=None, sa_type=_STATUS)  # the latest edXML status
    status_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class SignedStatement(SQLModel):
    """The columns of a signed statement the hub validated and keeps (a mixin of tables).

    The statement's exact bytes, its detached CMS signature (with the hub's time-stamp), the
    hub's indication and report, when the signer said it and when the hub recorded it. The
    time columns are declared with ``sa_type`` (not ``sa_column``): SQLModel then builds one
    Column per table, and a Column cannot belong to two tables.
    """

    statement: bytes
    signature: bytes
    indication: Indication = Field(sa_type=_INDICATION)
    report_json: str
    stated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class _ReceiptHead(SQLModel):
    """A receipt's own columns, which come before its statement's (the table's column order)."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=36)
    recipient: str = Field(max_length=64)
    status: ReceiptStatus = Field(sa_type=_STATUS)
    reason: str = Field(default="", max_length=500)


class Receipt(SignedStatement, _ReceiptHead, table=True):
    """One signed status statement from a recipient, with the hub's validation of it."""


class Incoming(SQLModel, table=True):
    """A document from an outside (state) agency, recorded on arrival (K3)."""

    id: str = Field(primary_key=True, max_length=36)
    body: str = Field(index=True, max_length=64)
    from_agency: str = Field(max_length=200)
    number: str = Field(default="", max_length=64)
    subject: str = Field(default="", max_length=500)
    received_at: datetime = Field(sa_column=_utc())
    scanned: bool = False
    entered: bool = True
    sha256: str | None = Field(default=None, max_length=64)
    filename: str | None = Field(default=None, max_length=255)
    # edXML (#15): a package that arrived electronically is born digital (no scan needed for
    # K3); a package replaced by a later one (BussinessDocType 3) is not counted again.
    electronic: bool = False
    superseded: bool = False


class Event(SQLModel, table=True):
    """An append-only audit trail of what the hub did (refusals included)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    document_id: str | None = Field(default=None, index=True, max_length=36)
    detail: str = ""


# -- the bodies the hub served (issue #11): K2's denominator and the per-body tables -------

#: ``since`` of the bodies a register served from its first row (a fixed instant, not NULL,
#: so the unique constraint holds even when two workers record the list at once)
SERVED_FROM_START = datetime(1970, 1, 1, tzinfo=UTC)


class ServedBody(SQLModel, table=True):
    """A body the hub served, with its kind and names, from ``since`` until ``until`` (None:
    still served). A change of the hub's bodies file closes a row and opens another, so the
    register knows which bodies it served in any period."""

    __tablename__ = "served_body"
    __table_args__ = (UniqueConstraint("body_id", "since", name="uq_served_body_since"),)

    id: int | None = Field(default=None, primary_key=True)
    body_id: str = Field(index=True, max_length=64)
    kind: BodyKind = Field(sa_type=_BODY_KIND)
    name_vi: str = Field(max_length=300)
    name_en: str = Field(default="", max_length=300)
    population_millions: float | None = None
    since: datetime = Field(sa_column=_utc())
    until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


# -- edXML (QCVN 102:2016, issue #15): business operations and imported packages --------------


class _BusinessEventHead(SQLModel):
    """A business event's own columns, before its statement's (the table's column order)."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=36)  # acted on
    related_id: str | None = Field(default=None, index=True, max_length=36)  # replace: the new version
    action: BusinessAction = Field(sa_type=_ACTION)
    sender: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    changes_json: str = "{}"  # update: {"field": [old, new]}


class BusinessEvent(SignedStatement, _BusinessEventHead, table=True):
    """A sender's signed recall, metadata update or replacement of a document it sent."""


class EdxmlImport(SQLModel, table=True):
    """An edXML package from an outside agency, kept verbatim (content-addressed) with what it said."""

    id: str = Field(primary_key=True, max_length=36)
    body: str = Field(index=True, max_length=64)  # the body it was registered at
    kind: str = Field(max_length=16)  # document | status
    edxml_document_id: str = Field(default="", index=True, max_length=255)
    business_type: str = Field(default="", max_length=2)
    status_code: str = Field(default="", max_length=4)
    from_organ: str = Field(default="", max_length=64)
    from_name: str = Field(default="", max_length=255)
    header_json: str  # the package's summary (exchange.edxml.DocumentPackage.summary)
    xml_signature: str = Field(default="", max_length=32)
    xml_signature_json: str = "{}"
    sha256: str = Field(max_length=64)  # the package file itself
    incoming_id: str | None = Field(default=None, index=True, max_length=36)
    document_id: str | None = Field(default=None, index=True, max_length=36)  # a status about our document
    received_at: datetime = Field(sa_column=_utc())


class EdxmlAttachment(SQLModel, table=True):
    """One attachment of an imported package, stored content-addressed (decoded, unzipped)."""

    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(foreign_key="edxmlimport.id", index=True, max_length=36)
    name: str = Field(default="", max_length=255)
    sha256: str = Field(max_length=64)
    size: int = 0


# -- people: accounts, their sessions and tokens, the access log (exchange.hub.people) --------


class Account(SQLModel, table=True):
    """A person who uses the hub's pages or its read API (never a body: bodies use certificates)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)  # exchange.hub.people.roles.Role
    body: str | None = Field(default=None, max_length=64)  # a clerk's body
    password_hash: str = Field(max_length=255)  # argon2id, PHC string
    active: bool = True
    failures: int = 0  # failed logins since the last success or lock-out
    last_failure_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(sa_column=_utc())


class AccountSession(SQLModel, table=True):
    """A login session (cookie) or a bearer token for scripts; only its SHA-256 is stored."""

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the secret
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=8)  # session | token
    csrf: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc())
    revoked: bool = False


class AccessEvent(SQLModel, table=True):
    """One entry of the access log: who did what, when, and whether it was allowed."""

    __table_args__ = (Index("ix_accessevent_actor_at", "actor", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=64)  # a person's name, a body id, or "anonymous"
    actor_kind: str = Field(max_length=16)  # person | body | anonymous
    role: str = Field(default="", max_length=16)
    action: str = Field(index=True, max_length=16)  # login | login-failed | logout | view | refused | …
    target: str = Field(default="", max_length=300)  # METHOD path, or a document id
    outcome: str = Field(index=True, max_length=8)  # allowed | refused
    code: str = Field(default="", max_length=48)  # why it was refused
    client: str = Field(default="", max_length=64)  # the client's address



# -- the tamper-evident log (exchange.hub.evidence_log) ---------------------------------------


class LogEntry(SQLModel, table=True):
    """One entry of the log: its index (the Merkle leaf's position) and its exact leaf bytes."""

    __tablename__ = "log_entry"

    index: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=32)
    at: datetime = Field(sa_column=_utc())
    document_id: str | None = Field(default=None, index=True, max_length=36)
    leaf: bytes


class LogNode(SQLModel, table=True):
    """The hash of one complete subtree: the 2**level leaves from index * 2**level."""

    __tablename__ = "log_node"

    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    index: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes


class LogHead(SQLModel, table=True):
    """The log's one head row: its size and right border; appends lock it, so they are serial."""

    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int = 0
    frontier: bytes = b""


class LogCheckpoint(SQLModel, table=True):
    """A checkpoint the hub signed: the C2SP signed note and its detached CMS."""

    __tablename__ = "log_checkpoint"

    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root: bytes
    note: bytes
    cms: bytes
    at: datetime = Field(sa_column=_utc())


ALL_TABLES = (Document, Delivery, Receipt, Incoming, Event, ServedBody, BusinessEvent, EdxmlImport,
              EdxmlAttachment, Account, AccountSession, AccessEvent, LogEntry, LogNode, LogHead,
              LogCheckpoint)
