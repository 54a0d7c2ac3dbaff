"""Signed receipts: the small JSON statement a receiver signs to say what arrived and its status.

Like an AS4 non-repudiation receipt, the statement repeats the SHA-256 of the document, so
its signature proves exactly which bytes arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from exchange.domain import jsontext
from exchange.domain.documents import ReceiptStatus
from exchange.domain.moments import checked_moment
from exchange.domain.text import checked_text
from exchange.errors import InputError

_HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class ReceiptStatement:
    """A receiver's status of one document (edXML status 01–06, or 15/16 answering a recall or
    update): the signed wire format of a receipt.

    The receiving body signs the exact bytes of :meth:`to_bytes` (canonical JSON of these fields,
    ``type: edxml-status`` and the status's name) with its own signing certificate, as a detached
    CMS signature sent beside it. The hub accepts it only if it names this document and this
    receiver, if ``sha256`` is the SHA-256 of the document as the sender sent it, and if the
    signature passes and is the receiver's own; it then time-stamps the signature and keeps both
    bytes, so anyone can later prove which bytes arrived, when and in what state.

    ``time``: when the receiver says so (timezone-aware); ``reason``: required for REJECTED;
    ``verification``: the receiver's own validation of the document's signature (e.g.
    ``TOTAL_PASSED``).
    """

    document_id: str
    sha256: str
    status: ReceiptStatus
    time: datetime
    receiver: str
    reason: str = ""
    verification: str = ""  # the receiver's own validation indication, e.g. TOTAL_PASSED

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, UTF-8, no spaces): the exact bytes that are signed."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, str]:
        """The statement's fields as signed (times as ISO 8601 with ``Z``); :meth:`to_bytes`
        serialises exactly this."""
        return {
            "type": "edxml-status",
            "document_id": self.document_id,
            "sha256": self.sha256,
            "status": self.status.value,
            "status_name": self.status.label,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "receiver": self.receiver,
            "reason": self.reason,
            "verification": self.verification,
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> ReceiptStatement:
        """Parse a statement; raises InputError (code invalid-receipt) saying what is wrong."""
        try:
            raw = jsontext.loads(data.decode("utf-8"), what="the receipt statement", code="invalid-receipt")
        except UnicodeDecodeError:
            raise InputError("the receipt statement is not UTF-8 JSON", code="invalid-receipt") from None
        if not isinstance(raw, dict):
            raise InputError("the receipt statement must be a JSON object", code="invalid-receipt")
        try:
            sha = str(raw["sha256"]).lower()
            if len(sha) != 64 or not set(sha) <= _HEX:
                raise ValueError("sha256 must be 64 hex digits")
            time = datetime.fromisoformat(str(raw["time"]))
            if time.tzinfo is None:
                raise ValueError("time must carry a timezone")
            checked_moment(time, what="the receipt's time")
            statement = cls(
                document_id=str(raw["document_id"]),
                sha256=sha,
                status=ReceiptStatus.parse(str(raw["status"])),
                time=time,
                receiver=str(raw["receiver"]),
                reason=str(raw.get("reason", "")),
                verification=str(raw.get("verification", "")),
            )
        except KeyError as exc:
            raise InputError(f"the receipt statement lacks {exc.args[0]!r}", code="invalid-receipt") from None
        except InputError as exc:
            raise InputError(f"the receipt statement is invalid: {exc.message}", code="invalid-receipt") from None
        except ValueError as exc:
            raise InputError(f"the receipt statement is invalid: {exc}", code="invalid-receipt") from None
        for name in ("document_id", "receiver", "reason", "verification"):
            checked_text(getattr(statement, name), what=f"the receipt's {name}")
        if statement.status is ReceiptStatus.REJECTED and not statement.reason:
            raise InputError("a rejected status needs a reason", code="invalid-receipt")
        return statement
