"""Official documents as the register sees them: metadata, channels, receipt statuses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from exchange.domain.moments import checked_date
from exchange.domain.text import checked_text
from exchange.errors import InputError


class Classification(StrEnum):
    """How closely a document is held (its ``độ mật``); the hub stores it with the document."""

    #: an ordinary document: the pages may show the beginning of its text
    NORMAL = "normal"
    #: "Mật": travels only as a CMS envelope for its recipients, and its content is never shown
    #: on the hub's pages (the hub keeps no plaintext of it)
    SECRET = "secret"


class Channel(StrEnum):
    """How one document reached one recipient (the register's key distinction for K1)."""

    #: electronic, signed, and the hub's validation says TOTAL_PASSED (by the sender itself):
    #: the only channel that counts towards K1's signed share
    SIGNED_VALID = "signed_valid"
    #: electronic and signed, but refused at the hub (invalid signature, or signed by another
    #: body than the sender): recorded, never delivered
    SIGNED_INVALID = "signed_invalid"
    #: electronic, without a signature: delivered, but not a signed exchange
    UNSIGNED = "unsigned"
    #: sent on paper and registered by the sending clerk: metadata only, no file
    PAPER = "paper"

    @property
    def electronic(self) -> bool:
        """Whether the document travelled electronically (signed or not), i.e. not on paper."""
        return self is not Channel.PAPER


class DeliveryState(StrEnum):
    """A document's fate for one recipient: the state of its row in the register."""

    #: in the recipient's inbox: it may download the document and answer with signed statuses
    DELIVERED = "delivered"
    #: refused by the hub (its signature failed validation): the recipient never sees it
    REFUSED = "refused"
    #: sent on paper: registered for the measures, nothing to download
    PAPER = "paper"


class ReceiptStatus(StrEnum):
    """Vietnam's edXML status codes for a received document (the CLI takes the names).

    01–06 and 15/16 are a recipient's signed receipts; 13 (recall) is the sender's request,
    recorded on every recipient's row of the register until the recipient answers 15 or 16.
    """

    #: 01 the document arrived at the recipient (đã đến)
    RECEIVED = "01"
    #: 02 the recipient refuses the document (từ chối tiếp nhận); the statement must say why
    REJECTED = "02"
    #: 03 the recipient's clerk accepted it into its register (đã tiếp nhận)
    ACCEPTED = "03"
    #: 04 assigned to someone to handle (phân công)
    ASSIGNED = "04"
    #: 05 being handled (đang xử lý)
    PROCESSING = "05"
    #: 06 handling completed (hoàn thành)
    COMPLETED = "06"
    #: 13 the sender asks for the document back (never a recipient's receipt)
    RECALL = "13"
    #: 15 the recipient agrees to a recall or update
    CHANGE_ACCEPTED = "15"
    #: 16 the recipient refuses a recall or update
    CHANGE_REJECTED = "16"

    @property
    def answers_change(self) -> bool:
        """Whether this status answers a recall or update (15 accepted, 16 refused), which needs one
        pending."""
        return self in (ReceiptStatus.CHANGE_ACCEPTED, ReceiptStatus.CHANGE_REJECTED)

    @classmethod
    def parse(cls, text: str) -> ReceiptStatus:
        """From a name (``received``) or a code (``01``); raises InputError otherwise."""
        value = text.strip().lower()
        for status in cls:
            if value in (status.value, status.name.lower()):
                return status
        names = ", ".join(f"{s.name.lower()} ({s.value})" for s in cls)
        raise InputError(f"unknown status {text!r}; one of {names}")

    @property
    def label(self) -> str:
        """The status's name in lower case (``received``, ``accepted``, …), as receipts and pages
        show it."""
        return self.name.lower()


_SYMBOL = re.compile(r"^[\w./-]{1,60}$", re.UNICODE)
DOCUMENT_TYPES = ("cong-van", "quyet-dinh", "bao-cao", "thong-bao", "ke-hoach", "to-trinh",
                  "giay-moi", "chi-thi", "nghi-quyet", "khac")


@dataclass(frozen=True)
class DocumentMetadata:
    """What a sending clerk fills in: recipients, số ký hiệu, type, subject, date, classification.

    ``message_id`` is chosen by the client so a retried send is the same document.
    """

    recipients: tuple[str, ...]
    subject: str
    message_id: str
    number: str = ""  # số ký hiệu, e.g. "1126-CV/VPTW"
    doc_type: str = "cong-van"
    doc_date: date | None = None
    classification: Classification = Classification.NORMAL
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object) -> DocumentMetadata:
        """Validate metadata sent as JSON; raises InputError naming the bad field."""
        if not isinstance(data, dict):
            raise InputError("metadata must be a JSON object")
        recipients = data.get("recipients")
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, list) or not recipients or not all(
            isinstance(r, str) and r for r in recipients
        ):
            raise InputError("metadata.recipients must be a non-empty list of body ids", code="invalid-metadata")
        subject = data.get("subject", "")
        if not isinstance(subject, str) or len(subject) > 500:
            raise InputError("metadata.subject must be a string of at most 500 characters",
                             code="invalid-metadata")
        message_id = data.get("message_id")
        if not isinstance(message_id, str) or not 1 <= len(message_id) <= 128:
            raise InputError("metadata.message_id must be a string of 1-128 characters", code="invalid-metadata")
        # Only an absent field or null takes the default: {} or [] is a wrong type, not "none".
        number = _given(data, "number", "")
        if not isinstance(number, str) or (number and not _SYMBOL.match(number)):
            raise InputError("metadata.number (số ký hiệu) must look like 1126-CV/VPTW", code="invalid-metadata")
        doc_type = _given(data, "doc_type", "cong-van")
        if isinstance(doc_type, str):
            doc_type = doc_type or "cong-van"
        if not isinstance(doc_type, str) or doc_type not in DOCUMENT_TYPES:
            raise InputError(f"metadata.doc_type must be one of {', '.join(DOCUMENT_TYPES)}",
                             code="invalid-metadata")
        raw_date = data.get("doc_date")
        try:
            doc_date = checked_date(date.fromisoformat(raw_date), what="metadata.doc_date") if raw_date is not None \
                else None
        except (TypeError, ValueError):
            raise InputError("metadata.doc_date must be an ISO date (YYYY-MM-DD)", code="invalid-metadata") from None
        except InputError as exc:
            raise InputError(exc.message, code="invalid-metadata") from None
        try:
            raw_class = _given(data, "classification", "normal")
            if not isinstance(raw_class, str):
                raise ValueError(raw_class)
            classification = Classification(raw_class or "normal")
        except ValueError:
            raise InputError("metadata.classification must be normal or secret", code="invalid-metadata") from None
        for name, value in (("subject", subject), ("message_id", message_id), ("number", number),
                            *(("recipients", r) for r in recipients)):
            checked_text(value, what=f"metadata.{name}")
        return cls(
            recipients=tuple(dict.fromkeys(recipients)),
            subject=subject.strip(),
            message_id=message_id,
            number=number,
            doc_type=doc_type,
            doc_date=doc_date,
            classification=classification,
        )

    def to_dict(self) -> dict[str, Any]:
        """The metadata as the JSON of an upload's ``metadata`` field (recipients as a list)."""
        return {
            "recipients": list(self.recipients),
            "subject": self.subject,
            "message_id": self.message_id,
            "number": self.number,
            "doc_type": self.doc_type,
            "doc_date": self.doc_date.isoformat() if self.doc_date else None,
            "classification": self.classification.value,
        }


def _given(data: dict[str, Any], name: str, default: str) -> Any:
    """*data*'s *name*, or *default* when it is absent or null."""
    value = data.get(name)
    return default if value is None else value
