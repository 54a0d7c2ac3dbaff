"""A sender's signed business statement: recall, metadata update or replacement of a document.

These are edXML's business operations (BussinessDocType 1 revoke, 2 update, 3 replace; the
recall travels as status 13). Like a receipt, the statement is small canonical JSON that the
sender signs with a detached CMS signature, so the hub's record of it is non-repudiable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from exchange.domain import jsontext
from exchange.domain.documents import _SYMBOL, DOCUMENT_TYPES
from exchange.domain.moments import checked_moment
from exchange.domain.text import checked_text
from exchange.errors import InputError

#: The metadata an update may change.
UPDATABLE = ("subject", "number", "doc_type", "doc_date")


class BusinessAction(StrEnum):
    """What a sender may do to a document it sent (edXML's BussinessDocType): recall it, update its
    metadata, or replace it with a new signed version."""

    RECALL = "recall"  # edXML BussinessDocType 1 / status 13
    UPDATE = "update"  # BussinessDocType 2
    REPLACE = "replace"  # BussinessDocType 3

    @property
    def edxml_type(self) -> str:
        """The action's edXML BussinessDocType code (1 recall, 2 update, 3 replace)."""
        return {"recall": "1", "update": "2", "replace": "3"}[self.value]


@dataclass(frozen=True)
class BusinessStatement:
    """What the sender signs: the action, the document, when, why, and (update) the new
    metadata or (replace) the id of the new signed version."""

    action: BusinessAction
    document_id: str
    sender: str
    time: datetime
    reason: str
    changes: dict[str, str] = field(default_factory=dict)  # update: field → new value
    replacement: str = ""  # replace: the new document's id

    def to_dict(self) -> dict[str, Any]:
        """The statement as JSON-able data, ``changes`` sorted; :meth:`to_bytes` signs exactly this."""
        return {"type": "edxml-business", "action": self.action.value, "document_id": self.document_id,
                "sender": self.sender, "time": self.time.isoformat().replace("+00:00", "Z"),
                "reason": self.reason, "changes": dict(sorted(self.changes.items())),
                "replacement": self.replacement}

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, UTF-8, no spaces): the exact bytes that are signed."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> BusinessStatement:
        """Parse and check a statement; raises InputError (code invalid-statement) saying why."""
        try:
            raw = jsontext.loads(data.decode("utf-8"), what="the statement", code="invalid-statement")
        except UnicodeDecodeError:
            raise InputError("the statement is not UTF-8 JSON", code="invalid-statement") from None
        if not isinstance(raw, dict) or raw.get("type") != "edxml-business":
            raise InputError("the statement must be a JSON object of type edxml-business", code="invalid-statement")
        try:
            action = BusinessAction(str(raw["action"]))
            time = datetime.fromisoformat(str(raw["time"]).replace("Z", "+00:00"))
            if time.tzinfo is None:
                raise ValueError("time must carry a timezone")
            checked_moment(time, what="the statement's time")
            changes = raw.get("changes") or {}
            if not isinstance(changes, dict) or not all(isinstance(v, str) for v in changes.values()):
                raise ValueError("changes must map field names to strings")
            statement = cls(action=action, document_id=str(raw["document_id"]), sender=str(raw["sender"]),
                            time=time, reason=str(raw.get("reason", "")).strip()[:500],
                            changes={str(k): v for k, v in changes.items()},
                            replacement=str(raw.get("replacement") or ""))
        except KeyError as exc:
            raise InputError(f"the statement lacks {exc.args[0]!r}", code="invalid-statement") from None
        except InputError as exc:
            raise InputError(f"the statement is invalid: {exc.message}", code="invalid-statement") from None
        except ValueError as exc:
            raise InputError(f"the statement is invalid: {exc}", code="invalid-statement") from None
        for text in (statement.document_id, statement.sender, statement.reason, statement.replacement,
                     *statement.changes, *statement.changes.values()):
            checked_text(text, what="the statement")
        statement.check()
        return statement

    def check(self) -> None:
        """Raise InputError unless the statement is complete for its action."""
        if not self.reason:
            raise InputError(f"a {self.action.value} needs a reason", code="invalid-statement")
        if self.action is BusinessAction.REPLACE and not self.replacement:
            raise InputError("a replacement must name the new document", code="invalid-statement")
        if self.action is BusinessAction.UPDATE:
            check_changes(self.changes)


def check_changes(changes: dict[str, str]) -> None:
    """Raise InputError unless *changes* is a non-empty, valid metadata update."""
    if not changes:
        raise InputError("an update must change at least one of " + ", ".join(UPDATABLE), code="invalid-statement")
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise InputError(f"an update cannot change {', '.join(sorted(unknown))} (only {', '.join(UPDATABLE)})",
                         code="invalid-statement")
    if "subject" in changes and not 0 < len(changes["subject"]) <= 500:
        raise InputError("subject must be 1-500 characters", code="invalid-statement")
    if "number" in changes and changes["number"] and not _SYMBOL.match(changes["number"]):
        raise InputError("number (số ký hiệu) must look like 1126-CV/VPTW", code="invalid-statement")
    if "doc_type" in changes and changes["doc_type"] not in DOCUMENT_TYPES:
        raise InputError(f"doc_type must be one of {', '.join(DOCUMENT_TYPES)}", code="invalid-statement")
    if "doc_date" in changes:
        try:
            date.fromisoformat(changes["doc_date"])
        except ValueError:
            raise InputError("doc_date must be YYYY-MM-DD", code="invalid-statement") from None
