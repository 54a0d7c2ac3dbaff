"""What the hub writes to its evidence log for each operation: the entries, built from the
rows the operation writes (see exchange.tlog.entries for the encoding, docs/evidence-log.md
for every field)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from exchange.cms import SubIndication, ValidationReport
from exchange.domain.documents import DeliveryState
from exchange.hub.evidence_log import Append
from exchange.hub.store.writes import DocumentCreate, IncomingCreate, ReceiptCreate
from exchange.tlog import EntryKind
from exchange.tlog.entries import entry_time, make_entry


def _entry(kind: EntryKind, at: datetime, document_id: str | None = None, **fields: Any) -> Append:
    return Append(kind, at, make_entry(kind, at=at, **fields), document_id)


def document_entries(row: DocumentCreate, *, recipients: tuple[str, ...], state: DeliveryState, reason: str,
                     report: ValidationReport | None, at: datetime) -> list[Append]:
    """A document registered: accepted (then delivered to each recipient), refused, or paper."""
    doc = row.id
    targets = sorted(recipients)
    if state is DeliveryState.PAPER:
        return [_entry(EntryKind.PAPER, at, doc, document=doc, sender=row.sender, recipients=targets,
                       classification=row.classification.value)]
    kind = EntryKind.REFUSED if state is DeliveryState.REFUSED else EntryKind.ACCEPTED
    entries = [_entry(
        kind, at, doc, document=doc, sender=row.sender, recipients=targets, channel=row.channel.value,
        classification=row.classification.value, sha256=row.sha256, size=row.size,
        signature_sha256=row.signature_sha256, signer=row.signer,
        indication=row.indication.value if row.indication else None, sub_indication=row.sub_indication,
        **({"reason": reason} if reason else {}))]
    if state is DeliveryState.DELIVERED:
        entries += [_entry(EntryKind.DELIVERED, at, doc, document=doc, recipient=r) for r in targets]
    if report is not None and report.sub_indication is SubIndication.REVOKED and report.signer is not None:
        entries.append(revoked_entry(at, body=report.signer.body_id, serial=report.signer.certificate.serial,
                                     seen_in=f"document {doc}", document_id=doc))
    return entries


def downloaded_entry(*, document_id: str, recipient: str, at: datetime) -> Append:
    """The log entry recording that *recipient* downloaded document *document_id* at *at*."""
    return _entry(EntryKind.DOWNLOADED, at, document_id, document=document_id, recipient=recipient)


def receipt_entry(row: ReceiptCreate, *, receipt_id: int, verification: str | None, at: datetime) -> Append:
    """A recipient's signed status, as the hub accepted it (hashes of the exact statement and signature)."""
    return _entry(
        EntryKind.RECEIPT, at, row.document_id, document=row.document_id, recipient=row.recipient,
        receipt=receipt_id, status=row.status.value, stated_at=entry_time(row.stated_at),
        statement_sha256=hashlib.sha256(row.statement).hexdigest(),
        signature_sha256=hashlib.sha256(row.signature).hexdigest(), verification=verification)


def incoming_entry(row: IncomingCreate, *, at: datetime) -> Append:
    """The log entry recording an incoming (paper or scanned) document registered at the hub, from
    its register *row*."""
    return _entry(EntryKind.INCOMING, at, None, entry=row.id, body=row.body, from_agency=row.from_agency,
                  scanned=row.scanned, entered=row.entered, sha256=row.sha256)


def revoked_entry(at: datetime, *, body: str | None, serial: str, seen_in: str,
                  document_id: str | None = None) -> Append:
    """The hub saw a revoked certificate in use (*seen_in*: what it came with)."""
    return _entry(EntryKind.CERTIFICATE_REVOKED, at, document_id, body=body, serial=serial, seen_in=seen_in)


def access_refused_entry(at: datetime, *, actor: str | None, method: str, path: str, code: str) -> Append:
    """A request refused for authentication or access: who asked for what."""
    return _entry(EntryKind.ACCESS_REFUSED, at, None, actor=actor, method=method, path=path[:300], code=code)
