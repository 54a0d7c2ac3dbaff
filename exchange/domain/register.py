"""The official register: one entry per (document, recipient), electronic or paper.

These plain records are what the measures (K1–K3) are computed from; the hub's storage and
the simulator both produce them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exchange.domain.documents import Channel, ReceiptStatus


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One official document from one of the 80 bodies to another, for one recipient."""

    document_id: str
    sender: str
    recipient: str
    channel: Channel
    sent_at: datetime
    delivered: bool  # the hub put it in the recipient's inbox (False for refused and paper)
    verified_by_recipient: bool | None = None  # the recipient's own validation passed
    receipt_status: ReceiptStatus | None = None  # latest signed status from the recipient
    receipt_at: datetime | None = None
    superseded: bool = False  # replaced by a new signed version: K1 counts the replacement instead


@dataclass(frozen=True, slots=True)
class IncomingEntry:
    """A document an outside (state) agency sent to a body: scanned and entered or not (K3)."""

    entry_id: str
    body: str
    from_agency: str
    received_at: datetime
    scanned: bool
    entered: bool
    electronic: bool = False  # arrived as an edXML package: born digital, nothing to scan
    superseded: bool = False  # replaced by a later package (edXML BussinessDocType 3): not counted
