"""What an edXML package says, as plain frozen dataclasses (no XML, no HTTP, no database).

A :class:`DocumentPackage` is a document message (new, revoke, update or replace); a
:class:`StatusPackage` a status message. The reader builds them from bytes, the writer turns
them into bytes exactly as the Government Office's SDK lays them out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from exchange.edxml.codes import BusinessDocType, StatusCode

_CODE = re.compile(r"^(\d+)[-/](.+)$")


def split_code(number: str) -> tuple[str, str]:
    """Our số ký hiệu as (CodeNumber, CodeNotation): ``1126-CV/VPTW`` → (``1126``, ``CV/VPTW``),
    ``7816/VPCP-TTĐT`` → (``7816``, ``VPCP-TTĐT``); a symbol without a number is all notation."""
    found = _CODE.match(number.strip())
    return (found.group(1), found.group(2)) if found else ("", number.strip())


def join_code(number: str, notation: str) -> str:
    """The số ký hiệu as a reader writes it: ``7816/VPCP-TTĐT``, or ``1126-CV/VPTW`` for a Party
    notation (which itself holds a slash)."""
    if not number:
        return notation
    if not notation:
        return number
    return f"{number}-{notation}" if "/" in notation else f"{number}/{notation}"


@dataclass(frozen=True)
class Organization:
    """``From`` / ``To``: an organ id (mã định danh) and how to reach it."""

    organ_id: str
    name: str = ""
    in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class ResponseFor:
    """Which document a status (or a revocation) is about; match on ``document_id``."""

    organ_id: str
    code: str
    promulgation_date: date | None
    document_id: str


@dataclass(frozen=True)
class StaffInfo:
    """``StaffInfo``: who handles the document at the sending organ (department, person, e-mail,
    phone)."""

    department: str = ""
    staff: str = ""
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True)
class Trace:
    """One ``TraceHeader`` entry: an organ the package passed through, and when (None when
    unreadable or absent)."""

    organ_id: str
    timestamp: datetime | None


@dataclass(frozen=True)
class Replacement:
    """``ReplacementInfo``: a replaced document and the organs that received it."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateInfo:
    """``BussinessDocumentInfo`` of an update: what changed (metadata, receivers)."""

    document_info: bool = True
    document_receiver: bool = False
    receivers: tuple[tuple[str, str], ...] = ()  # (OrganId, ReceiverType)


@dataclass(frozen=True)
class Business:
    """``Bussiness`` (sic, QCVN 102's spelling): the operation a package carries (new, recall,
    update, replace), why, and on which document."""

    doc_type: BusinessDocType = BusinessDocType.NEW
    reason: str = ""
    document_id: str = ""  # the document the operation targets (update)
    paper: bool = False
    staff: StaffInfo | None = None
    update: UpdateInfo | None = None
    replaces: tuple[Replacement, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """One attachment, decoded: the bytes as the sender had them (unzipped when it was zipped)."""

    content_id: str
    name: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str = ""
    zipped: bool = False  # it travelled zipped (the library zips all but pdf/doc/xls…)

    @property
    def sha256(self) -> str:
        """The SHA-256 of the decoded bytes, in hex."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        """The decoded size in bytes."""
        return len(self.data)

    def summary(self) -> dict[str, Any]:
        """What the pages and ``edxml show --json`` show of an attachment (its bytes left out)."""
        return {"content_id": self.content_id, "name": self.name, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha256, "zipped": self.zipped}


@dataclass(frozen=True)
class DocumentPackage:
    """A document message: MessageHeader, TraceHeaderList (with Bussiness), attachments."""

    sender: Organization
    recipients: tuple[Organization, ...]
    document_id: str
    code_number: str
    code_notation: str
    subject: str
    promulgation_date: date | None = None
    place: str = ""
    type_code: int | None = None
    type_detail: int | None = None
    type_name: str = ""
    content: str = ""
    signer_competence: str = ""
    signer_position: str = ""
    signer_name: str = ""
    due_date: date | None = None
    priority: int | None = 0
    sphere: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    appendixes: tuple[str, ...] = ()
    steering_type: int | None = 1
    to_places: tuple[str, ...] = ()
    response_for: tuple[ResponseFor, ...] = ()
    traces: tuple[Trace, ...] = ()
    business: Business = field(default_factory=Business)
    attachments: tuple[Attachment, ...] = ()
    signature: str = "none"  # none | sdk-placeholder | xmldsig | empty (what the header carries)

    @property
    def kind(self) -> str:
        """``document``: this package carries a document (see :class:`StatusPackage`)."""
        return "document"

    @property
    def code(self) -> str:
        """The document's code: number and notation joined as written on paper (e.g. ``12/QĐ-TW``)."""
        return join_code(self.code_number, self.code_notation)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: what ``exchange edxml inspect --json`` prints and the pages show."""
        return {
            "kind": "document",
            "business_type": self.business.doc_type.value,
            "business_name": self.business.doc_type.name.lower(),
            "business_reason": self.business.reason,
            "business_document_id": self.business.document_id,
            "replaces": [r.document_id for r in self.business.replaces],
            "from": _org(self.sender),
            "to": [_org(r) for r in self.recipients],
            "document_id": self.document_id,
            "code": self.code,
            "code_number": self.code_number,
            "code_notation": self.code_notation,
            "promulgation_date": self.promulgation_date.isoformat() if self.promulgation_date else None,
            "place": self.place,
            "type": self.type_code,
            "type_name": self.type_name,
            "subject": self.subject,
            "signer": " ".join(x for x in (self.signer_competence, self.signer_position, self.signer_name) if x),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "priority": self.priority,
            "steering_type": self.steering_type,
            "response_for": [r.document_id for r in self.response_for],
            "trace": [{"organ_id": t.organ_id, "timestamp": t.timestamp.isoformat() if t.timestamp else None}
                      for t in self.traces],
            "attachments": [a.summary() for a in self.attachments],
            "signature": self.signature,
        }


@dataclass(frozen=True)
class StatusPackage:
    """A status message: who answers, about which document, with which code."""

    sender: Organization
    response_for: ResponseFor
    status: StatusCode | str  # unknown codes are kept verbatim
    timestamp: datetime | None
    description: str = ""
    staff: StaffInfo | None = None
    signature: str = "none"

    @property
    def kind(self) -> str:
        """``status``: this package answers a document with a status code."""
        return "status"

    @property
    def status_code(self) -> str:
        """The two-digit status code as sent, whether or not it is one we know."""
        return self.status.value if isinstance(self.status, StatusCode) else self.status

    def summary(self) -> dict[str, Any]:
        """What the pages and ``edxml show --json`` show of a status package."""
        return {
            "kind": "status",
            "from": _org(self.sender),
            "status": self.status_code,
            "status_name": self.status.label if isinstance(self.status, StatusCode) else "unknown",
            "description": self.description,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "response_for": {"organ_id": self.response_for.organ_id, "code": self.response_for.code,
                             "promulgation_date": (self.response_for.promulgation_date.isoformat()
                                                   if self.response_for.promulgation_date else None),
                             "document_id": self.response_for.document_id},
            "staff": self.staff.staff if self.staff else "",
            "signature": self.signature,
        }


Package = DocumentPackage | StatusPackage


def _org(org: Organization) -> dict[str, str]:
    return {"organ_id": org.organ_id, "name": org.name}
